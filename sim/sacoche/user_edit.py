"""The "Modifier un utilisateur" dialog of the three user-management pages: its AJAX call
(`f_action=modifier` on `administrateur_<eleve|parent|professeur>_gestion`). As on the real site,
the server takes every posted field, the login and password staying as they are when their
"inchangé" box is ticked, and refuses an Id. ENT that any account of the school already holds
(administrators and former accounts included; an empty one is never tested), and refuses to save
an account whose e-mail domain the server cannot reach (a fault switch: the simulator never
looks the domain up)."""
from __future__ import annotations

import re

from flask import request
from markupsafe import escape

from . import clean
from .profiles import STAFF
from .site import MSG_BAD_DATA, PageFamily, answer, sim

user_edit = PageFamily("user_edit", __name__)
EDIT_PAGES = {"administrateur_eleve_gestion": ("ELV",), "administrateur_parent_gestion": ("TUT",),
              "administrateur_professeur_gestion": STAFF}
DATE_FR = re.compile(r"^\d{2}/\d{2}/\d{4}$")
MSG_ID_ENT_USED = "Identifiant ENT déjà utilisé !"
MSG_LOGIN_USED = "Login déjà utilisé !"
MSG_SCONET_USED = "Identifiant Sconet déjà utilisé !"
MSG_PROFILE = "Profil incorrect !"


def _date_fr_to_iso(text: str) -> str:
    day, month, year = text.split("/")
    return f"{year}-{month}-{day}"


def _held_by_other(store, base: int, column: str, value, user_id: int) -> bool:
    return bool(store.query(f"SELECT 1 FROM user WHERE base = ? AND {column} = ? AND id != ?", (base, value, user_id)))


@user_edit.ajax(*EDIT_PAGES)
def modify(admin):
    page = request.args.get("page", "")
    form = request.form
    store, base = sim().store, admin["base"]
    user_id = int(form["f_id"]) if form.get("f_id", "").isdigit() else 0
    target = store.user(user_id) if user_id else None
    wants_profile = page != "administrateur_eleve_gestion"
    fields_present = (form.get("f_action") == "modifier" and form.get("f_genre") in ("I", "M", "F")
                      and form.get("f_nom", "").strip() and form.get("f_prenom", "").strip()
                      and (form.get("box_login") == "1" or form.get("f_login", "").strip())
                      and (form.get("box_password") == "1" or form.get("f_password", "").strip())
                      and (not wants_profile or form.get("f_profil")))
    if not fields_present or target is None or target["base"] != base or target["profil"] not in EDIT_PAGES[page]:
        return answer(False, MSG_BAD_DATA)
    profil = form.get("f_profil", target["profil"]) if wants_profile else "ELV"
    if profil not in EDIT_PAGES[page]:
        return answer(False, MSG_PROFILE)
    id_ent = clean.id_ent(form.get("f_id_ent", ""))
    if id_ent and _held_by_other(store, base, "id_ent", id_ent, user_id):
        return answer(False, MSG_ID_ENT_USED)
    sconet_id = int(form["f_sconet_id"]) if form.get("f_sconet_id", "").strip().isdigit() else 0
    if sconet_id and _held_by_other(store, base, "sconet_id", sconet_id, user_id):
        return answer(False, MSG_SCONET_USED)
    login = target["login"] if form.get("box_login") == "1" else form.get("f_login", "").strip()
    if login != target["login"] and _held_by_other(store, base, "login", login, user_id):
        return answer(False, MSG_LOGIN_USED)
    email = form.get("f_courriel", "").strip()
    domain = email[email.find("@") + 1:]
    if email and domain in sim().faults.settings.get("mail_domains_unreachable", ()):
        # A multi-school SACoche checks the domain of any address it saves (MX, else port 25).
        return answer(False, f'Erreur avec le domaine "{domain}" !')
    birth = form.get("f_birth_date", "").strip()
    exit_box = form.get("box_sortie_date") or form.get("box_date")
    exit_date = form.get("f_sortie_date", "").strip()
    if (birth and not DATE_FR.match(birth)) or (exit_box != "1" and not DATE_FR.match(exit_date)):
        return answer(False, MSG_BAD_DATA)
    values = {
        "id_ent": id_ent, "sconet_id": sconet_id,
        "sconet_num": int(form["f_sconet_num"]) if form.get("f_sconet_num", "").strip().isdigit() else 0,
        "reference": form.get("f_reference", "").strip(), "genre": form["f_genre"],
        "nom": clean.nom(form["f_nom"]), "prenom": clean.prenom(form["f_prenom"]),
        "email": form.get("f_courriel", "").strip().lower(), "login": login, "profil": profil,
        "sortie": "" if exit_box == "1" else _date_fr_to_iso(exit_date),
    }
    if page == "administrateur_eleve_gestion":
        values["naissance"] = birth   # kept as SIECLE gives it (dd/mm/yyyy)
    assignments = ", ".join(f"{column} = ?" for column in values)
    with store.transaction() as db:
        db.execute(f"UPDATE user SET {assignments} WHERE id = ?", (*values.values(), user_id))
    saved = store.user(user_id)
    from .userlists import list_cells   # the row as the list shows it
    list_page = page.removesuffix("_gestion")
    cells = "".join(f"<td>{escape(cell)}</td>" for cell in list_cells(store, list_page, saved))
    return answer(True, f'<td><input type="checkbox" name="f_ids" value="{user_id}"></td>{cells}'
                        '<td class="nu"><q class="modifier" title="Modifier."></q></td>')
