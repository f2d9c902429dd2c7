"""What every page family of the simulated ENT shares: the simulator's state (kept in
`app.extensions["ent"]`, not in closures), the ENT web session, the portal's own CAS client
(`portal_page`), and what comes before and after every request: the request count, the test
faults (sim/faults.py) and the template helpers."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import wraps
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, g, redirect, render_template, request

from ..faults import Faults, install_site_hooks
from . import labels
from .store import ADMIN_PROFILE, Store

SESSION_COOKIE = "ENT-session"   # SACoche's cookies live on the same host (other port): distinct name
MSG_FORBIDDEN = "Accès refusé : cette page est réservée aux administrateurs de l'ENT."


@dataclass
class EntSim:
    store: Store
    faults: Faults
    labels: dict                    # nested as the pack; POST /_sim/labels renames in place
    ticket_ttl_s: float = 10.0      # life of a CAS service ticket, unless the `ticket_ttl_s` fault says
    requests: int = 0               # site requests the bot made (a refused run must make none)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def label(self, key: str) -> str:
        return labels.lookup(self.labels, key)

    def ttl(self) -> float:
        return float(self.faults.settings.get("ticket_ttl_s", self.ticket_ttl_s))


def sim() -> EntSim:
    return current_app.extensions["ent"]


def label(key: str) -> str:
    return sim().label(key)


def error_page(title: str, message: str, status: int):
    return render_template("error.html", title=title, message=message), status


# Before and after every request ------------------------------------------------------------------
site = Blueprint("site", __name__)
install_site_hooks(site, lambda: sim(), lambda: end_visitor_session())   # count, faults


@site.app_context_processor
def template_helpers() -> dict:
    return {"label": label, "account": getattr(g, "account", None)}


# Sessions ----------------------------------------------------------------------------------------
def current_account():
    session_id = request.cookies.get(SESSION_COOKIE, "")
    return sim().store.session_account(session_id) if session_id else None


def with_session(response: Response, ent_id: str) -> Response:
    response.set_cookie(SESSION_COOKIE, sim().store.open_session(ent_id), httponly=True, samesite="Lax")
    return response


def end_visitor_session() -> None:
    session_id = request.cookies.get(SESSION_COOKIE, "")
    if session_id:
        sim().store.close_session(session_id)


# The portal, a CAS client of its own server ----------------------------------------------------
def cas_login_url(service: str) -> str:
    return "/cas/login?" + urlencode({"service": service})


def portal_service() -> str:
    """This page's address without `ticket`: the service the portal asks CAS for."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "ticket"]
    return request.base_url + (f"?{urlencode(args)}" if args else "")


def _back_with_ticket():
    """Validate the ticket CAS sent the browser back with, open the session, drop the ticket."""
    check = sim().store.consume_ticket(request.args["ticket"], portal_service(), sim().ttl())
    if current_account() is not None:
        # CAS and portal share the session cookie: it already says who this is
        # (and a failed ticket must not send the browser round in circles).
        return redirect(portal_service())
    if check.ent_id is None:
        return error_page("Échec de l'authentification",
                          f"Le ticket d'authentification a été refusé ({check.code}).", 401)
    return with_session(redirect(portal_service()), check.ent_id)


def portal_page(admin: bool = False):
    """A portal page: no session → CAS login with this page as service; back with a ticket →
    `_back_with_ticket`; `admin` pages are refused (403) to other profiles. The view finds the
    visitor in `g.account`."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if "ticket" in request.args:
                return _back_with_ticket()
            g.account = current_account()
            if g.account is None:
                return redirect(cas_login_url(portal_service()))
            if admin and g.account["profile"] != ADMIN_PROFILE:
                return error_page("Accès refusé", MSG_FORBIDDEN, 403)
            return view(*args, **kwargs)
        return wrapper
    return decorate
