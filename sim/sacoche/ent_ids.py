"""`administrateur_fichier_identifiant`, action `import_ent`: the ENT account file (layout `esup`
for the Montpellier connector) read the way SACoche reads it, matched by normalised surname +
first name, and the three-table report, as the real SACoche prints it."""
from __future__ import annotations

import csv
import io
from collections import Counter

from markupsafe import escape

from . import clean
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
REASON_NOT_GIVEN = "identifiant d'ENT non imposé"


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
        if not (row[col_id] and row[col_nom] and row[col_prenom]):
            continue   # SACoche tests the cells as they are, before cleaning them
        lines.append((clean.id_ent(row[col_id]), clean.nom(clean.accents(row[col_nom])),
                       clean.prenom(clean.accents(row[col_prenom]))))
    # Sorted by surname then first name as PHP's array_multisort(SORT_STRING) does: by bytes.
    return sorted(lines, key=lambda line: (line[1].encode(), line[2].encode(), line[0].encode()))


def import_ent(store, base: int, data: bytes, connector: str, former_candidates: bool = True) -> str:
    """Apply the file at once (there is no confirmation step) and return the report HTML.
    `former_candidates` False departs from the real rule on purpose (a fault switch)."""
    lines = read_lines(data, connector)
    marks = ",".join("?" * len(MATCHED_PROFILES))
    accounts = store.query(f"SELECT * FROM user WHERE base = ? AND profil IN ({marks})"
                           + ("" if former_candidates else " AND sortie = ''"), (base, *MATCHED_PROFILES))
    classes = {row["id"]: row["nom"] for row in store.query(
        "SELECT id, nom FROM groupe WHERE base = ? AND type = 'classe'", (base,))}
    # Every candidate, current or former, by its stored names with accents removed (nothing else).
    by_name: dict[tuple[str, str], list] = {}
    for account in accounts:
        by_name.setdefault((clean.accents(account["nom"]), clean.accents(account["prenom"])), []).append(account)
    # The ids as they were before this file: SACoche never updates its copy while it applies it.
    ids_before = [account["id_ent"] for account in accounts]
    changed, taken, homonyms, unknown, same = [], [], [], [], []
    with store.transaction() as db:
        for ent_id, nom, prenom in lines:
            found = by_name.get((nom, prenom), [])
            label = f"{escape(nom)} {escape(prenom)} [{escape(ent_id)}]"
            if not ent_id:   # emptied by the cleaning only (an empty cell was skipped earlier)
                same.append(f"<tr><td>{escape(nom)} {escape(prenom)}</td><td>{REASON_NOT_GIVEN}</td></tr>")
            elif not found:
                unknown.append(f"<tr><td>{label}</td><td>{REASON_UNKNOWN}</td></tr>")
            elif len(found) > 1:
                homonyms.append(f"<tr><td>{label}</td><td>{REASON_HOMONYMS}</td></tr>")
            elif clean.loosely_equal(ent_id, found[0]["id_ent"]):
                same.append(f"<tr><td>{label}</td><td>{REASON_SAME}</td></tr>")
            elif any(clean.loosely_equal(ent_id, held) for held in ids_before):
                taken.append(f"<tr><td>{label}</td><td>{REASON_TAKEN}</td></tr>")
            else:
                account = found[0]
                db.execute("UPDATE user SET id_ent = ? WHERE id = ?", (ent_id, account["id"]))
                what = classes.get(account["classe_id"], "") if account["profil"] == "ELV" else \
                    PROFILES[account["profil"]].short_singular
                # The file's names, not the account's, as SACoche prints them.
                changed.append(f'<tr class="new"><td>{escape(nom)} {escape(prenom)} '
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
