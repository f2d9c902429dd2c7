"""An ENT simulator (ESUP-Portail as the Montpellier academy's guide shows it) and its CAS 2.0
server. Nobody here has the real ENT's HTML: the markup is our own, ordinary semantic HTML, and
every control the bot uses carries exactly the accessible name of the label pack
(flows/ent/esup_montpellier/labels.yaml), so that the bot finds it by role + name as a person
would."""
from __future__ import annotations

import copy
import csv
import io
import threading
from functools import wraps
from pathlib import Path
from urllib.parse import urlencode, urlsplit
from xml.sax.saxutils import escape

import yaml
from flask import Flask, Response, g, jsonify, redirect, render_template, request

from .store import ADMIN_PROFILE, APPS_PER_PAGE, PROFILES, Store
from ..faults import RULE_KINDS, FaultError, Faults, apply_after, apply_before

PACK_PATH = Path(__file__).resolve().parents[2] / "flows/ent/esup_montpellier/labels.yaml"
SESSION_COOKIE = "ENT-session"   # SACoche's cookies live on the same host (other port): distinct name
CAS_NS = "http://www.yale.edu/tp/cas"
CSV_TITLE = "Extraction des comptes ENT"
CSV_COLUMNS = ("uid", "profil", "nom", "prenom", "classe")
CSV_ENCODINGS = ("iso-8859-1", "utf-8-sig", "utf-8")
RESULTS_SHOWN = 100

MSG_BAD_LOGIN = "Identifiant ou mot de passe incorrect."
MSG_FORBIDDEN = "Accès refusé : cette page est réservée aux administrateurs de l'ENT."
MSG_NOTHING_SELECTED = "Aucune structure sélectionnée : cochez au moins une ligne."
MSG_NOT_A_NUMBER = "La valeur après « base= » doit être un nombre (chiffres uniquement)."
MSG_NOT_CONFIGURED = "Lien non configuré"

# ENT-only switches of POST /_sim/faults (the whole set is replaced at each call), besides the
# rule kinds of sim/faults.py (`http_500` also takes bare paths: those fail for good).
FAULT_KEYS = {
    "ticket_ttl_s": "service tickets expire after this many seconds (0: at once)",
    "csv_encoding": f"encoding of the accounts export, one of {', '.join(CSV_ENCODINGS)}",
    "csv_truncate": "the accounts export is a whole file of only this many bytes",
    "links_ack_without_saving": "`Enregistrer` says saved but stores nothing",
    "expire_sessions": "one shot: every ENT session ends now (not kept in the set)",
}


def load_pack(path: Path = PACK_PATH) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def _merge(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _leaf_keys(labels: dict, prefix: str = "") -> set[str]:
    keys = set()
    for key, value in labels.items():
        if isinstance(value, dict):
            keys |= _leaf_keys(value, f"{prefix}{key}.")
        else:
            keys.add(prefix + key)
    return keys


def create_app(state_dir: Path, labels: dict | None = None, ticket_ttl_s: float = 10.0) -> Flask:
    """`labels` (nested, as the pack) overrides the pack's labels; `ticket_ttl_s` is the life of
    a CAS service ticket."""
    app = Flask(__name__)
    store = Store(Path(state_dir) / "ent.sqlite")
    app.config["STORE"] = store
    app.config["LABELS"] = _merge(load_pack(), labels or {})
    faults = Faults(extra_keys=FAULT_KEYS)
    app.config["FAULTS"] = faults
    counter = {"requests": 0}
    counter_lock = threading.Lock()

    def label(key: str) -> str:
        value = app.config["LABELS"]
        for part in key.split("."):
            value = value[part]
        return str(value)

    def ttl() -> float:
        return float(faults.settings.get("ticket_ttl_s", ticket_ttl_s))

    @app.before_request
    def count_and_fault():
        if request.path.startswith(("/_sim/", "/static/")):
            return None
        with counter_lock:
            counter["requests"] += 1
        return apply_before(faults, request, end_session=end_visitor_session)

    def end_visitor_session() -> None:
        session_id = request.cookies.get(SESSION_COOKIE, "")
        if session_id:
            store.close_session(session_id)

    @app.after_request
    def cut_answer(response):
        if request.path.startswith(("/_sim/", "/static/")):
            return response
        return apply_after(faults, request, response)

    @app.context_processor
    def template_helpers() -> dict:
        return {"label": label, "account": getattr(g, "account", None)}

    # Sessions --------------------------------------------------------------------------------
    def current_account():
        session_id = request.cookies.get(SESSION_COOKIE, "")
        return store.session_account(session_id) if session_id else None

    def with_session(response: Response, ent_id: str) -> Response:
        response.set_cookie(SESSION_COOKIE, store.open_session(ent_id), httponly=True, samesite="Lax")
        return response

    def portal_service() -> str:
        """This page's address without `ticket`: the service the portal asks CAS for."""
        args = [(k, v) for k, v in request.args.items(multi=True) if k != "ticket"]
        return request.base_url + (f"?{urlencode(args)}" if args else "")

    def portal_page(admin: bool = False):
        """The portal is a CAS client of its own server: no session → CAS login with this page
        as service; back with a ticket → validate it, open the session, drop the ticket."""
        def decorate(view):
            @wraps(view)
            def wrapper(*args, **kwargs):
                if "ticket" in request.args:
                    check = store.consume_ticket(request.args["ticket"], portal_service(), ttl())
                    if current_account() is not None:
                        # CAS and portal share the session cookie: it already says who this is
                        # (and a failed ticket must not send the browser round in circles).
                        return redirect(portal_service())
                    if check.ent_id is None:
                        return render_template("error.html", title="Échec de l'authentification",
                                               message=f"Le ticket d'authentification a été refusé ({check.code})."), 401
                    return with_session(redirect(portal_service()), check.ent_id)
                g.account = current_account()
                if g.account is None:
                    return redirect(cas_login_url(portal_service()))
                if admin and g.account["profile"] != ADMIN_PROFILE:
                    return render_template("error.html", title="Accès refusé", message=MSG_FORBIDDEN), 403
                return view(*args, **kwargs)
            return wrapper
        return decorate

    def cas_login_url(service: str) -> str:
        return "/cas/login?" + urlencode({"service": service})

    # CAS 2.0 server ------------------------------------------------------------------------------
    def with_ticket(service: str, ticket: str) -> str:
        address, hash_sign, fragment = service.partition("#")
        joined = f"{address}{'&' if '?' in address else '?'}ticket={ticket}"
        return joined + hash_sign + fragment

    def acceptable_service(service: str) -> bool:
        parts = urlsplit(service)
        return parts.scheme in ("http", "https") and bool(parts.netloc)

    def login_form(service: str, error: str = "", username: str = "", status: int = 200):
        return render_template("login.html", title="Connexion à l'ENT", service=service, error=error,
                               username=username), status

    @app.route("/cas/login", methods=["GET", "POST"])
    def cas_login():
        service = request.values.get("service", "")
        if service and not acceptable_service(service):
            return render_template("error.html", title="Application non autorisée",
                                   message="L'application qui demande l'authentification n'est pas autorisée à utiliser ce service."), 400
        if request.method == "POST":
            username = request.form.get("username", "").strip()
            account = store.check_login(username, request.form.get("password", ""))
            if account is None:
                return login_form(service, MSG_BAD_LOGIN, username, 401)
            target = with_ticket(service, store.issue_ticket(service, account["ent_id"])) if service else "/"
            if request.cookies.get(SESSION_COOKIE):
                store.close_session(request.cookies[SESSION_COOKIE])   # a new login replaces it
            return with_session(redirect(target), account["ent_id"])
        account = current_account()
        renew = request.args.get("renew", "") not in ("", "false")
        if account is None or renew:
            if service and request.args.get("gateway", "") not in ("", "false") and not renew:
                return redirect(service)   # gateway: back to the service, unauthenticated
            return login_form(service)
        if not service:
            return redirect("/")
        return redirect(with_ticket(service, store.issue_ticket(service, account["ent_id"])))

    def cas_xml(body: str) -> Response:
        xml = f'<cas:serviceResponse xmlns:cas="{CAS_NS}">\n{body}\n</cas:serviceResponse>\n'
        return Response(xml, mimetype="text/xml")

    def cas_failure(code: str, message: str) -> Response:
        return cas_xml(f'  <cas:authenticationFailure code="{code}">{escape(message)}</cas:authenticationFailure>')

    @app.route("/cas/serviceValidate")
    @app.route("/cas/proxyValidate")   # phpCAS may call it; no proxy chains here
    def cas_service_validate():
        service, ticket = request.args.get("service", ""), request.args.get("ticket", "")
        if not service or not ticket:
            return cas_failure("INVALID_REQUEST", "Les paramètres « service » et « ticket » sont obligatoires")
        check = store.consume_ticket(ticket, service, ttl())
        if check.ent_id is None:
            return cas_failure(check.code, check.message)
        return cas_xml("  <cas:authenticationSuccess>\n"
                       f"    <cas:user>{escape(check.ent_id)}</cas:user>\n"
                       "  </cas:authenticationSuccess>")

    @app.route("/cas/logout")
    def cas_logout():
        session_id = request.cookies.get(SESSION_COOKIE, "")
        if session_id:
            store.close_session(session_id)
        target = request.args.get("service") or request.args.get("url") or ""
        response = (redirect(target) if acceptable_service(target) else
                    Response(render_template("logged_out.html", title="Déconnexion")))
        response.delete_cookie(SESSION_COOKIE)
        return response

    # Portal: the Bureau ---------------------------------------------------------------------------
    def tile_url(app_row, uai: str) -> str:
        values = store.link_values(app_row["id"])
        for structure in store.structures(uai):
            if values.get(structure["id"]):
                return store.link_url(app_row, values[structure["id"]])
        return ""

    def app_name(app_row) -> str:
        return label("external_apps.app") if app_row["kind"] == "sacoche" else app_row["name"]

    @app.route("/")
    @portal_page()
    def bureau():
        tiles = []
        for app_row in store.apps():
            name = label("desktop.tile") if app_row["kind"] == "sacoche" else app_row["name"]
            tiles.append({"name": name, "url": tile_url(app_row, g.account["uai"])})
        return render_template("bureau.html", title=label("menu.desktop"), tiles=tiles,
                               not_configured=MSG_NOT_CONFIGURED)

    @app.route("/appli/<slug>")
    def other_application(slug: str):
        return render_template("error.html", title="Application externe",
                               message=f"L'application « {slug} » n'est pas simulée."), 200

    # Administration ------------------------------------------------------------------------------
    @app.route("/admin")
    @portal_page(admin=True)
    def administration():
        return render_template("admin.html", title=label("menu.administration"), admin_open=True)

    def search_args() -> dict[str, str]:
        profile = request.args.get("profil", "")
        return {"profil": profile if profile in PROFILES else "",
                "nom": request.args.get("nom", "").strip(),
                "classe": request.args.get("classe", "").strip()}

    @app.route("/admin/comptes")
    @portal_page(admin=True)
    def accounts_page():
        criteria = search_args()
        searched = "rechercher" in request.args
        results = (store.search_accounts(g.account["uai"], criteria["profil"], criteria["nom"], criteria["classe"])
                   if searched else [])
        return render_template("accounts.html", title=label("menu.accounts"), admin_open=True,
                               profiles=PROFILES, criteria=criteria, searched=searched,
                               results=results[:RESULTS_SHOWN], total=len(results),
                               export_url="/admin/comptes/extraction?" + urlencode(criteria))

    @app.route("/admin/comptes/extraction")
    @portal_page(admin=True)
    def accounts_export():
        criteria = search_args()
        rows = store.search_accounts(g.account["uai"], criteria["profil"], criteria["nom"], criteria["classe"],
                                     with_admins=False)
        text = io.StringIO()
        writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
        writer.writerow([CSV_TITLE])   # a single cell: SACoche's `esup` layout skips 2 header lines
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            writer.writerow([row["ent_id"], row["profile"], row["nom"], row["prenom"], row["classe"]])
        encoding = faults.settings.get("csv_encoding", "iso-8859-1")
        # Characters Latin-1 lacks become "?", as the real exports do.
        body = text.getvalue().encode(encoding, errors="replace")
        if "csv_truncate" in faults.settings:
            body = body[:int(faults.settings["csv_truncate"])]
        charset = "utf-8" if encoding.startswith("utf-8") else encoding
        return Response(body, mimetype="text/csv", content_type=f"text/csv; charset={charset}", headers={
            "Content-Disposition": f'attachment; filename="extraction_comptes_{g.account["uai"]}.csv"'})

    @app.route("/admin/applications")
    @portal_page(admin=True)
    def applications():
        apps = store.apps()
        pages = max(1, -(-len(apps) // APPS_PER_PAGE))
        page_text = request.args.get("page", "1")
        page = min(max(int(page_text), 1), pages) if page_text.isdigit() else 1
        shown = apps[(page - 1) * APPS_PER_PAGE: page * APPS_PER_PAGE]
        return render_template("applications.html", title=label("menu.external_apps"), admin_open=True,
                               rows=[{"id": a["id"], "name": app_name(a),
                                      "button": label("external_apps.configure").replace("{app}", app_name(a))}
                                     for a in shown],
                               page=page, pages=[(n, label("external_apps.page_link").replace("{number}", str(n)))
                                                 for n in range(1, pages + 1)])

    @app.route("/admin/applications/<int:app_id>", methods=["GET", "POST"])
    @portal_page(admin=True)
    def application_links(app_id: int):
        app_row = store.app(app_id)
        if app_row is None:
            return render_template("error.html", title="Application inconnue",
                                   message="Cette application n'existe pas."), 404
        structures = store.structures(g.account["uai"])
        known = {s["id"] for s in structures}
        pending: dict[int, str] = {}
        selected: set[int] = set()
        error, typed, show_form = "", "", False
        if request.method == "POST":
            for key, value in request.form.items():
                if key.startswith("attente-") and key[8:].isdigit() and int(key[8:]) in known:
                    pending[int(key[8:])] = value
            selected = {int(v) for v in request.form.getlist("structure") if v.isdigit() and int(v) in known}
            action = request.form.get("action", "")
            if action == "enregistrer":
                if not faults.settings.get("links_ack_without_saving"):
                    store.set_link_values(app_id, pending)
                return redirect(f"/admin/applications/{app_id}?enregistre=1")
            if action == "valider":
                typed = request.form.get("valeur", "").strip()
                if not selected:
                    error, show_form = MSG_NOTHING_SELECTED, True
                elif not typed.isascii() or not typed.isdigit():
                    error, show_form = MSG_NOT_A_NUMBER, True
                else:
                    pending.update({sid: typed for sid in selected})
        stored = store.link_values(app_id)
        rows = []
        for structure in structures:
            value = pending.get(structure["id"], stored.get(structure["id"], ""))
            rows.append({"id": structure["id"], "name": structure["name"], "uai": structure["uai"],
                         "instance": structure["instance"], "value": value,
                         "pending": structure["id"] in pending, "url": store.link_url(app_row, value),
                         "checked": structure["id"] in selected})
        return render_template("app_links.html", title=f"Configuration du lien « {app_name(app_row)} »",
                               admin_open=True, app_id=app_id, rows=rows, pending=pending, error=error,
                               typed=typed, show_form=show_form, saved="enregistre" in request.args)

    # Test view -----------------------------------------------------------------------------------
    @app.route("/_sim/state")
    def sim_state():
        return jsonify({**store.snapshot(), "requests": counter["requests"],
                        "faults": faults.as_dict(), "labels": app.config["LABELS"]})

    @app.route("/_sim/labels", methods=["GET", "POST"])
    def sim_labels():
        if request.method == "POST":
            changes = request.get_json(force=True) or {}
            unknown = sorted(set(changes) - _leaf_keys(app.config["LABELS"]))
            if unknown:
                return jsonify({"error": f"clés inconnues : {', '.join(unknown)}"}), 400
            for key, value in changes.items():
                *path, leaf = key.split(".")
                holder = app.config["LABELS"]
                for part in path:
                    holder = holder[part]
                holder[leaf] = value
        return jsonify(app.config["LABELS"])

    @app.route("/_sim/faults", methods=["GET", "POST"])
    def sim_faults():
        if request.method == "POST":
            wanted = request.get_json(force=True) or {}
            if isinstance(wanted, dict) and wanted.get("csv_encoding", "iso-8859-1") not in CSV_ENCODINGS:
                return jsonify({"error": f"encodage inconnu : {wanted['csv_encoding']}"}), 400
            try:
                faults.replace(wanted)
            except FaultError as exc:
                return jsonify({"error": str(exc), "known": {**FAULT_KEYS, **dict.fromkeys(RULE_KINDS, "")}}), 400
            if faults.settings.pop("expire_sessions", False):
                store.close_all_sessions()
        return jsonify(faults.as_dict())

    return app
