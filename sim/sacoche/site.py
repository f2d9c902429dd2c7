"""What every page family of the simulated SACoche shares: the simulator's state (kept in
`app.extensions["sacoche"]`, not in closures), the `PageFamily` blueprint through which each
family declares the `page=` values it serves, sessions, the administrator menu and the frame of
an identified page. SACoche serves everything through index.php?page= and ajax.php?page=, so a
family registers pages, not URL rules; core.py dispatches."""
from __future__ import annotations

import secrets
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable

from flask import Blueprint, Response, current_app, g, jsonify, render_template, request

from ..faults import Faults
from .profiles import PROFILES
from .store import Store

SESSION_COOKIE = "SACoche-session"
SCHOOL_COOKIE = "SACoche-etablissement"
AUTHMODE_COOKIE = "SACoche-mode-connexion"
ONE_YEAR = 365 * 24 * 3600
LOCALE = "fr_FR"   # the language link every school user's header carries

MSG_SESSION_LOST = ("Session absente / perdue / expirée / incompatible. "
                    "Veuillez vous (re)connecter.")
MSG_BAD_DATA = "Erreur avec les données transmises !"
MSG_CSRF = "Jeton CSRF invalide. Plusieurs onglets ouverts avec des sessions incompatibles ?"
MSG_WRONG_PROFILE = "Appel incompatible avec votre identification actuelle. Veuillez vous (re)connecter."
MSG_NO_DATA = "Aucune donnée reçue ! Fichier trop lourd ? Taille maximale autorisée dépassée ?"
MSG_NO_FILE = "Problème de transfert ! Fichier trop lourd ? Taille maximale autorisée dépassée ?"

# Administrator menu: (category, [(entry text, page, css class)]).
ADMIN_MENU = [
    ("Informations", [("Accueil", "compte_accueil", "compte_accueil")]),
    ("Paramétrages établissement", [
        ("Identité de l'établissement", "administrateur_etabl_identite", "etabl_identite"),
        ("Mode d'identification / Connecteur ENT", "administrateur_etabl_connexion", "etabl_connexion"),
        ("Redirection après déconnexion", "administrateur_etabl_deconnexion", "etabl_deconnexion"),
        ("Niveaux", "administrateur_etabl_niveau", "etabl_choix"),
        ("Matières", "administrateur_etabl_matiere", "etabl_choix"),
    ]),
    ("Paramétrages utilisateurs", [
        ("Format des identifiants de connexion", "administrateur_etabl_login", "etabl_login"),
        ("Délai avant déconnexion", "administrateur_etabl_duree_inactivite", "etabl_duree"),
    ]),
    ("Administration générale", [
        ("Nettoyer / Initialiser la base", "administrateur_nettoyage", "nettoyage"),
    ]),
    ("Import de données", [
        ("Importer des fichiers d'utilisateurs", "administrateur_fichier_user", "fichier_import"),
        ("Importer / Imposer des identifiants", "administrateur_fichier_identifiant", "fichier_import"),
    ]),
    ("Gestion regroupements / périodes", [
        ("Classes", "administrateur_classe", "groupe"),
        ("Groupes", "administrateur_groupe", "groupe"),
    ]),
    ("Gestion des utilisateurs", [
        ("Élèves", "administrateur_eleve", "eleve"),
        ("Parents", "administrateur_parent", "parent"),
        ("Professeurs / Personnels", "administrateur_professeur", "professeur"),
        ("Administrateurs", "administrateur_administrateur", "administrateur"),
        ("Rechercher un utilisateur", "administrateur_user_recherche", "user_recherche"),
    ]),
]
PAGE_TITLES = {page: text for _, entries in ADMIN_MENU for text, page, _ in entries}
PAGE_TITLES.update({
    "compte_accueil": "Bienvenue dans votre espace identifié",
    "compte_cnil": "Informations CNIL",
    "administrateur_eleve": "Gérer les élèves",
    "administrateur_parent": "Gérer les parents",
    "compte_langue": "Langue",
})

View = Callable[..., object]


@dataclass
class SacocheSim:
    store: Store
    faults: Faults
    credentials_dir: Path           # step 53's files of new passwords
    today: date | None = None       # fixed by tests; else the real date
    requests: int = 0               # site requests the bot made (a refused run must make none)
    logins: Counter = field(default_factory=Counter)   # successful logins ("normal", "cas"), "too_early" refusals
    lock: threading.Lock = field(default_factory=threading.Lock)
    views: dict[str, View] = field(default_factory=dict)          # page → view(user, context)
    posted_pages: set[str] = field(default_factory=set)           # pages whose forms post to themselves
    ajax: dict[str, View] = field(default_factory=dict)           # page → handler(user), administrator only
    public_ajax: dict[str, View] = field(default_factory=dict)    # page → handler(), no session needed

    def current_day(self) -> date:
        return self.today or date.today()


def sim() -> SacocheSim:
    return current_app.extensions["sacoche"]


class PageFamily(Blueprint):
    """A blueprint for one family of SACoche pages: besides its own URL rules, it declares the
    `page=` values it shows (`page`) and the AJAX calls it answers (`ajax`)."""

    def __init__(self, name: str, import_name: str):
        super().__init__(name, import_name)
        self._views: dict[str, View] = {}
        self._posted: set[str] = set()
        self._ajax: dict[str, View] = {}
        self._public_ajax: dict[str, View] = {}
        self.record_once(self._install)

    def page(self, *names: str, posted: bool = False):
        def register(view: View) -> View:
            self._views.update(dict.fromkeys(names, view))
            if posted:
                self._posted.update(names)
            return view
        return register

    def ajax(self, *names: str, public: bool = False):
        def register(handler: View) -> View:
            (self._public_ajax if public else self._ajax).update(dict.fromkeys(names, handler))
            return handler
        return register

    def _install(self, setup) -> None:
        state: SacocheSim = setup.app.extensions["sacoche"]
        state.views.update(self._views)
        state.posted_pages |= self._posted
        state.ajax.update(self._ajax)
        state.public_ajax.update(self._public_ajax)


# Answers -------------------------------------------------------------------------------------
def answer(statut: bool, value=None):
    return jsonify({"statut": statut, "value": value})


def redirect_to(url: str, code: int = 302) -> Response:
    response = Response(status=code)
    response.headers["Location"] = url
    return response


def has_body() -> bool:
    # Reading request.form consumes the body: look at the parsed form first.
    return bool(request.form) or bool(request.files) or bool(request.get_data(cache=True))


def url_dir() -> str:
    return request.host_url


# Sessions ------------------------------------------------------------------------------------
def reset_session(**keep) -> None:
    sim().store.delete_session(g.session_id)
    g.session_id, g.session = secrets.token_hex(16), dict(keep)
    g.session["user_agent"] = request.headers.get("User-Agent", "")


def identified_user():
    user_id = g.session.get("user_id")
    return sim().store.user(user_id) if user_id else None


def log_user_in(account, base: int, authmode: str) -> None:
    state = sim()
    with state.lock:
        state.logins[authmode] += 1
    reset_session()
    g.session.update({"user_id": account["id"], "base": base, "profil": account["profil"]})
    g.new_cookies[SCHOOL_COOKIE] = (str(base), ONE_YEAR)
    g.new_cookies[AUTHMODE_COOKIE] = (authmode, ONE_YEAR)


def resolve_base() -> int:
    """The school a public page is about: ?base= or ?id=, ?uai=, else the school cookie."""
    args = request.args
    for key in ("base", "id"):
        if args.get(key, "").isdigit():
            return int(args[key])
    if args.get("uai"):
        school = sim().store.school_by_uai(args["uai"])
        return school["base"] if school else 0
    cookie = request.cookies.get(SCHOOL_COOKIE, "")
    return int(cookie) if cookie.isdigit() else 0


# Identified pages ------------------------------------------------------------------------------
def identified_page(user, page: str):
    """The frame every identified page shares (header, menu, CSRF token), around the view of the
    family that declared `page`."""
    store = sim().store
    base = user["base"]
    params = store.params(base)
    token = secrets.token_hex(7)
    g.session.setdefault("csrf", {})[page] = token
    profile = PROFILES[user["profil"]]
    is_admin = user["profil"] == "ADM"
    if not is_admin and page == "compte_accueil":
        # A non-administrator's first visit shows the CNIL information page (the simulator
        # never records its acceptance: the bot must not accept it for a real person).
        page = "compte_cnil"
    context = dict(
        page=page, title=PAGE_TITLES.get(page, "Page inconnue"), csrf=token, user=user,
        profile_type=profile.type, profile_label=profile.short_singular,
        school=store.school(base), menu=ADMIN_MENU if is_admin else ADMIN_MENU[:1],
        duree=params.get(f"duree_inactivite_{user['profil']}", "30"),
        deconnexion_redir=params.get("deconnexion_adresse_redirection", ""),
        connexion_used=request.cookies.get(AUTHMODE_COOKIE, "normal"),
        probleme=g.session.pop("probleme", ""), locale=LOCALE,
    )
    view = sim().views.get(page)
    if view is not None:
        return view(user, context)
    if page in PAGE_TITLES:
        return render_template("not_simulated.html", **context)
    context["probleme"] = "Page introuvable."
    return render_template("not_simulated.html", **context), 404
