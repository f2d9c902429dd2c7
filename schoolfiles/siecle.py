"""Reads the SIECLE exports: students (ElevesSansAdresses.xml, §3 of import-files.md) and parents
(ResponsablesAvecAdresses.xml, §4)."""
from __future__ import annotations

import itertools

from xml.etree.ElementTree import Element

from . import kinds
from .models import Address, ElevesFile, Parent, ResponsablesFile, ResponsibilityLink, Student, sex
from .xmlsafe import MAX_FILE_BYTES, XmlSource, integer, scan, stripped, text

CIVILITY = {"M.": "M", "MME": "F"}     # exact and case-sensitive, as the import compares it


def surname(element: Element) -> str:
    """NOM if present, else a non-empty NOM_USAGE, else NOM_DE_FAMILLE."""
    return stripped(element, "NOM") or stripped(element, "NOM_USAGE") or stripped(element, "NOM_DE_FAMILLE") or ""


def parameters_reader(into: dict):
    def read(element: Element) -> None:
        into["uai"], into["year"] = text(element, "UAJ"), text(element, "ANNEE_SCOLAIRE")
    return read


def read_eleves(source: XmlSource, max_bytes: int = MAX_FILE_BYTES) -> ElevesFile:
    parameters: dict[str, str | None] = {"uai": None, "year": None}
    students: list[dict] = []
    options: dict[int, list[str]] = {}
    structures: dict[int, tuple[str | None, list[str]]] = {}
    structures_rank: dict[int, int] = {}   # where each student's STRUCTURES_ELEVE last stands
    position = itertools.count()

    def on_student(element: Element) -> None:
        ine = stripped(element, "ID_NATIONAL")
        bea, rnie = stripped(element, "INE_BEA"), stripped(element, "INE_RNIE")
        students.append(dict(
            eleve_id=integer(source, element.get("ELEVE_ID"), f"ELEVE n°{len(students) + 1} (@ELEVE_ID)"),
            elenoet=(element.get("ELENOET") or "").strip() or None,
            ine=rnie if bea and rnie else ine,
            nom=surname(element), prenom=stripped(element, "PRENOM") or "",
            date_naiss=stripped(element, "DATE_NAISS"), sexe=sex(text(element, "CODE_SEXE")),
            mel=stripped(element, "MEL"), code_mef=stripped(element, "CODE_MEF"),
            date_sortie=stripped(element, "DATE_SORTIE"),
        ))

    def on_option(element: Element) -> None:
        eleve_id = integer(source, element.get("ELEVE_ID"), "OPTION (@ELEVE_ID)")
        options.setdefault(eleve_id, []).extend(
            code for code in (stripped(chosen, "CODE_MATIERE") for chosen in element.iterfind("OPTIONS_ELEVE")) if code)

    def on_structures(element: Element) -> None:
        eleve_id = integer(source, element.get("ELEVE_ID"), "STRUCTURES_ELEVE (@ELEVE_ID)")
        division, groups = structures.get(eleve_id, (None, []))
        for structure in element.iterfind("STRUCTURE"):
            code, kind = stripped(structure, "CODE_STRUCTURE"), stripped(structure, "TYPE_STRUCTURE")
            if not code:
                continue
            if kind == "D":
                division = code          # if several, the last one wins, as in the import
            elif kind == "G" and code not in groups:
                groups.append(code)
        structures[eleve_id] = (division, groups)
        structures_rank[eleve_id] = next(position)

    info = scan(source, {
        ("PARAMETRES",): parameters_reader(parameters),
        ("DONNEES", "ELEVES", "ELEVE"): on_student,
        ("DONNEES", "OPTIONS", "OPTION"): on_option,
        ("DONNEES", "STRUCTURES", "STRUCTURES_ELEVE"): on_structures,
    }, on_root=kinds.refuse_mixups(source, kinds.ELEVES), max_bytes=max_bytes)
    kinds.check_kind(source, kinds.ELEVES, info)
    models = []
    for student in students:
        # A student who has left keeps his STRUCTURES in the file; the import ignores them.
        division, groups = (None, []) if student["date_sortie"] else structures.get(student["eleve_id"], (None, []))
        models.append(Student(**student, division=division, groups=groups, options=options.get(student["eleve_id"], []),
                              structures_rank=structures_rank.get(student["eleve_id"])))
    return ElevesFile(source=kinds.source_info(source, info), students=models, **parameters)


def read_responsables(source: XmlSource, max_bytes: int = MAX_FILE_BYTES) -> ResponsablesFile:
    parameters: dict[str, str | None] = {"uai": None, "year": None}
    parents: list[Parent] = []
    links: list[ResponsibilityLink] = []
    addresses: list[Address] = []

    def on_person(element: Element) -> None:
        adresse = stripped(element, "ADRESSE_ID")
        parents.append(Parent(
            personne_id=integer(source, element.get("PERSONNE_ID"), f"PERSONNE n°{len(parents) + 1} (@PERSONNE_ID)"),
            civilite=CIVILITY.get(text(element, "LC_CIVILITE") or "", "I"),
            nom=surname(element), prenom=stripped(element, "PRENOM") or "", mel=stripped(element, "MEL"),
            adresse_id=int(adresse) if adresse and adresse.isdigit() else None,
        ))

    def on_link(element: Element) -> None:
        where = f"RESPONSABLE_ELEVE n°{len(links) + 1}"
        legal = stripped(element, "RESP_LEGAL") or "0"
        links.append(ResponsibilityLink(
            eleve_id=integer(source, text(element, "ELEVE_ID"), f"{where} (ELEVE_ID)"),
            personne_id=integer(source, text(element, "PERSONNE_ID"), f"{where} (PERSONNE_ID)"),
            resp_legal=int(legal) if legal.isdigit() else 0,
        ))

    def on_address(element: Element) -> None:
        lines = [line for line in (stripped(element, f"LIGNE{n}_ADRESSE") for n in range(1, 5)) if line]
        postcode, town = stripped(element, "CODE_POSTAL"), stripped(element, "LIBELLE_POSTAL")
        abroad = stripped(element, "COMMUNE_ETRANGERE")
        if abroad:
            # Abroad: a first word within the first 10 characters is the postcode, the rest the town.
            space = abroad.find(" ")
            postcode, town = (abroad[:space], abroad[space + 1:]) if 0 < space <= 10 else (None, abroad)
        addresses.append(Address(
            adresse_id=integer(source, element.get("ADRESSE_ID"), f"ADRESSE n°{len(addresses) + 1} (@ADRESSE_ID)"),
            lines=lines, code_postal=postcode, commune=town, pays=stripped(element, "LL_PAYS"),
        ))

    info = scan(source, {
        ("PARAMETRES",): parameters_reader(parameters),
        ("DONNEES", "PERSONNES", "PERSONNE"): on_person,
        ("DONNEES", "RESPONSABLES", "RESPONSABLE_ELEVE"): on_link,
        ("DONNEES", "ADRESSES", "ADRESSE"): on_address,
    }, on_root=kinds.refuse_mixups(source, kinds.RESPONSABLES), max_bytes=max_bytes)
    kinds.check_kind(source, kinds.RESPONSABLES, info)
    return ResponsablesFile(source=kinds.source_info(source, info), parents=parents, links=links,
                            addresses=addresses, **parameters)
