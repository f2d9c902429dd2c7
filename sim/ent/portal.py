"""The portal's own pages: the Bureau (one tile per external application, its link taken from
the first of the school's structures that has one), the Administration menu page, and the other
applications' tiles, which lead to a page saying they are not simulated. The menus themselves
are in templates/layout.html."""
from __future__ import annotations

from flask import Blueprint, g, render_template

from .site import error_page, label, portal_page, sim

MSG_NOT_CONFIGURED = "Lien non configuré"

portal = Blueprint("portal", __name__)


def tile_url(app_row, uai: str) -> str:
    store = sim().store
    values = store.link_values(app_row["id"])
    for structure in store.structures(uai):
        if values.get(structure["id"]):
            return store.link_url(app_row, values[structure["id"]])
    return ""


@portal.route("/")
@portal_page()
def bureau():
    tiles = []
    for app_row in sim().store.apps():
        name = label("desktop.tile") if app_row["kind"] == "sacoche" else app_row["name"]
        tiles.append({"name": name, "url": tile_url(app_row, g.account["uai"])})
    return render_template("bureau.html", title=label("menu.desktop"), tiles=tiles,
                           not_configured=MSG_NOT_CONFIGURED)


@portal.route("/appli/<slug>")
def other_application(slug: str):
    return error_page("Application externe", f"L'application « {slug} » n'est pas simulée.", 200)


@portal.route("/admin")
@portal_page(admin=True)
def administration():
    return render_template("admin.html", title=label("menu.administration"), admin_open=True)
