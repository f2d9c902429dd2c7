// The user pages: filter selects submit their form on change; each row's "modifier" control
// opens the "Modifier un utilisateur" dialog filled from the row's cells, whose Valider posts the
// whole form by AJAX (CSRF in the query string), as in SACoche.
(function () {
  "use strict";
  ["f_groupes", "f_statut"].forEach(function (id) {
    var select = document.getElementById(id);
    if (select) {
      select.addEventListener("change", function () { document.getElementById("form_prechoix").submit(); });
    }
  });
  var table = document.getElementById("table_action");
  var form = document.getElementById("form_gestion");
  var overlay = document.getElementById("dialog_overlay");
  if (!table || !form) { return; }
  var label = document.getElementById("ajax_msg_gestion");
  var titles = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) { return th.textContent.trim(); });
  var row = null;

  function cellOf(tr, title) {
    var index = titles.indexOf(title);
    return index < 0 || !tr.cells[index] ? "" : tr.cells[index].textContent.trim();
  }
  function frenchDate(text) {
    var iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    return iso ? iso[3] + "/" + iso[2] + "/" + iso[1] : text;
  }
  function show(open) {
    form.classList.toggle("hide", !open);
    overlay.classList.toggle("hide", !open);
  }
  function say(css, text) { label.className = css; label.textContent = text; }

  table.addEventListener("click", function (event) {
    var control = event.target.closest("q.modifier");
    if (!control) { return; }
    row = control.closest("tr");
    form.querySelectorAll("[data-column]").forEach(function (field) {
      var column = field.getAttribute("data-column");
      var value = column ? cellOf(row, column) : "";
      if (field.id === "f_sortie_date") {
        var none = value === "" || value === "-";
        field.value = none ? "" : frenchDate(value);
        field.parentNode.querySelector("input[type=checkbox]").checked = none;
      } else if (field.id === "f_login" || field.id === "f_password") {
        field.value = field.id === "f_login" ? value : "";
        field.parentNode.querySelector("input[type=checkbox]").checked = true;
      } else {
        field.value = value;
      }
    });
    form.elements.f_action.value = "modifier";
    form.elements.f_id.value = row.id.substring(3);
    form.elements.f_check.value = row.cells[0].querySelector("input:checked") ? "1" : "0";
    say("", "");
    show(true);
    form.elements.f_id_ent.focus();
  });

  function validate() {
    var idEnt = form.elements.f_id_ent;
    var problem = idEnt.value.length > 63 ? "identifiant ENT de 63 caractères maximum" :
      !form.elements.f_nom.value.trim() ? "nom manquant" : !form.elements.f_prenom.value.trim() ? "prénom manquant" : "";
    if (problem) { say("erreur", problem); }
    return !problem;
  }

  document.getElementById("bouton_annuler").addEventListener("click", function () { show(false); });
  document.getElementById("bouton_valider").addEventListener("click", function () {
    if (!validate()) { return; }
    say("loader", "En cours…");
    fetch("ajax.php?page=" + PAGE + "&csrf=" + CSRF, {
      method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(new FormData(form)).toString()
    }).then(function (response) { return response.json(); }).then(function (json) {
      if (json.statut) {
        say("valide", "Demande réalisée !");
        row.innerHTML = json.value;
        row.classList.add("new");
        show(false);
      } else {
        say("alerte", json.value);
      }
    }).catch(function () { say("alerte", "Échec de la connexion !"); });
  });
  form.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); document.getElementById("bouton_valider").click(); }
    if (event.key === "Escape") { document.getElementById("bouton_annuler").click(); }
  });
})();
