"""The ENT's account export, read and checked before it is given to SACoche: readable, the
layout of the school's SACoche connector (data/ent_csv_layouts.csv: header lines dropped, the
columns of the ENT id, surname, first name and SIECLE id, or the header names searched for),
not empty, and, when the layout has a profile column (the Montpellier ENT's `esup`), every
profile present."""
from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import Refused
from bot.fsutil import regular_file_problem
from bot.text import shorten

from .sniff import not_an_ent_csv, sniff

LAYOUTS_TABLE = Path(__file__).with_name("data") / "ent_csv_layouts.csv"
REQUIRED_PROFILES = ("Eleve", "Enseignant", "Parent")
# A cell starting like this is a formula for a spreadsheet (CSV injection): an ENT never
# exports one, and SACoche would store it as an identifier shown to staff.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class CsvLayout:
    """How SACoche reads one ENT's account file. Columns count from 0; with `fixed_order` False
    the id, surname and first name are the header cells of those names."""
    key: str
    header_lines: int
    fixed_order: bool
    id: str
    nom: str
    prenom: str
    sconet: str = ""        # a SIECLE-id column: SACoche then matches by that id
    profile: str = ""       # known for our own ENT families only (SACoche never reads it)
    classe: str = ""        # the student's class, likewise (the bot uses it to tell homonyms apart)
    separator: str = "auto"   # "auto": the most frequent of ; , : tab, as SACoche picks it

    @property
    def imports_a_file(self) -> bool:
        return bool(self.key)


def _load_layouts() -> dict[str, CsvLayout]:
    with LAYOUTS_TABLE.open(encoding="utf-8", newline="") as handle:
        return {row["layout"]: CsvLayout(key=row["layout"], header_lines=int(row["header_lines"]),
                                         fixed_order=row["fixed_order"] == "1", id=row["id"], nom=row["nom"],
                                         prenom=row["prenom"], sconet=row["sconet"], profile=row["profile"], classe=row["classe"],
                                         separator=row["separator"] or "auto")
                for row in csv.DictReader(handle)}


LAYOUTS: dict[str, CsvLayout] = _load_layouts()
ESUP = LAYOUTS["esup"]


@dataclass
class EntAccount:
    ent_id: str
    profile: str
    nom: str
    prenom: str
    sconet_id: str = ""
    classe: str = ""


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


def read_ent_csv(path: Path | str, required_profiles=REQUIRED_PROFILES, layout: CsvLayout = ESUP) -> EntCsv:
    path = Path(path)
    if not layout.profile:
        required_profiles = ()   # this layout has no profile column
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
    # Another file given for this one (an XML export, a zip, a spreadsheet) is named as what it is.
    other = not_an_ent_csv(sniff(path))
    if other:
        raise Refused(f"{where} : {other}.")
    if b"\x00" in data:
        raise Refused(f"{where} : contenu binaire, ce n'est pas un fichier CSV.")
    text, encoding = _decode(data)
    text = text.strip()
    if not text:
        raise Refused(f"{where} : fichier vide.")
    counts = Counter({sep: text.count(sep) for sep in (";", ",", ":", "\t")})
    separator = counts.most_common(1)[0][0]
    if layout.separator != "auto" and separator != layout.separator:
        raise Refused(f"{where} : séparateur « {separator} » le plus fréquent, « {layout.separator} » attendu "
                      "(SACoche le choisit ainsi et lirait mal les colonnes).")
    bare_cr = re.search(r"\r(?!\n)", text)
    if bare_cr:
        # A carriage return alone: a line break for some readers, part of a name for others.
        line = text.count("\n", 0, bare_cr.start()) + 1
        raise Refused(f"{where} : CSV mal formé à la ligne {line} (un retour chariot (CR) isolé au milieu d'une "
                      "ligne) ; réexportez le fichier depuis l'ENT sans le modifier.")
    reader = csv.reader(io.StringIO(text), delimiter=separator)
    try:
        rows = list(reader)
    except csv.Error as exc:
        reason = str(exc)
        french = ("un retour chariot (CR) isolé au milieu d'une ligne" if "new-line character" in reason else
                  "un champ démesuré (plus de 131 072 caractères)" if "field limit" in reason else reason)
        raise Refused(f"{where} : CSV mal formé à la ligne {reader.line_num} ({french}) ; réexportez le fichier "
                      "depuis l'ENT sans le modifier.") from None
    columns = _columns(rows, layout, where)
    if layout is ESUP or layout.key == "esup":
        if len(rows) < 3:
            raise Refused(f"{where} : {len(rows)} ligne(s) ; attendu : 2 lignes d'en-tête puis les comptes.")
        if len([cell for cell in rows[0] if cell.strip()]) != 1:
            raise Refused(f"{where} : la première ligne doit être un titre d'une seule cellule (format esup), "
                          f"trouvé « {shorten(';'.join(rows[0]), 80)} ».")
    accounts = []
    for row in rows[layout.header_lines:]:
        account = _account(row, columns)
        if account is not None:   # SACoche skips unusable lines silently too
            accounts.append(account)
    suspicious = [f"{a.ent_id};{a.nom};{a.prenom}" for a in accounts
                  if any(cell.startswith(FORMULA_START) or "<" in cell or ">" in cell
                         for cell in (a.ent_id, a.nom, a.prenom))]
    if suspicious:
        raise Refused(f"{where} : {len(suspicious)} ligne(s) suspecte(s) (formule de tableur ou balise HTML), "
                      f"refusée(s) par sécurité : {', '.join(shorten(s, 60) for s in suspicious[:3])}")
    if not accounts:
        raise Refused(f"{where} : aucun compte utilisable (format {layout.key} : identifiant, nom et prénom en "
                      f"colonnes {columns['id'] + 1}, {columns['nom'] + 1} et {columns['prenom'] + 1}).")
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
    title = rows[0][0].strip() if layout.header_lines and rows and rows[0] else ""
    return EntCsv(path=path, encoding=encoding, separator=separator, title=title, accounts=accounts)


def _columns(rows: list[list[str]], layout: CsvLayout, where: str) -> dict[str, int]:
    """The column of each field: fixed by the layout, or found in the first line by name."""
    fields = {"id": layout.id, "nom": layout.nom, "prenom": layout.prenom, "sconet": layout.sconet,
              "profile": layout.profile, "classe": layout.classe}
    if layout.fixed_order:
        return {key: int(value) for key, value in fields.items() if value != ""}
    header = [cell.strip() for cell in rows[0]] if rows else []
    missing = [name for key, name in fields.items() if name and name not in header]
    if missing:
        raise Refused(f"{where} : colonne(s) {', '.join(f'« {name} »' for name in missing)} absente(s) de la première "
                      f"ligne (format {layout.key}) ; SACoche répondrait « Les champs nécessaires n'ont pas pu être "
                      "repérés ! ».")
    return {key: header.index(name) for key, name in fields.items() if name}


def _account(row: list[str], columns: dict[str, int]) -> EntAccount | None:
    if len(row) <= 2 or len(row) <= max(columns[key] for key in ("id", "nom", "prenom")):
        return None
    cell = {key: row[index].strip() if index < len(row) else "" for key, index in columns.items()}
    if not (cell["id"] and cell["nom"] and cell["prenom"]):
        return None
    return EntAccount(cell["id"], cell.get("profile", ""), cell["nom"], cell["prenom"], cell.get("sconet", ""),
                      cell.get("classe", ""))
