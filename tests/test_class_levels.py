"""The school's class levels: which levels the files need (MEF masks, class-code prefixes, groups
by their members), the flow that chooses them in SACoche on a fresh school, the refusal before any
write when no level is chosen, and the rule that gives an unknown group its members' level."""
from __future__ import annotations

from pathlib import Path

import pytest

from schoolfiles.models import Division, ElevesFile, Group, SourceInfo, StsFile, Student
from conftest import sim_state
from flows.sacoche.levels import level_for_code, level_for_mef, plan_levels

SOURCE = SourceInfo(path="x.xml", size=1)


def student(n: int, division: str | None, mef: str | None, groups=(), rank: int | None = None) -> Student:
    return Student(eleve_id=n, elenoet=None, ine=None, nom=f"NOM{n}", prenom="Prénom", date_naiss=None, sexe="M",
                   code_mef=mef, division=division, groups=list(groups), structures_rank=n if rank is None else rank)


def eleves(*students: Student) -> ElevesFile:
    return ElevesFile(source=SOURCE, uai="0341234G", year="2026", students=list(students))


def sts(divisions=(), groups=()) -> StsFile:
    return StsFile(source=SOURCE, uai="0341234G", year="2026", application_source=None, subjects=[], people=[],
                   divisions=[Division(code=c, libelle=None) for c in divisions],
                   groups=[Group(code=c, libelle=None) for c in groups])


@pytest.mark.parametrize("mef, level_id", [
    ("10010012110", 100003),   # Sixième
    ("10110001110", 101001),   # Cinquième
    ("10310019110", 103003),   # Troisième
    ("10010027110", 100027),   # Sixième bilangue de continuité: its own level, not Sixième
    ("20111010110", 201001),   # 1S SVT: the usual Première S, not the generic Première nor the option
    ("21231016110", 212000),   # any technological Terminale
    ("24732101310", 247001),   # first year of a Bac Pro (generic mask)
])
def test_mef_gives_sacoche_level(mef, level_id):
    assert level_for_mef(mef).id == level_id


def test_unknown_mef_and_code_prefixes():
    assert level_for_mef("99999999999") is None
    assert level_for_code("6 B").id == 100003
    assert level_for_code("1S2").id == 201001      # the longest usual reference wins over "1"
    assert level_for_code("AS_SPORT") is None


def test_plan_takes_the_mef_of_the_last_student_in_structures_order():
    # The file lists two MEFs for 6A: the import keeps the last one (in STRUCTURES order) that is set.
    plan = plan_levels(sts(["6A"]), eleves(student(1, "6A", "10010027110", rank=2),
                                           student(2, "6A", "10010012110", rank=1),
                                           student(3, "6A", None, rank=3)))
    assert plan.classes["6a"].level.id == 100027
    assert "MEF 10010027110" in plan.classes["6a"].why


def test_plan_without_mef_uses_the_class_code_and_flags_what_it_cannot_tell():
    plan = plan_levels(sts(["5 B", "ATELIER"]), None)
    assert plan.classes["5b"].level.id == 101001
    assert plan.classes["atelier"].level is None
    assert [c.code for c in plan.undetermined()] == ["ATELIER"]
    assert [level.id for level in plan.needed()] == [101001]


def test_group_levels_from_members_majority_span_tie_and_empty():
    files = eleves(
        student(1, "5A", "10110001110", ["LATIN5", "CHORALE"]),
        student(2, "5A", "10110001110", ["LATIN5", "CHORALE", "DUO"]),
        student(3, "4A", "10210001110", ["LATIN5", "CHORALE", "DUO"]),
        student(4, "4A", "10210001110", ["CHORALE"]),
    )
    plan = plan_levels(sts(["5A", "4A"], ["LATIN5", "CHORALE", "DUO", "VIDE"]), files)
    latin = plan.groups["latin5"]              # members in two levels: the majority wins
    assert latin.level.id == 101001 and latin.members_by_level == {"Cinquième": 2, "Quatrième": 1}
    assert plan.groups["chorale"].level is None and "égalité" in plan.groups["chorale"].why   # 2 against 2
    assert plan.groups["duo"].level is None                                                  # 1 against 1
    assert plan.groups["vide"].level is None and "aucun membre" in plan.groups["vide"].why
    assert plan.for_reference("LATIN5") is latin and plan.for_reference("4 A") is plan.classes["4a"]


# Against the simulator ---------------------------------------------------------------------------
def levels_of(sims) -> list[int]:
    return sorted(level["id"] for level in sim_state(sims)["schools"]["123"]["levels"])


def test_fresh_school_gets_exactly_its_levels_then_a_rerun_changes_nothing(school, sims):
    store = sims.sacoche_store
    store.activate_level(123, 4)     # a level chosen by someone else (Cycle 4) is never removed
    first = school("run", "sacoche-class-levels", "--school", "123", "--json")
    assert first.code == 0, first.stderr
    flow = first.report["flows"][0]
    assert flow["status"] == "done" and flow["counts"] == {"levels_added": 4}
    assert flow["details"]["added"] == ["Sixième (6)", "Cinquième (5)", "Quatrième (4)", "Troisième (3)"]
    assert levels_of(sims) == [4, 100003, 101001, 102001, 103003]
    again = school("run", "sacoche-class-levels", "--school", "123", "--json")
    assert again.code == 0 and again.report["flows"][0]["status"] == "unchanged"
    assert levels_of(sims) == [4, 100003, 101001, 102001, 103003]


def test_import_refused_before_any_write_when_no_level_is_chosen(school, sims):
    before = sim_state(sims)["schools"]["123"]
    result = school("run", "sacoche-import-teachers", "--school", "123", "--json")
    assert result.code == 2, result.stdout + result.stderr
    flow = result.report["flows"][0]
    assert flow["status"] == "refused"
    assert "Aucun niveau de classe choisi" in flow["details"]["summary"]
    assert "sacoche-class-levels" in flow["details"]["summary"]
    assert "Traceback" not in result.stderr
    after = sim_state(sims)["schools"]["123"]
    assert after["users"] == before["users"] and after["groups"] == [] and after["params"] == before["params"]


def test_unknown_group_gets_its_members_level(school, sims):
    assert school("run", "sacoche-class-levels", "--school", "123").code == 0
    result = school("run", "sacoche-import-teachers", "--school", "123", "--json")
    assert result.code == 0, result.stderr
    groups = {g["ref"]: g["niveau_id"] for g in sim_state(sims)["schools"]["123"]["groups"] if g["type"] == "groupe"}
    # LATIN5's members are all in 5e: Cinquième, chosen from the files and reported.
    assert groups["LATIN5"] == 101001
    notes = result.report["flows"][0]["details"]["notes"]
    assert any("« LATIN5 »" in note and "Cinquième" in note and "members" in note for note in notes)
    # AS_SPORT's members come from every level, most of them from 3e.
    assert groups["AS_SPORT"] == 103003


def test_a_group_whose_members_tie_is_left_for_a_person_with_its_candidates(school, sims, tmp_path):
    from sim import datagen
    data = sims.school_data
    sixth, fifth = (next(s for s in data.students if s.division and s.division.startswith(p) and not s.date_sortie)
                    for p in ("6", "5"))
    sixth.groups.append("DUO")
    fifth.groups.append("DUO")
    data.groups.append(datagen.Group("DUO", "ATELIER DUO", list(data.groups[0].services)))
    data.groups.append(datagen.Group("PERSONNE", "GROUPE SANS ELEVE", list(data.groups[0].services)))
    files = datagen.write_school_files(data, tmp_path / "tie")
    school.config_data["schools"]["123"]["files"] = {key: str(path) for key, path in files.items()}
    school.write_config()
    assert school("run", "sacoche-class-levels", "--school", "123").code == 0
    result = school("run", "sacoche-import-teachers", "--school", "123", "--json")
    assert result.code == 0, result.stderr
    refs = {g["ref"] for g in sim_state(sims)["schools"]["123"]["groups"]}
    assert "DUO" not in refs and "PERSONNE" not in refs and "LATIN5" in refs
    to_check = [item for group in result.report["flows"][0]["details"]["by_hand"] for item in group["items"]]
    duo = next(item for item in to_check if "« DUO »" in item)
    assert "égalité" in duo and "Sixième : 1" in duo and "Cinquième : 1" in duo
    assert any("« PERSONNE »" in item and "aucun membre" in item for item in to_check)


def test_rule_first_still_gives_the_first_level(school, sims):
    school.config_data["schools"]["123"]["imports"] = {"unknown_level": "first"}
    school.write_config()
    assert school("run", "sacoche-class-levels", "--school", "123").code == 0
    assert school("run", "sacoche-import-teachers", "--school", "123").code == 0
    groups = {g["ref"]: g["niveau_id"] for g in sim_state(sims)["schools"]["123"]["groups"] if g["type"] == "groupe"}
    assert groups["LATIN5"] == 100003 and groups["AS_SPORT"] == 100003   # Sixième, the first offered


def test_a_class_of_students_no_level_fits_is_refused_before_any_write(school, sims, tmp_path):
    files = school.config_data["schools"]["123"]["files"]
    odd = tmp_path / "odd"
    odd.mkdir()
    for key in ("sts", "eleves"):
        path = Path(files[key])
        text = path.read_bytes().replace(b'CODE="6A"', b'CODE="ATELIER"').replace(b">6A<", b">ATELIER<")
        if key == "eleves":   # its students' MEF is unknown too
            text = text.replace(b"<CODE_MEF>10010012110<", b"<CODE_MEF>99999999999<")
        (odd / path.name).write_bytes(text)
        files[key] = str(odd / path.name)
    school.write_config()
    result = school("run", "sacoche-class-levels", "--school", "123", "--json")
    assert result.code == 2, result.stdout + result.stderr
    summary = result.report["flows"][0]["details"]["summary"]
    assert "ATELIER" in summary and "MEF 99999999999" in summary
    assert levels_of(sims) == []


def test_a_class_without_students_nor_known_level_is_only_reported(school, sims, tmp_path):
    sts_path = Path(school.config_data["schools"]["123"]["files"]["sts"])
    text = sts_path.read_bytes().replace(b"</DIVISIONS>", b'<DIVISION CODE="ADULTES"><LIBELLE_LONG>FORMATION '
                                                          b"ADULTES</LIBELLE_LONG></DIVISION></DIVISIONS>", 1)
    assert b"ADULTES" in text
    (tmp_path / "odd").mkdir()
    odd = tmp_path / "odd" / sts_path.name
    odd.write_bytes(text)
    school.config_data["schools"]["123"]["files"]["sts"] = str(odd)
    school.write_config()
    result = school("run", "sacoche-class-levels", "--school", "123", "--json")
    assert result.code == 0, result.stdout + result.stderr
    flow = result.report["flows"][0]
    assert any("ADULTES" in item for group in flow["details"]["by_hand"] for item in group["items"])
    assert levels_of(sims) == [100003, 101001, 102001, 103003]


def test_check_files_names_the_students_whose_responsables_share_a_rank(school, sims):
    data = sims.school_data
    legal = {}
    for link in data.links:
        if link.resp_legal:
            legal.setdefault(link.eleve_id, []).append(link.resp_legal)
    twice = [s for s in data.students if sorted(legal.get(s.eleve_id, [])) == [2, 2]]
    assert len(twice) == 1
    result = school("check-files", "--school", "123")
    assert result.code == 0, result.stderr
    assert f"{twice[0].nom} {twice[0].prenom} ({twice[0].division})" in result.stdout
    assert "même rang (RESP_LEGAL)" in result.stdout
    assert sim_state(sims)["requests"] == 0
