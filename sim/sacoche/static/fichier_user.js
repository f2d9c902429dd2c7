// "Importer des fichiers d'utilisateurs": choose a category, upload (step 10), then follow the
// single "go on" control of each step; every step answer replaces the #form_bilan fieldset.
(function () {
  "use strict";
  var select = document.getElementById("f_choix_principal");
  var formChoix = document.getElementById("form_choix");
  var formBilan = document.getElementById("form_bilan");
  var fileInput = document.getElementById("f_import");
  var f_action = "";
  var f_mode = "";   // recorded when the category's button is clicked, as in SACoche
  var reportObject = "";

  function message(cls, text) {
    var label = document.getElementById("ajax_msg");
    if (label) { label.className = cls; label.textContent = text; }
  }
  function post(url, body, headers) {
    return fetch(url, { method: "POST", headers: headers || {}, body: body }).then(function (r) { return r.json(); });
  }
  function urlencoded(fields) {
    return new URLSearchParams(fields).toString();
  }
  function chooseCategory() {
    f_action = select.value;
    document.getElementById("f_action").value = f_action;
    reportObject = select.options[select.selectedIndex].parentNode.label + " → " + select.options[select.selectedIndex].text;
    document.querySelectorAll("fieldset.category").forEach(function (fs) { fs.classList.add("hide"); });
    var fieldset = document.getElementById("fieldset_" + f_action);
    if (fieldset) { fieldset.classList.remove("hide"); }
    var showMode = f_action !== "" && f_action.indexOf("nomenclature") === -1;
    document.getElementById("span_mode").classList.toggle("hide", !showMode);
    if (showMode) {
      var complet = LAST_IMPORT_COMPLET[f_action] !== false;
      document.getElementById(complet ? "f_mode_complet" : "f_mode_partiel").checked = true;
    }
    message("", "");
  }
  select.addEventListener("change", chooseCategory);
  formChoix.addEventListener("click", function (event) {
    if (!event.target.classList.contains("fichier_import")) { return; }
    var checked = document.querySelector("input[name=f_mode]:checked");
    f_mode = checked ? checked.value : "";
    fileInput.click();
  });
  fileInput.addEventListener("change", function () {
    if (!fileInput.files.length) { return; }
    var name = fileInput.files[0].name;
    var extension = name.split(".").pop().toLowerCase();
    if (extension !== "xml" && extension !== "zip") {
      message("erreur", 'Le fichier "' + name + '" n\'a pas une extension "xml" ou "zip".');
      return;
    }
    message("loader", "En cours…");
    post("ajax.php?page=administrateur_fichier_user&csrf=" + CSRF, new FormData(formChoix)).then(function (json) {
      fileInput.value = "";
      if (!json.statut) { message("alerte", json.value); return; }
      formChoix.classList.add("hide");
      formBilan.innerHTML = '<p><label class="tab">Objet :</label><input name="report_objet" readonly size="70" value=""> ' +
        '<button id="bouton_annuler" type="button">Annuler / Retour</button></p>' + json.value;
      formBilan.querySelector("input[name=report_objet]").value = reportObject;
      initialiser_compteur();
    }).catch(function () { message("alerte", "Échec de la connexion ! Veuillez recommencer."); });
  });

  function currentFieldset() { return formBilan.querySelector("fieldset"); }
  function stepOf(link) { return link.getAttribute("href").replace("#step", ""); }
  function sendStep(fields, stepLi) {
    message("loader", "En cours…");
    if (stepLi) {
      document.querySelectorAll("#step li").forEach(function (li) { li.classList.toggle("on", li.id === stepLi); });
    }
    currentFieldset().querySelectorAll("table").forEach(function (t) { t.remove(); });
    fields.csrf = CSRF;
    fields.f_action = f_action;
    fields.f_mode = f_mode;
    post("ajax.php?page=administrateur_fichier_user", urlencoded(fields),
         { "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8" }).then(function (json) {
      if (!json.statut) { message("alerte", json.value); return; }
      currentFieldset().innerHTML = json.value;
      initialiser_compteur();
    }).catch(function () { message("alerte", "Échec de la connexion ! Veuillez recommencer."); });
  }
  function checkedIds(prefixes) {
    return Array.prototype.filter.call(currentFieldset().querySelectorAll("input[type=checkbox]:checked"), function (box) {
      return !prefixes || prefixes.some(function (p) { return box.id.indexOf(p) === 0; });
    }).map(function (box) { return box.id; });
  }
  formBilan.addEventListener("click", function (event) {
    var target = event.target;
    if (target.tagName === "Q") {
      var body = target.closest("tbody");
      var value = target.classList.contains("cocher_tout");
      body.querySelectorAll("input[type=checkbox]").forEach(function (box) { box.checked = value; });
      return;
    }
    if (target.id === "bouton_annuler") {
      formBilan.innerHTML = '<fieldset><label id="ajax_msg"></label></fieldset>';
      formChoix.classList.remove("hide");
      return;
    }
    if (target.tagName !== "A") { return; }
    if (target.id === "passer_etape_suivante") {
      event.preventDefault();
      sendStep({ f_step: stepOf(target) }, "step" + stepOf(target).charAt(0));
    } else if (target.id === "envoyer_infos_regroupements") {
      event.preventDefault();
      var missing = 0, add = [];
      checkedIds(["add_"]).forEach(function (id) {
        var key = id.substring(4);
        var level = document.getElementById("add_niv_" + key).value;
        var name = document.getElementById("add_nom_" + key).value;
        var ref = document.getElementById("add_ref_" + key).value;
        if (!level || !name) { missing += 1; return; }
        add.push(key + "]¤[" + level + "]¤[" + encodeURIComponent(ref) + "]¤[" + encodeURIComponent(name));
      });
      if (missing) {
        message("erreur", missing + (missing > 1 ? " lignes de formulaire à compléter." : " ligne de formulaire à compléter."));
        return;
      }
      var del = checkedIds(["del_"]).map(function (id) { return id.substring(4); });
      sendStep({ f_step: stepOf(target), f_del: del.join(","), f_add: add.join(",") });
    } else if (target.id === "envoyer_infos_utilisateurs") {
      event.preventDefault();
      sendStep({ f_step: stepOf(target), f_check: checkedIds(null).join(",") });
    } else if (target.classList.contains("step53")) {
      event.preventDefault();
      sendStep({ f_step: "53", archive: document.getElementById("archive").value });
    } else if (target.id === "retourner_depart") {
      event.preventDefault();
      document.getElementById("bouton_annuler").click();
    }
  });

  if (CATEGORIE) {
    select.value = CATEGORIE;
    chooseCategory();
  }
})();
