"""A deterministic, synthetic French collège and its STS-Web / SIECLE exports, written as the real exports
are (and as SACoche reads them). Nobody in it is real: names come from pools of
common names, e-mails use example.org, addresses are invented.

    python -m sim.datagen --out DIR --uai 0341234G --year 2026 --students 2000 --teachers 80 \
        --seed 1 --traps homonyms,accents

`expected_counts(data)` says what SACoche should find when the files are imported (the rules of
import-files.md), so that tests can compare it with what the bot reads and with what a site shows.
"""
from __future__ import annotations

import random
import sys
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from bot.frenchargs import FrenchParser

from .sacoche.profiles import STAFF
from .text import without_accents

TRAPS = frozenset({
    "homonyms",             # two students with the same name in two classes; a teacher and a parent too
    "accents",              # Éloïse, Jean-Marc, LE GOFF, D'ALMEIDA, NGUYEN-VAN…
    "latin1",               # non-ASCII text in every file, and a character ISO-8859-1 lacks (œ)
    "student_without_class",
    "student_left",         # DATE_SORTIE set
    "parent_of_several",    # one parent legally responsible for three students
    "group_without_level",  # groups whose code starts with no level: LATIN5 (all its members in 5e), AS_SPORT
    "same_rank_parents",    # a student whose two legal responsables both have RESP_LEGAL 2
})

DEFAULT_ENCODING = "ISO-8859-1"   # what real STS-Web and SIECLE exports declare
ENCODINGS = {"ISO-8859-1", "ISO-8859-15", "UTF-8"}

# Profiles SACoche keeps from an STS file (type professeur or directeur); others are skipped.
KEPT_FUNCTIONS = frozenset(STAFF)


@dataclass(frozen=True)
class Level:
    prefix: str        # start of the class code, e.g. "6" for 6A
    label: str         # start of LIBELLE_LONG, e.g. "6EME"
    code_mef: str      # CODE_MEF of its students (matches SACoche's level masks)
    age: int           # school year minus birth year, for a pupil on time


LEVELS = (
    Level("6", "6EME", "10010012110", 11),
    Level("5", "5EME", "10110001110", 12),
    Level("4", "4EME", "10210001110", 13),
    Level("3", "3EME", "10310019110", 14),
)


@dataclass(frozen=True)
class Subject:
    code: str          # NOMENCLATURES/MATIERES/MATIERE/@CODE (6 digits)
    gestion: str       # CODE_GESTION, SACoche's subject reference
    libelle: str       # LIBELLE_EDITION
    discipline: str    # DISCIPLINE/@CODE of a teacher of this subject


SUBJECTS = (
    Subject("020100", "FRANC", "FRANCAIS", "L0202"),
    Subject("061300", "MATHS", "MATHEMATIQUES", "L1300"),
    Subject("040600", "HIGEO", "HISTOIRE-GEOGRAPHIE", "L1000"),
    Subject("030201", "AGL1", "ANGLAIS LV1", "L0422"),
    Subject("062900", "SVT", "SCIENCES DE LA VIE ET DE LA TERRE", "L1600"),
    Subject("100100", "EPS", "EDUCATION PHYSIQUE ET SPORTIVE", "L1900"),
    Subject("061800", "PH-CH", "PHYSIQUE-CHIMIE", "L1500"),
    Subject("070100", "TECHN", "TECHNOLOGIE", "L1400"),
    Subject("030602", "ESP2", "ESPAGNOL LV2", "L0426"),
    Subject("080100", "EDMUS", "EDUCATION MUSICALE", "L1700"),
    Subject("090100", "A-PLA", "ARTS PLASTIQUES", "L1800"),
    Subject("020700", "LCALA", "LATIN", "L0201"),
)
SUBJECT = {subject.gestion: subject for subject in SUBJECTS}
TAUGHT_IN_CLASSES = [s.gestion for s in SUBJECTS if s.gestion != "LCALA"]
LV1_OPTION, LV2_OPTION = "030201", "030602"   # SIECLE option codes: English LV1, Spanish LV2

SURNAMES = (
    "MARTIN BERNARD DUBOIS THOMAS ROBERT RICHARD PETIT DURAND LEROY MOREAU SIMON LAURENT "
    "LEFEBVRE MICHEL GARCIA DAVID BERTRAND ROUX VINCENT FOURNIER MOREL GIRARD ANDRE MERCIER "
    "DUPONT LAMBERT FRANCOIS MARTINEZ LEGRAND GARNIER ROUSSEAU BLANC GUERIN MULLER HENRY "
    "ROUSSEL NICOLAS PERRIN MORIN MATHIEU CLEMENT GAUTHIER DUMONT LOPEZ FONTAINE CHEVALIER ROBIN "
    "MASSON SANCHEZ GERARD NGUYEN BOYER DENIS LEMAIRE DUVAL JOLY GAUTIER ROGER ROCHE ROY NOEL "
    "MEYER LUCAS MEUNIER JEAN PEREZ MARCHAND DUFOUR BLANCHARD MARIE BARBIER BRUN DUMAS BRUNET "
    "SCHMITT LEROUX COLIN FERNANDEZ PIERRE RENARD ARNAUD ROLLAND CARON AUBERT GIRAUD LECLERC "
    "VIDAL BOURGEOIS RENAUD LEMOINE PICARD GAILLARD PHILIPPE LACROIX FABRE DUPUIS OLIVIER "
    "RODRIGUEZ HUBERT LOUIS CHARLES GUILLOT RIVIERE GUILLAUME ADAM REY MOULIN GONZALEZ BERGER "
    "LECOMTE MENARD FLEURY DESCHAMPS CARPENTIER JULIEN BENOIT PARIS MAILLARD MARCHAL AUBRY "
    "VASSEUR RENAULT JACQUET COLLET PREVOST POIRIER CHARPENTIER ROYER HUET BAILLY CARRE BRETON "
    "BOUCHER SCHNEIDER BARON LEBLANC MARTEL TESSIER CORDIER LEBRUN ETIENNE BESNARD GILLET "
    "HERVE PASCAL BOUVIER MILLET BOULANGER COSTE PONS DELMAS ESTEVE SERRE CAMBON VIGUIER"
).split()
FIRST_NAMES = {
    1: ("Lucas Hugo Louis Gabriel Arthur Jules Adam Raphael Paul Nathan Ethan Tom Leo Noah Sacha "
        "Mathis Enzo Timeo Theo Nolan Maxime Antoine Baptiste Victor Clement Simon Martin Axel "
        "Quentin Romain Julien Thomas Nicolas Olivier Pierre Vincent Laurent Eric Pascal Philippe "
        "Bruno Christophe Sebastien Franck David Marc Alain Yann Cedric Loic Damien Benoit Gilles "
        "Didier Patrick Thierry Xavier Fabien Guillaume Remi Samuel Valentin Mehdi Karim Yanis "
        "Rayan Ilyes Amir Sami Malo Tristan Gaspard Ruben Oscar Marius Aaron Elias Lenny Kylian "
        "Bastien Florian Alexis Kevin Jordan Dylan Anthony Mickael Jeremy Ludovic Arnaud").split(),
    2: ("Emma Jade Louise Alice Chloe Lina Rose Lea Anna Mila Ambre Julia Juliette Manon Lou "
        "Camille Sarah Zoe Ines Eva Nina Clara Charlotte Lucie Margaux Romane Oceane Laura Pauline "
        "Marion Sophie Claire Isabelle Nathalie Sandrine Celine Aurelie Virginie Stephanie Caroline "
        "Emilie Julie Sandra Karine Valerie Christine Catherine Sylvie Martine Anne Agnes Cecile "
        "Delphine Elodie Laetitia Melanie Audrey Amandine Marine Justine Morgane Elise Agathe "
        "Capucine Apolline Victoire Constance Heloise Salome Maelle Yasmine Myriam Leila Samia "
        "Nour Maya Elsa Alba Iris Lola Luna Olivia Adele Garance Margot Mathilde Noemie").split(),
}
STREETS = ("rue des Lilas", "avenue de la Gare", "rue Victor Hugo", "chemin des Vignes",
           "boulevard Pasteur", "rue du Moulin", "impasse des Oliviers", "place de la Mairie",
           "rue Jean Jaures", "allee des Pins", "route de Sete", "rue de la Paix")
TOWNS = (("34000", "MONTPELLIER"), ("34170", "CASTELNAU-LE-LEZ"), ("34970", "LATTES"),
         ("34430", "SAINT-JEAN-DE-VEDAS"), ("34080", "MONTPELLIER"), ("34920", "LE CRES"))

# Names the traps put in; reserved so that random draws never produce them by chance.
HOMONYM_STUDENT = ("FAURE", "Juliette", 2)
HOMONYM_ADULT = ("BONNET", "Stephane", 1)
ACCENT_STUDENTS = (("LE GOFF", "Éloïse", 2), ("D'ALMEIDA", "Jean-Marc", 1), ("NGUYEN-VAN", "Anaïs", 2))
ACCENT_TEACHER = ("DUPRÉ-LAFONT", "Gaëlle", 2)
LATIN1_TEACHER = ("MÉNARD-CÔTÉ", "Hélène", 2)
LATIN1_STUDENT = ("LEFÈVRE", "Noël", 1)
LATIN1_ADDRESS = ("3 rue du Cœur Volant", "Résidence « Les Châtaigniers »", "34500", "BÉZIERS")


@dataclass(frozen=True)
class SchoolSpec:
    uai: str
    year: int                       # school year, named after its first calendar year (2026 = 2026-2027)
    students: int = 40              # regular students; some traps add one more
    teachers: int = 8               # ENS teachers; a director (DIR) is always added
    seed: int = 0
    traps: frozenset[str] = frozenset()
    substitutes: int = 0            # STS SUPPLEANTS (imported like teachers)
    support_staff: bool = False     # adds a CPE (EDU), a librarian (DOC) and a lab technician (LAB, not kept)

    def __post_init__(self):
        unknown = set(self.traps) - TRAPS
        if unknown:
            raise ValueError(f"pièges inconnus : {', '.join(sorted(unknown))} (possibles : {', '.join(sorted(TRAPS))})")
        if self.students < 0 or self.teachers < 1 or self.substitutes < 0:
            raise ValueError("il faut au moins 1 enseignant et un nombre d'élèves positif ou nul")
        object.__setattr__(self, "traps", frozenset(self.traps))


@dataclass
class StaffMember:
    sts_id: int
    nom: str
    prenom: str
    sexe: int                       # 1 = M, 2 = F
    fonction: str                   # ENS, DIR, EDU, DOC, … (LAB: not kept by SACoche)
    birth_date: str                 # YYYY-MM-DD
    disciplines: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)          # CODE_GESTION taught
    principal_of: list[tuple[str, str]] = field(default_factory=list)   # (class code, DATE_FIN YYYY-MM-DD)
    substitute: bool = False


@dataclass
class Service:
    subject_code: str               # MATIERE/@CODE
    teacher_ids: list[int]


@dataclass
class Division:
    code: str
    libelle_long: str
    level: Level
    services: list[Service] = field(default_factory=list)


@dataclass
class Group:
    code: str
    libelle_long: str
    services: list[Service] = field(default_factory=list)


@dataclass
class Student:
    eleve_id: int
    elenoet: int
    ine: str
    nom: str
    prenom: str
    date_naiss: str                 # DD/MM/YYYY
    sexe: int
    code_mef: str
    division: str | None
    groups: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    date_sortie: str | None = None  # DD/MM/YYYY


@dataclass
class Parent:
    personne_id: int
    civilite: str                   # "M." or "MME"
    nom_de_famille: str
    prenom: str
    mel: str
    adresse_id: int | None
    nom_usage: str | None = None

    @property
    def nom(self) -> str:
        return self.nom_usage or self.nom_de_famille


@dataclass
class ResponsibilityLink:
    eleve_id: int
    personne_id: int
    resp_legal: int                 # 1, 2; 0 = a mere contact
    code_parente: str


@dataclass
class Address:
    adresse_id: int
    lines: list[str]
    code_postal: str
    libelle_postal: str
    ll_pays: str = "FRANCE"


@dataclass
class SchoolData:
    spec: SchoolSpec
    subjects: list[Subject]
    staff: list[StaffMember]
    divisions: list[Division]
    groups: list[Group]
    students: list[Student]
    parents: list[Parent]
    links: list[ResponsibilityLink]
    addresses: list[Address]

    @property
    def sts_file_name(self) -> str:
        return f"sts_emp_{self.spec.uai}_{self.spec.year}.xml"


def name_key(nom: str, prenom: str) -> tuple[str, str]:
    """How the ENT import compares people: accents and case ignored, hyphens and spaces kept."""
    return without_accents(nom).upper(), without_accents(prenom).upper()


def ascii_mail_part(text: str) -> str:
    plain = name_key(text, "")[0].lower()
    return "".join(c for c in plain if c.isalnum() or c == "-")


@dataclass
class _Family:
    surname: str
    legal: list[Parent]
    contacts: list[Parent]
    children: list[Student] = field(default_factory=list)


class _Builder:
    def __init__(self, spec: SchoolSpec):
        self.spec = spec
        self.rng = random.Random(spec.seed)
        reserved = [HOMONYM_STUDENT, HOMONYM_ADULT, *ACCENT_STUDENTS, ACCENT_TEACHER, LATIN1_TEACHER, LATIN1_STUDENT]
        # No accidental homonyms: the ENT import blocks every homonym pair, so only traps make them.
        self.used_names = {name_key(nom, prenom) for nom, prenom, _ in reserved}
        self.used_mails: set[str] = set()
        self.used_ines: set[str] = set()
        # Ids depend on the seed, so that files of two generated schools never link by chance.
        self.first_student_id = 1_000_000 + self.rng.randrange(8_000) * 1_000
        self.next_person_id = 1_000_000 + self.rng.randrange(8_000) * 1_000
        self.next_address_id = 1_000_000 + self.rng.randrange(8_000) * 1_000
        self.addresses: list[Address] = []
        self.parents: list[Parent] = []

    # -- people ------------------------------------------------------------------------------
    def first_name(self, surname: str, sexe: int) -> str:
        for _ in range(200):
            prenom = self.rng.choice(FIRST_NAMES[sexe])
            if name_key(surname, prenom) not in self.used_names:
                self.used_names.add(name_key(surname, prenom))
                return prenom
        raise RuntimeError(f"plus de prénom libre pour {surname}")   # 100 names per surname: never in practice

    def mail(self, nom: str, prenom: str) -> str:
        base = f"{ascii_mail_part(prenom)}.{ascii_mail_part(nom)}"
        address, n = f"{base}@example.org", 1
        while address in self.used_mails:
            n += 1
            address = f"{base}{n}@example.org"
        self.used_mails.add(address)
        return address

    def address(self, lines: list[str] | None = None, town: tuple[str, str] | None = None) -> Address:
        number = self.rng.randint(1, 120)
        code, name = town or self.rng.choice(TOWNS)
        address = Address(self.next_address_id, lines or [f"{number} {self.rng.choice(STREETS)}"], code, name)
        self.next_address_id += 1
        self.addresses.append(address)
        return address

    def person(self, surname: str, sexe: int, adresse_id: int | None, birth_name: str | None = None) -> Parent:
        prenom = self.first_name(surname, sexe)
        parent = Parent(self.next_person_id, "M." if sexe == 1 else "MME",
                        nom_de_famille=birth_name or surname, nom_usage=surname if birth_name else None,
                        prenom=prenom, mel=self.mail(surname, prenom), adresse_id=adresse_id)
        self.next_person_id += 1
        self.parents.append(parent)
        return parent

    def family(self) -> _Family:
        surname = self.rng.choice(SURNAMES)
        home = self.address()
        first_sex = 2 if self.rng.random() < 0.85 else 1
        sexes = [first_sex] + ([3 - first_sex] if self.rng.random() < 0.8 else [])
        legal = []
        for sexe in sexes:
            separate = legal and self.rng.random() < 0.15
            where = self.address() if separate else home
            # Some mothers use their spouse's name: NOM_DE_FAMILLE is then their birth name.
            birth = self.rng.choice(SURNAMES) if sexe == 2 and self.rng.random() < 0.3 else None
            legal.append(self.person(surname, sexe, where.adresse_id, birth_name=birth if birth != surname else None))
        contacts = []
        if self.rng.random() < 0.08:
            contacts.append(self.person(self.rng.choice(SURNAMES), self.rng.choice((1, 2)), self.address().adresse_id))
        return _Family(surname, legal, contacts)

    def rename(self, family: _Family, surname: str) -> None:
        """Gives a family (its children and the legal parents bearing its name) another surname;
        first names are drawn again so that the new names stay unique."""
        for child in family.children:
            child.nom, child.prenom = surname, self.first_name(surname, child.sexe)
        for parent in family.legal:
            if parent.nom == family.surname:
                if parent.nom_usage:
                    parent.nom_usage = surname
                else:
                    parent.nom_de_famille = surname
                parent.prenom = self.first_name(surname, 1 if parent.civilite == "M." else 2)
                parent.mel = self.mail(surname, parent.prenom)
        family.surname = surname

    def student_birth(self, level: Level) -> str:
        year = self.spec.year - level.age - (1 if self.rng.random() < 0.08 else 0)
        return f"{self.rng.randint(1, 28):02d}/{self.rng.randint(1, 12):02d}/{year}"

    def ine(self) -> str:
        while True:
            ine = f"{self.rng.randrange(10**9, 10**10)}{self.rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}"
            if ine not in self.used_ines:
                self.used_ines.add(ine)
                return ine


def generate_school(spec: SchoolSpec) -> SchoolData:
    b = _Builder(spec)
    rng, traps, year = b.rng, spec.traps, spec.year

    # -- staff ---------------------------------------------------------------------------------
    staff: list[StaffMember] = []

    def add_staff(fonction: str, gestion: str | None = None, discipline: str | None = None,
                  substitute: bool = False) -> StaffMember:
        sexe = rng.choice((1, 2))
        nom = rng.choice(SURNAMES)
        prenom = b.first_name(nom, sexe)
        member = StaffMember(5001 + len(staff), nom, prenom, sexe, fonction,
                             birth_date=f"{rng.randint(1962, 1998)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                             disciplines=[discipline] if discipline else [],
                             subjects=[gestion] if gestion else [], substitute=substitute)
        staff.append(member)
        return member

    teachers = [add_staff("ENS", g, SUBJECT[g].discipline)
                for g in (TAUGHT_IN_CLASSES[i % len(TAUGHT_IN_CLASSES)] for i in range(spec.teachers))]
    add_staff("DIR")
    if spec.support_staff:
        add_staff("EDU")
        add_staff("DOC", discipline="L0080")
        add_staff("LAB")
    for i in range(spec.substitutes):
        gestion = TAUGHT_IN_CLASSES[i % len(TAUGHT_IN_CLASSES)]
        add_staff("ENS", gestion, SUBJECT[gestion].discipline, substitute=True)
    if "homonyms" in traps:
        teachers[-1].nom, teachers[-1].prenom, teachers[-1].sexe = HOMONYM_ADULT
    if "accents" in traps and len(teachers) > 1:
        teachers[0].nom, teachers[0].prenom, teachers[0].sexe = ACCENT_TEACHER
    if "latin1" in traps:
        director = next(m for m in staff if m.fonction == "DIR")
        director.nom, director.prenom, director.sexe = LATIN1_TEACHER

    by_subject: dict[str, list[StaffMember]] = {}
    for teacher in teachers:
        by_subject.setdefault(teacher.subjects[0], []).append(teacher)

    # -- classes -------------------------------------------------------------------------------
    per_level = max(1, round(spec.students / 100))
    divisions: list[Division] = []
    for level in LEVELS:
        for n in range(per_level):
            letter = chr(ord("A") + n) if n < 26 else f"{chr(ord('A') + n // 26 - 1)}{chr(ord('A') + n % 26)}"
            divisions.append(Division(f"{level.prefix}{letter}", f"{level.label} {letter}", level))
    for index, division in enumerate(divisions):
        for gestion, subject_teachers in by_subject.items():
            teacher = subject_teachers[index % len(subject_teachers)]
            division.services.append(Service(SUBJECT[gestion].code, [teacher.sts_id]))
        principal = teachers[index % len(teachers)]
        principal.principal_of.append((division.code, f"{year + 1}-07-04"))

    latin_teacher = (by_subject.get("FRANC") or teachers)[0]
    groups = [Group(f"{level.prefix}LAT", f"LATIN {level.label}",
                    [Service(SUBJECT["LCALA"].code, [latin_teacher.sts_id])]) for level in LEVELS[1:]]
    if "group_without_level" in traps:
        sport_teacher = (by_subject.get("EPS") or teachers)[0]
        groups.append(Group("AS_SPORT", "ASSOCIATION SPORTIVE", [Service(SUBJECT["EPS"].code, [sport_teacher.sts_id])]))
        groups.append(Group("LATIN5", "LATIN RENFORCE 5E", [Service(SUBJECT["LCALA"].code, [latin_teacher.sts_id])]))
    group_codes = {g.code for g in groups}

    # -- students and their families -------------------------------------------------------------
    students: list[Student] = []
    families: list[_Family] = []
    single_child: list[_Family] = []

    def new_student(division: Division | None, family: _Family, level: Level, sexe: int | None = None) -> Student:
        sexe = sexe or rng.choice((1, 2))
        index = len(students)
        student = Student(eleve_id=b.first_student_id + index * 7, elenoet=20_001 + index, ine=b.ine(),
                          nom=family.surname, prenom=b.first_name(family.surname, sexe),
                          date_naiss=b.student_birth(level), sexe=sexe, code_mef=level.code_mef,
                          division=division.code if division else None,
                          options=[LV1_OPTION] + ([LV2_OPTION] if level.prefix != "6" else []))
        if division is not None:
            if f"{level.prefix}LAT" in group_codes and rng.random() < 0.25:
                student.groups.append(f"{level.prefix}LAT")
            # AS_SPORT: members of every level, most of them from 3e (one 3e student in three).
            if "AS_SPORT" in group_codes and (rng.random() < 0.05 or (level.prefix == "3" and index % 3 == 0)):
                student.groups.append("AS_SPORT")
            if "LATIN5" in group_codes and level.prefix == "5" and rng.random() < 0.3:
                student.groups.append("LATIN5")
        family.children.append(student)
        students.append(student)
        return student

    def family_for(level: Level) -> _Family:
        # About one child in eight has a brother or sister in another level, sharing the parents.
        if single_child and rng.random() < 0.12:
            candidate = single_child[-1 - rng.randrange(min(len(single_child), 30))]
            if candidate.children[0].code_mef != level.code_mef:
                single_child.remove(candidate)
                return candidate
        family = b.family()
        families.append(family)
        single_child.append(family)
        return family

    for i in range(spec.students):
        division = divisions[i % len(divisions)]
        new_student(division, family_for(division.level), division.level)

    if "parent_of_several" in traps and len(divisions) >= 3:
        family = b.family()
        families.append(family)
        for division in (divisions[0], divisions[per_level], divisions[2 * per_level]):
            new_student(division, family, division.level)
    if "student_without_class" in traps:
        family = b.family()
        families.append(family)
        new_student(None, family, LEVELS[0])
    if "student_left" in traps:
        family = b.family()
        families.append(family)
        left = new_student(divisions[-1], family, divisions[-1].level)
        left.date_sortie = f"16/10/{year}"   # his structures stay in the file: SACoche ignores them

    # -- traps that rename people -----------------------------------------------------------------
    # Each trap takes its own ordinary families (one child, in a class, not left), never shared.
    free = [f for f in families if len(f.children) == 1 and f.children[0].division
            and not f.children[0].date_sortie]

    def take(condition=lambda family: True) -> _Family | None:
        chosen = next((f for f in free if condition(f)), None)
        if chosen is not None:
            free.remove(chosen)
        return chosen

    if "homonyms" in traps:
        nom, prenom, sexe = HOMONYM_STUDENT
        first = take()
        second = first and take(lambda f: f.children[0].division != first.children[0].division)
        for family in (first, second) if second else ():
            b.rename(family, nom)
            family.children[0].prenom, family.children[0].sexe = prenom, sexe
        father_family = take(lambda f: any(p.civilite == "M." for p in f.legal))
        if father_family is not None:
            b.rename(father_family, HOMONYM_ADULT[0])
            father = next(p for p in father_family.legal if p.civilite == "M.")
            father.prenom = HOMONYM_ADULT[1]
            father.mel = b.mail(father.nom, father.prenom)
    if "accents" in traps:
        for nom, prenom, sexe in ACCENT_STUDENTS:
            family = take()
            if family is not None:
                b.rename(family, nom)
                family.children[0].prenom, family.children[0].sexe = prenom, sexe
        family = take()
        if family is not None:
            parent = family.legal[0]
            parent.prenom = "Françoise" if parent.civilite == "MME" else "François"
            b.used_names.add(name_key(parent.nom, parent.prenom))
    if "latin1" in traps:
        family = take()
        if family is not None:
            b.rename(family, LATIN1_STUDENT[0])
            family.children[0].prenom, family.children[0].sexe = LATIN1_STUDENT[1], LATIN1_STUDENT[2]
            home = next(a for a in b.addresses if a.adresse_id == family.legal[0].adresse_id)
            home.lines = list(LATIN1_ADDRESS[:2])
            home.code_postal, home.libelle_postal = LATIN1_ADDRESS[2], LATIN1_ADDRESS[3]

    # -- responsibility links ---------------------------------------------------------------------
    same_rank = take(lambda f: len(f.legal) == 2) if "same_rank_parents" in traps else None
    links: list[ResponsibilityLink] = []
    for family in families:
        for child in family.children:
            for rank, parent in enumerate(family.legal, start=1):
                if family is same_rank:
                    rank = 2   # as SIECLE sometimes has it: two "responsable n°2", no n°1
                links.append(ResponsibilityLink(child.eleve_id, parent.personne_id, rank,
                                                "10" if parent.civilite == "MME" else "20"))
            for contact in family.contacts:
                links.append(ResponsibilityLink(child.eleve_id, contact.personne_id, 0, "37"))

    return SchoolData(spec, list(SUBJECTS), staff, divisions, groups, students, b.parents, links, b.addresses)


# -- what SACoche should find ---------------------------------------------------------------------

def class_key(code: str) -> str:
    """SACoche keys classes and groups by their code lower-cased, keeping letters, digits, - and _."""
    return "".join(c for c in code.strip().lower() if c.isascii() and (c.isalnum() or c in "-_"))


def expected_counts(data: SchoolData) -> dict:
    """What the import of these files should give, by the rules of import-files.md (same keys as
    schoolfiles.FilesSummary.counts())."""
    kept = [m for m in data.staff if m.fonction in KEPT_FUNCTIONS]
    by_profile: dict[str, int] = {}
    for member in kept:
        by_profile[member.fonction] = by_profile.get(member.fonction, 0) + 1
    sts_classes = {class_key(d.code) for d in data.divisions}
    sts_classes |= {class_key(code) for m in kept for code, _ in m.principal_of}

    present = [s for s in data.students if not s.date_sortie]
    imported = [s for s in present if s.division]
    imported_ids = {s.eleve_id for s in imported}
    kept_links = [link for link in data.links if link.resp_legal != 0 and link.eleve_id in imported_ids]
    kept_parent_ids = {link.personne_id for link in kept_links}
    address_ids = {a.adresse_id for a in data.addresses}
    return {
        "staff": len(kept),
        "staff_by_profile": dict(sorted(by_profile.items())),
        "staff_ignored": len(data.staff) - len(kept),
        "substitutes": sum(1 for m in kept if m.substitute),
        "classes": len(sts_classes),
        "groups": len({class_key(g.code) for g in data.groups}),
        "students_in_file": len(data.students),
        "students_found": len(present),
        "students_imported": len(imported),
        "students_without_class": len(present) - len(imported),
        "students_left": len(data.students) - len(present),
        "student_classes": len({class_key(s.division) for s in present if s.division}),
        "student_groups": len({class_key(g) for s in present for g in s.groups}),
        "persons_in_file": len(data.parents),
        "parents": len(kept_parent_ids),
        "links": len(kept_links),
        "addresses": len(data.addresses),
        "parents_with_address": sum(1 for p in data.parents
                                    if p.personne_id in kept_parent_ids and p.adresse_id in address_ids),
    }


# -- writers ----------------------------------------------------------------------------------------

def _sub(parent: ET.Element, tag: str, text: object | None = None, **attrs: object) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: str(v) for k, v in attrs.items()})
    if text is not None:
        element.text = str(text)
    return element


def _write_xml(root: ET.Element, path: Path, encoding: str) -> Path:
    if encoding.upper() not in ENCODINGS:
        raise ValueError(f"encodage « {encoding} » non prévu (possibles : {', '.join(sorted(ENCODINGS))})")
    ET.indent(root, space="  ")
    # The declaration is written by hand so that it is the one real exports carry (double quotes);
    # characters the encoding lacks (œ in ISO-8859-1) become character references, as valid XML.
    with open(path, "wb") as out:
        out.write(f'<?xml version="1.0" encoding="{encoding.upper()}"?>\n'.encode("ascii"))
        ET.ElementTree(root).write(out, encoding=encoding.upper(), xml_declaration=False)
        out.write(b"\n")
    return path


def _target(path: Path | str, default_name: str) -> Path:
    """A folder (existing, or a path without extension) gets the file under its real name."""
    path = Path(path)
    if path.is_dir() or not path.suffix:
        path.mkdir(parents=True, exist_ok=True)
        return path / default_name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _siecle_parameters(root: ET.Element, data: SchoolData) -> None:
    parameters = _sub(root, "PARAMETRES")
    _sub(parameters, "UAJ", data.spec.uai)
    _sub(parameters, "ANNEE_SCOLAIRE", data.spec.year)
    _sub(parameters, "DATE_EXPORT", f"01/09/{data.spec.year}")
    _sub(parameters, "HORODATAGE", f"01/09/{data.spec.year} 08:00:00")


def _services(parent: ET.Element, services: list[Service]) -> None:
    if not services:
        return
    holder = _sub(parent, "SERVICES")
    for service in services:
        element = _sub(holder, "SERVICE", CODE_MATIERE=service.subject_code, CODE_MOD_COURS="CG")
        teachers = _sub(element, "ENSEIGNANTS")
        for teacher_id in service.teacher_ids:
            _sub(teachers, "ENSEIGNANT", ID=teacher_id, TYPE="epp")


def sts_tree(data: SchoolData) -> ET.Element:
    root = ET.Element("STS_EDT")
    parameters = _sub(root, "PARAMETRES")
    _sub(parameters, "UAJ", CODE=data.spec.uai)
    _sub(parameters, "ANNEE_SCOLAIRE", ANNEE=data.spec.year)
    _sub(parameters, "HORODATAGE", DATE=f"01/09/{data.spec.year}", HEURE="08:00")
    subjects = _sub(_sub(root, "NOMENCLATURES"), "MATIERES")
    for subject in data.subjects:
        element = _sub(subjects, "MATIERE", CODE=subject.code)
        _sub(element, "CODE_GESTION", subject.gestion)
        _sub(element, "LIBELLE_COURT", subject.libelle[:20])
        _sub(element, "LIBELLE_LONG", subject.libelle)
        _sub(element, "LIBELLE_EDITION", subject.libelle)
    donnees = _sub(root, "DONNEES")
    people = _sub(donnees, "INDIVIDUS")
    substitutes = [m for m in data.staff if m.substitute]
    for member in data.staff:
        if member.substitute:
            continue
        element = _sub(people, "INDIVIDU", ID=member.sts_id, TYPE="epp")
        _sub(element, "SEXE", member.sexe)
        _sub(element, "CIVILITE", "M." if member.sexe == 1 else "MME")
        _sub(element, "NOM_USAGE", member.nom)
        _sub(element, "NOM_PATRONYMIQUE", member.nom)
        _sub(element, "PRENOM", member.prenom)
        _sub(element, "DATE_NAISSANCE", member.birth_date)
        _sub(element, "FONCTION", member.fonction)
        if member.disciplines:
            holder = _sub(element, "DISCIPLINES")
            for code in member.disciplines:
                _sub(_sub(holder, "DISCIPLINE", CODE=code), "NB_HEURES", 18)
        if member.principal_of:
            holder = _sub(element, "PROFS_PRINC")
            for class_code, date_fin in member.principal_of:
                principal = _sub(holder, "PROF_PRINC")
                _sub(principal, "CODE_STRUCTURE", class_code)
                _sub(principal, "DATE_DEBUT", f"{data.spec.year}-09-01")
                _sub(principal, "DATE_FIN", date_fin)
    if substitutes:
        holder = _sub(donnees, "SUPPLEANTS")
        for member in substitutes:
            element = _sub(holder, "SUPPLEANT", ID=member.sts_id)
            _sub(element, "SEXE", member.sexe)
            _sub(element, "NOM_USAGE", member.nom)
            _sub(element, "PRENOM", member.prenom)
            _sub(element, "FONCTION", member.fonction)
    structure = _sub(donnees, "STRUCTURE")
    holder = _sub(structure, "DIVISIONS")
    for division in data.divisions:
        element = _sub(holder, "DIVISION", CODE=division.code)
        _sub(element, "LIBELLE_LONG", division.libelle_long)
        _services(element, division.services)
    holder = _sub(structure, "GROUPES")
    for group in data.groups:
        element = _sub(holder, "GROUPE", CODE=group.code)
        _sub(element, "LIBELLE_LONG", group.libelle_long)
        _services(element, group.services)
    return root


def eleves_tree(data: SchoolData) -> ET.Element:
    root = ET.Element("BEE_ELEVES", VERSION="3.9")
    _siecle_parameters(root, data)
    donnees = _sub(root, "DONNEES")
    holder = _sub(donnees, "ELEVES")
    for s in data.students:
        element = _sub(holder, "ELEVE", ELEVE_ID=s.eleve_id, ELENOET=s.elenoet)
        _sub(element, "ID_NATIONAL", s.ine)
        _sub(element, "ELENOET", s.elenoet)
        _sub(element, "NOM_DE_FAMILLE", s.nom)
        _sub(element, "PRENOM", s.prenom)
        _sub(element, "DATE_NAISS", s.date_naiss)
        _sub(element, "CODE_SEXE", s.sexe)
        _sub(element, "CODE_MEF", s.code_mef)
        _sub(element, "DATE_ENTREE", f"01/09/{data.spec.year}")
        if s.date_sortie:
            _sub(element, "DATE_SORTIE", s.date_sortie)
    holder = _sub(donnees, "OPTIONS")
    for s in data.students:
        if s.options:
            option = _sub(holder, "OPTION", ELEVE_ID=s.eleve_id, ELENOET=s.elenoet)
            for rank, code in enumerate(s.options, start=1):
                chosen = _sub(option, "OPTIONS_ELEVE")
                _sub(chosen, "NUM_OPTION", rank)
                _sub(chosen, "CODE_MODALITE_ELECT", "O")
                _sub(chosen, "CODE_MATIERE", code)
    holder = _sub(donnees, "STRUCTURES")
    for s in data.students:
        if not s.division and not s.groups:
            continue
        element = _sub(holder, "STRUCTURES_ELEVE", ELEVE_ID=s.eleve_id, ELENOET=s.elenoet)
        for code, kind in ([(s.division, "D")] if s.division else []) + [(g, "G") for g in s.groups]:
            structure = _sub(element, "STRUCTURE")
            _sub(structure, "CODE_STRUCTURE", code)
            _sub(structure, "TYPE_STRUCTURE", kind)
    return root


def responsables_tree(data: SchoolData) -> ET.Element:
    root = ET.Element("BEE_RESPONSABLES", VERSION="3.9")
    _siecle_parameters(root, data)
    donnees = _sub(root, "DONNEES")
    holder = _sub(donnees, "PERSONNES")
    for p in data.parents:
        element = _sub(holder, "PERSONNE", PERSONNE_ID=p.personne_id)
        _sub(element, "LC_CIVILITE", p.civilite)
        _sub(element, "NOM_DE_FAMILLE", p.nom_de_famille)
        if p.nom_usage:
            _sub(element, "NOM_USAGE", p.nom_usage)
        _sub(element, "PRENOM", p.prenom)
        _sub(element, "MEL", p.mel)
        if p.adresse_id is not None:
            _sub(element, "ADRESSE_ID", p.adresse_id)
    holder = _sub(donnees, "RESPONSABLES")
    for link in data.links:
        element = _sub(holder, "RESPONSABLE_ELEVE")
        _sub(element, "ELEVE_ID", link.eleve_id)
        _sub(element, "PERSONNE_ID", link.personne_id)
        _sub(element, "RESP_LEGAL", link.resp_legal)
        _sub(element, "CODE_PARENTE", link.code_parente)
        _sub(element, "RESP_FINANCIER", 1 if link.resp_legal == 1 else 0)
        _sub(element, "PERS_CONTACT", 1)
    holder = _sub(donnees, "ADRESSES")
    for a in data.addresses:
        element = _sub(holder, "ADRESSE", ADRESSE_ID=a.adresse_id)
        for number, line in enumerate(a.lines, start=1):
            _sub(element, f"LIGNE{number}_ADRESSE", line)
        _sub(element, "CODE_POSTAL", a.code_postal)
        _sub(element, "LIBELLE_POSTAL", a.libelle_postal)
        _sub(element, "LL_PAYS", a.ll_pays)
    return root


def write_sts(data: SchoolData, path: Path | str, encoding: str = DEFAULT_ENCODING) -> Path:
    """STS-Web export; a folder gets the real name sts_emp_<UAI>_<YEAR>.xml."""
    return _write_xml(sts_tree(data), _target(path, data.sts_file_name), encoding)


def write_eleves(data: SchoolData, path: Path | str, encoding: str = DEFAULT_ENCODING) -> Path:
    return _write_xml(eleves_tree(data), _target(path, "ElevesSansAdresses.xml"), encoding)


def write_responsables(data: SchoolData, path: Path | str, encoding: str = DEFAULT_ENCODING) -> Path:
    return _write_xml(responsables_tree(data), _target(path, "ResponsablesAvecAdresses.xml"), encoding)


def write_zip(xml_path: Path | str, zip_path: Path | str, entry_name: str | None = None) -> Path:
    """Zips one XML file as the export site does (entry at the archive root unless told otherwise)."""
    xml_path, zip_path = Path(xml_path), Path(zip_path)
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(xml_path, entry_name or xml_path.name)
    return zip_path


def write_school_files(data: SchoolData, folder: Path | str, encoding: str = DEFAULT_ENCODING) -> dict[str, Path]:
    """The three exports under their real names; keys are those of the bot's `files:` config."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return {"sts": write_sts(data, folder, encoding),
            "eleves": write_eleves(data, folder, encoding),
            "responsables": write_responsables(data, folder, encoding)}


def main(argv: list[str] | None = None) -> int:
    parser = FrenchParser(prog="python -m sim.datagen",
                          description="Génère les exports STS-Web et SIECLE d'un collège fictif.")
    parser.add_argument("--out", type=Path, required=True, metavar="DOSSIER", help="dossier où écrire les fichiers")
    parser.add_argument("--uai", default="0341234G", help="n°UAI du collège (défaut : 0341234G)")
    parser.add_argument("--year", type=int, required=True, metavar="ANNÉE",
                        help="année scolaire (2026 pour 2026-2027)")
    parser.add_argument("--students", type=int, default=40, metavar="N", help="nombre d'élèves (défaut : 40)")
    parser.add_argument("--teachers", type=int, default=8, metavar="N", help="nombre de professeurs (défaut : 8)")
    parser.add_argument("--substitutes", type=int, default=0, metavar="N", help="nombre de suppléants (défaut : 0)")
    parser.add_argument("--support-staff", action="store_true", help="ajouter CPE, documentaliste et agent de laboratoire")
    parser.add_argument("--seed", type=int, default=0, metavar="N",
                        help="graine du tirage : la même donne les mêmes fichiers (défaut : 0)")
    parser.add_argument("--traps", default="", metavar="PIÈGES",
                        help=f"pièges séparés par des virgules : {', '.join(sorted(TRAPS))}")
    parser.add_argument("--encoding", default=DEFAULT_ENCODING, choices=sorted(ENCODINGS),
                        help=f"encodage des fichiers (défaut : {DEFAULT_ENCODING})")
    parser.add_argument("--zip", action="store_true", help="écrire aussi chaque fichier dans son .zip d'export")
    args = parser.parse_args(argv)
    try:
        spec = SchoolSpec(uai=args.uai, year=args.year, students=args.students, teachers=args.teachers,
                          seed=args.seed, traps=frozenset(t.strip() for t in args.traps.split(",") if t.strip()),
                          substitutes=args.substitutes, support_staff=args.support_staff)
    except ValueError as exc:
        parser.error(str(exc))
    data = generate_school(spec)
    written = write_school_files(data, args.out, args.encoding)
    if args.zip:
        zip_names = {"sts": f"sts_emp_{spec.uai}_{spec.year}.zip", "eleves": "ExportXML_ElevesSansAdresses.zip",
                     "responsables": "ResponsablesAvecAdresses.zip"}
        written.update({f"{kind}_zip": write_zip(path, args.out / zip_names[kind]) for kind, path in list(written.items())})
    for kind, path in written.items():
        print(f"{kind:18} {path}")
    counts = expected_counts(data)
    print("Attendu à l'import : " + ", ".join(f"{key}={value}" for key, value in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
