"""SACoche's two doors, index.php?page= and ajax.php?page=, which hand each request to the page
family that declared the page; and what comes before and after every request: the request count
and the test faults (sim/faults.py), and the session cookie."""
from __future__ import annotations

import secrets

from flask import Blueprint, Response, g, render_template, request

from ..faults import apply_after, apply_before
from . import public, sso
from .site import (MSG_BAD_DATA, MSG_CSRF, MSG_SESSION_LOST, MSG_WRONG_PROFILE, SESSION_COOKIE, PageFamily,
                   answer, has_body, identified_page, identified_user, reset_session, sim)

core = Blueprint("core", __name__)
accounts = PageFamily("compte", __name__)


def _is_site_request() -> bool:
    return not request.path.startswith(("/_sim/", "/static/"))


@core.before_app_request
def count_request():
    if _is_site_request():
        state = sim()
        with state.lock:
            state.requests += 1
        return apply_before(state.faults, request, end_session=lambda: setattr(g, "expire_session", True))
    return None


@core.after_app_request
def cut_answer(response):
    return apply_after(sim().faults, request, response) if _is_site_request() else response


# The content security policy SACoche's pages carry (Layout::afficher_page_entete): inline and
# eval'd scripts allowed, requests and frames to its own origin only.
CONTENT_SECURITY_POLICY = " ; ".join([
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'", "style-src 'self' 'unsafe-inline'",
    "img-src 'self' 'unsafe-inline' data:", "connect-src 'self'", "child-src 'self'", "media-src 'self' data:",
    "object-src 'none'", "font-src 'none'"])


@core.after_app_request
def page_headers(response: Response) -> Response:
    if request.path in ("/", "/index.php") and response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@core.before_app_request
def open_session() -> None:
    store = sim().store
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


@core.after_app_request
def save_session(response: Response) -> Response:
    if getattr(g, "session_id", None) is None:
        return response
    sim().store.save_session(g.session_id, g.session)
    response.set_cookie(SESSION_COOKIE, g.session_id, httponly=True, samesite="Lax")
    for name, (value, max_age) in g.new_cookies.items():
        response.set_cookie(name, value, max_age=max_age, samesite="Lax")
    return response


@core.route("/index.php", methods=["POST"])
def index_post():
    # The user-list pages re-submit their filter forms to themselves.
    user = identified_user()
    page = request.args.get("page", "")
    if user is None or page not in sim().posted_pages:
        return index()
    return identified_page(user, page)


@core.route("/")
@core.route("/index.php")
def index():
    page = request.args.get("page", "")
    if "sso" in request.args:
        return sso.sso_login()
    if page in ("", "public_accueil"):
        return public.login_page()
    user = identified_user()
    if user is None:
        # Remember the deep link: the login redirect returns to it.
        g.session["memo_get"] = {k: v for k, v in request.args.items() if k in ("page", "section")}
        return public.login_page(MSG_SESSION_LOST)
    if user["profil"] != "ADM" and page.startswith("administrateur"):
        reset_session()
        return public.login_page(MSG_WRONG_PROFILE)
    return identified_page(user, page)


@core.route("/ajax.php", methods=["GET", "POST"])
def ajax():
    page = request.args.get("page", "")
    state = sim()
    if page in state.public_ajax:
        return state.public_ajax[page]()
    user = identified_user()
    if user is None:
        return answer(False, MSG_SESSION_LOST)
    if user["profil"] != "ADM":
        reset_session()
        return answer(False, MSG_WRONG_PROFILE)
    if has_body() and (request.values.get("csrf") or "") != g.session.get("csrf", {}).get(page):
        return answer(False, MSG_CSRF)
    handler = state.ajax.get(page)
    return handler(user) if handler else answer(False, MSG_BAD_DATA)


@accounts.page("compte_accueil")
def home(user, context):
    return render_template("compte_accueil.html", **context)


@accounts.page("compte_cnil")
def cnil(user, context):
    return render_template("compte_cnil.html", **context)
