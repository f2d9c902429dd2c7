"""SACoche's school settings the bot drives: "Mode d'identification / Connecteur ENT"
(administrateur_etabl_connexion, with its CAS server checks) and "Niveaux"
(administrateur_etabl_niveau, see levels_page.py)."""
from __future__ import annotations

import re

from flask import render_template, request

from . import connectors, levels_page
from .site import MSG_BAD_DATA, PageFamily, answer, sim, url_dir

HOST_SYNTAX = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$", re.I)
PATH_SYNTAX = re.compile(r"^[a-z0-9/._-]*$", re.I)
CONNEXION = "administrateur_etabl_connexion"
NIVEAU = "administrateur_etabl_niveau"

etabl = PageFamily("etabl", __name__)


@etabl.page(CONNEXION)
def connexion_page(user, context):
    base = user["base"]
    params = sim().store.params(base)
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
    return render_template("etabl_connexion.html", **context, groups=groups, current=current, tab_param=tab_param,
                           verif_ssl=params.get("cas_serveur_verif_certif_ssl", "1"),
                           sso_url=f"{url_dir()}?sso={base}")


@etabl.ajax(CONNEXION)
def save_connexion(user):
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
    if CONNEXION in sim().faults.settings.get("ack_without_saving", ()):
        return answer(True, None)   # fault: says saved, stores nothing
    sim().store.set_params(user["base"], values)
    return answer(True, None)


def check_cas_fields(connector, form) -> tuple[str, dict]:
    """SACoche's checks of the CAS server fields, in its order: ("", values) or (message, {})."""
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


@etabl.page(NIVEAU)
def levels(user, context):
    return render_template("etabl_niveau.html", **context, **levels_page.page_data(sim().store, user["base"]))


@etabl.ajax(NIVEAU)
def add_level(user):
    statut, value = levels_page.ajax(sim().store, user["base"], request.form)
    return answer(statut, value)
