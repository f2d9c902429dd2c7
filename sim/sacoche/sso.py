"""SACoche's SSO door, index.php?sso=<base>: the cookie check, the redirect to the school's CAS
server, and the ticket validation (phpCAS's serviceValidate) that logs the ENT user in."""
from __future__ import annotations

import urllib.request
from urllib.parse import quote
from xml.etree import ElementTree

from flask import current_app, g, render_template, request

from .site import ONE_YEAR, identified_page, identified_user, log_user_in, redirect_to, resolve_base, sim

TEST_COOKIE = "SACoche-test-cookie"
CAS_NS = "{http://www.yale.edu/tp/cas}"
CAS_FAILED_TITLE = "Authentification CAS infructueuse !"   # phpCAS (French) on a failed validation


def sso_login():
    if not request.cookies.get(TEST_COOKIE):
        # SACoche checks that cookies work before an SSO dance (else it would loop).
        if "cookie" in request.args:
            return render_template("error.html", title="Risque de redirections en boucle",
                                   message="Pour utiliser SACoche vous devez configurer l'acceptation des cookies par votre navigateur.")
        g.new_cookies[TEST_COOKIE] = ("1", ONE_YEAR)
        return redirect_to(f"{request.url}&cookie", 307)
    store = sim().store
    base = _sso_base()
    if not base or store.school(base) is None:
        return render_template("error.html", title="Donnée manquante",
                               message="Référence de base manquante (le paramètre \"base\" n'a pas été transmis ou n'est pas un entier)."), 200
    params = store.params(base)
    if params["connexion_mode"] == "normal":
        return render_template(
            "error.html", title="Configuration manquante",
            message="Établissement non paramétré par l'administrateur pour utiliser un service "
                    "d'authentification externe. Un administrateur doit renseigner ce "
                    "paramétrage dans son menu [Mode d'identification]."), 200
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


def _sso_base() -> int:
    sso = request.args.get("sso", "")
    if sso.isdigit():
        return int(sso)
    if sso:
        by_uai = sim().store.school_by_uai(sso)
        return by_uai["base"] if by_uai else 0
    return resolve_base()


def cas_server_url(params: dict) -> str | None:
    """phpCAS would use https://<host>[:port]/<root>; the simulator maps the ENT's real host
    onto the local ENT simulator (CAS_HOSTS), and knows no other server."""
    mapped = current_app.config.get("CAS_HOSTS", {}).get(params["cas_serveur_host"])
    if not mapped:
        return None
    root = params["cas_serveur_root"].strip("/")
    return mapped.rstrip("/") + (f"/{root}" if root else "")


def url_without_ticket() -> str:
    pairs = [part for part in request.query_string.decode().split("&") if part and not part.startswith("ticket=")]
    return f"{request.base_url}?{'&'.join(pairs)}"


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
    rows = sim().store.query("SELECT * FROM user WHERE base = ? AND id_ent = ? AND profil != 'ADM'", (base, cas_user))
    if not rows:
        return cas_incident(
            f"Identification réussie mais identifiant CAS \"{cas_user}\" inconnu dans SACoche (base n°{base}) ! "
            f"Un administrateur doit renseigner que l'identifiant ENT associé à votre compte SACoche est "
            f"\"{cas_user}\"… (menu [Gestion des utilisateurs]).")
    account = rows[0]
    if account["sortie"]:
        return cas_incident(f"Identification réussie mais ce compte ({account['login']}) est desactivé "
                            f"(sur la base n°{base}) !")
    log_user_in(account, base, "cas")
    return redirect_to(service)
