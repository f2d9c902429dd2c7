"""The demo schools every fresh simulator starts with (synthetic, no real person)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoSchool:
    base: int
    name: str
    uai: str
    department: str
    sacoche_admin_login: str
    sacoche_admin_password: str


# Well-known demo credentials: they only open the local simulators.
DEMO_SCHOOLS = [
    DemoSchool(123, "Collège Jean Moulin (démo)", "0341234G", "34", "admin.demo", "demo-sacoche-123"),
    DemoSchool(124, "Collège Olympe de Gouges (démo)", "0341235H", "34", "admin.demo", "demo-sacoche-124"),
    DemoSchool(125, "Collège Jean Jaurès (démo)", "0301234D", "30", "admin.demo", "demo-sacoche-125"),
]


def seed_sacoche(store, schools=DEMO_SCHOOLS) -> None:
    for school in schools:
        if store.school(school.base) is not None:
            continue
        store.add_school(school.base, school.name, school.uai, zone="Hérault")
        store.add_user(school.base, "ADM", school.sacoche_admin_login, school.sacoche_admin_password,
                       nom="ADMIN", prenom="Camille")


def school_year(today) -> int:
    return today.year if today.month >= 8 else today.year - 1


def demo_school_data(school: DemoSchool = DEMO_SCHOOLS[0], today=None):
    """The synthetic school of the demo, for this school year, with the traps a real one has."""
    from datetime import date

    from . import datagen
    spec = datagen.SchoolSpec(uai=school.uai, year=school_year(today or date.today()), students=60, teachers=10,
                              seed=school.base, support_staff=True,
                              traps=frozenset({"homonyms", "accents", "student_left", "student_without_class",
                                               "parent_of_several", "group_without_level",
                                               "same_rank_parents"}))
    return datagen.generate_school(spec)


def sso_check_logins(data) -> list[str]:
    """One ENT login per profile (a teacher, a student, a parent) that SACoche can match
    unambiguously after the imports: real people of the files, imported, with a unique name."""
    from collections import Counter

    from .datagen import name_key
    from .ent.seed import ent_accounts
    accounts = ent_accounts(data)
    names = Counter(name_key(a.nom, a.prenom) for a in accounts)
    imported_students = {f"eleve:{s.eleve_id}" for s in data.students if s.division and not s.date_sortie}
    kept_parents = {f"personne:{link.personne_id}" for link in data.links
                    if link.resp_legal and f"eleve:{link.eleve_id}" in imported_students}
    wanted = {
        "Enseignant": lambda a: a.source.startswith("sts:"),
        "Eleve": lambda a: a.source in imported_students,
        "Parent": lambda a: a.source in kept_parents,
    }
    chosen = []
    for profile, eligible in wanted.items():
        chosen.append(next(a.ent_id for a in accounts if a.profile == profile and eligible(a)
                           and names[name_key(a.nom, a.prenom)] == 1))
    return chosen
