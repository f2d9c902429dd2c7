"""Reading an XML export safely: no DTD, no entity, no external reference (defusedxml), a size cap
that also holds for a zip member that lies about its size, caps on depth and width (no real
export comes near them), streaming (iterparse, each record dropped once read, so a 2,000-student
file stays small in memory), work linear in the file's size and depth, and precise French
refusals: what was found, what was expected."""
from __future__ import annotations

import codecs
import contextlib
import re
import sys
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Callable, Iterator
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser, iterparse

from bot.errors import Refused
from bot.fsutil import regular_file_problem

MAX_FILE_BYTES = 50 * 1024 * 1024
ZIP_MAGIC = b"PK\x03\x04"
HEAD_BYTES = 64 * 1024          # kept to explain a refusal (declaration, DTD)
# The parser builds every element of a piece before scan() sees the first: small pieces keep that
# memory small (8 MiB of tiny elements is 400 MB). But expat (2.5, Debian 12) scans a token again
# from its start at each piece it is given, so one huge comment or attribute fed 16 KiB at a time
# takes quadratic time (a 50 MB comment: hours). So a piece after which the parser gave no event
# (it is inside one long token) makes the next one twice as big, up to READ_BYTES; any event brings
# it back to FIRST_READ_BYTES. The rescans then add up to a few times the token's length.
FIRST_READ_BYTES = 64 * 1024
READ_BYTES = 8 * 1024 * 1024
# Real STS-Web and SIECLE exports nest about 10 levels (STS_EDT/DONNEES/STRUCTURE/DIVISIONS/DIVISION/
# SERVICES/SERVICE/ENSEIGNANTS/ENSEIGNANT). Far deeper is a broken or hostile file: refused as soon
# as an element opens below this level, root counted as level 1.
MAX_XML_DEPTH = 64
# Width, for the same reason: a real export's element has a few attributes, and a record (an
# ELEVE, a DIVISION…), kept whole until read, a few hundred elements at most. A record of millions
# of elements fits in the size cap and would hold a gigabyte. (One tag of millions of attributes
# still costs expat and pyexpat about that much before any handler sees it; refusing spares the rest.)
MAX_XML_ATTRIBUTES = 256
MAX_RECORD_ELEMENTS = 100_000
NOT_AN_EXPORT = "ce n'est pas un export STS-Web/SIECLE ({}) ; rien n'a été fait sur les sites"

XmlPath = tuple[str, ...]       # tags below the root, e.g. ("DONNEES", "ELEVES", "ELEVE")

DECLARED_ENCODING = re.compile(rb'^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*["\']([A-Za-z][A-Za-z0-9._-]*)["\']')
UTF8_NAMES = {"utf-8", "utf8"}
EIGHT_BIT_NAMES = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "iso-8859-15", "iso8859-15",
                   "latin-9", "windows-1252", "cp1252"}

EXPAT_FRENCH = [
    ("not well-formed (invalid token)", "caractère ou balise invalide"),
    ("no element found", "document vide ou tronqué, un élément n'est pas refermé"),
    ("mismatched tag", "balise fermante qui ne correspond pas à la balise ouverte"),
    ("unclosed token", "balise non refermée"),
    ("junk after document element", "contenu après la fin de l'élément racine"),
    ("syntax error", "erreur de syntaxe"),
    ("undefined entity", "entité non définie (&…;)"),
    ("unclosed CDATA section", "section CDATA non refermée"),
    ("XML or text declaration not at start of entity", "déclaration <?xml …?> ailleurs qu'au tout début du fichier"),
    ("duplicate attribute", "attribut en double"),
    ("XML declaration not well-formed", "déclaration <?xml …?> mal formée"),
    ("reference to invalid character number", "référence à un caractère interdit"),
    ("partial character", "caractère incomplet (fichier tronqué ?)"),
    ("encoding specified in XML declaration is incorrect", "encodage déclaré incorrect"),
]


ZIP_ERRORS_FRENCH = {
    "File is not a zip file": "fin d'archive introuvable : fichier tronqué, ou qui n'est pas un ZIP",
    "Truncated file header": "en-tête de fichier tronqué",
    "Bad magic number for file header": "en-tête de fichier invalide",
}


def _zip_reason(exc: Exception) -> str:
    message = str(exc)
    if isinstance(exc, zlib.error):
        return "données compressées invalides"
    if message.startswith("Bad CRC-32"):
        return "somme de contrôle fausse, contenu abîmé"
    return ZIP_ERRORS_FRENCH.get(message, message)


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} octet{'s' if size > 1 else ''}"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} ko".replace(".", ",")
    return f"{size / 1024 / 1024:.1f} Mo".replace(".", ",")


@dataclass
class XmlSource:
    """One XML document to read: a plain .xml file, or one member of a .zip export."""
    path: Path
    label: str                      # French, names the file's role and its config key
    member: str | None = None       # the zip entry, when the file is an archive
    warnings: list[str] = field(default_factory=list)

    def where(self) -> str:
        inside = f" (membre « {self.member} » de l'archive)" if self.member else ""
        return f"{self.label} « {self.path} »{inside}"

    def refuse(self, problem: str) -> Refused:
        return Refused(f"{self.where()} : {problem}")

    @contextlib.contextmanager
    def open(self) -> Iterator[BinaryIO]:
        try:
            if self.member is None:
                with open(self.path, "rb") as stream:
                    yield stream
            else:
                with zipfile.ZipFile(self.path) as archive, archive.open(self.member) as stream:
                    yield stream
        except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError, zlib.error) as exc:
            raise self.refuse(f"archive ZIP endommagée ou illisible ({_zip_reason(exc)})") from None
        except OSError as exc:
            raise self.refuse(f"fichier illisible ({exc.strerror or exc.__class__.__name__})") from None


def _refuse_path(label: str, path: Path, problem: str) -> Refused:
    return Refused(f"{label} « {path} » : {problem}")


def check_plain_file(path: Path, label: str, max_bytes: int = MAX_FILE_BYTES) -> str:
    """Refuses a missing, unreadable, special (FIFO, device), empty, oversized or misnamed file;
    returns its kind, "xml" or "zip" (by extension, as the import does)."""
    problem = regular_file_problem(path)
    if problem:
        raise _refuse_path(label, path, problem)
    if path.name.startswith("."):
        raise _refuse_path(label, path, "un nom de fichier commençant par un point est refusé à l'import")
    extension = path.suffix.lower().lstrip(".")
    if extension not in ("xml", "zip"):
        found = f"extension « .{extension} »" if extension else "nom sans extension"
        raise _refuse_path(label, path, f"{found} : .xml ou .zip attendu (les exports STS/SIECLE sont des .xml, "
                                        "éventuellement dans un .zip)")
    try:
        size = path.stat().st_size
        with open(path, "rb") as stream:
            start = stream.read(8)
    except OSError as exc:
        raise _refuse_path(label, path, f"fichier illisible ({exc.strerror or exc.__class__.__name__})") from None
    if size == 0:
        raise _refuse_path(label, path, "fichier vide (0 octet)")
    if size > max_bytes:
        raise _refuse_path(label, path, f"fichier de {human_size(size)}, au-delà du plafond de {human_size(max_bytes)}")
    if extension == "xml" and start.startswith(ZIP_MAGIC):
        raise _refuse_path(label, path, "c'est une archive ZIP mais son nom finit par .xml : renommez-le en .zip")
    return extension


def _dangerous_name(name: str) -> bool:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return name.startswith(("/", "\\")) or bool(re.match(r"^[A-Za-z]:", name)) or ".." in parts


def open_zip_member(path: Path, wanted: str, label: str, max_bytes: int = MAX_FILE_BYTES,
                    explain_missing: Callable[[list[str]], str | None] | None = None) -> XmlSource:
    """The entry `wanted` at the root of the archive, as the import looks for it (exact name, no
    sub-folder). `explain_missing` may add a hint from the entry names when it is absent."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
        with open(path, "rb") as stream:
            looks_xml = stream.read(64).lstrip().startswith((b"<?xml", b"\xef\xbb\xbf<?xml", b"<"))
        hint = " ; c'est en fait un fichier XML : renommez-le en .xml" if looks_xml else ""
        raise _refuse_path(label, path, f"archive ZIP illisible ou tronquée ({_zip_reason(exc)}){hint}") from None
    names = [info.filename for info in infos]
    twice = sorted(name for name, count in Counter(names).items() if count > 1)
    if twice:
        # Which of the two the import would read is not defined: refuse rather than guess.
        raise _refuse_path(label, path, f"l'archive contient deux fichiers du même nom (« {twice[0]} ») : archive "
                                        "ambiguë, refusée ; exportez-la de nouveau")
    for name in names:
        if _dangerous_name(name):
            raise _refuse_path(label, path, f"l'archive contient un chemin dangereux « {name} » (sortie du dossier "
                                            "d'extraction, « zip slip ») : archive refusée par sécurité")
    by_name = {info.filename: info for info in infos}
    info = by_name.get(wanted)
    if info is None:
        nested = [n for n in names if PurePosixPath(n).name == wanted]
        if nested:
            folder = str(PurePosixPath(nested[0]).parent)
            raise _refuse_path(label, path, f"« {wanted} » se trouve dans le dossier « {folder}/ » de l'archive et non "
                                            "à sa racine, où l'import le cherche : compressez le fichier seul")
        same_but_case = [n for n in names if n.lower() == wanted.lower()]
        if same_but_case:
            raise _refuse_path(label, path, f"l'archive contient « {same_but_case[0]} » mais le nom attendu est exactement "
                                            f"« {wanted} » (majuscules comprises)")
        hint = explain_missing(names) if explain_missing else None
        listing = ", ".join(f"« {n} »" for n in names[:8]) + (" …" if len(names) > 8 else "") if names else "aucun fichier"
        raise _refuse_path(label, path, f"fichier « {wanted} » non trouvé à la racine de l'archive ZIP "
                                        f"(contenu : {listing}){' ; ' + hint if hint else ''}")
    if info.is_dir():
        raise _refuse_path(label, path, f"« {wanted} » est un dossier dans l'archive, pas un fichier")
    if info.flag_bits & 0x1:
        raise _refuse_path(label, path, f"« {wanted} » est chiffré dans l'archive (mot de passe) : illisible à l'import")
    if info.file_size == 0:
        raise _refuse_path(label, path, f"« {wanted} » est vide dans l'archive (0 octet)")
    if info.file_size > max_bytes:
        raise _refuse_path(label, path, f"« {wanted} » fait {human_size(info.file_size)} une fois décompressé, au-delà "
                                        f"du plafond de {human_size(max_bytes)}")
    return XmlSource(path=path, label=label, member=wanted)


class _TooBig(Exception):
    pass


class _TooBroad(Exception):
    """A shape no real export has: too deep, too many attributes, too big a record; French."""


def _tag(tag: str) -> str:
    return tag if len(tag) <= 40 else tag[:40] + "…"


def _too_deep(tag: str, max_depth: int, line: int | None) -> _TooBroad:
    where = f", ligne {line}" if line else ""
    return _TooBroad(f"est imbriqué sur plus de {max_depth} niveaux (élément « {_tag(tag)} » au niveau "
                     f"{max_depth + 1}{where}) : " + NOT_AN_EXPORT.format("les vrais en ont une dizaine"))


def _too_many_attributes(tag: str, line: int | None) -> _TooBroad:
    where = f", ligne {line}" if line else ""
    return _TooBroad(f"a un élément « {_tag(tag)} » de plus de {MAX_XML_ATTRIBUTES} attributs{where} : "
                     + NOT_AN_EXPORT.format("les vrais en ont au plus quelques-uns"))


def _record_too_big(path: list[str]) -> _TooBroad:
    count = f"{MAX_RECORD_ELEMENTS:,}".replace(",", " ")
    return _TooBroad(f"a un élément « {_tag('/'.join(path))} » qui contient plus de {count} éléments : "
                     + NOT_AN_EXPORT.format("les vrais en ont au plus quelques centaines"))


def _guard_shape(parser: DefusedXMLParser, max_depth: int | None) -> None:
    """Checks the depth and the attributes inside expat's own element handlers, so that a file
    too deep or too wide stops at its first such element, not after expat has built the whole
    piece it was given (after a long token, 8 MiB: 2.8 million nested elements, a gigabyte) nor
    the attributes' dictionary. scan() checks again on its events, in case a later defusedxml
    hides these handlers."""
    expat = getattr(parser, "parser", None)
    start = getattr(expat, "StartElementHandler", None)
    end = getattr(expat, "EndElementHandler", None)
    if start is None or end is None:
        return
    deepest = max_depth if max_depth is not None else sys.maxsize
    # Ordered attributes come as one list: name, value, name, value…
    most = MAX_XML_ATTRIBUTES * (2 if expat.ordered_attributes else 1)
    depth = 0

    def guarded_start(tag, attributes):
        nonlocal depth
        depth += 1
        if depth > deepest:
            raise _too_deep(tag, deepest, expat.CurrentLineNumber)
        if len(attributes) > most:
            raise _too_many_attributes(tag, expat.CurrentLineNumber)
        return start(tag, attributes)

    def guarded_end(tag):
        nonlocal depth
        depth -= 1
        return end(tag)

    expat.StartElementHandler = guarded_start
    expat.EndElementHandler = guarded_end


def _forget(parent: Element, count: int) -> None:
    """Drops the first `count` children of `parent`, already read and cleared."""
    del parent[:count]


class _GuardedReader:
    """Wraps the byte stream given to the parser: enforces the size cap on what is really read,
    keeps the head (to explain a refusal), and checks on the fly whether the bytes are UTF-8."""

    def __init__(self, stream: BinaryIO, max_bytes: int):
        self.stream = stream
        self.max_bytes = max_bytes
        self.size = 0
        self.head = b""
        self.lines_before = 0               # newlines in the bytes already checked
        self.utf8 = codecs.getincrementaldecoder("utf-8")("strict")
        self.utf8_valid = True
        self.bad_utf8_line: int | None = None
        self.bad_utf8_byte: int | None = None
        self.non_ascii = False
        self.php = False
        self._tail = b""
        self.piece = FIRST_READ_BYTES
        self.progress = True                # set by scan() at each event the parser gives

    def read(self, size: int = -1) -> bytes:
        if size >= 0:
            self.piece = FIRST_READ_BYTES if self.progress else min(self.piece * 2, READ_BYTES)
            self.progress = False
            size = self.piece
        chunk = self.stream.read(size)
        if not chunk:
            self._feed_utf8(b"", final=True)
            return chunk
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise _TooBig()
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[:HEAD_BYTES - len(self.head)]
        if not self.non_ascii and not chunk.isascii():
            self.non_ascii = True
        if b"<?php" in self._tail + chunk:
            self.php = True
        self._tail = chunk[-4:]
        self._feed_utf8(chunk)
        return chunk

    def _feed_utf8(self, chunk: bytes, final: bool = False) -> None:
        if not self.utf8_valid:
            return
        try:
            self.utf8.decode(chunk, final)
        except UnicodeDecodeError as exc:
            self.utf8_valid = False
            bad = chunk[exc.start:exc.start + 1] if exc.start < len(chunk) else b""
            self.bad_utf8_byte = bad[0] if bad else None
            self.bad_utf8_line = self.lines_before + chunk[:exc.start].count(b"\n") + 1
        self.lines_before += chunk.count(b"\n")


@dataclass
class ScanInfo:
    root_tag: str | None = None
    sections: set[XmlPath] = field(default_factory=set)   # paths of depth 1 and 2 seen
    declared_encoding: str | None = None
    size: int = 0


def _refuse_if_damaged(source: XmlSource) -> None:
    """Reads the zip member to its end, so that its checksum is verified."""
    with source.open() as stream:
        while stream.read(1024 * 1024):
            pass


def declared_encoding(head: bytes) -> str | None:
    match = DECLARED_ENCODING.match(head)
    return match.group(1).decode("ascii") if match else None


def _is_utf16(head: bytes, declared: str | None) -> bool:
    return head.startswith((b"\xff\xfe", b"\xfe\xff")) or (declared or "").lower().startswith("utf-16")


def _dtd_problem(head: bytes, exc: DefusedXmlException) -> str:
    text = head.decode("latin-1")
    external = re.search(r"<!ENTITY[^>]*?(SYSTEM|PUBLIC)\s+(\"[^\"]*\"|'[^']*')", text)
    if external:
        return (f"déclare une entité externe ({external.group(1)} {external.group(2)}) qui ferait lire un fichier ou "
                "une adresse extérieure : refusé par sécurité (les exports STS/SIECLE n'en contiennent jamais)")
    if "<!ENTITY" in text:
        return ("déclare des entités XML (<!ENTITY …>) : risque de « bombe » d'expansion (milliards de rires), refusé "
                "par sécurité (les exports STS/SIECLE n'en contiennent jamais)")
    system_id = getattr(exc, "sysid", None)
    if system_id:
        return (f"fait référence à une DTD extérieure (« {system_id} ») : refusé par sécurité (les exports STS/SIECLE "
                "n'en contiennent jamais)")
    return ("contient une DTD (<!DOCTYPE …>) : refusé par sécurité (les exports STS/SIECLE n'en contiennent "
            "jamais)")


def _expat_french(exc: ParseError) -> str:
    message = re.sub(r":\s*line \d+, column \d+$", "", str(exc))
    for english, french in EXPAT_FRENCH:
        if message.startswith(english):
            message = french
            break
    line, column = getattr(exc, "position", (0, 0)) or (0, 0)
    return f"ligne {line}, colonne {column + 1} : {message}"


def _encoding_problem(reader: _GuardedReader, declared: str | None) -> str | None:
    """Bytes that do not match the declaration (either way), or None."""
    if _is_utf16(reader.head, declared):
        return None
    name = (declared or "").lower()
    if (not declared or name in UTF8_NAMES) and not reader.utf8_valid:
        said = f"déclare l'encodage {declared}" if declared else "n'a pas de déclaration d'encodage (donc UTF-8)"
        byte = f"octet 0x{reader.bad_utf8_byte:02X} " if reader.bad_utf8_byte is not None else ""
        return (f"{said} mais ses octets n'en sont pas ({byte}à la ligne {reader.bad_utf8_line}, sans doute de "
                "l'ISO-8859-1) : la déclaration <?xml … encoding=\"…\"?> doit correspondre aux octets ; réexportez "
                "le fichier sans le modifier")
    if name in EIGHT_BIT_NAMES and reader.utf8_valid and reader.non_ascii:
        return (f"déclare l'encodage {declared} mais ses octets sont de l'UTF-8 : les accents seraient mal lus "
                "(« é » deviendrait « Ã© ») ; la déclaration doit correspondre aux octets (encoding=\"UTF-8\")")
    return None


def scan(source: XmlSource, records: dict[XmlPath, Callable[[Element], None]],
         on_root: Callable[[str], None] | None = None, max_bytes: int = MAX_FILE_BYTES,
         max_depth: int | None = MAX_XML_DEPTH) -> ScanInfo:
    """Streams the document once, calling `records[path](element)` for each complete element at
    one of those paths; `on_root(tag)` may refuse as soon as the root is known. Everything is
    dropped once handled, so memory stays bounded by the largest record. The work per element
    does not grow with the depth nor with the number of siblings: the path is compared only while
    it is no longer than the longest record path, and read siblings are dropped in batches."""
    info = ScanInfo()
    longest = max((len(key) for key in records), default=0)
    with source.open() as stream:
        reader = _GuardedReader(stream, max_bytes)
        stack: list[Element] = []
        path: list[str] = []
        handled: list[int] = []             # per open element: children read, cleared, not yet dropped
        record_depth: int | None = None     # depth of the record being built, if any
        record_elements = 0                 # elements inside it so far
        try:
            parser = DefusedXMLParser(target=TreeBuilder(), forbid_dtd=True, forbid_entities=True,
                                      forbid_external=True)
            events = iterparse(reader, events=("start", "end"), parser=parser)
            _guard_shape(parser, max_depth)
            for event, element in events:
                reader.progress = True
                if event == "start":
                    if max_depth is not None and len(stack) >= max_depth:
                        raise _too_deep(element.tag, max_depth, None)
                    if len(element.attrib) > MAX_XML_ATTRIBUTES:
                        raise _too_many_attributes(element.tag, None)
                    if stack:
                        path.append(element.tag)
                        if len(path) <= 2:
                            info.sections.add(tuple(path))
                        if record_depth is None:
                            if len(path) <= longest and tuple(path) in records:
                                record_depth, record_elements = len(path), 0
                        else:
                            record_elements += 1
                            if record_elements > MAX_RECORD_ELEMENTS:
                                raise _record_too_big(path[:record_depth])
                    else:
                        info.root_tag = element.tag
                        if on_root:
                            on_root(element.tag)
                    stack.append(element)
                    handled.append(0)
                    continue
                depth = len(path)
                if record_depth == depth:
                    records[tuple(path)](element)
                    record_depth = None
                stack.pop()
                handled.pop()
                if path:
                    path.pop()
                if record_depth is not None:
                    continue                # part of a record still being built: keep it
                element.clear()
                if stack:
                    # Removing each child as it ends would shift all its unread siblings (tens of
                    # thousands per piece, millions after a long token): quadratic. Read children
                    # are dropped together once they are half the list: a bounded cost per child.
                    handled[-1] += 1
                    if handled[-1] * 2 >= len(stack[-1]):
                        _forget(stack[-1], handled[-1])
                        handled[-1] = 0
        except _TooBig:
            raise source.refuse(f"plus de {human_size(max_bytes)} une fois lu : au-delà du plafond") from None
        except _TooBroad as exc:
            raise source.refuse(str(exc)) from None
        except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as exc:
            raise source.refuse(_dtd_problem(reader.head, exc)) from None
        except ParseError as exc:
            if source.member is not None:
                _refuse_if_damaged(source)     # damaged compressed data often shows as bad XML first
            declared = declared_encoding(reader.head)
            if b"\x00" in reader.head[:1024] and not _is_utf16(reader.head, declared):
                raise source.refuse("n'est pas un XML valide : contenu binaire (octets nuls), pas un export "
                                    "STS/SIECLE") from None
            problem = _encoding_problem(reader, declared)
            if problem:
                raise source.refuse(problem) from None
            raise source.refuse(f"n'est pas un XML valide ({_expat_french(exc)})") from None
        except LookupError as exc:
            raise source.refuse(f"n'est pas un XML valide : encodage déclaré inconnu ({exc})") from None
        except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise source.refuse(f"archive ZIP endommagée ({_zip_reason(exc)})") from None
        except OSError as exc:
            raise source.refuse(f"fichier illisible pendant la lecture ({exc.strerror or exc})") from None
    info.declared_encoding = declared_encoding(reader.head)
    info.size = reader.size
    problem = _encoding_problem(reader, info.declared_encoding)
    if problem:
        raise source.refuse(problem)
    if reader.php:
        raise source.refuse("contient le texte « <?php », refusé à l'import par sécurité")
    return info


# -- reading values, as the import does ---------------------------------------------------------

def text(element: Element, tag: str) -> str | None:
    """Raw text of a child; an empty element counts as absent, as for the import."""
    found = element.find(tag)
    if found is None or not (found.text or "").strip():
        return None
    return found.text


def stripped(element: Element, tag: str) -> str | None:
    value = text(element, tag)
    return value.strip() if value is not None else None


def integer(source: XmlSource, value: str | None, what: str) -> int:
    try:
        return int((value or "").strip())
    except ValueError:
        raise source.refuse(f"{what} : identifiant « {value or ''} » qui n'est pas un nombre entier") from None
