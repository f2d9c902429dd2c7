"""The ENT's account export (layout `esup`: two header lines, the first a single cell, `;`,
ENT id in column 0, surname in 2, first name in 3, profile in 1), read and checked before it is
given to SACoche: readable, the expected layout, not empty, every profile present."""
from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Refused
from ..fsutil import regular_file_problem

REQUIRED_PROFILES = ("Eleve", "Enseignant", "Parent")
# A cell starting like this is a formula for a spreadsheet (CSV injection): an ENT never
# exports one, and SACoche would store it as an identifier shown to staff.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_BYTES = 20 * 1024 * 1024


@dataclass
class EntAccount:
    ent_id: str
    profile: str
    nom: str
    prenom: str


@dataclass
class EntCsv:
    path: Path
    encoding: str
    separator: str
    title: str
    accounts: list[EntAccount] = field(default_factory=list)

    @property
    def by_profile(self) -> dict[str, int]:
        return dict(sorted(Counter(a.profile for a in self.accounts).items()))

    def account(self, ent_id: str) -> EntAccount | None:
        return next((a for a in self.accounts if a.ent_id == ent_id), None)


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "UTF-8 (BOM)"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "Windows-1252 / ISO-8859-1"


def read_ent_csv(path: Path | str, required_profiles=REQUIRED_PROFILES) -> EntCsv:
    path = Path(path)
    where = f"Extraction CSV de l'ENT « {path} »"
    problem = regular_file_problem(path)
    if problem:
        raise Refused(f"{where} : {problem}.")
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_BYTES + 1)   # never more than the cap, whatever the file claims
    except OSError as exc:
        raise Refused(f"{where} illisible ({exc.__class__.__name__}).") from None
    if len(data) > MAX_BYTES:
        raise Refused(f"{where} : {len(data) // 1024 // 1024} Mo, plus que les {MAX_BYTES // 1024 // 1024} Mo permis.")
    if b"\x00" in data:
        raise Refused(f"{where} : contenu binaire, ce n'est pas un fichier CSV.")
    text, encoding = _decode(data)
    text = text.strip()
    if not text:
        raise Refused(f"{where} : fichier vide.")
    counts = Counter({sep: text.count(sep) for sep in (";", ",", ":", "\t")})
    separator = counts.most_common(1)[0][0]
    if separator != ";":
        raise Refused(f"{where} : séparateur « {separator} » le plus fréquent, « ; » attendu (SACoche le "
                      "choisit ainsi et lirait mal les colonnes).")
    bare_cr = re.search(r"\r(?!\n)", text)
    if bare_cr:
        # A carriage return alone: a line break for some readers, part of a name for others.
        line = text.count("\n", 0, bare_cr.start()) + 1
        raise Refused(f"{where} : CSV mal formé à la ligne {line} (un retour chariot (CR) isolé au milieu d'une "
                      "ligne) ; réexportez le fichier depuis l'ENT sans le modifier.")
    reader = csv.reader(io.StringIO(text), delimiter=";")
    try:
        rows = list(reader)
    except csv.Error as exc:
        reason = str(exc)
        french = ("un retour chariot (CR) isolé au milieu d'une ligne" if "new-line character" in reason else
                  "un champ démesuré (plus de 131 072 caractères)" if "field limit" in reason else reason)
        raise Refused(f"{where} : CSV mal formé à la ligne {reader.line_num} ({french}) ; réexportez le fichier "
                      "depuis l'ENT sans le modifier.") from None
    if len(rows) < 3:
        raise Refused(f"{where} : {len(rows)} ligne(s) ; attendu : 2 lignes d'en-tête puis les comptes.")
    if len([cell for cell in rows[0] if cell.strip()]) != 1:
        raise Refused(f"{where} : la première ligne doit être un titre d'une seule cellule (format esup), "
                      f"trouvé « {';'.join(rows[0])[:80]} ».")
    accounts = []
    for row in rows[2:]:
        if len(row) < 4 or not row[0].strip() or not row[2].strip() or not row[3].strip():
            continue   # SACoche skips such lines silently too
        accounts.append(EntAccount(row[0].strip(), row[1].strip(), row[2].strip(), row[3].strip()))
    suspicious = [f"{a.ent_id};{a.nom};{a.prenom}" for a in accounts
                  if any(cell.startswith(FORMULA_START) or "<" in cell or ">" in cell
                         for cell in (a.ent_id, a.nom, a.prenom))]
    if suspicious:
        raise Refused(f"{where} : {len(suspicious)} ligne(s) suspecte(s) (formule de tableur ou balise HTML), "
                      f"refusée(s) par sécurité : {', '.join(s[:60] for s in suspicious[:3])}")
    if not accounts:
        raise Refused(f"{where} : aucun compte utilisable (identifiant, nom et prénom en colonnes 1, 3 et 4).")
    seen = Counter(a.ent_id for a in accounts)
    twice = sorted(ent_id for ent_id, count in seen.items() if count > 1)
    if twice:
        # One ENT id on two lines would give two SACoche users the same SSO login.
        raise Refused(f"{where} : {len(twice)} identifiant(s) ENT en double ({', '.join(twice[:5])}"
                      f"{'…' if len(twice) > 5 else ''}) ; une extraction de l'ENT n'en contient jamais.")
    found = {a.profile for a in accounts}
    missing = [p for p in required_profiles if p not in found]
    if missing:
        raise Refused(f"{where} : aucun compte de profil {', '.join(missing)} ; l'extraction doit couvrir tous "
                      f"les profils (trouvés : {', '.join(sorted(found))}).")
    return EntCsv(path=path, encoding=encoding, separator=separator, title=rows[0][0].strip(), accounts=accounts)
