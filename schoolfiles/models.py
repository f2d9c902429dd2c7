"""What the bot reads from a school's STS-Web and SIECLE exports, as pydantic models, and the
counts the import should give (the rules of SACoche's import). Values are kept as
the file has them (trimmed); ids are integers as in SIECLE."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Sex = Literal["M", "F", "I"]      # I: unknown, as the import stores it

from .staff import KEPT_FUNCTIONS


def class_key(code: str) -> str:
    """How the import keys a class or group: lower case, only letters, digits, - and _ (so "3 A"
    and "3A" are one class)."""
    return "".join(c for c in code.strip().lower() if c.isascii() and (c.isalnum() or c in "-_"))


def sex(code: str | None) -> Sex:
    """SEXE / CODE_SEXE: 1 = M, 2 = F, anything else unknown."""
    return {"1": "M", "2": "F"}.get((code or "").strip(), "I")


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class SourceInfo(Frozen):
    path: str
    member: str | None = None           # zip entry read, when the file is an archive
    declared_encoding: str | None = None
    size: int                           # bytes of XML read


# -- STS-Web ---------------------------------------------------------------------------------

class Subject(Frozen):
    code: str                           # MATIERE/@CODE, 6 digits
    gestion: str | None                 # CODE_GESTION, e.g. MATHS
    libelle: str | None                 # LIBELLE_EDITION


class PrincipalClass(Frozen):
    code: str                           # CODE_STRUCTURE
    date_fin: str | None                # DATE_FIN, YYYY-MM-DD


class Teacher(Frozen):
    """A person of the STS file (INDIVIDU or SUPPLEANT)."""
    sts_id: int
    nom: str
    prenom: str
    sexe: Sex
    fonction: str                       # ENS when absent
    substitute: bool = False
    disciplines: list[str] = []
    principal_of: list[PrincipalClass] = []

    @property
    def kept(self) -> bool:
        return self.fonction in KEPT_FUNCTIONS


class Service(Frozen):
    subject_code: str
    teacher_ids: list[int]


class Division(Frozen):
    code: str
    libelle: str | None
    services: list[Service] = []


class Group(Division):
    pass


class StsFile(Frozen):
    source: SourceInfo
    uai: str | None                     # PARAMETRES/UAJ/@CODE, raw
    year: str | None                    # PARAMETRES/ANNEE_SCOLAIRE/@ANNEE, raw
    application_source: str | None      # set by private timetable software
    subjects: list[Subject]
    people: list[Teacher]               # every person, kept or not
    divisions: list[Division]
    groups: list[Group]

    @property
    def teachers(self) -> list[Teacher]:
        """The people the import keeps (teacher or director profiles)."""
        return [person for person in self.people if person.kept]

    def counts(self) -> dict:
        kept = self.teachers
        by_profile: dict[str, int] = {}
        for person in kept:
            by_profile[person.fonction] = by_profile.get(person.fonction, 0) + 1
        classes = {class_key(d.code) for d in self.divisions}
        classes |= {class_key(pp.code) for person in kept for pp in person.principal_of}
        return {
            "staff": len(kept),
            "staff_by_profile": dict(sorted(by_profile.items())),
            "staff_ignored": len(self.people) - len(kept),
            "substitutes": sum(1 for person in kept if person.substitute),
            "classes": len(classes),
            "groups": len({class_key(g.code) for g in self.groups}),
        }


# -- SIECLE students ---------------------------------------------------------------------------

class Student(Frozen):
    eleve_id: int
    elenoet: str | None
    ine: str | None                     # ID_NATIONAL (INE_RNIE when INE_BEA and INE_RNIE are both given)
    nom: str                            # NOM, else NOM_USAGE, else NOM_DE_FAMILLE
    prenom: str
    date_naiss: str | None              # DD/MM/YYYY
    sexe: Sex
    mel: str | None = None
    code_mef: str | None = None
    date_sortie: str | None = None      # set: the student has left and is not imported
    division: str | None = None         # last TYPE_STRUCTURE D
    groups: list[str] = []              # TYPE_STRUCTURE G
    options: list[str] = []             # OPTIONS_ELEVE/CODE_MATIERE
    structures_rank: int | None = None  # order of its STRUCTURES_ELEVE in the file (the import reads them in it)

    @property
    def left(self) -> bool:
        return self.date_sortie is not None

    @property
    def imported(self) -> bool:
        """Created by the import: still there and placed in a class."""
        return not self.left and self.division is not None


class ElevesFile(Frozen):
    source: SourceInfo
    uai: str | None                     # text of PARAMETRES/UAJ, raw
    year: str | None                    # text of PARAMETRES/ANNEE_SCOLAIRE, raw
    students: list[Student]             # every ELEVE of the file

    @property
    def imported_ids(self) -> set[int]:
        return {s.eleve_id for s in self.students if s.imported}

    def counts(self) -> dict:
        present = [s for s in self.students if not s.left]
        imported = [s for s in present if s.division is not None]
        return {
            "students_in_file": len(self.students),
            "students_found": len(present),
            "students_imported": len(imported),
            "students_without_class": len(present) - len(imported),
            "students_left": len(self.students) - len(present),
            "student_classes": len({class_key(s.division) for s in imported}),
            "student_groups": len({class_key(g) for s in present for g in s.groups}),
        }


# -- SIECLE parents ------------------------------------------------------------------------------

class Parent(Frozen):
    personne_id: int
    civilite: Sex                       # LC_CIVILITE M. → M, MME → F, else I
    nom: str                            # NOM, else NOM_USAGE, else NOM_DE_FAMILLE
    prenom: str
    mel: str | None = None
    adresse_id: int | None = None


class ResponsibilityLink(Frozen):
    eleve_id: int
    personne_id: int
    resp_legal: int                     # 1, 2…; 0 = a mere contact, ignored by the import


class Address(Frozen):
    adresse_id: int
    lines: list[str]
    code_postal: str | None
    commune: str | None
    pays: str | None


class ResponsablesFile(Frozen):
    source: SourceInfo
    uai: str | None
    year: str | None
    parents: list[Parent]               # every PERSONNE of the file
    links: list[ResponsibilityLink]     # every RESPONSABLE_ELEVE
    addresses: list[Address]

    def kept_links(self, imported_ids: set[int] | None) -> list[ResponsibilityLink]:
        """Legal links to a student the import created; without the students file (None), every
        legal link (an upper bound)."""
        return [link for link in self.links if link.resp_legal != 0
                and (imported_ids is None or link.eleve_id in imported_ids)]

    def counts(self, imported_ids: set[int] | None) -> dict:
        links = self.kept_links(imported_ids)
        kept_ids = {link.personne_id for link in links}
        address_ids = {a.adresse_id for a in self.addresses}
        return {
            "persons_in_file": len(self.parents),
            "parents": sum(1 for p in self.parents if p.personne_id in kept_ids),
            "links": len(links),
            "addresses": len(self.addresses),
            "parents_with_address": sum(1 for p in self.parents
                                        if p.personne_id in kept_ids and p.adresse_id in address_ids),
        }
