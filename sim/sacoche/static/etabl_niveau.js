// "Niveaux": the add control of the shared levels opens a search by family; each level found
// has its own add control, answered by AJAX. Removal is not simulated.
(function () {
  "use strict";
  var form = document.getElementById("zone_ajout_form");
  var zones = [document.getElementById("zone_partage"), document.getElementById("zone_perso")];
  var family = document.getElementById("f_famille");
  var results = document.getElementById("f_recherche_resultat");
  var label = document.getElementById("ajax_msg_recherche");

  function message(cls, text) { label.className = cls; label.textContent = text; }
  function post(body) {
    return fetch("ajax.php?page=administrateur_etabl_niveau", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8" },
      body: "csrf=" + CSRF + "&" + body
    }).then(function (r) { return r.json(); });
  }
  document.querySelector("#zone_partage thead q.ajouter").addEventListener("click", function () {
    message("", "");
    zones.forEach(function (zone) { zone.classList.add("hide"); });
    form.classList.remove("hide");
  });
  document.getElementById("ajout_annuler").addEventListener("click", function () {
    form.classList.add("hide");
    zones.forEach(function (zone) { zone.classList.remove("hide"); });
    family.value = "";
    results.innerHTML = "<li></li>";
    results.classList.add("hide");
  });
  family.addEventListener("change", function () {
    results.classList.add("hide");
    if (!family.value) { message("", ""); return; }
    message("loader", "En cours…");
    post("f_action=recherche_niveau_famille&f_famille=" + family.value).then(function (json) {
      if (!json.statut) { message("alerte", json.value); return; }
      message("", "");
      results.innerHTML = json.value;
      results.classList.remove("hide");
    }).catch(function () { message("alerte", "Échec de la connexion ! Veuillez recommencer."); });
  });
  results.addEventListener("click", function (event) {
    var control = event.target.closest("q.ajouter");
    if (!control) { return; }   // a level already chosen (q.ajouter_non) has no action
    var id = control.id.substring(4);
    message("loader", "En cours…");
    post("f_action=ajouter_partage&f_id=" + id).then(function (json) {
      if (!json.statut) { message("alerte", json.value); return; }
      var text = control.parentNode.textContent;
      var match = /^(.*) \(([^()]*)\)$/.exec(text) || [text, text, ""];
      var body = document.querySelector("#zone_partage tbody");
      var empty = body.querySelector("tr.vide");
      if (empty) { empty.remove(); }
      var row = document.createElement("tr");
      row.id = "id_" + id;
      row.innerHTML = "<td></td><td></td><td class=\"nu\"><q class=\"supprimer\" title=\"Supprimer ce niveau.\"></q></td>";
      row.children[0].textContent = match[2];
      row.children[1].textContent = match[1];
      body.appendChild(row);
      control.className = "ajouter_non";
      control.title = "Niveau déjà choisi.";
      message("valide", "Niveau ajouté.");
      initialiser_compteur();
    }).catch(function () { message("alerte", "Échec de la connexion ! Veuillez recommencer."); });
  });
})();
