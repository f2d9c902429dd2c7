"""The staff functions of STS-Web (FONCTION) that SACoche's teachers' import keeps, with the
profile type SACoche gives them and its French names: one table, data/staff_functions.csv."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

TABLE = Path(__file__).with_name("data") / "staff_functions.csv"


@dataclass(frozen=True)
class StaffFunction:
    code: str
    profile_type: str      # professeur | directeur
    singular: str
    plural: str


def _load() -> dict[str, StaffFunction]:
    with TABLE.open(encoding="utf-8", newline="") as handle:
        return {row["code"]: StaffFunction(**row) for row in csv.DictReader(handle)}


STAFF_FUNCTIONS: dict[str, StaffFunction] = _load()
# Functions the teachers' import keeps; any other is skipped silently, as SACoche does.
KEPT_FUNCTIONS: tuple[str, ...] = tuple(STAFF_FUNCTIONS)
