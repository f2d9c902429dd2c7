// "Importer / Imposer des identifiants": the ENT option shows its panel; its button sets
// f_action then opens the hidden file input, whose change posts the form (applied at once).
(function () {
  "use strict";
  var select = document.getElementById("f_choix_principal");
  var form = document.getElementById("form_select");
  var fileInput = document.getElementById("f_import");
  var label = document.getElementById("ajax_msg");
  function message(cls, text) { label.className = cls; label.textContent = text; }
  select.addEventListener("change", function () {
    document.querySelectorAll("fieldset.choix").forEach(function (fs) { fs.classList.add("hide"); });
    var fieldset = document.getElementById("fieldset_" + select.value);
    if (fieldset) { fieldset.classList.remove("hide"); }
    message("", "");
  });
  form.addEventListener("click", function (event) {
    if (event.target.id === "import_ent") {
      document.getElementById("f_action").value = "import_ent";
      fileInput.click();
    }
  });
  fileInput.addEventListener("change", function () {
    if (!fileInput.files.length) { return; }
    var name = fileInput.files[0].name;
    var extension = name.split(".").pop().toLowerCase();
    if (extension !== "csv" && extension !== "txt") {
      message("erreur", 'Le fichier "' + name + '" n\'a pas une extension "csv" ou "txt".');
      return;
    }
    message("loader", "En cours…");
    document.getElementById("ajax_retour").innerHTML = "";
    fetch("ajax.php?page=administrateur_fichier_identifiant&csrf=" + CSRF, { method: "POST", body: new FormData(form) })
      .then(function (r) { return r.json(); })
      .then(function (json) {
        fileInput.value = "";
        if (!json.statut) { message("alerte", json.value); return; }
        message("valide", "Demande réalisée !");
        document.getElementById("ajax_retour").innerHTML = json.value;
        initialiser_compteur();
      }).catch(function () { message("alerte", "Échec de la connexion ! Veuillez recommencer."); });
  });
})();
