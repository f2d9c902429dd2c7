"""Which SACoche class levels a school's classes and groups need, worked out from its STS-Web and
SIECLE files before any click.

SACoche's own rules (its import, steps 31 and 41), which this module predicts:
- the students' import (SIECLE) pre-selects, for a class or group, the first chosen level whose
  MEF mask (11 characters, "." for any) matches the class's MEF code: the CODE_MEF of the last
  student placed in it, in the order of the file's STRUCTURES, who has one;
- the teachers' import (STS-Web) pre-selects the first chosen level whose reference is a prefix
  of the class code with its spaces removed;
- a new school has no level chosen, so nothing can be pre-selected at all.

The level table (data/class_levels.csv) holds SACoche's official class levels the bot knows: the
usual level of every family, and every level of primary school, collège, SEGPA and general lycée.
A MEF matched by several of them gets the usual one, then the most precise mask."""
from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from schoolfiles.models import ElevesFile, StsFile, class_key

TABLE = Path(__file__).with_name("data") / "class_levels.csv"


@dataclass(frozen=True)
class OfficialLevel:
    id: int
    family: int          # the Niveaux page searches by it
    order: int
    ref: str
    code_mef: str        # mask, "." = any character; empty for levels no MEF points to
    name: str
    usual: bool

    def matches_mef(self, mef: str) -> bool:
        return bool(self.code_mef) and re.fullmatch(self.code_mef, mef) is not None

    def prefixes(self, code: str) -> bool:
        return bool(self.ref) and compact(code).startswith(self.ref)


def compact(code: str) -> str:
    """A class code as SACoche compares it with level references: spaces removed, upper case."""
    return code.replace(" ", "").upper()


@lru_cache(maxsize=1)
def official_levels() -> dict[int, OfficialLevel]:
    with TABLE.open(encoding="utf-8", newline="") as handle:
        return {int(row["niveau_id"]): OfficialLevel(int(row["niveau_id"]), int(row["famille"]), int(row["ordre"]),
                                                     row["ref"], row["code_mef"], row["nom"], row["usuel"] == "1")
                for row in csv.DictReader(handle)}


def level_for_mef(mef: str) -> OfficialLevel | None:
    candidates = [level for level in official_levels().values() if level.matches_mef(mef)]
    return min(candidates, key=lambda l: (not l.usual, l.code_mef.count("."), l.order, l.id), default=None)


def level_for_code(code: str) -> OfficialLevel | None:
    """For a class without MEF: the usual level whose reference starts its code, the longest."""
    candidates = [level for level in official_levels().values() if level.usual and level.prefixes(code)]
    return min(candidates, key=lambda l: (-len(l.ref), l.order, l.id), default=None)


@dataclass
class ClassLevel:
    code: str                      # as in the files
    level: OfficialLevel | None
    why: str                       # French: where the level comes from
    students: int = 0              # how many students the SIECLE file places in it


@dataclass
class GroupLevel:
    code: str
    level: OfficialLevel | None
    why: str
    members_by_level: dict[str, int] = field(default_factory=dict)   # level name → members


@dataclass
class LevelPlan:
    classes: dict[str, ClassLevel]         # by class_key
    groups: dict[str, GroupLevel]          # by class_key

    def needed(self) -> list[OfficialLevel]:
        """The levels the classes need, in SACoche's order (groups use their classes' levels)."""
        found = {c.level.id: c.level for c in self.classes.values() if c.level}
        return sorted(found.values(), key=lambda l: (l.order, l.id))

    def undetermined(self) -> list[ClassLevel]:
        return [c for c in self.classes.values() if c.level is None]

    def for_reference(self, reference: str) -> ClassLevel | GroupLevel | None:
        key = class_key(reference)
        return self.classes.get(key) or self.groups.get(key)


def plan_levels(sts: StsFile | None, eleves: ElevesFile | None) -> LevelPlan:
    classes: dict[str, ClassLevel] = {}
    mef_of: dict[str, tuple[str, str]] = {}   # class key → (MEF, student) of the last student with one
    students = []
    if eleves is not None:
        students = sorted((s for s in eleves.students if not s.left),
                          key=lambda s: s.structures_rank if s.structures_rank is not None else -1)
        for student in students:
            if student.division and student.code_mef:
                mef_of[class_key(student.division)] = (student.code_mef, f"{student.nom} {student.prenom}")
    codes: dict[str, str] = {}
    if sts is not None:
        for division in sts.divisions:
            codes.setdefault(class_key(division.code), division.code)
        for person in sts.teachers:   # a main teacher's class is a class of the import too
            for principal in person.principal_of:
                codes.setdefault(class_key(principal.code), principal.code)
    for student in students:
        if student.division:
            codes.setdefault(class_key(student.division), student.division)
    placed = Counter(class_key(s.division) for s in students if s.division)
    for key, code in codes.items():
        if key in mef_of:
            mef, who = mef_of[key]
            level = level_for_mef(mef)
            why = (f"MEF {mef} de ses élèves (dont {who})" if level else
                   f"MEF {mef} de ses élèves, inconnu du bot")
            if level is None:
                level = level_for_code(code)
                if level:
                    why += f" ; d'après le début de son code « {level.ref} »"
        else:
            level = level_for_code(code)
            why = f"d'après le début de son code « {level.ref} » (aucun MEF dans les fichiers)" if level else \
                "aucun MEF dans les fichiers et un code qui ne commence par aucun niveau connu"
        classes[key] = ClassLevel(code, level, why, placed.get(key, 0))
    return LevelPlan(classes, _group_levels(sts, students, classes))


def _group_levels(sts: StsFile | None, students: list, classes: dict[str, ClassLevel]) -> dict[str, GroupLevel]:
    """A group's level is the one most of its members' classes have (members from the SIECLE
    file); a tie or a group without members gets none, for a person to choose."""
    members: dict[str, Counter] = {}
    codes: dict[str, str] = {}
    if sts is not None:
        for group in sts.groups:
            codes.setdefault(class_key(group.code), group.code)
            members.setdefault(class_key(group.code), Counter())
    for student in students:
        place = classes.get(class_key(student.division)) if student.division else None
        for group in student.groups:
            key = class_key(group)
            codes.setdefault(key, group)
            counter = members.setdefault(key, Counter())
            if place and place.level:
                counter[place.level.id] += 1
    groups = {}
    table = official_levels()
    for key, counter in members.items():
        by_name = {table[level_id].name: count for level_id, count in counter.most_common()}
        if not counter:
            groups[key] = GroupLevel(codes[key], None, "aucun membre connu dans le fichier SIECLE des élèves")
            continue
        ranked = counter.most_common()
        if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
            tied = " et ".join(f"« {table[level_id].name} »" for level_id, count in ranked if count == ranked[0][1])
            groups[key] = GroupLevel(codes[key], None, f"égalité entre {tied} parmi ses membres", by_name)
            continue
        level = table[ranked[0][0]]
        total = sum(counter.values())
        groups[key] = GroupLevel(codes[key], level, f"{ranked[0][1]} de ses {total} membres sont en « {level.name} »",
                                 by_name)
    return groups
