// "Mode d'identification / Connecteur ENT": the select fills the (mostly hidden) server fields
// from TAB_PARAM, and the button posts them by AJAX.
(function () {
  "use strict";
  var select = document.getElementById("connexion_mode_nom");
  var button = document.getElementById("bouton_valider_mode");
  var label = document.getElementById("ajax_msg_mode");

  function message(cls, text) { label.className = cls; label.textContent = text; }
  function show(id, visible) { document.getElementById(id).classList.toggle("hide", !visible); }
  function setValue(id, value) { document.getElementById(id).value = value; }

  function refreshForm() {
    var param = TAB_PARAM[select.value];
    var ref = select.value.split("~")[1];
    var isCas = param.mode === "cas";
    var isPerso = ref === "|perso";
    setValue("cas_serveur_host", param.host);
    setValue("cas_serveur_port", param.port);
    setValue("cas_serveur_root", param.root);
    setValue("serveur_host_subdomain", param.subdomain);
    setValue("serveur_host_domain", param.domain);
    setValue("serveur_port", param.port);
    show("cas_options", isCas && isPerso);
    show("cas_verif", isCas);
    show("info_inacheve", !param.operational);
    show("lien_direct", param.operational && param.mode !== "normal");
    button.disabled = !param.operational;
  }
  document.getElementById("form_mode").addEventListener("change", function (event) {
    if (event.target === select) { refreshForm(); }
    message("alerte", "Penser à valider les modifications.");
  });
  button.addEventListener("click", function () {
    if (button.disabled) { return; }
    var parts = select.value.split("~");
    message("loader", "En cours…");
    // The connector reference travels raw (its "|" is not encoded), as in SACoche.
    var body = "csrf=" + CSRF + "&f_action=enregistrer_mode_identification&f_connexion_mode=" + parts[0] +
               "&f_connexion_ref=" + parts[1] + "&" +
               new URLSearchParams(new FormData(document.getElementById("form_mode"))).toString();
    fetch("ajax.php?page=administrateur_etabl_connexion", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8" },
      body: body
    }).then(function (r) { return r.json(); }).then(function (json) {
      if (json.statut) { message("valide", "Mode de connexion enregistré !"); initialiser_compteur(); }
      else { message("alerte", json.value); }
    }).catch(function () { message("alerte", "Échec de la connexion ! Veuillez recommencer."); });
  });
  refreshForm();
})();
