"""SACoche's user profiles (its table `sacoche_user_profil`) as far as the simulator shows them:
type, the short name headers and the ENT-id report print, the long names the wizard's step 20
prints. One table, data/profiles.csv, kept apart from the bot's own on purpose: tests compare."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

TABLE = Path(__file__).with_name("data") / "profiles.csv"


@dataclass(frozen=True)
class Profile:
    sigle: str
    type: str              # administrateur | eleve | parent | professeur | directeur | inspecteur
    short_singular: str
    long_singular: str
    long_plural: str


def _load() -> dict[str, Profile]:
    with TABLE.open(encoding="utf-8", newline="") as handle:
        return {row["sigle"]: Profile(**row) for row in csv.DictReader(handle)}


PROFILES: dict[str, Profile] = _load()


def sigles_of(*types: str) -> tuple[str, ...]:
    return tuple(sigle for sigle, profile in PROFILES.items() if profile.type in types)


# Staff the teachers' import keeps from STS-Web, and the professeurs / personnels list shows.
STAFF = sigles_of("professeur", "directeur")
