"""What kind of file a path holds, told from its first bytes whatever its name: one export given
for another (the ENT's CSV as the STS-Web file, an XML export as the ENT's CSV, a spreadsheet or
a web page saved instead of an export) is then refused by naming what it is, before any reading
that would only find a wrong separator or a broken XML."""
from __future__ import annotations

import re
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from . import kinds

HEAD_BYTES = 64 * 1024
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"   # .xls, .doc (Office before 2007)

ENT_CSV = "ent_csv"
CSV = "csv"
XML = "xml"          # XML of no known export
ZIP = "zip"          # an archive of no known export
OTHER = "other"      # a document of another sort (PDF, spreadsheet, web page)
ENT_CSV_WHAT = "une extraction CSV des comptes de l'ENT"
ENT_CSV_EXPECTED = "le fichier texte que donne l'ENT, une ligne par compte, en colonnes"

# Export names inside a zip, as the export sites give them.
MEMBER_KINDS = [(re.compile(r"sts_emp_.*\.xml", re.I), kinds.STS),
                (re.compile(r".*Eleves(Sans|Avec)Adresses.*\.xml", re.I), kinds.ELEVES),
                (re.compile(r".*Responsables(Sans|Avec)Adresses.*\.xml", re.I), kinds.RESPONSABLES),
                (re.compile(r".*Nomenclature.*\.xml", re.I), kinds.NOMENCLATURE)]
# Each prolog item is atomic (?>…): a failed match never tries to stretch a comment over the next
# ones, which took exponential time (a 300-byte file with 30 comments: minutes).
ROOT_TAG = re.compile(r"(?>\s|<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?>[^\[>]|\[[^\]]*\])*>)*<([A-Za-z_][\w.:-]*)", re.S | re.I)
# Words an ENT account export has in a cell (profiles) or its header; none is in an XML export.
ENT_WORDS = {"eleve", "élève", "enseignant", "parent", "personnel", "responsable", "tuteur", "uid", "login",
             "identifiant ent", "profil"}


@dataclass(frozen=True)
class Sniffed:
    kind: str     # kinds.STS/ELEVES/RESPONSABLES/NOMENCLATURE, ENT_CSV, CSV, XML, ZIP or OTHER
    what: str     # French, with its article: « un fichier SIECLE des élèves (racine BEE_ELEVES) »


def sniff(path: Path) -> Sniffed | None:
    """The kind of file at `path` (a regular file), or None when nothing is recognised (empty,
    binary, unreadable): the reader then says what is wrong."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(HEAD_BYTES)
    except OSError:
        return None
    if not head:
        return None
    if head.startswith(ZIP_MAGIC):
        return _zip(path)
    if head.startswith(b"%PDF"):
        return Sniffed(OTHER, "un document PDF")
    if head.startswith(OLE_MAGIC):
        return Sniffed(OTHER, "un document Office ancien (classeur .xls ou texte .doc)")
    text = _text(head)
    if text is None:
        return None
    start = text.lstrip()
    if start.startswith("<"):
        return _markup(start)
    return _csv(text, complete=len(head) < HEAD_BYTES)


def _zip(path: Path) -> Sniffed:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError):
        return Sniffed(ZIP, "une archive ZIP")
    if "xl/workbook.xml" in names:
        return Sniffed(OTHER, "un classeur Excel (.xlsx)")
    if "word/document.xml" in names:
        return Sniffed(OTHER, "un document Word (.docx)")
    if "mimetype" in names and "content.xml" in names:
        return Sniffed(OTHER, "un document OpenDocument (classeur .ods ou texte .odt)")
    found = {}
    for name in names:
        base = PurePosixPath(name.replace("\\", "/")).name
        for pattern, kind in MEMBER_KINDS:
            if pattern.fullmatch(base):
                found.setdefault(kind, base)
    if len(found) == 1:
        kind, base = found.popitem()
        return Sniffed(kind, f"une archive ZIP d'un {kinds.LABELS[kind]} (« {base} »)")
    return Sniffed(ZIP, "une archive ZIP")


def _text(head: bytes) -> str | None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="replace")
    if b"\x00" in head:
        return None   # binary
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Cut in the middle of a character at the end of the head, or 8-bit text.
        return head[:exc.start].decode("utf-8") if exc.start >= len(head) - 3 else head.decode("cp1252", "replace")


def _markup(text: str) -> Sniffed:
    if re.match(r"(?><\?.*?\?>\s*|<!--.*?-->\s*)*<!DOCTYPE\s+html", text, re.S | re.I):
        return Sniffed(OTHER, "une page web (HTML)")
    match = ROOT_TAG.match(text)
    if not match:
        return Sniffed(XML, "un document XML")
    root = match.group(1)
    if root.lower() == "html":
        return Sniffed(OTHER, "une page web (HTML)")
    kind = kinds.ROOTS.get(root)
    if kind is None:
        return Sniffed(XML, f"un document XML (racine {root})")
    return Sniffed(kind, f"un {kinds.LABELS[kind]} (racine {root})")


def _csv(text: str, complete: bool) -> Sniffed | None:
    lines = text.splitlines()
    if not complete:
        lines = lines[:-1]   # the last line may be cut
    lines = [line for line in lines[:50] if line.strip()]
    separator, _ = Counter({sep: sum(line.count(sep) for line in lines) for sep in (";", ",", "\t")}).most_common(1)[0]
    rows = [[cell.strip().strip('"').lower() for cell in line.split(separator)] for line in lines]
    if sum(1 for row in rows if len(row) >= 3) < 2:
        return None
    if any(cell in ENT_WORDS for row in rows for cell in row):
        return Sniffed(ENT_CSV, ENT_CSV_WHAT)
    return Sniffed(CSV, "un fichier CSV (texte en colonnes)")


def not_an_export(expected: str, found: Sniffed | None) -> str | None:
    """Why a file given as the export `expected` (kinds.STS…) is plainly something else, or None
    (what is not recognised is left to the export's reader, which says more)."""
    if found is None or found.kind in (expected, XML, ZIP):
        return None
    return f"c'est {found.what} et non un {kinds.LABELS[expected]} ; attendu : {kinds.EXPECTED[expected]}"


def not_an_ent_csv(found: Sniffed | None) -> str | None:
    """Why a file given as the ENT's account export is plainly something else, or None."""
    if found is None or found.kind in (ENT_CSV, CSV):
        return None
    return f"c'est {found.what} et non {ENT_CSV_WHAT} ; attendu : {ENT_CSV_EXPECTED}"
