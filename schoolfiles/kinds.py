"""The kinds of school export files, how to recognise each by its content, and their French
names. The import itself never checks the root element, so a mixed-up file would only fail late
and vaguely; the bot recognises it at once."""
from __future__ import annotations

from .models import SourceInfo
from .xmlsafe import ScanInfo, XmlPath, XmlSource

STS = "sts"
ELEVES = "eleves"
RESPONSABLES = "responsables"
NOMENCLATURE = "nomenclature"
SCHOOL_FILE_KINDS = (STS, ELEVES, RESPONSABLES)

LABELS = {
    STS: "fichier STS-Web des personnels",
    ELEVES: "fichier SIECLE des élèves",
    RESPONSABLES: "fichier SIECLE des responsables",
    NOMENCLATURE: "fichier SIECLE des nomenclatures",
}
EXPECTED = {
    STS: "l'export STS-Web sts_emp_<UAI>_<ANNÉE>.xml (racine STS_EDT, DONNEES/INDIVIDUS)",
    ELEVES: "l'export SIECLE ElevesSansAdresses.xml (racine BEE_ELEVES, DONNEES/ELEVES)",
    RESPONSABLES: "l'export SIECLE ResponsablesAvecAdresses.xml (racine BEE_RESPONSABLES, DONNEES/PERSONNES)",
}
ROOTS = {"STS_EDT": STS, "BEE_ELEVES": ELEVES, "BEE_RESPONSABLES": RESPONSABLES, "BEE_NOMENCLATURES": NOMENCLATURE}
SECTIONS: dict[XmlPath, str] = {
    ("DONNEES", "INDIVIDUS"): STS,
    ("DONNEES", "SUPPLEANTS"): STS,
    ("DONNEES", "STRUCTURE"): STS,
    ("DONNEES", "ELEVES"): ELEVES,
    ("DONNEES", "STRUCTURES"): ELEVES,
    ("DONNEES", "OPTIONS"): ELEVES,
    ("DONNEES", "PERSONNES"): RESPONSABLES,
    ("DONNEES", "RESPONSABLES"): RESPONSABLES,
    ("DONNEES", "MEFS"): NOMENCLATURE,
    ("DONNEES", "MATIERES"): NOMENCLATURE,
}


def kind_of(root_tag: str | None, sections: set[XmlPath]) -> str | None:
    """The kind of export a document is, from its root, else from its sections; None if unknown."""
    if root_tag in ROOTS:
        return ROOTS[root_tag]
    found = {SECTIONS[path] for path in sections if path in SECTIONS}
    return found.pop() if len(found) == 1 else None


def mixup_problem(expected: str, found: str | None, root_tag: str | None, sections: set[XmlPath]) -> str | None:
    """Why a document is not the kind of file expected, or None if it is."""
    if found == expected:
        return None
    seen = ", ".join("/".join(path) for path in sorted(p for p in sections if len(p) == 1 or p[0] == "DONNEES"))
    what = f"racine {root_tag or '?'}" + (f", sections {seen}" if seen else "")
    if found is None:
        return (f"contenu qui ne ressemble à aucun export STS/SIECLE connu ({what}) ; attendu : {EXPECTED[expected]}")
    return f"c'est un {LABELS[found]} ({what}) et non un {LABELS[expected]} ; attendu : {EXPECTED[expected]}"


def refuse_mixups(source: XmlSource, expected: str):
    """An `on_root` callback for xmlsafe.scan: stops at once when the root names another export."""
    def check(root_tag: str) -> None:
        found = ROOTS.get(root_tag)
        if found is not None and found != expected:
            raise source.refuse(mixup_problem(expected, found, root_tag, set()))
    return check


def check_kind(source: XmlSource, expected: str, info: ScanInfo) -> None:
    """Refuses a document, once read, whose content is another kind of export."""
    problem = mixup_problem(expected, kind_of(info.root_tag, info.sections), info.root_tag, info.sections)
    if problem:
        raise source.refuse(problem)


def source_info(source: XmlSource, info: ScanInfo) -> SourceInfo:
    return SourceInfo(path=str(source.path), member=source.member, declared_encoding=info.declared_encoding,
                      size=info.size)
