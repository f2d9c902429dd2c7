// The filter selects of the user pages submit their form on change, as in SACoche.
(function () {
  "use strict";
  ["f_groupes", "f_statut"].forEach(function (id) {
    var select = document.getElementById(id);
    if (select) {
      select.addEventListener("change", function () { document.getElementById("form_prechoix").submit(); });
    }
  });
})();
