"""The three user-management pages (Élèves, Parents, Professeurs / Personnels) as far as the bot
reads them: their filter forms and `table#table_action` with the Id. ENT column."""
from __future__ import annotations

from flask import g, render_template, request

from .profiles import PROFILES, STAFF
from .site import PageFamily, sim

PAGES = ("administrateur_eleve", "administrateur_parent", "administrateur_professeur")
user_lists = PageFamily("userlists", __name__)

COLUMNS = {
    "administrateur_eleve": ["Id. ENT", "Id. GEPI", "Id Sconet", "N° Sconet", "Référence", "Genre", "Nom",
                             "Prénom", "Date Naiss.", "Login", "Mot de passe", "Courriel", "Origine", "Date sortie"],
    "administrateur_parent": ["Resp", "Id. ENT", "Id. GEPI", "Id Sconet", "N° Sconet", "Référence", "Profil", "Civ.",
                              "Nom", "Prénom", "Login", "Mot de passe", "Courriel", "Date sortie"],
    "administrateur_professeur": ["Id. ENT", "Id. GEPI", "Id Sconet", "Référence", "Profil", "Civ.", "Nom",
                                  "Prénom", "Login", "Mot de passe", "Courriel", "Date sortie"],
}


# The "Modifier un utilisateur" dialog of each page: its fields (name, label, the list column
# its value is read from; "" for none) and the title of the row's control.
_COMMON_TAIL = [("f_genre", "Civilité :", "Civ."), ("f_nom", "Nom :", "Nom"), ("f_prenom", "Prénom :", "Prénom")]
EDIT_FORMS = {
    "administrateur_eleve": ("Modifier cet élève.", [
        ("f_id_ent", "Id. ENT :", "Id. ENT"), ("f_id_gepi", "Id. GEPI :", "Id. GEPI"),
        ("f_sconet_id", "Id Sconet :", "Id Sconet"), ("f_sconet_num", "N° Sconet :", "N° Sconet"),
        ("f_reference", "Référence :", "Référence"), ("f_genre", "Genre :", "Genre"), ("f_nom", "Nom :", "Nom"),
        ("f_prenom", "Prénom :", "Prénom"), ("f_birth_date", "Date de naissance :", "Date Naiss."),
        ("f_courriel", "Courriel :", "Courriel"), ("f_login", "Login :", "Login"), ("f_password", "Mot de passe :", ""),
        ("f_uai_origine", "UAI d'origine :", "Origine"), ("f_sortie_date", "Date de sortie :", "Date sortie")]),
    "administrateur_parent": ("Modifier ce parent.", [
        ("f_id_ent", "Id. ENT :", "Id. ENT"), ("f_id_gepi", "Id. GEPI :", "Id. GEPI"),
        ("f_sconet_id", "Id Sconet :", "Id Sconet"), ("f_sconet_num", "N° Sconet :", "N° Sconet"),
        ("f_reference", "Référence :", "Référence"), ("f_profil", "Profil :", "Profil"), *_COMMON_TAIL,
        ("f_courriel", "Courriel :", "Courriel"), ("f_login", "Login :", "Login"), ("f_password", "Mot de passe :", ""),
        ("f_sortie_date", "Date de sortie :", "Date sortie")]),
    "administrateur_professeur": ("Modifier ce personnel.", [
        ("f_id_ent", "Id. ENT :", "Id. ENT"), ("f_id_gepi", "Id. GEPI :", "Id. GEPI"),
        ("f_sconet_id", "Id Sconet :", "Id Sconet"), ("f_reference", "Référence :", "Référence"),
        ("f_profil", "Profil :", "Profil"), *_COMMON_TAIL, ("f_courriel", "Courriel :", "Courriel"),
        ("f_login", "Login :", "Login"), ("f_password", "Mot de passe :", ""),
        ("f_sortie_date", "Date de sortie :", "Date sortie")]),
}
PROFILE_OPTIONS = {"administrateur_parent": [("TUT", "TUT → responsable légal (parent, tuteur)")],
                   "administrateur_professeur": [(sigle, f"{sigle} → {PROFILES[sigle].long_singular}")
                                                 for sigle in ("DIR", "ENS", "DOC", "EDU") if sigle in PROFILES]}


def list_cells(store, page: str, user) -> list[str]:
    """One account's cells in its list, between the checkbox and the actions."""
    children = store.query("SELECT COUNT(*) AS n FROM parent_eleve WHERE parent_id = ?", (user["id"],))[0]["n"]
    return _cells(page, user, children)


def _cells(page: str, user, children: int) -> list[str]:
    sortie = user["sortie"] or "-"
    if page == "administrateur_eleve":
        return [user["id_ent"], "", str(user["sconet_id"] or ""), str(user["sconet_num"] or ""), user["reference"],
                user["genre"], user["nom"], user["prenom"], user["naissance"], user["login"], "champ crypté",
                user["email"], "", sortie]
    if page == "administrateur_parent":
        return [str(children), user["id_ent"], "", str(user["sconet_id"] or ""), "", user["reference"], user["profil"],
                user["genre"], user["nom"], user["prenom"], user["login"], "champ crypté", user["email"], sortie]
    return [user["id_ent"], "", str(user["sconet_id"] or ""), user["reference"], user["profil"], user["genre"],
            user["nom"], user["prenom"], user["login"], "champ crypté", user["email"], sortie]


def _select_students(store, base: int, choice: str):
    query = "SELECT * FROM user WHERE base = ? AND profil = 'ELV'"
    args: tuple = (base,)
    if choice == "d1":
        query += " AND sortie = '' AND classe_id = 0"
    elif choice == "d2":
        query += " AND sortie = ''"
    elif choice == "d3":
        query += " AND sortie != ''"
    elif choice[:1] == "c" and choice[1:].isdigit():
        query += " AND sortie = '' AND classe_id = ?"
        args += (int(choice[1:]),)
    elif choice[:1] == "g" and choice[1:].isdigit():
        query += " AND sortie = '' AND id IN (SELECT user_id FROM user_groupe WHERE groupe_id = ?)"
        args += (int(choice[1:]),)
    elif choice[:1] == "n" and choice[1:].isdigit():
        query += " AND sortie = '' AND classe_id IN (SELECT id FROM groupe WHERE niveau_id = ?)"
        args += (int(choice[1:]),)
    else:
        return None
    return store.query(query + " ORDER BY nom, prenom", args)


@user_lists.page(*PAGES, posted=True)   # their filter forms post to the page itself
def render(user, context: dict) -> str:
    page, store, base = context["page"], sim().store, user["base"]
    # These pages' default section is "gestion": their script and CSRF token are named after it.
    context = {**context, "page": f"{page}_gestion"}
    g.session["csrf"][f"{page}_gestion"] = context["csrf"]
    form = request.form if request.method == "POST" else {}
    users = None
    extra: dict = {}
    if page == "administrateur_eleve":
        choice = form.get("f_groupes", "")
        users = _select_students(store, base, choice) if choice else None
        extra["choice"] = choice
        extra["levels"] = store.levels(base)
        extra["classes"] = store.query("SELECT * FROM groupe WHERE base = ? AND type = 'classe' ORDER BY ref", (base,))
        extra["groups"] = store.query("SELECT * FROM groupe WHERE base = ? AND type = 'groupe' ORDER BY ref", (base,))
    elif page == "administrateur_parent":
        statut = form.get("f_statut", "1")
        extra["statut"] = statut
        if form.get("f_afficher") == "1":
            query = "SELECT * FROM user WHERE base = ? AND profil = 'TUT' AND " + ("sortie = ''" if statut == "1" else "sortie != ''")
            args: tuple = (base,)
            if form.get("f_debut_nom"):
                query += " AND nom LIKE ?"
                args += (form["f_debut_nom"].upper() + "%",)
            if form.get("f_debut_prenom"):
                query += " AND prenom LIKE ?"
                args += (form["f_debut_prenom"] + "%",)
            users = store.query(query + " ORDER BY nom, prenom", args)
    else:
        statut = form.get("f_statut", "1")
        extra["statut"] = statut
        marks = ",".join("?" * len(STAFF))
        users = store.query(f"SELECT * FROM user WHERE base = ? AND profil IN ({marks}) AND "
                            + ("sortie = ''" if statut == "1" else "sortie != ''") + " ORDER BY nom, prenom",
                            (base, *STAFF))
    rows = None
    if users is not None:
        children = {row["parent_id"]: row["n"] for row in store.query(
            "SELECT parent_id, COUNT(*) AS n FROM parent_eleve GROUP BY parent_id")}
        rows = [(user["id"], _cells(page, user, children.get(user["id"], 0))) for user in users]
    edit_title, edit_fields = EDIT_FORMS[page]
    return render_template("user_list.html", **context, list_page=page, columns=COLUMNS[page], rows=rows,
                           edit_title=edit_title, edit_fields=edit_fields, profile_options=PROFILE_OPTIONS.get(page, []),
                           exit_box="box_sortie_date" if page == "administrateur_eleve" else "box_date", **extra)
