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
]


def seed_sacoche(store, schools=DEMO_SCHOOLS) -> None:
    for school in schools:
        if store.school(school.base) is not None:
            continue
        store.add_school(school.base, school.name, school.uai, zone="Hérault")
        store.add_user(school.base, "ADM", school.sacoche_admin_login, school.sacoche_admin_password,
                       nom="ADMIN", prenom="Camille")
