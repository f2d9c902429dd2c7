"""The "Importer des fichiers d'utilisateurs" wizard of the simulated SACoche: one function per
step, each reading the posted fields, changing the SQLite state where the real step does (32,
42, 52, 62, 72, 82, 90 only) and returning the HTML the page puts in #form_bilan. Ids, section
headers and report lines are those of the real SACoche's wizard."""
from __future__ import annotations

import random
import re
import secrets
import string
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import unquote

from markupsafe import escape

from .profiles import STAFF
from .siecle import ImportRefused, extract, group_key, school_year, uploaded_xml
from .store import Store, hash_password

STEP_LISTS = {
    "users": [("step1", "Étape 1 - Récupération du fichier"), ("step2", "Étape 2 - Extraction des données"),
              ("step3", "Étape 3 - Classes (ajouts / modifications / suppressions)"),
              ("step4", "Étape 4 - Groupes (ajouts / modifications / suppressions)"),
              ("step5", "Étape 5 - Utilisateurs (ajouts / modifications / suppressions)"),
              ("step6", "Étape 6 - Affectations (ajouts / modifications / suppressions)"),
              ("step9", "Étape 7 - Nettoyage des fichiers temporaires")],
    "parents": [("step1", "Étape 1 - Récupération du fichier"), ("step2", "Étape 2 - Extraction des données"),
                ("step5", "Étape 3 - Utilisateurs (ajouts / modifications / suppressions)"),
                ("step7", "Étape 4 - Adresses (ajouts / modifications)"),
                ("step8", "Étape 5 - Responsabilités (ajouts / modifications / suppressions)"),
                ("step9", "Étape 6 - Nettoyage des fichiers temporaires")],
}
FAMILY = {"professeurs": STAFF,
          "eleves": ("ELV",), "parents": ("TUT",)}
ARCHIVE_KIND = {"professeurs": "personnel", "eleves": "eleve", "parents": "parent"}
REMOVE_HEADER = {"professeurs": "Utilisateurs à retirer (absents du fichier)",
                 "eleves": "Utilisateurs à retirer (absents du fichier ou sans classe affectée)",
                 "parents": "Utilisateurs à retirer (absents du fichier ou sans enfant actuel)"}
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
ADD_SEPARATOR = "]¤["


def plural(count: int, singular: str, plural_form: str) -> str:
    return f"{count} {singular if count <= 1 else plural_form}"


def link_next(step: int, label: str) -> str:
    return f'<p><a id="passer_etape_suivante" href="#step{step}">{escape(label)}</a><label id="ajax_msg"></label></p>'


def section(header: str, rows: list[str], columns: int = 2, with_checkboxes: bool = False, empty: str = "Aucun") -> str:
    icons = ('<q class="cocher_tout" title="Tout cocher."></q><q class="cocher_rien" title="Tout décocher."></q>'
             if with_checkboxes and rows else "")
    body = "".join(rows) or f'<tr><td colspan="{columns}">{empty}</td></tr>'
    return f'<tbody><tr><th colspan="{columns}">{escape(header)}{icons}</th></tr>{body}</tbody>'


@dataclass
class StepContext:
    store: Store
    base: int
    kind: str               # professeurs | eleves | parents
    mode: str               # complet | partiel ("" is treated as partiel, like SACoche)
    state: dict             # the wizard's temporary data, kept between steps
    form: dict
    today: date
    files_dir: Path

    @property
    def complet(self) -> bool:
        return self.mode == "complet"


# Step 10 / 20 --------------------------------------------------------------------------------
def step10(ctx: StepContext, filename: str, data: bytes, category_label: str) -> str:
    uai = ctx.store.school(ctx.base)["uai"]
    year = school_year(ctx.today, int(ctx.store.params(ctx.base)["mois_bascule_annee_scolaire"]))
    xml, warning = uploaded_xml(ctx.kind, filename, data, uai, year)
    ctx.state.clear()
    ctx.state.update({"kind": ctx.kind, "xml": xml.decode("latin-1")})
    steps = STEP_LISTS["parents" if ctx.kind == "parents" else "users"]
    astuce = ("Affichage complet des analyses et des comptes-rendus." if ctx.complet else
              "Analyse restreinte aux seules différences trouvées et comptes-rendus non détaillés.")
    on = ' class="on"'
    items = "".join(f'<li id="{sid}"{on if sid == "step1" else ""}>{escape(text)}</li>' for sid, text in steps)
    danger = f'<p class="danger">{escape(warning)}</p>' if warning else ""
    next_link = link_next(20, "Passer à l'étape 2.")
    return (f'<hr><p class="astuce">{astuce}</p><ul id="step">{items}</ul><hr>'
            f'<fieldset><p><label class="valide">Votre fichier a été correctement réceptionné.</label></p>{danger}'
            f'{next_link}</fieldset>')


def step20(ctx: StepContext) -> str:
    uai = ctx.store.school(ctx.base)["uai"]
    year = school_year(ctx.today, int(ctx.store.params(ctx.base)["mois_bascule_annee_scolaire"]))
    current_students = {row["sconet_id"]: row["id"] for row in ctx.store.query(
        "SELECT id, sconet_id FROM user WHERE base = ? AND profil = 'ELV' AND sortie = '' AND sconet_id > 0", (ctx.base,))}
    content, lines = extract(ctx.kind, ctx.state["xml"].encode("latin-1"), uai, year, ctx.today, current_students)
    ctx.state["content"] = content
    html = "".join(f'<p><label class="alerte">{escape(line[1:])}</label></p>' if line.startswith("!")
                   else f'<p><label class="valide">{escape(line)}</label></p>' for line in lines)
    target = 51 if ctx.kind == "parents" else 31
    return html + link_next(target, "Passer à l'étape 3.")


# Steps 31/32 and 41/42: classes and groups ---------------------------------------------------
def _groups_of_type(ctx: StepContext, kind: str) -> list:
    return ctx.store.query("SELECT * FROM groupe WHERE base = ? AND type = ? ORDER BY ref", (ctx.base, kind))


def _guess_level(ctx: StepContext, ref: str, mef: str) -> int | None:
    """The level step 31/41 pre-selects: SIECLE students' classes by their MEF code against each
    level's mask, every other import by the level's reference as a prefix of the class code
    (spaces removed). Levels are keyed by that mask or reference, so of two levels with one key
    only the later counts; the first key that fits wins, and none leaves the select blank."""
    by_key: dict[str, int] = {}
    for level in ctx.store.class_levels(ctx.base):
        by_key[level.code_mef if ctx.kind == "eleves" else level.ref] = level.id
    compact = ref.replace(" ", "")
    for key, level_id in by_key.items():
        if ctx.kind == "eleves":
            if re.fullmatch(key, mef or ""):
                return level_id
        elif compact.startswith(key):
            return level_id
    return None


def step_regroupements(ctx: StepContext, kind: str) -> str:
    """Step 31 (classes) or 41 (groups)."""
    is_class = kind == "classe"
    file_items = ctx.state["content"]["classes" if is_class else "groups"]
    existing = _groups_of_type(ctx, kind)
    existing_refs = {row["ref"] for row in existing}
    levels = ctx.store.class_levels(ctx.base)
    keep_rows, add_rows, del_rows = [], [], []
    for row in existing:
        if group_key(row["ref"]) in file_items:
            keep_rows.append(f'<tr><th>{escape(row["ref"])}</th><td>{escape(row["nom"])}</td></tr>')
        else:
            del_rows.append(f'<tr><th>Supprimer <input type="checkbox" id="del_{row["id"]}"></th>'
                            f'<td>{escape(row["nom"])}</td></tr>')
    for key, item in sorted(file_items.items(), key=lambda kv: kv[1]["ref"]):
        if item["ref"] in existing_refs:
            continue
        guess = _guess_level(ctx, item["ref"], item.get("mef", ""))
        options = '<option value=""></option>' + "".join(
            f'<option value="{lvl.id}"{" selected" if lvl.id == guess else ""}>{escape(lvl.name)}</option>'
            for lvl in levels)
        add_rows.append(
            f'<tr><th><input type="checkbox" id="add_{key}" checked> {escape(item["ref"])}'
            f'<input type="hidden" id="add_ref_{key}" value="{escape(item["ref"])}"></th>'
            f'<td>Niveau : <select id="add_niv_{key}">{options}</select> '
            f'Nom complet : <input id="add_nom_{key}" type="text" maxlength="20" value="{escape(item["nom"][:20])}"></td></tr>')
    word = ("classes", "Classes actuelles à conserver", "Classes nouvelles à ajouter", "Classes anciennes à supprimer") if is_class \
        else ("groupes", "Groupes actuels à conserver", "Groupes nouveaux à ajouter", "Groupes anciens à supprimer")
    html = f'<p><label class="valide">Veuillez vérifier le résultat de l\'analyse des {word[0]}.</label></p>'
    if del_rows:
        html += (f'<p class="danger">Des {word[0]} non trouvé{"e" if is_class else ""}s sont proposé{"e" if is_class else ""}s à la suppression. '
                 "Il se peut que les services / affectations manquent dans le fichier. "
                 "Veuillez cochez ces suppressions pour les confirmer.</p>")
    empty = "Aucune" if is_class else "Aucun"
    table = ""
    if ctx.complet:
        table += section(word[1], keep_rows, empty=empty)
    table += section(word[2], add_rows, with_checkboxes=True, empty=empty)
    table += section(word[3], del_rows, with_checkboxes=True, empty=empty)
    next_step = 32 if is_class else 42
    return (html + f"<table>{table}</table>"
            f'<p><a id="envoyer_infos_regroupements" href="#step{next_step}">Valider et afficher le bilan obtenu.</a>'
            '<label id="ajax_msg"></label></p>')


def apply_regroupements(ctx: StepContext, kind: str) -> str:
    """Step 32 (classes) or 42 (groups)."""
    is_class = kind == "classe"
    before = len(_groups_of_type(ctx, kind))
    level_ids = {level.id for level in ctx.store.class_levels(ctx.base)}
    to_add = []
    for item in filter(None, (ctx.form.get("f_add") or "").split(",")):
        parts = item.split(ADD_SEPARATOR)
        if len(parts) != 4 or not parts[1].isdigit() or int(parts[1]) not in level_ids:
            raise ImportRefused("Erreur avec les données transmises !")
        ref, nom = unquote(parts[2]).strip().upper(), unquote(parts[3]).strip()
        if not ref or not nom:
            raise ImportRefused("Erreur avec les données transmises !")
        to_add.append((ref, nom[:20], int(parts[1])))
    to_delete = [int(x) for x in (ctx.form.get("f_del") or "").split(",") if x.isdigit()]
    added = deleted = 0
    with ctx.store.transaction() as db:
        existing = {row[0] for row in db.execute("SELECT ref FROM groupe WHERE base = ? AND type = ?", (ctx.base, kind))}
        for ref, nom, level in to_add:
            if ref not in existing:
                db.execute("INSERT INTO groupe (base, type, ref, nom, niveau_id) VALUES (?, ?, ?, ?, ?)",
                           (ctx.base, kind, ref, nom, level))
                existing.add(ref)
                added += 1
        for group_id in to_delete:
            cursor = db.execute("DELETE FROM groupe WHERE id = ? AND base = ? AND type = ?", (group_id, ctx.base, kind))
            if cursor.rowcount:
                db.execute("DELETE FROM user_groupe WHERE groupe_id = ?", (group_id,))
                db.execute("UPDATE user SET classe_id = 0 WHERE classe_id = ?", (group_id,))
                deleted += 1
    after = len(_groups_of_type(ctx, kind))
    if is_class:
        line = (f"{plural(before, 'classe présente', 'classes présentes')} + {plural(added, 'classe ajoutée', 'classes ajoutées')} "
                f"− {plural(deleted, 'classe supprimée', 'classes supprimées')} = {plural(after, 'classe résultante', 'classes résultantes')}.")
        return f'<p><label class="valide">{line}</label></p>' + link_next(41, "Passer à l'étape 4.")
    line = (f"{plural(before, 'groupe présent', 'groupes présents')} + {plural(added, 'groupe ajouté', 'groupes ajoutés')} "
            f"− {plural(deleted, 'groupe supprimé', 'groupes supprimés')} = {plural(after, 'groupe résultant', 'groupes résultants')}.")
    return f'<p><label class="valide">{line}</label></p>' + link_next(51, "Passer à l'étape 5.")


# Steps 51/52/53: users ------------------------------------------------------------------------
def _family_rows(ctx: StepContext) -> list:
    marks = ",".join("?" * len(FAMILY[ctx.kind]))
    return ctx.store.query(f"SELECT * FROM user WHERE base = ? AND profil IN ({marks}) ORDER BY id",
                           (ctx.base, *FAMILY[ctx.kind]))


def _compared_fields(kind: str) -> list[tuple[str, str]]:
    if kind == "eleves":
        return [("sconet_id", "Id Sconet"), ("sconet_num", "n° Sconet"), ("reference", "Référence"),
                ("genre", "Genre"), ("nom", "Nom"), ("prenom", "Prénom"), ("naissance", "Date Naiss."),
                ("email", "Courriel"), ("classe", "Classe")]
    return [("sconet_id", "Id Sconet"), ("reference", "Référence"), ("profil", "Profil"),
            ("genre", "Civilité"), ("nom", "Nom"), ("prenom", "Prénom"), ("email", "Courriel")]


def _match(ctx: StepContext, persons: list[dict], accounts: list) -> dict[int, int]:
    """File person index → account id, SACoche's order: ids, then a unique name pair."""
    by_sconet = {a["sconet_id"]: a for a in accounts if a["sconet_id"]}
    by_num = {a["sconet_num"]: a for a in accounts if a["sconet_num"]}
    by_ref = {a["reference"]: a for a in accounts if a["reference"]}
    names: dict[tuple, list] = {}
    for account in accounts:
        names.setdefault((account["nom"], account["prenom"]), []).append(account)
    matches, taken = {}, set()
    for index, person in enumerate(persons):
        account = (by_sconet.get(person["sconet_id"]) or by_num.get(person.get("sconet_num") or -1)
                   or by_ref.get(person.get("reference") or "\0"))
        if account is None:
            pair = names.get((person["nom"], person["prenom"]), [])
            account = pair[0] if len(pair) == 1 else None
        if account is not None and account["id"] not in taken:
            matches[index] = account["id"]
            taken.add(account["id"])
    return matches


def _class_refs(ctx: StepContext) -> dict[int, str]:
    return {row["id"]: row["ref"] for row in _groups_of_type(ctx, "classe")}


def _account_view(account, class_refs: dict[int, str]) -> dict:
    view = dict(account)
    view["classe"] = class_refs.get(account["classe_id"], "")
    return view


def step51(ctx: StepContext) -> str:
    persons = ctx.state["content"]["persons"]
    accounts = _family_rows(ctx)
    class_refs = _class_refs(ctx)
    matches = _match(ctx, persons, accounts)
    by_id = {a["id"]: a for a in accounts}
    matched_ids = set(matches.values())
    add_rows, del_rows, mod_rows, keep_rows, old_rows, ignored_rows = [], [], [], [], [], []
    plan = {"add": {}, "del": {}, "mod": {}}

    def label(person: dict) -> str:
        extra = person["classe"] if ctx.kind == "eleves" else person["profil"]
        return (f'{person["sconet_id"]} / {person.get("sconet_num") or 0} / {escape(person.get("reference") or "")} || '
                f'{escape(person["nom"])} {escape(person["prenom"])} ({escape(extra)})')

    for index, person in enumerate(persons):
        account = by_id.get(matches.get(index))
        leaving = bool(person.get("sortie")) or (ctx.kind == "eleves" and not person["classe"])
        if account is None:
            if ctx.kind == "eleves" and not person.get("sortie") and not person["classe"]:
                ignored_rows.append(f'<tr><th>Ignorer</th><td>{label(person)}</td></tr>')
            elif not person.get("sortie"):
                key = f'add_{person["sconet_id"]}'
                plan["add"][key] = index
                add_rows.append(f'<tr><th>Ajouter <input type="checkbox" id="{key}" checked></th><td>{label(person)}</td></tr>')
            continue
        if leaving:
            if not account["sortie"]:
                when = _sortie_date(person.get("sortie")) or ctx.today.isoformat()
                key = f'del_{account["id"]}'
                plan["del"][key] = when
                del_rows.append(f'<tr><th>Retirer <input type="checkbox" id="{key}" checked></th>'
                                f'<td>{label(person)} || Sortie : non → {when}</td></tr>')
            continue
        current = _account_view(account, class_refs)
        changes = [(title, current[field], person[field]) for field, title in _compared_fields(ctx.kind)
                   if str(current[field] or "") != str(person.get(field) or "") and person.get(field) not in (None, "", 0)]
        if changes or account["sortie"]:
            key = f'mod_{account["id"]}'
            plan["mod"][key] = index
            cells = "<br>".join(f"<b>{escape(title)} : {escape(str(old))} → {escape(str(new))}</b>" for title, old, new in changes)
            if account["sortie"]:
                cells += f'<br><b>Sortie : {escape(account["sortie"])} → non</b>'
            mod_rows.append(f'<tr><th>Modifier <input type="checkbox" id="{key}" checked></th><td>{cells}</td></tr>')
        else:
            keep_rows.append(f'<tr><th>Conserver</th><td>{label(person)}</td></tr>')
    for account in accounts:
        if account["id"] in matched_ids:
            continue
        if account["sortie"]:
            old_rows.append(f'<tr><th>Ignorer</th><td>{escape(account["nom"])} {escape(account["prenom"])}</td></tr>')
            continue
        key = f'del_{account["id"]}'
        plan["del"][key] = ctx.today.isoformat()
        del_rows.append(f'<tr><th>Retirer <input type="checkbox" id="{key}" checked></th>'
                        f'<td>{account["sconet_id"]} / {account["sconet_num"]} / {escape(account["reference"])} || '
                        f'{escape(account["nom"])} {escape(account["prenom"])} || Sortie : non → {ctx.today.isoformat()}</td></tr>')
    ctx.state["plan51"] = plan
    html = '<p><label class="valide">Veuillez vérifier le résultat de l\'analyse des utilisateurs.</label></p>'
    if add_rows and del_rows:
        html += ('<p class="danger">Si des utilisateurs sont à la fois proposés pour être retirés et ajoutés, alors '
                 'allez modifier leurs noms/prénoms puis reprenez l\'import au début.</p>')
    table = section("Utilisateurs à ajouter (absents de la base, nouveaux dans le fichier).", add_rows, with_checkboxes=True)
    table += section(REMOVE_HEADER[ctx.kind], del_rows, with_checkboxes=True)
    table += section("Utilisateurs à modifier (ou à réintégrer)", mod_rows, with_checkboxes=True)
    if ctx.complet:
        table += section("Utilisateurs à conserver (actuels)", keep_rows)
        table += section("Utilisateurs inchangés (anciens)", old_rows)
    if ctx.kind == "eleves":
        table += section("Utilisateurs ignorés (sans classe affectée).", ignored_rows)
    return (html + f"<table>{table}</table>"
            '<p><a id="envoyer_infos_utilisateurs" href="#step52">Valider et afficher le bilan obtenu.</a>'
            '<label id="ajax_msg"></label></p>')


def _sortie_date(text: str | None) -> str:
    if text and re.fullmatch(r"\d{2}/\d{2}/\d{4}", text):
        day, month, year = text.split("/")
        return f"{year}-{month}-{day}"
    return ""


def _ascii(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if ch.isascii() and ch.isalnum()).lower()


def _new_login(db, base: int, prenom: str, nom: str) -> str:
    stem = f"{_ascii(prenom)[:3]}.{_ascii(nom)[:8]}"
    login, number = stem, 0
    while db.execute("SELECT 1 FROM user WHERE base = ? AND login = ?", (base, login)).fetchone():
        number += 1
        login = f"{stem}{number}"
    return login


def _new_password(person: dict) -> str:
    if person["profil"] == "ELV" and re.fullmatch(r"\d{2}/\d{2}/\d{4}", person.get("naissance") or ""):
        return person["naissance"].replace("/", "")
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(6))


def _counts(ctx: StepContext) -> tuple[int, int]:
    rows = _family_rows(ctx)
    return sum(1 for r in rows if not r["sortie"]), sum(1 for r in rows if r["sortie"])


def step52(ctx: StepContext) -> str:
    checked = set(filter(None, (ctx.form.get("f_check") or "").split(",")))
    plan = ctx.state.get("plan51")
    if plan is None:
        raise ImportRefused("Erreur avec les données transmises !")
    persons = ctx.state["content"]["persons"]
    class_ids = {ref: cid for cid, ref in _class_refs(ctx).items()}
    current_before, former_before = _counts(ctx)
    new_accounts = []
    modified = removed = 0
    with ctx.store.transaction() as db:
        for key, index in plan["add"].items():
            if key not in checked:
                continue
            person = persons[index]
            login = _new_login(db, ctx.base, person["prenom"], person["nom"])
            password = _new_password(person)
            cursor = db.execute(
                "INSERT INTO user (base, profil, login, password_hash, nom, prenom, sconet_id, sconet_num, reference,"
                " genre, naissance, email, classe_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (ctx.base, person["profil"], login, hash_password(password), person["nom"], person["prenom"],
                 person["sconet_id"], person.get("sconet_num") or 0, person.get("reference") or "", person["genre"],
                 person.get("naissance") or "", person.get("email") or "", class_ids.get(person["classe"], 0)))
            new_accounts.append({**person, "id": cursor.lastrowid, "login": login, "password": password})
        for key, index in plan["mod"].items():
            if key not in checked:
                continue
            person = persons[index]
            db.execute(
                "UPDATE user SET sconet_id = ?, sconet_num = ?, reference = ?, genre = ?, nom = ?, prenom = ?,"
                " naissance = ?, email = ?, profil = ?, classe_id = CASE WHEN ? > 0 THEN ? ELSE classe_id END,"
                " sortie = '' WHERE id = ? AND base = ?",
                (person["sconet_id"], person.get("sconet_num") or 0, person.get("reference") or "", person["genre"],
                 person["nom"], person["prenom"], person.get("naissance") or "", person.get("email") or "",
                 person["profil"], class_ids.get(person["classe"], 0), class_ids.get(person["classe"], 0),
                 int(key.split("_")[1]), ctx.base))
            modified += 1
        for key, when in plan["del"].items():
            if key in checked:
                db.execute("UPDATE user SET sortie = ? WHERE id = ? AND base = ?", (when, int(key.split("_")[1]), ctx.base))
                removed += 1
    current_after, former_after = _counts(ctx)
    line = (f"{plural(current_before, 'utilisateur actuel', 'utilisateurs actuels')} et "
            f"{plural(former_before, 'utilisateur ancien', 'utilisateurs anciens')} → "
            f"{plural(modified, 'utilisateur modifié', 'utilisateurs modifiés')} + "
            f"{plural(len(new_accounts), 'utilisateur ajouté', 'utilisateurs ajoutés')} − "
            f"{plural(removed, 'utilisateur retiré', 'utilisateurs retirés')} → "
            f"{plural(current_after, 'utilisateur actuel', 'utilisateurs actuels')} et "
            f"{plural(former_after, 'utilisateur ancien', 'utilisateurs anciens')}.")
    html = f'<p><label class="valide">{line}</label></p>'
    if ctx.complet and new_accounts:
        rows = "".join(
            f'<tr class="new"><td>{a["sconet_id"]}</td><td>{a.get("sconet_num") or 0}</td><td>{escape(a.get("reference") or "")}</td>'
            f'<td>{escape(a["classe"] if ctx.kind == "eleves" else a["profil"])}</td><td>{escape(a["nom"])}</td>'
            f'<td>{escape(a["prenom"])}</td><td>{escape(a["login"])}</td><td>{escape(a["password"])}</td><td>non</td></tr>'
            for a in new_accounts)
        fourth = "Classe" if ctx.kind == "eleves" else "Profil"
        html += (f'<table><thead><tr><th>Id Sconet</th><th>N° Sconet</th><th>Référence</th><th>{fourth}</th><th>Nom</th>'
                 f'<th>Prénom</th><th>Login</th><th>Mot de passe</th><th>Sortie</th></tr></thead><tbody>{rows}</tbody></table>')
    if new_accounts:
        archive = _write_credentials(ctx, new_accounts)
        html += ('<p><a class="step53" href="#">Récupérer les identifiants de tout nouvel utilisateur inscrit.</a>'
                 f'<input type="hidden" id="archive" name="archive" value="{archive}"><label id="ajax_msg"></label></p>')
    else:
        html += '<p class="astuce">Il n\'y a aucun nouvel utilisateur inscrit, donc pas d\'identifiants à récupérer.</p>'
        html += link_next(71, "Passer à l'étape 4.") if ctx.kind == "parents" else link_next(61, "Passer à l'étape 6.")
    ctx.state["summary52"] = {"modified": modified, "added": len(new_accounts), "removed": removed}
    return html


def _write_credentials(ctx: StepContext, accounts: list[dict]) -> str:
    stamp = datetime.now().strftime("%Y-%m-%d_%Hh%Mm%Ss")
    tail = "".join(random.choice(string.ascii_letters + string.digits) for _ in range(15))
    archive = f"identifiants_{ctx.base}_{ARCHIVE_KIND[ctx.kind]}_{stamp}_{tail}"
    ctx.files_dir.mkdir(parents=True, exist_ok=True)
    fourth = "CLASSE" if ctx.kind == "eleves" else "PROFIL"
    lines = [f"SCONET_Id;SCONET_N°;REFERENCE;{fourth};NOM;PRENOM;COURRIEL;LOGIN;MOT DE PASSE", ""]
    for a in accounts:
        lines.append(f'"{a["sconet_id"]}";"{a.get("sconet_num") or 0}";"{a.get("reference") or ""}";'
                     f'{a["classe"] if ctx.kind == "eleves" else a["profil"]};{a["nom"]};{a["prenom"]};'
                     f'{a.get("email") or ""};{a["login"]};"{a["password"]}"')
    (ctx.files_dir / f"{archive}.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252", "replace"))
    (ctx.files_dir / f"{archive}.pdf").write_bytes(_labels_pdf(accounts))
    return archive


def _labels_pdf(accounts: list[dict]) -> bytes:
    """A minimal one-page PDF listing the new logins (the real one prints A4 labels)."""
    def pdf_text(text: str) -> str:
        return text.encode("latin-1", "replace").decode("latin-1").replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    lines = [f'{a["nom"]} {a["prenom"]} - Utilisateur : {a["login"]} - Mot de passe : {a["password"]}' for a in accounts[:60]]
    stream = "BT /F1 9 Tf 40 800 Td 12 TL " + " ".join(f"({pdf_text(line)}) '" for line in lines) + " ET"
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
               f"<< /Length {len(stream.encode('latin-1'))} >>\nstream\n{stream}\nendstream",
               "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def step53(ctx: StepContext, url_dir: str) -> str:
    archive = ctx.form.get("archive", "")
    if not archive or not re.fullmatch(r"identifiants_[\w-]+", archive):
        raise ImportRefused("Le nom du fichier contenant les identifiants est manquant !")
    html = ('<p><label class="alerte">Voici les identifiants des nouveaux inscrits :</label></p><ul class="puce">'
            f'<li><a target="_blank" href="{url_dir}__tmp/login-mdp/{archive}.pdf">Archiver / Imprimer (étiquettes pdf).</a></li>'
            f'<li><a target="_blank" href="./force_download.php?auth&amp;fichier={archive}.csv">Récupérer / Manipuler (fichier csv pour tableur).</a></li>'
            '</ul><p class="danger">Les mots de passe, cryptés, ne seront plus accessibles ultérieurement !</p>')
    return html + (link_next(71, "Passer à l'étape 4.") if ctx.kind == "parents" else link_next(61, "Passer à l'étape 6."))


# Steps 61/62: memberships (teachers and students) ----------------------------------------------
def _file_memberships(ctx: StepContext) -> dict[int, dict[str, set]]:
    """Account id → {"classe": refs, "pp": refs, "groupe": refs} wanted by the file."""
    persons = ctx.state["content"]["persons"]
    accounts = [a for a in _family_rows(ctx) if not a["sortie"]]
    matches = _match(ctx, persons, accounts)
    wanted = {}
    for index, account_id in matches.items():
        person = persons[index]
        if person.get("sortie"):
            continue
        wanted[account_id] = {"classe": set(person.get("classes", [])) if ctx.kind == "professeurs" else set(),
                              "pp": set(person.get("pp", [])), "groupe": set(person.get("groupes", []))}
    return wanted


def step61(ctx: StepContext) -> str:
    groups = {row["id"]: row for row in ctx.store.query("SELECT * FROM groupe WHERE base = ?", (ctx.base,))}
    by_ref = {(row["type"], row["ref"]): row["id"] for row in groups.values()}
    users = {row["id"]: row for row in _family_rows(ctx)}
    wanted = _file_memberships(ctx)
    kinds = [("classe", "classe", "classes"), ("pp", "classe", "p.principal"), ("groupe", "groupe", "groupes")]
    if ctx.kind == "eleves":
        kinds = [("groupe", "groupe", "groupes")]
    html_sections, plan, removals = "", {}, False
    for field, gtype, word in kinds:
        keep, add, delete = [], [], []
        for user_id, wish in sorted(wanted.items()):
            have = {row["groupe_id"] for row in ctx.store.query(
                "SELECT groupe_id FROM user_groupe WHERE user_id = ?" + (" AND pp = 1" if field == "pp" else ""), (user_id,))
                if groups.get(row["groupe_id"], {"type": None})["type"] == gtype}
            want = {by_ref[(gtype, ref)] for ref in wish[field] if (gtype, ref) in by_ref}
            who = f'{escape(users[user_id]["nom"])} {escape(users[user_id]["prenom"])}'
            for gid in sorted(have & want):
                keep.append(f'<tr><th>Conserver</th><td>{who}</td><td>{escape(groups[gid]["nom"])}</td></tr>')
            for gid in sorted(want - have):
                key = f"{field}_{user_id}_{gid}_1"
                plan[key] = (field, user_id, gid, 1)
                add.append(f'<tr><th>Ajouter <input type="checkbox" id="{key}" checked></th><td>{who}</td><td>{escape(groups[gid]["nom"])}</td></tr>')
            for gid in sorted(have - want):
                key = f"{field}_{user_id}_{gid}_0"
                plan[key] = (field, user_id, gid, 0)
                removals = True
                delete.append(f'<tr><th>Supprimer <input type="checkbox" id="{key}" checked></th><td>{who}</td><td>{escape(groups[gid]["nom"])}</td></tr>')
        if ctx.complet:
            html_sections += section(f"Associations utilisateurs / {word} à conserver.", keep, columns=3)
        html_sections += section(f"Associations utilisateurs / {word} à ajouter.", add, columns=3, with_checkboxes=True)
        html_sections += section(f"Associations utilisateurs / {word} à supprimer.", delete, columns=3, with_checkboxes=True)
    ctx.state["plan61"] = plan
    html = '<p><label class="valide">Veuillez vérifier le résultat de l\'analyse des affectations éventuelles.</label></p>'
    if removals:
        html += ('<p class="danger">Des suppressions sont proposées. Elles peuvent provenir d\'un fichier incomplet ou '
                 "d'ajouts manuels antérieurs dans SACoche. Décochez-les si besoin !</p>")
    return (html + f"<table>{html_sections}</table>"
            '<p><a id="envoyer_infos_utilisateurs" href="#step62">Valider et afficher le bilan obtenu.</a>'
            '<label id="ajax_msg"></label></p>')


def step62(ctx: StepContext) -> str:
    checked = set(filter(None, (ctx.form.get("f_check") or "").split(",")))
    plan = ctx.state.get("plan61") or {}
    touched = {"classe": set(), "pp": set(), "groupe": set()}
    with ctx.store.transaction() as db:
        for key, (field, user_id, group_id, add) in plan.items():
            if key not in checked:
                continue
            touched[field].add(user_id)
            if field == "pp":
                db.execute("UPDATE user_groupe SET pp = ? WHERE user_id = ? AND groupe_id = ?", (add, user_id, group_id))
                if add:
                    db.execute("INSERT OR IGNORE INTO user_groupe (user_id, groupe_id, pp) VALUES (?, ?, 1)", (user_id, group_id))
            elif add:
                db.execute("INSERT OR IGNORE INTO user_groupe (user_id, groupe_id, pp) VALUES (?, ?, 0)", (user_id, group_id))
            else:
                db.execute("DELETE FROM user_groupe WHERE user_id = ? AND groupe_id = ?", (user_id, group_id))
    lines = []
    if ctx.kind == "professeurs":
        lines.append(f"Modifications associations utilisateurs / classes effectuées : {len(touched['classe'])}")
        lines.append(f"Modifications associations utilisateurs / p.principal effectuées : {len(touched['pp'])}")
    lines.append(f"Modifications associations utilisateurs / groupes effectuées : {len(touched['groupe'])}")
    html = "".join(f'<p><label class="valide">{escape(line)}</label></p>' for line in lines)
    return html + link_next(90, "Passer à l'étape 7.")


# Steps 71/72 and 81/82: parents' addresses and links -------------------------------------------
ADDRESS_FIELDS = ("ligne1", "ligne2", "ligne3", "ligne4", "code_postal", "commune", "pays")


def _parents_by_sconet(ctx: StepContext) -> dict[int, dict]:
    return {row["sconet_id"]: dict(row) for row in _family_rows(ctx) if not row["sortie"] and row["sconet_id"]}


def step71(ctx: StepContext) -> str:
    parents = _parents_by_sconet(ctx)
    add_rows, mod_rows, keep_rows, plan = [], [], [], {}
    for person in ctx.state["content"]["persons"]:
        account = parents.get(person["sconet_id"])
        wanted = person.get("adresse")
        if account is None or not wanted:
            continue
        have = ctx.store.query("SELECT * FROM parent_adresse WHERE parent_id = ?", (account["id"],))
        who = f'{escape(person["nom"])} {escape(person["prenom"])}'
        text = escape(" ".join(str(wanted[f]) for f in ADDRESS_FIELDS if wanted[f]))
        if not have:
            key = f'add_{person["sconet_id"]}'
            plan[key] = (account["id"], wanted)
            add_rows.append(f'<tr><th>Ajouter <input type="checkbox" id="{key}" checked></th><td>{who}</td><td>{text}</td></tr>')
        elif any((have[0][f] or "") != (wanted[f] or "") for f in ADDRESS_FIELDS):
            key = f'mod_{person["sconet_id"]}'
            plan[key] = (account["id"], wanted)
            cells = " ".join(f"<b>{escape(have[0][f] or '')} → {escape(wanted[f] or '')}</b>" if (have[0][f] or "") != (wanted[f] or "")
                             else escape(wanted[f] or "") for f in ADDRESS_FIELDS)
            mod_rows.append(f'<tr><th>Modifier <input type="checkbox" id="{key}" checked></th><td>{who}</td><td>{cells}</td></tr>')
        else:
            keep_rows.append(f'<tr><th>Conserver</th><td>{who}</td><td>{text}</td></tr>')
    ctx.state["plan71"] = {k: [v[0], v[1]] for k, v in plan.items()}
    table = section("Adresses à ajouter", add_rows, columns=3, with_checkboxes=True)
    table += section("Adresses à modifier", mod_rows, columns=3, with_checkboxes=True)
    if ctx.complet:
        table += section("Adresses à conserver", keep_rows, columns=3)
    return ('<p><label class="valide">Veuillez vérifier le résultat de l\'analyse des adresses.</label></p>'
            f"<table>{table}</table>"
            '<p><a id="envoyer_infos_utilisateurs" href="#step72">Valider et afficher le bilan obtenu.</a><label id="ajax_msg"></label></p>')


def step72(ctx: StepContext) -> str:
    checked = set(filter(None, (ctx.form.get("f_check") or "").split(",")))
    added = modified = 0
    with ctx.store.transaction() as db:
        for key, (parent_id, address) in (ctx.state.get("plan71") or {}).items():
            if key not in checked:
                continue
            db.execute("INSERT OR REPLACE INTO parent_adresse (parent_id, ligne1, ligne2, ligne3, ligne4, code_postal, commune, pays)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (parent_id, *(address[f] for f in ADDRESS_FIELDS)))
            if key.startswith("add_"):
                added += 1
            else:
                modified += 1
    return (f'<p><label class="valide">Nouvelles adresses ajoutées : {added}</label></p>'
            f'<p><label class="valide">Anciennes adresses modifiées : {modified}</label></p>'
            + link_next(81, "Passer à l'étape 5."))


def _wanted_links(ctx: StepContext) -> dict[int, list[tuple[int, int]]]:
    """Student account id → ordered [(resp_legal, parent account id)] wanted by the file."""
    parents = _parents_by_sconet(ctx)
    students = {row["sconet_id"]: row["id"] for row in ctx.store.query(
        "SELECT id, sconet_id FROM user WHERE base = ? AND profil = 'ELV' AND sortie = ''", (ctx.base,))}
    wanted: dict[int, list] = {}
    for link in ctx.state["content"]["links"]:
        parent = parents.get(int(link["personne_id"]))
        student = students.get(link["eleve_sconet_id"])
        if parent is not None and student is not None:
            wanted.setdefault(student, []).append((link["resp_legal"], parent["id"]))
    return {student: sorted(set(items))[:4] for student, items in wanted.items()}


def step81(ctx: StepContext) -> str:
    wanted = _wanted_links(ctx)
    names = {row["id"]: f'{row["nom"]} {row["prenom"]}' for row in ctx.store.query(
        "SELECT id, nom, prenom FROM user WHERE base = ?", (ctx.base,))}
    mod_rows, keep_rows, plan = [], [], {}
    for student_id, links in sorted(wanted.items()):
        have = sorted((row["resp_legal"], row["parent_id"]) for row in ctx.store.query(
            "SELECT resp_legal, parent_id FROM parent_eleve WHERE eleve_id = ?", (student_id,)))
        cells = []
        for number in range(1, max(len(links), len(have)) + 1):
            old = names.get(have[number - 1][1], "X") if number <= len(have) else "X"
            new = names.get(links[number - 1][1], "X") if number <= len(links) else "X"
            cells.append(f"Responsable n°{number} : {escape(old)} → {escape(new)}" if old != new
                         else f"Responsable n°{number} : {escape(new)}")
        row = f'<td>{escape(names.get(student_id, ""))}</td><td>{"<br>".join(cells)}</td>'
        # SACoche compares the links rank by rank (responsable n°1, n°2…): two responsables
        # of one rank never compare equal, so such a student is proposed again on every run.
        ranks = [rank for rank, _ in links]
        if have != links or len(ranks) != len(set(ranks)):
            key = f"mod_{student_id}"
            plan[key] = (student_id, links)
            mod_rows.append(f'<tr><th>Modifier <input type="checkbox" id="{key}" checked></th>{row}</tr>')
        else:
            keep_rows.append(f"<tr><th>Conserver</th>{row}</tr>")
    ctx.state["plan81"] = {k: [v[0], v[1]] for k, v in plan.items()}
    table = section("Liens de responsabilité à modifier", mod_rows, columns=3, with_checkboxes=True)
    if ctx.complet:
        table += section("Liens de responsabilité à conserver", keep_rows, columns=3)
    return ('<p><label class="valide">Veuillez vérifier le résultat de l\'analyse des liens de responsabilité.</label></p>'
            f"<table>{table}</table>"
            '<p><a id="envoyer_infos_utilisateurs" href="#step82">Valider et afficher le bilan obtenu.</a><label id="ajax_msg"></label></p>')


def step82(ctx: StepContext) -> str:
    checked = set(filter(None, (ctx.form.get("f_check") or "").split(",")))
    changed = 0
    with ctx.store.transaction() as db:
        for key, (student_id, links) in (ctx.state.get("plan81") or {}).items():
            if key not in checked:
                continue
            db.execute("DELETE FROM parent_eleve WHERE eleve_id = ?", (student_id,))
            for resp, parent_id in links:
                db.execute("INSERT OR REPLACE INTO parent_eleve (parent_id, eleve_id, resp_legal) VALUES (?, ?, ?)",
                           (parent_id, student_id, resp))
            changed += 1
    return (f'<p><label class="valide">Liens de responsabilités modifiés pour {plural(changed, "élève", "élèves")}</label></p>'
            + link_next(90, "Passer à l'étape 6."))


def step90(ctx: StepContext) -> str:
    ctx.store.set_params(ctx.base, {f"date_last_import_{ctx.kind}": ctx.today.isoformat()})
    ctx.state.clear()
    return ('<p><label class="valide">Fichiers temporaires effacés, procédure d\'import terminée !</label></p>'
            '<p><a id="retourner_depart" href="#">Retour au départ.</a><label id="ajax_msg"></label></p>')


# Dispatch --------------------------------------------------------------------------------------
ALLOWED_STEPS = {
    "professeurs": {20, 31, 32, 41, 42, 51, 52, 53, 61, 62, 90},
    "eleves": {20, 31, 32, 41, 42, 51, 52, 53, 61, 62, 90},
    "parents": {20, 51, 52, 53, 71, 72, 81, 82, 90},
}


def run_step(ctx: StepContext, step: int, url_dir: str) -> str:
    if step not in ALLOWED_STEPS[ctx.kind] or (step != 20 and "content" not in ctx.state) or "xml" not in ctx.state \
            or ctx.state.get("kind") != ctx.kind:
        raise ImportRefused("Erreur avec les données transmises !")
    handlers = {
        20: step20, 31: lambda c: step_regroupements(c, "classe"), 32: lambda c: apply_regroupements(c, "classe"),
        41: lambda c: step_regroupements(c, "groupe"), 42: lambda c: apply_regroupements(c, "groupe"),
        51: step51, 52: step52, 53: lambda c: step53(c, url_dir), 61: step61, 62: step62,
        71: step71, 72: step72, 81: step81, 82: step82, 90: step90,
    }
    return handlers[step](ctx)


def step_from_form(form) -> int:
    text = form.get("f_step", "")
    return int(text) if text.isdigit() else -1


def first_day_of_school_year(today: date, switch_month: int) -> date:
    return date(int(school_year(today, switch_month)), switch_month, 1)
