"""The official level nomenclature of the simulated SACoche (a subset of SACoche's own table:
cycles, CECRL, primary school, collège, SEGPA, the general lycée and the usual levels of every
other family), and the families the Niveaux page searches by. A school starts with none chosen,
as a school the webmaster has just created."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).with_name("data")
CLASS_CATEGORY = 3          # families whose levels a class or group can have (step 31/41)
USUAL_FAMILY = 999          # "Niveaux principaux": every usual level, whatever its family
SCHOOL_LEVEL_MIN_ID = 1_000_000   # ids above are a school's own levels (never offered at step 31)


@dataclass(frozen=True)
class Family:
    id: int
    category: int           # 1 usual, 2 particular, 3 class levels
    order: int
    name: str


@dataclass(frozen=True)
class Level:
    id: int
    family: int
    order: int
    ref: str
    code_mef: str           # an 11-character mask, "." standing for any character; may be empty
    name: str
    usual: bool


@lru_cache(maxsize=1)
def families() -> dict[int, Family]:
    with (DATA / "familles.csv").open(encoding="utf-8", newline="") as handle:
        return {int(row["famille"]): Family(int(row["famille"]), int(row["categorie"]), int(row["ordre"]), row["nom"])
                for row in csv.DictReader(handle)}


@lru_cache(maxsize=1)
def nomenclature() -> dict[int, Level]:
    with (DATA / "niveaux.csv").open(encoding="utf-8", newline="") as handle:
        return {int(row["niveau_id"]): Level(int(row["niveau_id"]), int(row["famille"]), int(row["ordre"]), row["ref"],
                                             row["code_mef"], row["nom"], row["usuel"] == "1")
                for row in csv.DictReader(handle)}


def is_class_level(level: Level) -> bool:
    return families()[level.family].category == CLASS_CATEGORY and level.id < SCHOOL_LEVEL_MIN_ID


# A family's search also lists a few particular levels (cycles, CECRL) that belong with it.
FAMILY_EXTRAS = {60: (1, 2, 3, 201), 100: (3, 4, 10, 202, 203), 160: (16, 202, 203), 200: (20, 204, 205, 206),
                 210: (20, 204, 205, 206)}


def in_family(family_id: int) -> list[Level]:
    """What the Niveaux page's search lists for a family: its levels and their particular
    companions (every usual level for "Niveaux principaux"), by order then name."""
    extras = FAMILY_EXTRAS.get(family_id, ())
    chosen = [level for level in nomenclature().values()
              if (level.usual if family_id == USUAL_FAMILY else level.family == family_id or level.id in extras)]
    return sorted(chosen, key=lambda level: (level.order, level.name))


def sort_key(level: Level) -> tuple:
    return (level.order, level.id)
