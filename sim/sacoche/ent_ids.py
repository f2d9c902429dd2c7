"""`administrateur_fichier_identifiant`, action `import_ent`: the ENT account file (layout `esup`
for the Montpellier connector) read the way SACoche reads it, matched by normalised surname +
first name, and the three-table report, as the real SACoche prints it."""
from __future__ import annotations

import csv
import io
import unicodedata
from collections import Counter

from markupsafe import escape

from ..text import without_accents
from .connectors import csv_layout
from .profiles import PROFILES, sigles_of

# Every profile the ENT-id import may match (SACoche: eleve, parent, professeur, directeur, inspecteur).
MATCHED_PROFILES = sigles_of("eleve", "parent", "professeur", "directeur", "inspecteur")
MSG_FIELDS_NOT_FOUND = "Les champs nécessaires n'ont pas pu être repérés !"


class FieldsNotFound(ValueError):
    pass

REASON_TAKEN = "identifiant d'ENT déjà affecté à un autre utilisateur"
REASON_HOMONYMS = "homonymes trouvés dans la base : traiter ce cas manuellement"
REASON_UNKNOWN = "nom et prénom non trouvés dans la base"
REASON_SAME = "identifiant d'ENT identique"


def normalise_nom(text: str) -> str:
    return without_accents(text).upper().strip()[:25]


def normalise_prenom(text: str) -> str:
    return without_accents(text).strip().title()[:25]


def decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return text.lstrip("\ufeff").strip()


def read_lines(data: bytes, connector: str) -> list[tuple[str, str, str]]:
    """(id ENT, NOM, Prénom) of each usable line."""
    skip, col_id, col_nom, col_prenom = csv_layout(connector)
    text = decode(data)
    counts = Counter({sep: text.count(sep) for sep in (";", ",", ":", "\t")})
    separator = counts.most_common(1)[0][0]
    rows = list(csv.reader(io.StringIO(text), delimiter=separator))
    if isinstance(col_id, str):
        header = rows[0] if rows else []
        if not all(name in header for name in (col_id, col_nom, col_prenom)):
            raise FieldsNotFound(MSG_FIELDS_NOT_FOUND)
        col_id, col_nom, col_prenom = (header.index(name) for name in (col_id, col_nom, col_prenom))
    lines = []
    for row in rows[skip:]:
        if len(row) < 3 or len(row) <= max(col_id, col_nom, col_prenom):
            continue
        ent_id = "".join(ch for ch in row[col_id] if unicodedata.category(ch)[0] != "C").strip()[:63]
        nom, prenom = normalise_nom(row[col_nom]), normalise_prenom(row[col_prenom])
        if ent_id and nom and prenom:
            lines.append((ent_id, nom, prenom))
    return sorted(lines, key=lambda line: (line[1], line[2]))


def import_ent(store, base: int, data: bytes, connector: str) -> str:
    """Apply the file at once (there is no confirmation step) and return the report HTML."""
    lines = read_lines(data, connector)
    marks = ",".join("?" * len(MATCHED_PROFILES))
    accounts = store.query(f"SELECT * FROM user WHERE base = ? AND profil IN ({marks})",
                           (base, *MATCHED_PROFILES))
    classes = {row["id"]: row["nom"] for row in store.query(
        "SELECT id, nom FROM groupe WHERE base = ? AND type = 'classe'", (base,))}
    by_name: dict[tuple[str, str], list] = {}
    for account in accounts:
        by_name.setdefault((normalise_nom(account["nom"]), normalise_prenom(account["prenom"])), []).append(account)
    ids_before = {account["id_ent"]: account["id"] for account in accounts if account["id_ent"]}
    changed, taken, homonyms, unknown, same = [], [], [], [], []
    with store.transaction() as db:
        for ent_id, nom, prenom in lines:
            found = by_name.get((nom, prenom), [])
            label = f"{escape(nom)} {escape(prenom)} [{escape(ent_id)}]"
            if not found:
                unknown.append(f"<tr><td>{label}</td><td>{REASON_UNKNOWN}</td></tr>")
            elif len(found) > 1:
                homonyms.append(f"<tr><td>{label}</td><td>{REASON_HOMONYMS}</td></tr>")
            elif found[0]["id_ent"] == ent_id:
                same.append(f"<tr><td>{label}</td><td>{REASON_SAME}</td></tr>")
            elif ids_before.get(ent_id, found[0]["id"]) != found[0]["id"]:
                taken.append(f"<tr><td>{label}</td><td>{REASON_TAKEN}</td></tr>")
            else:
                account = found[0]
                db.execute("UPDATE user SET id_ent = ? WHERE id = ?", (ent_id, account["id"]))
                what = classes.get(account["classe_id"], "") if account["profil"] == "ELV" else \
                    PROFILES[account["profil"]].short_singular
                changed.append(f'<tr class="new"><td>{escape(account["nom"])} {escape(account["prenom"])} '
                               f'({escape(what)})</td><td class="b">Id ENT : {escape(ent_id)}</td></tr>')

    def section(header: str, rows: list[str]) -> str:
        body = "".join(rows) or '<tr><td colspan="2">Aucun</td></tr>'
        return f'<tbody><tr><th colspan="2">{header}</th></tr>{body}</tbody>'

    return ('<ul class="puce"><li><b>Résultat de l\'analyse et des opérations effectuées :</b></li></ul>'
            '<table class="p">'
            + section("Comptes trouvés dans le fichier dont l'identifiant ENT a été modifié.", changed)
            + section("Comptes trouvés dans le fichier dont l'identifiant ENT n'a pas pu être modifié.",
                      taken + homonyms + unknown)
            + section("Comptes trouvés dans le fichier dont l'identifiant ENT est inchangé.", same)
            + "</table>")
