// Login page: the form is asked for by AJAX, then submitted by AJAX (like SACoche's own page).
(function () {
  "use strict";
  var form = document.getElementById("form_auth");
  var fieldset = document.getElementById("fieldset_auth");

  function message(cls, text) {
    var label = document.getElementById("ajax_msg");
    if (label) { label.className = cls; label.textContent = text; }
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8" },
      body: body
    }).then(function (r) { return r.json(); });
  }
  function load(action, base) {
    var body = new URLSearchParams({ csrf: "", f_action: action, f_base: base, f_profil: "structure",
                                     get_mode: GET_MODE, get_login: GET_LOGIN });
    post("ajax.php?page=public_accueil", body).then(function (json) {
      if (json.statut) { fieldset.innerHTML = json.value; }
      else { message("alerte", json.value); }
    }).catch(function () { message("alerte", "Échec de la connexion ! Veuillez recommencer."); });
  }
  function currentBase() { return document.getElementById("f_base").value; }

  fieldset.addEventListener("click", function (event) {
    if (event.target.id === "f_choisir") { message("loader", "Chargement en cours..."); load("charger", currentBase()); }
    if (event.target.id === "f_changer") { event.preventDefault(); load("choisir", 0); }
  });
  fieldset.addEventListener("change", function (event) {
    if (event.target.name === "f_mode") {
      var normal = document.getElementById("f_mode_normal").checked;
      document.getElementById("fieldset_normal").classList.toggle("hide", !normal);
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var ent = document.querySelector("input[name=f_mode]:checked");
    if (ent && ent.value !== "normal") {
      // With an ENT, the form does not post: it goes to the SSO address.
      document.location.href = "./index.php?sso=" + currentBase();
      return;
    }
    if (!document.getElementById("f_login").value) { message("erreur", "nom d'utilisateur manquant"); return; }
    if (!document.getElementById("f_password").value) { message("erreur", "mot de passe manquant"); return; }
    message("loader", "Connexion en cours...");
    var body = new URLSearchParams(new FormData(form));
    post("ajax.php?page=public_accueil&csrf=" + CSRF, body).then(function (json) {
      if (json.statut) {
        message("valide", "Identification réussie !");
        document.location.href = json.value;
      } else {
        message("alerte", json.value);
      }
    }).catch(function () { message("alerte", "Échec de la connexion ! Veuillez recommencer."); });
  });
  load("initialiser", currentBase());
})();
