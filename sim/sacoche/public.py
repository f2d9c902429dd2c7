"""SACoche's public pages: the login page (with its anti-bruteforce delay), the school chooser,
the password login, and the two session calls any page's script makes."""
from __future__ import annotations

import time
from urllib.parse import urlencode

from flask import g, jsonify, render_template, request

from .site import (MSG_BAD_DATA, MSG_SESSION_LOST, SCHOOL_COOKIE, PageFamily, answer, identified_user, log_user_in,
                   reset_session, resolve_base, sim, url_dir)
from .store import check_password

LOGIN_DELAY_S = 2

public = PageFamily("public", __name__)

# The release the specs describe (its VERSION.txt); the fault setting `version` shows another.
SPEC_VERSION = "2017-09-19"


def shown_version() -> str:
    return str(sim().faults.settings.get("version") or SPEC_VERSION)


@public.route("/VERSION.txt")
def version_file():
    # Served without login, as the real server does (no deny rule).
    return shown_version(), 200, {"Content-Type": "text/plain; charset=utf-8"}


def login_page(probleme: str = "") -> str:
    if g.session.get("user_id"):
        # Opening a public page while identified silently ends the session.
        reset_session()
    g.session["forcebrute"] = {"time": time.time(), "delai": LOGIN_DELAY_S}
    probleme = probleme or g.session.pop("probleme", "")
    return render_template(
        "public_accueil.html", base=resolve_base(), probleme=probleme, version=shown_version(),
        get_mode=request.args.get("mode", "ent"), get_login=request.args.get("login", ""))


@public.ajax("conserver_session_active", public=True)
def keep_session_alive():
    return jsonify({"statut": True}) if identified_user() else answer(False, MSG_SESSION_LOST)


@public.ajax("fermer_session", public=True)
def close_session():
    reset_session()
    return jsonify({"statut": True})


@public.ajax("public_accueil", public=True)
def ajax_public_accueil():
    store = sim().store
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
        return answer(True, render_template(
            "login_form.html", school=school, params=store.params(base),
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
        with sim().lock:
            sim().logins["too_early"] += 1   # counted: the bot should not have to wait
        return answer(False, f"Sécurité : patienter {forcebrute['delai']}s avant une nouvelle tentative.")
    user, message = _check_login(base, request.form.get("f_login", "").strip(), request.form.get("f_password", ""),
                                 forcebrute["delai"])
    if user is None:
        forcebrute["delai"] += 1
        forcebrute["time"] = now
        return answer(False, message)
    memo = g.session.get("memo_get") or {"page": "compte_accueil"}
    log_user_in(user, base, "normal")
    target = {"log_id": base, **memo}
    if "page" not in target:
        target["page"] = "compte_accueil"
    return answer(True, f"{url_dir()}index.php?{urlencode(target)}")


def _check_login(base: int, login: str, password: str, delay: int):
    """(the account, "") when login and password fit an active account, else (None, SACoche's message)."""
    store = sim().store
    if request.form.get("f_profil") != "structure" or not login or not password or not store.school(base):
        return None, MSG_BAD_DATA
    user = store.user_by_login(base, login)
    if user is None:
        return None, "Nom d'utilisateur incorrect !"
    if not check_password(password, user["password_hash"]):
        return None, f"Mot de passe incorrect ! Nouvelle tentative autorisée dans {delay}s."
    if not user["active"]:
        return None, f"Identification réussie mais ce compte ({login}) est desactivé (sur la base n°{base}) !"
    return user, ""
