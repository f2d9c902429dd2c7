"""SACoche's two import pages: "Importer des fichiers d'utilisateurs" (administrateur_fichier_user,
the wizard of wizard.py) and "Importer / Imposer des identifiants" (administrateur_fichier_identifiant,
the ENT-id import of ent_ids.py), with the files of new passwords the wizard leaves."""
from __future__ import annotations

import re

from flask import abort, g, render_template, request, send_file

from . import connectors, ent_ids, wizard
from .public import login_page
from .siecle import CATEGORIES, ImportRefused
from .site import (MSG_BAD_DATA, MSG_NO_DATA, MSG_NO_FILE, MSG_SESSION_LOST, PageFamily, answer, has_body,
                   identified_user, sim, url_dir)

USERS = "administrateur_fichier_user"
IDENTIFIERS = "administrateur_fichier_identifiant"
EXPORTS = (("siecle_nomenclature", "Nomenclature.xml (ou .zip)"),
           ("siecle_professeurs_directeurs", "sts_emp_<UAI>_<YEAR>.xml (ou .zip)"),
           ("siecle_eleves", "ExportXML_ElevesSansAdresses.zip (ou ElevesSansAdresses.xml)"),
           ("siecle_parents", "ResponsablesAvecAdresses.zip (ou .xml)"))

fichiers = PageFamily("fichiers", __name__)


@fichiers.page(USERS)
def users_page(user, context):
    store = sim().store
    school = store.school(user["base"])
    params = store.params(user["base"])
    suffix = "oui" if school["uai"] else "non"
    start = wizard.first_day_of_school_year(sim().current_day(), int(params["mois_bascule_annee_scolaire"]))
    complet = {}
    for category, kind in CATEGORIES.items():
        last = params.get(f"date_last_import_{kind}", "")
        complet[category] = not last or last < start.isoformat()
    fieldsets = [(f"{value}_{suffix}", value if suffix == "oui" else None, expected) for value, expected in EXPORTS]
    return render_template("fichier_user.html", **context, suffix=suffix, fieldsets=fieldsets,
                           complet_by_category=complet, categorie=request.args.get("categorie", ""),
                           no_levels=not store.class_levels(school["base"]))


@fichiers.ajax(USERS)
def users_step(user):
    if not has_body():
        return answer(False, MSG_NO_DATA)
    state_store = sim().store
    form = request.form
    kind = CATEGORIES.get(form.get("f_action", ""))
    step = wizard.step_from_form(form)
    if kind is None:
        return answer(False, MSG_BAD_DATA)
    state = state_store.load_import(g.session_id) or {}
    ctx = wizard.StepContext(store=state_store, base=user["base"], kind=kind, mode=form.get("f_mode", ""),
                             state=state, form=form, today=sim().current_day(), files_dir=sim().credentials_dir)
    try:
        if step == 10:
            upload = request.files.get("userfile")
            if upload is None or not upload.filename:
                return answer(False, MSG_NO_FILE)
            html = wizard.step10(ctx, upload.filename, upload.read(), form.get("f_choix_principal", ""))
        else:
            html = wizard.run_step(ctx, step, url_dir())
    except ImportRefused as refusal:
        return answer(False, str(refusal))
    state_store.save_import(g.session_id, state or None)
    return answer(True, html)


@fichiers.page(IDENTIFIERS)
def identifiers_page(user, context):
    params = sim().store.params(user["base"])
    connector = connectors.find(params["connexion_mode"], f"{params['connexion_departement']}|{params['connexion_nom']}")
    return render_template("fichier_identifiant.html", **context, mode=params["connexion_mode"],
                           connector_label=connector.label if connector else "")


@fichiers.ajax(IDENTIFIERS)
def import_identifiers(user):
    if not has_body():
        return answer(False, MSG_NO_DATA)
    store = sim().store
    params = store.params(user["base"])
    choice = request.form.get("f_choix_principal", "")
    if request.form.get("f_action") != "import_ent" or choice != f"import_id_ent_{params['connexion_mode']}" \
            or connectors.csv_layout(params["connexion_nom"]) is None:
        return answer(False, MSG_BAD_DATA)
    upload = request.files.get("userfile")
    if upload is None or not upload.filename:
        return answer(False, MSG_NO_FILE)
    if upload.filename.rsplit(".", 1)[-1].lower() not in ("csv", "txt"):
        return answer(False, "L'extension du fichier transmis n'est pas conforme !")
    try:
        return answer(True, ent_ids.import_ent(
            store, user["base"], upload.read(), params["connexion_nom"],
            former_candidates=not sim().faults.settings.get("ent_ids_former_ignored", False)))
    except ent_ids.FieldsNotFound as exc:
        return answer(False, str(exc))


# Files of new credentials (step 53) -------------------------------------------------------------
@fichiers.route("/force_download.php")
def force_download():
    name = request.args.get("fichier", "")
    if identified_user() is None:
        return login_page(MSG_SESSION_LOST)
    path = sim().credentials_dir / name
    if not re.fullmatch(r"identifiants_[\w-]+\.csv", name) or not path.is_file():
        return render_template("error.html", title="Fichier manquant",
                               message="Les fichiers sont conservés sur le serveur pendant une durée limitée !"), 404
    return send_file(path, as_attachment=True, download_name=name, mimetype="text/csv")


@fichiers.route("/__tmp/login-mdp/<name>")
def credentials_pdf(name: str):
    path = sim().credentials_dir / name
    if not re.fullmatch(r"identifiants_[\w-]+\.pdf", name) or not path.is_file():
        abort(404)
    return send_file(path, mimetype="application/pdf")
