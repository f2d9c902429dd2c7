// Shared by every identified page: the inactivity counter (client-side, like SACoche's) and logout.
(function () {
  "use strict";
  var COUNTER_COOKIE = "SACoche-compteur";
  var lastKeepAlive = null;

  function readCounter() {
    var match = document.cookie.match(/(?:^|; )SACoche-compteur=(\d+)/);
    return match ? parseInt(match[1], 10) : Math.floor(Date.now() / 1000);
  }
  window.initialiser_compteur = function () {
    document.cookie = COUNTER_COOKIE + "=" + Math.floor(Date.now() / 1000) + "; path=/";
    var clock = document.getElementById("clock");
    if (clock) {
      clock.textContent = DUREE_AUTORISEE + " min";
      clock.parentNode.className = "top clock_fixe";
    }
  };
  function expire() {
    fetch("ajax.php?page=fermer_session");
    var menu = document.getElementById("menu");
    if (menu) { menu.remove(); }
    var info = document.getElementById("top_info");
    if (CONNEXION_USED === "normal") {
      info.innerHTML = 'Votre session a expiré. Vous êtes désormais déconnecté de SACoche ! <a href="./index.php">Se reconnecter…</a>';
    } else {
      info.innerHTML = 'Session expirée. Vous êtes déconnecté de SACoche mais sans doute pas du SSO ! <a href="#" onclick="location.reload()">Recharger la page…</a>';
    }
  }
  function tick() {
    var clock = document.getElementById("clock");
    if (!clock) { return; }
    var elapsed = Math.floor((Date.now() / 1000 - readCounter()) / 60);
    var remaining = DUREE_AUTORISEE - elapsed;
    if (remaining > 5) {
      clock.textContent = remaining + " min";
      if (remaining % 10 === 0 && remaining !== lastKeepAlive && remaining !== DUREE_AUTORISEE) {
        lastKeepAlive = remaining;
        fetch("ajax.php?page=conserver_session_active");
      }
    } else if (remaining > 0) {
      clock.textContent = remaining + " min";
      clock.parentNode.className = "top clock_anim";
    } else {
      clearInterval(timer);
      expire();
    }
  }
  var timer = setInterval(tick, 15000);
  initialiser_compteur();

  document.addEventListener("click", function (event) {
    if (event.target.id !== "deconnecter") { return; }
    event.preventDefault();
    if (DECONNEXION_REDIR) {
      fetch("ajax.php?page=fermer_session").then(function () { document.location.href = DECONNEXION_REDIR; });
    } else {
      document.location.href = "./index.php";
    }
  });
})();
