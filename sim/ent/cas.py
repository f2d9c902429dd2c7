"""The ENT's CAS 2.0 server: the login form (which also opens the ENT web session, shared with
the portal), service tickets for SACoche's CAS connector and for the portal itself, their
validation as CAS 2.0 XML, and logout."""
from __future__ import annotations

from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from flask import Blueprint, Response, redirect, render_template, request

from .site import SESSION_COOKIE, current_account, error_page, sim, with_session

CAS_NS = "http://www.yale.edu/tp/cas"
MSG_BAD_LOGIN = "Identifiant ou mot de passe incorrect."

cas = Blueprint("cas", __name__)


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


@cas.route("/cas/login", methods=["GET", "POST"])
def login():
    service = request.values.get("service", "")
    if service and not acceptable_service(service):
        return error_page("Application non autorisée",
                          "L'application qui demande l'authentification n'est pas autorisée à utiliser ce service.", 400)
    return _check_password(service) if request.method == "POST" else _single_sign_on(service)


def _check_password(service: str):
    """The posted form: a good password opens a new session and, with a service, a ticket."""
    store = sim().store
    username = request.form.get("username", "").strip()
    account = store.check_login(username, request.form.get("password", ""))
    if account is None:
        return login_form(service, MSG_BAD_LOGIN, username, 401)
    target = with_ticket(service, store.issue_ticket(service, account["ent_id"])) if service else "/"
    if request.cookies.get(SESSION_COOKIE):
        store.close_session(request.cookies[SESSION_COOKIE])   # a new login replaces it
    return with_session(redirect(target), account["ent_id"])


def _single_sign_on(service: str):
    """GET: with an ENT session, straight back to the service with a ticket; else the form
    (`renew` forces it, `gateway` goes back to the service unauthenticated)."""
    account = current_account()
    renew = request.args.get("renew", "") not in ("", "false")
    if account is None or renew:
        if service and request.args.get("gateway", "") not in ("", "false") and not renew:
            return redirect(service)
        return login_form(service)
    if not service:
        return redirect("/")
    return redirect(with_ticket(service, sim().store.issue_ticket(service, account["ent_id"])))


def cas_xml(body: str) -> Response:
    xml = f'<cas:serviceResponse xmlns:cas="{CAS_NS}">\n{body}\n</cas:serviceResponse>\n'
    return Response(xml, mimetype="text/xml")


def cas_failure(code: str, message: str) -> Response:
    return cas_xml(f'  <cas:authenticationFailure code="{code}">{escape(message)}</cas:authenticationFailure>')


@cas.route("/cas/serviceValidate")
@cas.route("/cas/proxyValidate")   # phpCAS may call it; no proxy chains here
def service_validate():
    service, ticket = request.args.get("service", ""), request.args.get("ticket", "")
    if not service or not ticket:
        return cas_failure("INVALID_REQUEST", "Les paramètres « service » et « ticket » sont obligatoires")
    check = sim().store.consume_ticket(ticket, service, sim().ttl())
    if check.ent_id is None:
        return cas_failure(check.code, check.message)
    return cas_xml("  <cas:authenticationSuccess>\n"
                   f"    <cas:user>{escape(check.ent_id)}</cas:user>\n"
                   "  </cas:authenticationSuccess>")


@cas.route("/cas/logout")
def logout():
    session_id = request.cookies.get(SESSION_COOKIE, "")
    if session_id:
        sim().store.close_session(session_id)
    target = request.args.get("service") or request.args.get("url") or ""
    response = (redirect(target) if acceptable_service(target) else
                Response(render_template("logged_out.html", title="Déconnexion")))
    response.delete_cookie(SESSION_COOKIE)
    return response
