"""Reads an STS-Web export (sts_emp_<UAI>_<YEAR>.xml): parameters, subjects, people, classes and
groups with their services (import-files.md §2)."""
from __future__ import annotations

from xml.etree.ElementTree import Element

from . import kinds
from .models import Division, Group, PrincipalClass, Service, StsFile, Subject, Teacher, sex
from .xmlsafe import MAX_FILE_BYTES, XmlSource, integer, scan, stripped, text


def services(source: XmlSource, element: Element, where: str) -> list[Service]:
    found = []
    for service in element.iterfind("SERVICES/SERVICE"):
        ids = [integer(source, teacher.get("ID"), f"{where}, ENSEIGNANT")
               for teacher in service.iterfind("ENSEIGNANTS/ENSEIGNANT")]
        found.append(Service(subject_code=(service.get("CODE_MATIERE") or "").strip(), teacher_ids=ids))
    return found


def read_sts(source: XmlSource, max_bytes: int = MAX_FILE_BYTES) -> StsFile:
    parameters: dict[str, str | None] = {"uai": None, "year": None, "application_source": None}
    subjects: list[Subject] = []
    people: list[Teacher] = []
    divisions: list[Division] = []
    groups: list[Group] = []

    def on_parameters(element: Element) -> None:
        uaj, year = element.find("UAJ"), element.find("ANNEE_SCOLAIRE")
        parameters["uai"] = uaj.get("CODE") if uaj is not None else None
        parameters["year"] = year.get("ANNEE") if year is not None else None
        parameters["application_source"] = stripped(element, "APPLICATION_SOURCE")

    def on_subject(element: Element) -> None:
        subjects.append(Subject(code=element.get("CODE") or "", gestion=stripped(element, "CODE_GESTION"),
                                libelle=stripped(element, "LIBELLE_EDITION")))

    def on_person(substitute: bool):
        tag = "SUPPLEANT" if substitute else "INDIVIDU"

        def read(element: Element) -> None:
            where = f"{tag} n°{len(people) + 1}"
            people.append(Teacher(
                sts_id=integer(source, element.get("ID"), f"{where} (@ID)"),
                nom=stripped(element, "NOM_USAGE") or "",
                prenom=stripped(element, "PRENOM") or "",
                sexe=sex(text(element, "SEXE")),
                fonction=stripped(element, "FONCTION") or "ENS",
                substitute=substitute,
                disciplines=[d.get("CODE") or "" for d in element.iterfind("DISCIPLINES/DISCIPLINE")],
                principal_of=[] if substitute else [
                    PrincipalClass(code=(stripped(pp, "CODE_STRUCTURE") or ""), date_fin=stripped(pp, "DATE_FIN"))
                    for pp in element.iterfind("PROFS_PRINC/PROF_PRINC") if stripped(pp, "CODE_STRUCTURE")],
            ))
        return read

    def on_structure(target: list, model: type[Division], tag: str):
        def read(element: Element) -> None:
            code = (element.get("CODE") or "").strip()
            target.append(model(code=code, libelle=stripped(element, "LIBELLE_LONG"),
                                services=services(source, element, f"{tag} {code}")))
        return read

    info = scan(source, {
        ("PARAMETRES",): on_parameters,
        ("NOMENCLATURES", "MATIERES", "MATIERE"): on_subject,
        ("DONNEES", "INDIVIDUS", "INDIVIDU"): on_person(substitute=False),
        ("DONNEES", "SUPPLEANTS", "SUPPLEANT"): on_person(substitute=True),
        ("DONNEES", "STRUCTURE", "DIVISIONS", "DIVISION"): on_structure(divisions, Division, "DIVISION"),
        ("DONNEES", "STRUCTURE", "GROUPES", "GROUPE"): on_structure(groups, Group, "GROUPE"),
    }, on_root=kinds.refuse_mixups(source, kinds.STS), max_bytes=max_bytes)
    kinds.check_kind(source, kinds.STS, info)
    return StsFile(source=kinds.source_info(source, info), subjects=subjects, people=people,
                   divisions=divisions, groups=groups, **parameters)
