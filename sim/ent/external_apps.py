"""Applications externes: the paged list of external applications (SACoche sits on page 2, as
in the guide) and one application's link configuration, where the guide ticks the school's
structures, types the number after « base= », validates (the values are then only pending) and
saves. The `links_ack_without_saving` fault makes `Enregistrer` say saved but store nothing."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, g, redirect, render_template, request

from .site import error_page, label, portal_page, sim
from .store import APPS_PER_PAGE

MSG_NOTHING_SELECTED = "Aucune structure sélectionnée : cochez au moins une ligne."
MSG_NOT_A_NUMBER = "La valeur après « base= » doit être un nombre (chiffres uniquement)."

external_apps = Blueprint("external_apps", __name__)


def app_name(app_row) -> str:
    return label("external_apps.app") if app_row["kind"] == "sacoche" else app_row["name"]


@external_apps.route("/admin/applications")
@portal_page(admin=True)
def applications():
    apps = sim().store.apps()
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


@dataclass
class LinkEdit:
    """What the posted configuration form carries: the pending values (validated, not saved),
    the ticked structures, and the outcome of `Valider`."""
    pending: dict[int, str] = field(default_factory=dict)
    selected: set[int] = field(default_factory=set)
    action: str = ""
    error: str = ""
    typed: str = ""
    show_form: bool = False


def posted_edit(known: set[int]) -> LinkEdit:
    """Read the form (only the school's own structures count) and apply `Valider`."""
    edit = LinkEdit(action=request.form.get("action", ""))
    for key, value in request.form.items():
        if key.startswith("attente-") and key[8:].isdigit() and int(key[8:]) in known:
            edit.pending[int(key[8:])] = value
    edit.selected = {int(v) for v in request.form.getlist("structure") if v.isdigit() and int(v) in known}
    if edit.action == "valider":
        edit.typed = request.form.get("valeur", "").strip()
        if not edit.selected:
            edit.error, edit.show_form = MSG_NOTHING_SELECTED, True
        elif not edit.typed.isascii() or not edit.typed.isdigit():
            edit.error, edit.show_form = MSG_NOT_A_NUMBER, True
        else:
            edit.pending.update({sid: edit.typed for sid in edit.selected})
    return edit


def link_rows(app_row, structures, edit: LinkEdit) -> list[dict]:
    store = sim().store
    stored = store.link_values(app_row["id"])
    rows = []
    for structure in structures:
        value = edit.pending.get(structure["id"], stored.get(structure["id"], ""))
        rows.append({"id": structure["id"], "name": structure["name"], "uai": structure["uai"],
                     "instance": structure["instance"], "value": value,
                     "pending": structure["id"] in edit.pending, "url": store.link_url(app_row, value),
                     "checked": structure["id"] in edit.selected})
    return rows


@external_apps.route("/admin/applications/<int:app_id>", methods=["GET", "POST"])
@portal_page(admin=True)
def application_links(app_id: int):
    state = sim()
    app_row = state.store.app(app_id)
    if app_row is None:
        return error_page("Application inconnue", "Cette application n'existe pas.", 404)
    structures = state.store.structures(g.account["uai"])
    edit = posted_edit({s["id"] for s in structures}) if request.method == "POST" else LinkEdit()
    if edit.action == "enregistrer":
        if not state.faults.settings.get("links_ack_without_saving"):
            state.store.set_link_values(app_id, edit.pending)
        return redirect(f"/admin/applications/{app_id}?enregistre=1")
    return render_template("app_links.html", title=f"Configuration du lien « {app_name(app_row)} »",
                           admin_open=True, app_id=app_id, rows=link_rows(app_row, structures, edit),
                           pending=edit.pending, error=edit.error, typed=edit.typed, show_form=edit.show_form,
                           saved="enregistre" in request.args)
