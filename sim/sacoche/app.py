"""A SACoche simulator: the administrator pages the bot drives, with the ids, AJAX calls, JSON
answers, messages and traps of the real SACoche (as read in its source and seen
driving it). Markup, scripts and wording of the prose are our own."""
from __future__ import annotations

import re
import secrets
import threading
import time
from datetime import date
from pathlib import Path
import urllib.request
from urllib.parse import quote, urlencode
from xml.etree import ElementTree

from flask import Flask, Response, abort, g, jsonify, render_template, request, send_file

from ..faults import Faults, FaultError, apply_after, apply_before
from . import connectors, ent_ids, levels_page, userlists, wizard
from .siecle import CATEGORIES, ImportRefused
from .profiles import PROFILES
from .store import Store, check_password

SESSION_COOKIE = "SACoche-session"
TEST_COOKIE = "SACoche-test-cookie"
CAS_NS = "{http://www.yale.edu/tp/cas}"
LOCALE = "fr_FR"   # the language link every school user's header carries
SCHOOL_COOKIE = "SACoche-etablissement"
AUTHMODE_COOKIE = "SACoche-mode-connexion"
ONE_YEAR = 365 * 24 * 3600
# SACoche-only switches of POST /_sim/faults, besides the rule kinds of sim/faults.py.
SACOCHE_FAULT_KEYS = {
    "ack_without_saving": "pages whose form says saved but stores nothing (administrateur_etabl_connexion)",
}

MSG_SESSION_LOST = ("Session absente / perdue / expirée / incompatible. "
                    "Veuillez vous (re)connecter.")
CAS_FAILED_TITLE = "Authentification CAS infructueuse !"   # phpCAS (French) on a failed validation
MSG_BAD_DATA = "Erreur avec les données transmises !"
MSG_CSRF = "Jeton CSRF invalide. Plusieurs onglets ouverts avec des sessions incompatibles ?"
MSG_WRONG_PROFILE = "Appel incompatible avec votre identification actuelle. Veuillez vous (re)connecter."
LOGIN_DELAY_S = 2

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

HOST_SYNTAX = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$", re.I)
PATH_SYNTAX = re.compile(r"^[a-z0-9/._-]*$", re.I)


def create_app(state_dir: Path, today: date | None = None) -> Flask:
    """`today` fixes the simulator's date (school year, leaving dates) for tests."""
    app = Flask(__name__)
    store = Store(Path(state_dir) / "sacoche.sqlite")
    app.config["STORE"] = store
    credentials_dir = Path(state_dir) / "login-mdp"

    def current_day() -> date:
        return today or date.today()
    # Test switches (`/_sim/faults`, see sim/faults.py) and a count of the site requests the bot
    # made, so that a test can prove a refused run touched nothing.
    faults = Faults(extra_keys=SACOCHE_FAULT_KEYS)
    app.config["FAULTS"] = faults
    counter = {"requests": 0}
    counter_lock = threading.Lock()

    @app.before_request
    def count_request():
        if not request.path.startswith(("/_sim/", "/static/")):
            with counter_lock:
                counter["requests"] += 1
            return apply_before(faults, request, end_session=lambda: setattr(g, "expire_session", True))
        return None

    @app.after_request
    def cut_answer(response):
        if request.path.startswith(("/_sim/", "/static/")):
            return response
        return apply_after(faults, request, response)

    def has_body() -> bool:
        # Reading request.form consumes the body: look at the parsed form first.
        return bool(request.form) or bool(request.files) or bool(request.get_data(cache=True))

    # Sessions ----------------------------------------------------------------------------
    @app.before_request
    def open_session() -> None:
        g.new_cookies = {}
        session_id = request.cookies.get(SESSION_COOKIE, "")
        data = store.load_session(session_id) if session_id else None
        if data is None:
            session_id, data = secrets.token_hex(16), {}
        elif data.get("user_agent") not in (None, request.headers.get("User-Agent", "")):
            # SACoche ties a session to its browser: another one gets a fresh session.
            session_id, data = secrets.token_hex(16), {"probleme": "Appel anormal : navigateur différent."}
        data["user_agent"] = request.headers.get("User-Agent", "")
        g.session_id, g.session = session_id, data
        if getattr(g, "expire_session", False):
            # Fault: the server lost the session (as after SACoche's inactivity logout).
            store.delete_session(session_id)
            g.session_id, g.session = secrets.token_hex(16), {"user_agent": data["user_agent"]}

    @app.after_request
    def save_session(response: Response) -> Response:
        if getattr(g, "session_id", None) is None:
            return response
        store.save_session(g.session_id, g.session)
        response.set_cookie(SESSION_COOKIE, g.session_id, httponly=True, samesite="Lax")
        for name, (value, max_age) in g.new_cookies.items():
            response.set_cookie(name, value, max_age=max_age, samesite="Lax")
        return response

    def reset_session(**keep) -> None:
        store.delete_session(g.session_id)
        g.session_id, g.session = secrets.token_hex(16), dict(keep)
        g.session["user_agent"] = request.headers.get("User-Agent", "")

    def identified_user():
        user_id = g.session.get("user_id")
        return store.user(user_id) if user_id else None

    def url_dir() -> str:
        return request.host_url

    # Public pages ------------------------------------------------------------------------
    def resolve_base() -> int:
        args = request.args
        for key in ("base", "id"):
            if args.get(key, "").isdigit():
                return int(args[key])
        if args.get("uai"):
            school = store.school_by_uai(args["uai"])
            return school["base"] if school else 0
        cookie = request.cookies.get(SCHOOL_COOKIE, "")
        return int(cookie) if cookie.isdigit() else 0

    def login_page(probleme: str = "") -> str:
        if g.session.get("user_id"):
            # Opening a public page while identified silently ends the session.
            reset_session()
        g.session["forcebrute"] = {"time": time.time(), "delai": LOGIN_DELAY_S}
        probleme = probleme or g.session.pop("probleme", "")
        return render_template(
            "public_accueil.html", base=resolve_base(), probleme=probleme,
            get_mode=request.args.get("mode", "ent"), get_login=request.args.get("login", ""))

    @app.route("/index.php", methods=["POST"])
    def index_post():
        # The user-list pages re-submit their filter forms to themselves.
        user = identified_user()
        page = request.args.get("page", "")
        if user is None or page not in userlists.PAGES:
            return index()
        return identified_page(user, page)

    @app.route("/")
    @app.route("/index.php")
    def index():
        page = request.args.get("page", "")
        if "sso" in request.args:
            return sso_login()
        if page in ("", "public_accueil"):
            return login_page()
        user = identified_user()
        if user is None:
            # Remember the deep link: the login redirect returns to it.
            g.session["memo_get"] = {k: v for k, v in request.args.items() if k in ("page", "section")}
            return login_page(MSG_SESSION_LOST)
        if user["profil"] != "ADM" and page.startswith("administrateur"):
            reset_session()
            return login_page(MSG_WRONG_PROFILE)
        return identified_page(user, page)

    def sso_login():
        if not request.cookies.get(TEST_COOKIE):
            # SACoche checks that cookies work before an SSO dance (else it would loop).
            if "cookie" in request.args:
                return render_template("error.html", title="Risque de redirections en boucle",
                                       message="Pour utiliser SACoche vous devez configurer l'acceptation des cookies par votre navigateur.")
            g.new_cookies[TEST_COOKIE] = ("1", ONE_YEAR)
            return redirect_to(f"{request.url}&cookie", 307)
        sso = request.args.get("sso", "")
        base = resolve_base()
        if sso.isdigit():
            base = int(sso)
        elif sso:
            by_uai = store.school_by_uai(sso)
            base = by_uai["base"] if by_uai else 0
        school = store.school(base) if base else None
        if school is None:
            return render_template("error.html", title="Donnée manquante",
                                   message="Référence de base manquante (le paramètre \"base\" n'a pas été transmis ou n'est pas un entier)."), 200
        if store.params(base)["connexion_mode"] == "normal":
            return render_template(
                "error.html", title="Configuration manquante",
                message="Établissement non paramétré par l'administrateur pour utiliser un service "
                        "d'authentification externe. Un administrateur doit renseigner ce "
                        "paramétrage dans son menu [Mode d'identification]."), 200
        params = store.params(base)
        cas_base = cas_server_url(params)
        if cas_base is None:
            return cas_incident(f"Serveur d'authentification {params['cas_serveur_host']} injoignable depuis ce simulateur.")
        service = url_without_ticket()
        ticket = request.args.get("ticket", "")
        if ticket:
            return validate_ticket(base, cas_base, service, ticket)
        user = identified_user()
        if user is not None and user["base"] == base:
            return identified_page(user, "compte_accueil")
        return redirect_to(f"{cas_base}/login?service={quote(service, safe='')}")

    def cas_server_url(params: dict) -> str | None:
        """phpCAS would use https://<host>[:port]/<root>; the simulator maps the ENT's real host
        onto the local ENT simulator (CAS_HOSTS), and knows no other server."""
        mapped = app.config.get("CAS_HOSTS", {}).get(params["cas_serveur_host"])
        if not mapped:
            return None
        root = params["cas_serveur_root"].strip("/")
        return mapped.rstrip("/") + (f"/{root}" if root else "")

    def url_without_ticket() -> str:
        pairs = [part for part in request.query_string.decode().split("&") if part and not part.startswith("ticket=")]
        return f"{request.base_url}?{'&'.join(pairs)}"

    def redirect_to(url: str, code: int = 302) -> Response:
        response = Response(status=code)
        response.headers["Location"] = url
        return response

    def cas_incident(message: str):
        return render_template("error.html", title="Incident authentification CAS", message=message), 200

    def cas_validation_failed(reason: str):
        # phpCAS's CAS_AuthenticationException page, which SACoche re-wraps in its own layout
        # (pages/public_sso_login.php, exit_CAS_Exception): same title, same advice to retry.
        return render_template("error.html", title=CAS_FAILED_TITLE,
                               message=f"Vous n'avez pas été authentifié(e). Vous pouvez soumettre votre requête "
                                       f"à nouveau. Cette erreur peut être due à un certificat expiré ou des données "
                                       f"invalides renvoyées par le serveur CAS. ({reason})"), 200

    def validate_ticket(base: int, cas_base: str, service: str, ticket: str):
        url = f"{cas_base}/serviceValidate?service={quote(service, safe='')}&ticket={quote(ticket, safe='')}"
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                root = ElementTree.fromstring(answer.read())
        except Exception as exc:   # network or XML problem: phpCAS shows an error page too
            return cas_validation_failed(f"Reason: no response from the CAS server — {exc.__class__.__name__}")
        success = root.find(f"{CAS_NS}authenticationSuccess")
        if success is None:
            failure = root.find(f"{CAS_NS}authenticationFailure")
            code = failure.get("code", "") if failure is not None else "réponse inattendue"
            return cas_validation_failed(f"Reason: [{code}] CAS error")
        cas_user = (success.findtext(f"{CAS_NS}user") or "").strip()
        rows = store.query("SELECT * FROM user WHERE base = ? AND id_ent = ? AND profil != 'ADM'", (base, cas_user))
        if not rows:
            return cas_incident(
                f"Identification réussie mais identifiant CAS \"{cas_user}\" inconnu dans SACoche (base n°{base}) ! "
                f"Un administrateur doit renseigner que l'identifiant ENT associé à votre compte SACoche est "
                f"\"{cas_user}\"… (menu [Gestion des utilisateurs]).")
        account = rows[0]
        if account["sortie"]:
            return cas_incident(f"Identification réussie mais ce compte ({account['login']}) est desactivé "
                                f"(sur la base n°{base}) !")
        reset_session()
        g.session.update({"user_id": account["id"], "base": base, "profil": account["profil"]})
        g.new_cookies[SCHOOL_COOKIE] = (str(base), ONE_YEAR)
        g.new_cookies[AUTHMODE_COOKIE] = ("cas", ONE_YEAR)
        return redirect_to(service)

    # Identified pages --------------------------------------------------------------------
    def identified_page(user, page: str):
        base = user["base"]
        school = store.school(base)
        params = store.params(base)
        token = secrets.token_hex(7)
        g.session.setdefault("csrf", {})[page] = token
        profile = PROFILES[user["profil"]]
        profile_type, profile_label = profile.type, profile.short_singular
        is_admin = user["profil"] == "ADM"
        if not is_admin and page == "compte_accueil":
            # A non-administrator's first visit shows the CNIL information page (the simulator
            # never records its acceptance: the bot must not accept it for a real person).
            page = "compte_cnil"
        context = dict(
            page=page, title=PAGE_TITLES.get(page, "Page inconnue"), csrf=token, user=user,
            profile_type=profile_type, profile_label=profile_label,
            school=school, menu=ADMIN_MENU if is_admin else ADMIN_MENU[:1],
            duree=params.get(f"duree_inactivite_{user['profil']}", "30"),
            deconnexion_redir=params.get("deconnexion_adresse_redirection", ""),
            connexion_used=request.cookies.get(AUTHMODE_COOKIE, "normal"),
            probleme=g.session.pop("probleme", ""), locale=LOCALE,
        )
        if page == "compte_accueil":
            return render_template("compte_accueil.html", **context)
        if page == "compte_cnil":
            return render_template("compte_cnil.html", **context)
        if page == "administrateur_fichier_identifiant":
            connector = connectors.find(params["connexion_mode"], f"{params['connexion_departement']}|{params['connexion_nom']}")
            return render_template("fichier_identifiant.html", **context, mode=params["connexion_mode"],
                                   connector_label=connector.label if connector else "")
        if page == "administrateur_etabl_connexion":
            return render_template("etabl_connexion.html", **context,
                                   **connexion_page_data(params, base))
        if page == "administrateur_fichier_user":
            return render_template("fichier_user.html", **context, **fichier_user_data(school, params))
        if page == "administrateur_etabl_niveau":
            return render_template("etabl_niveau.html", **context, **levels_page.page_data(store, base))
        if page in userlists.PAGES:
            return userlists.render(page, context, store, base, request)
        if page in PAGE_TITLES:
            return render_template("not_simulated.html", **context)
        context["probleme"] = "Page introuvable."
        return render_template("not_simulated.html", **context), 404

    def fichier_user_data(school, params: dict) -> dict:
        suffix = "oui" if school["uai"] else "non"
        start = wizard.first_day_of_school_year(current_day(), int(params["mois_bascule_annee_scolaire"]))
        complet = {}
        for category, kind in CATEGORIES.items():
            last = params.get(f"date_last_import_{kind}", "")
            complet[category] = not last or last < start.isoformat()
        fieldsets = []
        for value, button, expected in (
                ("siecle_nomenclature", "siecle_nomenclature", "Nomenclature.xml (ou .zip)"),
                ("siecle_professeurs_directeurs", "siecle_professeurs_directeurs", "sts_emp_<UAI>_<YEAR>.xml (ou .zip)"),
                ("siecle_eleves", "siecle_eleves", "ExportXML_ElevesSansAdresses.zip (ou ElevesSansAdresses.xml)"),
                ("siecle_parents", "siecle_parents", "ResponsablesAvecAdresses.zip (ou .xml)")):
            fieldsets.append((f"{value}_{suffix}", button if suffix == "oui" else None, expected))
        return dict(suffix=suffix, fieldsets=fieldsets, complet_by_category=complet,
                    categorie=request.args.get("categorie", ""),
                    no_levels=not store.class_levels(school["base"]))

    def connexion_page_data(params: dict, base: int) -> dict:
        current = f"{params['connexion_mode']}~{params['connexion_departement']}|{params['connexion_nom']}"
        groups: dict[str, list] = {}
        tab_param = {}
        for connector in connectors.CONNECTORS:
            groups.setdefault(connectors.OPTGROUP_LABELS[connector.mode], []).append(connector)
            server = connector.cas_server or {}
            if connector.value == current and connector.mode == "cas":
                server = {**server, "host": params["cas_serveur_host"], "port": params["cas_serveur_port"],
                          "root": params["cas_serveur_root"]}
            tab_param[connector.value] = {
                "mode": connector.mode, "operational": connector.operational,
                "host": server.get("host", ""), "port": server.get("port", ""),
                "root": server.get("root", ""), "subdomain": server.get("subdomain", ""),
                "domain": server.get("domain", ""),
            }
        return dict(groups=groups, current=current, tab_param=tab_param,
                    verif_ssl=params.get("cas_serveur_verif_certif_ssl", "1"),
                    sso_url=f"{url_dir()}?sso={base}")

    # AJAX --------------------------------------------------------------------------------
    def answer(statut: bool, value=None):
        return jsonify({"statut": statut, "value": value})

    @app.route("/ajax.php", methods=["GET", "POST"])
    def ajax():
        page = request.args.get("page", "")
        if page == "public_accueil":
            return ajax_public_accueil()
        if page == "conserver_session_active":
            return jsonify({"statut": True}) if identified_user() else answer(False, MSG_SESSION_LOST)
        if page == "fermer_session":
            reset_session()
            return jsonify({"statut": True})
        user = identified_user()
        if user is None:
            return answer(False, MSG_SESSION_LOST)
        if user["profil"] != "ADM":
            reset_session()
            return answer(False, MSG_WRONG_PROFILE)
        if has_body() and (request.values.get("csrf") or "") != g.session.get("csrf", {}).get(page):
            return answer(False, MSG_CSRF)
        if page == "administrateur_etabl_connexion":
            return ajax_etabl_connexion(user["base"])
        if page == "administrateur_fichier_user":
            return ajax_fichier_user(user["base"])
        if page == "administrateur_fichier_identifiant":
            return ajax_fichier_identifiant(user["base"])
        if page == "administrateur_etabl_niveau":
            statut, value = levels_page.ajax(store, user["base"], request.form)
            return answer(statut, value)
        return answer(False, MSG_BAD_DATA)

    def ajax_fichier_identifiant(base: int):
        if not has_body():
            return answer(False, "Aucune donnée reçue ! Fichier trop lourd ? Taille maximale autorisée dépassée ?")
        params = store.params(base)
        choice = request.form.get("f_choix_principal", "")
        if request.form.get("f_action") != "import_ent" or choice != f"import_id_ent_{params['connexion_mode']}" \
                or params["connexion_nom"] not in ent_ids.CSV_FORMATS:
            return answer(False, MSG_BAD_DATA)
        upload = request.files.get("userfile")
        if upload is None or not upload.filename:
            return answer(False, "Problème de transfert ! Fichier trop lourd ? Taille maximale autorisée dépassée ?")
        if upload.filename.rsplit(".", 1)[-1].lower() not in ("csv", "txt"):
            return answer(False, "L'extension du fichier transmis n'est pas conforme !")
        if params["connexion_nom"] not in ent_ids.CSV_FORMATS:
            return answer(False, "Erreur avec les données transmises !")
        try:
            return answer(True, ent_ids.import_ent(store, base, upload.read(), params["connexion_nom"]))
        except ent_ids.FieldsNotFound as exc:
            return answer(False, str(exc))

    def ajax_fichier_user(base: int):
        if not has_body():
            return answer(False, "Aucune donnée reçue ! Fichier trop lourd ? Taille maximale autorisée dépassée ?")
        form = request.form
        kind = CATEGORIES.get(form.get("f_action", ""))
        step = wizard.step_from_form(form)
        if kind is None:
            return answer(False, MSG_BAD_DATA)
        state = store.load_import(g.session_id) or {}
        ctx = wizard.StepContext(store=store, base=base, kind=kind, mode=form.get("f_mode", ""), state=state,
                                 form=form, today=current_day(), files_dir=credentials_dir)
        try:
            if step == 10:
                upload = request.files.get("userfile")
                if upload is None or not upload.filename:
                    return answer(False, "Problème de transfert ! Fichier trop lourd ? Taille maximale autorisée dépassée ?")
                html = wizard.step10(ctx, upload.filename, upload.read(), form.get("f_choix_principal", ""))
            else:
                html = wizard.run_step(ctx, step, url_dir())
        except ImportRefused as refusal:
            return answer(False, str(refusal))
        store.save_import(g.session_id, state or None)
        return answer(True, html)

    def ajax_public_accueil():
        action = request.form.get("f_action", "")
        base_text = request.form.get("f_base", "0")
        base = int(base_text) if base_text.isdigit() else 0
        if action in ("initialiser", "charger"):
            if base == 0:
                return answer(True, render_template("login_chooser.html", schools=store.schools()))
            school = store.school(base)
            if school is None:
                g.new_cookies[SCHOOL_COOKIE] = ("", 0)
                return answer(False, "Établissement non trouvé dans la base d'administration !")
            params = store.params(base)
            return answer(True, render_template(
                "login_form.html", school=school, params=params,
                ent_checked=request.form.get("get_mode", "ent") != "normal",
                get_login=request.form.get("get_login", "")))
        if action == "choisir":
            return answer(True, render_template("login_chooser.html", schools=store.schools()))
        if action == "identifier":
            return identify(base)
        return answer(False, MSG_BAD_DATA)

    def identify(base: int):
        forcebrute = g.session.get("forcebrute")
        if not forcebrute:
            return answer(False, "Session perdue ou absence de cookie : merci d'actualiser la page.")
        now = time.time()
        if now - forcebrute["time"] < forcebrute["delai"]:
            forcebrute["time"] = now
            return answer(False, f"Sécurité : patienter {forcebrute['delai']}s avant une nouvelle tentative.")
        login = request.form.get("f_login", "").strip()
        password = request.form.get("f_password", "")
        message = MSG_BAD_DATA
        user = None
        if request.form.get("f_profil") == "structure" and login and password and store.school(base):
            user = store.user_by_login(base, login)
            if user is None:
                message = "Nom d'utilisateur incorrect !"
            elif not check_password(password, user["password_hash"]):
                message = f"Mot de passe incorrect ! Nouvelle tentative autorisée dans {forcebrute['delai']}s."
                user = None
            elif not user["active"]:
                message = f"Identification réussie mais ce compte ({login}) est desactivé (sur la base n°{base}) !"
                user = None
        if user is None:
            forcebrute["delai"] += 1
            forcebrute["time"] = now
            return answer(False, message)
        memo = g.session.get("memo_get") or {"page": "compte_accueil"}
        reset_session()
        g.session.update({"user_id": user["id"], "base": base, "profil": user["profil"]})
        g.new_cookies[SCHOOL_COOKIE] = (str(base), ONE_YEAR)
        g.new_cookies[AUTHMODE_COOKIE] = ("normal", ONE_YEAR)
        target = {"log_id": base, **memo}
        if "page" not in target:
            target["page"] = "compte_accueil"
        return answer(True, f"{url_dir()}index.php?{urlencode(target)}")

    def ajax_etabl_connexion(base: int):
        form = request.form
        if form.get("f_action") != "enregistrer_mode_identification":
            return answer(False, MSG_BAD_DATA)
        connector = connectors.find(form.get("f_connexion_mode", ""), form.get("f_connexion_ref", ""))
        if connector is None or not connector.operational:
            return answer(False, MSG_BAD_DATA)
        values = {"connexion_mode": connector.mode, "connexion_nom": connector.nom,
                  "connexion_departement": connector.departement}
        if connector.mode == "cas":
            error, cas_values = check_cas_fields(connector, form)
            if error:
                return answer(False, error)
            values.update(cas_values)
        if "administrateur_etabl_connexion" in faults.settings.get("ack_without_saving", ()):
            return answer(True, None)   # fault: says saved, stores nothing
        store.set_params(base, values)
        return answer(True, None)

    def check_cas_fields(connector, form) -> tuple[str, dict]:
        if connector.cas_server:
            subdomain = form.get("serveur_host_subdomain", "").strip()
            domain = form.get("serveur_host_domain", "").strip()
            if not subdomain:
                return "Sous-domaine manquant !", {}
            host = f"{subdomain}.{domain}"
        else:
            host = form.get("cas_serveur_host", "").strip()
            known = {c.cas_server["host"] for c in connectors.CONNECTORS if c.cas_server}
            if host in known:
                return "Paramètres d'un ENT référencé : sélectionnez-le !", {}
        port = form.get("cas_serveur_port", "").strip()
        root = form.get("cas_serveur_root", "").strip()
        verif = form.get("cas_serveur_verif_certif_ssl", "")
        if not port:
            return "Port manquant !", {}
        if not HOST_SYNTAX.match(host):
            return "Syntaxe du domaine incorrecte !", {}
        if not port.isdigit() or not 0 < int(port) < 65536:
            return "Numéro du port incorrect !", {}
        if not PATH_SYNTAX.match(root):
            return "Syntaxe du chemin incorrecte !", {}
        urls = {}
        for kind in ("login", "logout", "validate"):
            url = form.get(f"cas_serveur_url_{kind}", "").strip()
            if url and not re.match(r"^https?://\S+$", url):
                return f"Syntaxe URL {kind} incorrecte !", {}
            urls[f"cas_serveur_url_{kind}"] = url
        if verif not in ("0", "1"):
            return "Paramètre vérif. certificat SSL manquant !", {}
        return "", {"cas_serveur_host": host, "cas_serveur_port": port, "cas_serveur_root": root,
                    "cas_serveur_verif_certif_ssl": verif, **urls}

    # Files of new credentials (step 53) -------------------------------------------------------
    @app.route("/force_download.php")
    def force_download():
        name = request.args.get("fichier", "")
        if identified_user() is None:
            return login_page(MSG_SESSION_LOST)
        path = credentials_dir / name
        if not re.fullmatch(r"identifiants_[\w-]+\.csv", name) or not path.is_file():
            return render_template("error.html", title="Fichier manquant",
                                   message="Les fichiers sont conservés sur le serveur pendant une durée limitée !"), 404
        return send_file(path, as_attachment=True, download_name=name, mimetype="text/csv")

    @app.route("/__tmp/login-mdp/<name>")
    def credentials_pdf(name: str):
        path = credentials_dir / name
        if not re.fullmatch(r"identifiants_[\w-]+\.pdf", name) or not path.is_file():
            abort(404)
        return send_file(path, mimetype="application/pdf")

    # Test view ---------------------------------------------------------------------------
    @app.route("/_sim/state")
    def sim_state():
        return jsonify({**store.snapshot(), "requests": counter["requests"]})

    @app.route("/_sim/faults", methods=["GET", "POST"])
    def sim_faults():
        if request.method == "POST":
            try:
                faults.replace(request.get_json(force=True) or {})
            except FaultError as exc:
                return jsonify({"error": str(exc)}), 400
        return jsonify(faults.as_dict())

    return app
