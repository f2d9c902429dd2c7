"""Faults both simulators inject on purpose, switchable per test (`POST /_sim/faults`) or from
`python -m sim --sacoche-faults/--ent-faults`.

A fault set maps a kind to a list of rules. A rule matches a request when every criterion it
gives matches (a criterion it leaves out matches anything):
    path    the request path, e.g. "/ajax.php" or "/admin/comptes/extraction"
    page    SACoche's `?page=` argument
    method  "GET" / "POST"
    form    {field: value} of the posted form
    query   {argument: text} the URL argument must be present and contain the text
    times   how many matching requests it hits (default 1; null: all of them)
Kinds:
    http_500        answer HTTP 500
    delay           wait `seconds` (default 2) before answering: a slow rentrée
    expire_session  end the visitor's session before answering (inactivity logout)
    cut             send only `bytes` (default 100) of the answer, announce the full length, then
                    drop the connection: a download cut short
    go_away         the whole server stops listening for `seconds` (default 3), then comes back
                    on the same port (the request that triggered it gets no answer)
    rename          a changed page: in the answer (HTML or JSON), the text `from` becomes `to`,
                    e.g. an element id or a label; for good unless `times` says otherwise
`GET /_sim/faults` also returns `hits` (which rule fired, in order) and `delaying` (requests
being slowed down right now), so that a test can act while a delayed request is in flight."""
from __future__ import annotations

import copy
import socket
import threading
from typing import Callable

RULE_KINDS = ("http_500", "delay", "expire_session", "cut", "go_away", "rename")
CRITERIA = {"path", "page", "method", "form", "query"}
OPTIONS = {"times", "seconds", "bytes", "label", "from", "to"}


class FaultError(ValueError):
    """A fault set the simulator cannot understand (the message is shown to the tester)."""


class Faults:
    """The fault set of one simulator; thread-safe (the servers are threaded)."""

    def __init__(self, extra_keys: dict[str, str] | None = None):
        self.extra_keys = dict(extra_keys or {})   # site-specific switches, kept as they are
        self._lock = threading.Lock()
        self._rules: dict[str, list[dict]] = {}
        self.settings: dict = {}
        self.hits: list[dict] = []
        self.delaying = 0
        self.go_away: Callable[[float], None] | None = None   # set by the server serving the app

    def replace(self, data: dict) -> None:
        """Install a new fault set (the previous one, and its hits, are forgotten)."""
        if not isinstance(data, dict):
            raise FaultError("un objet JSON est attendu")
        unknown = sorted(set(data) - set(RULE_KINDS) - set(self.extra_keys))
        if unknown:
            raise FaultError(f"pannes inconnues : {', '.join(unknown)}")
        rules, settings = {}, {}
        for key, value in data.items():
            if key in RULE_KINDS:
                rules[key] = [self._checked_rule(key, rule) for rule in value]
            else:
                settings[key] = value
        with self._lock:
            self._rules, self.settings, self.hits = rules, settings, []

    @staticmethod
    def _checked_rule(kind: str, rule) -> dict:
        if isinstance(rule, str):   # a bare path: every request to it, for good
            rule = {"path": rule, "times": None}
        if not isinstance(rule, dict):
            raise FaultError(f"{kind} : chaque règle est un objet JSON ou un chemin")
        unknown = sorted(set(rule) - CRITERIA - OPTIONS)
        if unknown:
            raise FaultError(f"{kind} : champs inconnus {', '.join(unknown)}")
        rule = copy.deepcopy(rule)
        if kind == "rename":
            if not isinstance(rule.get("from"), str) or not rule["from"] or not isinstance(rule.get("to"), str):
                raise FaultError("rename : « from » (texte non vide) et « to » (texte) sont attendus")
            rule.setdefault("times", None)   # a page changed by a new release stays changed
        rule.setdefault("times", 1)
        return rule

    def take(self, kind: str, request) -> dict | None:
        """The first rule of `kind` matching `request` (a Flask request), used up once; None."""
        taken = self._take(kind, request, first_only=True)
        return taken[0] if taken else None

    def take_all(self, kind: str, request) -> list[dict]:
        """Every rule of `kind` matching `request`, each used up once."""
        return self._take(kind, request, first_only=False)

    def _take(self, kind: str, request, first_only: bool) -> list[dict]:
        taken = []
        with self._lock:
            for index, rule in enumerate(self._rules.get(kind, ())):
                if rule["times"] is not None and rule["times"] <= 0:
                    continue
                if not _matches(rule, request):
                    continue
                if rule["times"] is not None:
                    rule["times"] -= 1
                self.hits.append({"kind": kind, "rule": index, "label": rule.get("label"),
                                  "path": request.path, "page": request.args.get("page")})
                taken.append(rule)
                if first_only:
                    break
        return taken

    def slowed(self, seconds: float) -> None:
        """Hold the current request `seconds` (the site is slow), counted in `delaying`."""
        with self._lock:
            self.delaying += 1
        try:
            threading.Event().wait(seconds)
        finally:
            with self._lock:
                self.delaying -= 1

    def as_dict(self) -> dict:
        with self._lock:
            return {**copy.deepcopy(self._rules), **copy.deepcopy(self.settings),
                    "hits": list(self.hits), "delaying": self.delaying}


def _matches(rule: dict, request) -> bool:
    if "path" in rule and request.path != rule["path"]:
        return False
    if "page" in rule and request.args.get("page", "") != rule["page"]:
        return False
    if "method" in rule and request.method != str(rule["method"]).upper():
        return False
    if any(argument not in request.args or str(text) not in request.args[argument]
           for argument, text in rule.get("query", {}).items()):
        return False
    return all(request.form.get(field) == str(value) for field, value in rule.get("form", {}).items())


def apply_before(faults: Faults, request, end_session: Callable[[], None]):
    """Run the rules that act before the page: returns a response to send instead, or None.
    `end_session` ends the visitor's session the site's own way."""
    from flask import Response
    rule = faults.take("go_away", request)
    if rule is not None and faults.go_away is not None:
        faults.go_away(float(rule.get("seconds", 3)))
        connection = request.environ.get("werkzeug.socket")
        if connection is not None:   # this request, too, goes unanswered
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        return Response("", status=503, headers={"Connection": "close"})
    rule = faults.take("delay", request)
    if rule is not None:
        faults.slowed(float(rule.get("seconds", 2)))
    if faults.take("expire_session", request) is not None:
        end_session()
    if faults.take("http_500", request) is not None:
        return Response("<h1>Internal Server Error</h1>", status=500, mimetype="text/html")
    return None


def apply_after(faults: Faults, request, response):
    """The `rename` rule (the page as another release would write it), then the `cut` rule:
    keep the first bytes of the answer, announce its whole length and close the connection, so
    the browser sees a transfer that broke off."""
    renames = faults.take_all("rename", request) if response.mimetype in ("text/html", "application/json") else []
    if renames:
        response.direct_passthrough = False
        body = response.get_data(as_text=True)
        for rename in renames:
            body = body.replace(rename["from"], rename["to"])
        response.set_data(body)
    rule = faults.take("cut", request)
    if rule is None:
        return response
    response.direct_passthrough = False   # files are streamed: read them whole first
    body = response.get_data()
    kept = body[:int(rule.get("bytes", 100))]
    response.set_data(kept)
    response.headers["Content-Length"] = str(len(body))
    response.headers["Connection"] = "close"
    return response


def install_site_hooks(blueprint, state_of: Callable[[], object], end_session: Callable[[], None]) -> None:
    """Before every site request (not /_sim/ nor /static/): count it in `state_of().requests`
    and apply the `before` faults; after it, the `cut` fault. `state_of()` has `requests`,
    `lock` and `faults`."""
    from flask import request

    def is_site_request() -> bool:
        return not request.path.startswith(("/_sim/", "/static/"))

    @blueprint.before_app_request
    def count_and_fault():
        if not is_site_request():
            return None
        state = state_of()
        with state.lock:
            state.requests += 1
        return apply_before(state.faults, request, end_session=end_session)

    @blueprint.after_app_request
    def cut_answer(response):
        return apply_after(state_of().faults, request, response) if is_site_request() else response
