"""The three import flows, run by the real CLI in a real Chromium against the simulator, checked
in the simulator's state against the generated files (not against the bot's own report)."""
from __future__ import annotations

import copy
import dataclasses
from datetime import date

import pytest

from conftest import choose_college_levels, sim_state
from sim import datagen

YEAR = date.today().year if date.today().month >= 8 else date.today().year - 1
TEACHER_PROFILES = datagen.KEPT_FUNCTIONS
IMPORTS = ["sacoche-import-teachers", "sacoche-import-students", "sacoche-import-parents"]


@pytest.fixture(autouse=True)
def levels_chosen(sims):
    """These tests are about the wizard: the school has its levels (the level step has its own tests)."""
    choose_college_levels(sims)


def make_school(**spec) -> datagen.SchoolData:
    return datagen.generate_school(datagen.SchoolSpec(**{"uai": "0341234G", "year": YEAR, **spec}))


def use_files(bot, data: datagen.SchoolData, folder) -> dict:
    files = datagen.write_school_files(data, folder)
    bot.config_data["schools"]["123"]["files"] = {key: str(path) for key, path in files.items()}
    bot.write_config()
    return files


def school_state(sims) -> dict:
    return sim_state(sims)["schools"]["123"]


def current(state: dict, profiles) -> list[dict]:
    return [u for u in state["users"] if u["profil"] in profiles and not u["sortie"]]


def run_import(bot, flow: str, *extra: str):
    result = bot("run", flow, "--school", "123", "--json", *extra)
    assert result.code == 0, result.stdout + result.stderr
    return result.report["flows"][0]


def assert_state_matches(state: dict, data: datagen.SchoolData) -> None:
    kept_staff = {m.sts_id: m.fonction for m in data.staff if m.fonction in TEACHER_PROFILES}
    teachers = current(state, TEACHER_PROFILES)
    assert sorted(u["sconet_id"] for u in teachers) == sorted(kept_staff)          # each exactly once
    assert {u["sconet_id"]: u["profil"] for u in teachers} == kept_staff
    imported = {s.eleve_id: s.division for s in data.students if not s.date_sortie and s.division}
    students = current(state, {"ELV"})
    assert sorted(u["sconet_id"] for u in students) == sorted(imported)
    assert {u["sconet_id"]: u["classe"] for u in students} == imported
    groups_wanted = {s.eleve_id: sorted(s.groups) for s in data.students if s.eleve_id in imported}
    assert {u["sconet_id"]: u["groupes"] for u in students} == groups_wanted
    kept_links = {(l.personne_id, l.eleve_id, l.resp_legal) for l in data.links
                  if l.resp_legal and l.eleve_id in imported}
    parents = current(state, {"TUT"})
    assert sorted(u["sconet_id"] for u in parents) == sorted({p for p, _, _ in kept_links})
    by_account = {u["id"]: u["sconet_id"] for u in state["users"]}
    links = {(by_account[l["parent_id"]], by_account[l["eleve_id"]], l["resp_legal"]) for l in state["parent_links"]}
    assert links == kept_links


def test_a_generated_school_is_imported_exactly_then_rerun_changes_nothing(sims, bot_with_password, tmp_path):
    data = make_school(students=30, teachers=6, seed=7, support_staff=True, substitutes=1,
                       traps=frozenset({"homonyms", "accents", "latin1", "student_left", "student_without_class",
                                        "parent_of_several", "group_without_level"}))
    use_files(bot_with_password, data, tmp_path / "files")
    bot_with_password.config_data["schools"]["123"]["imports"] = {"unknown_level": "first"}   # members: test_class_levels
    bot_with_password.write_config()
    reports = {flow: run_import(bot_with_password, flow) for flow in IMPORTS}
    state = school_state(sims)
    assert_state_matches(state, data)
    assert all(report["status"] == "done" for report in reports.values())
    # The group SACoche could not place got the first level, and the report says so.
    assert any("AS_SPORT" in note for note in reports["sacoche-import-teachers"]["details"]["notes"])
    sixieme = next(level["id"] for level in state["levels"] if level["ref"] == "6")
    assert next(g for g in state["groups"] if g["ref"] == "AS_SPORT")["niveau_id"] == sixieme
    # The new logins SACoche offered at step 53 are kept in the run's folder.
    credentials = reports["sacoche-import-students"]["details"]["sensitive_files"]
    assert any(path.endswith(".csv") for path in credentials)

    second = {flow: run_import(bot_with_password, flow) for flow in IMPORTS}
    assert {flow: r["status"] for flow, r in second.items()} == {flow: "unchanged" for flow in IMPORTS}
    assert "rien à changer" in second["sacoche-import-students"]["details"]["summary"]
    again = school_state(sims)
    assert [u["id"] for u in again["users"]] == [u["id"] for u in state["users"]]
    assert again["parent_links"] == state["parent_links"] and again["groups"] == state["groups"]


def test_a_changed_students_file_adds_modifies_and_removes_exactly_those(sims, bot_with_password, tmp_path):
    data = make_school(students=20, teachers=4, seed=11)
    use_files(bot_with_password, data, tmp_path / "v1")
    for flow in IMPORTS[:2]:
        run_import(bot_with_password, flow)
    before = {u["sconet_id"]: u for u in current(school_state(sims), {"ELV"})}

    changed = copy.deepcopy(data)
    regular = [s for s in changed.students if s.division]
    gone = [regular[0], regular[1]]
    renamed, moved = regular[2], regular[3]
    changed.students = [s for s in changed.students if s not in gone]
    renamed.nom = "NOUVEAUNOM"
    other_class = next(d.code for d in changed.divisions if d.code != moved.division)
    moved.division = other_class
    newcomer = dataclasses.replace(regular[4], eleve_id=999001, elenoet=99901, ine="999999999ZZ",
                                   nom="ARRIVANT", prenom="Nouvel", groups=[])
    changed.students.append(newcomer)
    use_files(bot_with_password, changed, tmp_path / "v2")

    result = bot_with_password("run", "sacoche-import-students", "--school", "123", "--json", "--mode", "partiel")
    assert result.code == 0, result.stdout + result.stderr
    assert {key: result.report["counts"][f"students_users_{key}"] for key in ("added", "modified", "removed")} == \
        {"added": 1, "modified": 2, "removed": 2}
    report = result.report["flows"][0]
    assert report["status"] == "done"
    assert report["details"]["mode"] == "partiel"
    state = school_state(sims)
    after = {u["sconet_id"]: u for u in state["users"] if u["profil"] == "ELV"}
    assert {s.eleve_id for s in gone} == {sid for sid, u in after.items() if u["sortie"]}
    assert after[renamed.eleve_id]["nom"] == "NOUVEAUNOM" and after[renamed.eleve_id]["id"] == before[renamed.eleve_id]["id"]
    assert after[moved.eleve_id]["classe"] == other_class
    assert after[999001]["nom"] == "ARRIVANT" and after[999001]["classe"] == newcomer.division
    assert len(after) == len(before) + 1   # nobody duplicated: one account per student ever seen
    unchanged = set(before) - {s.eleve_id for s in gone} - {renamed.eleve_id, moved.eleve_id}
    assert all(after[sid]["nom"] == before[sid]["nom"] and after[sid]["classe"] == before[sid]["classe"] for sid in unchanged)
    summary = run_import(bot_with_password, "sacoche-import-students")
    assert summary["status"] == "unchanged"


def test_a_bad_file_is_refused_before_any_click(sims, bot_with_password, tmp_path):
    data = make_school(uai="0341235H", students=5, teachers=2)
    use_files(bot_with_password, data, tmp_path / "files")
    result = bot_with_password("run", "sacoche-import-students", "--school", "123")
    assert result.code == 2
    assert "0341235H" in result.stderr and "0341234G" in result.stderr
    assert sim_state(sims)["requests"] == 0


@pytest.mark.parametrize("rule, created", [("first", True), ("skip", False)])
def test_the_unknown_level_rule_is_applied_and_reported(sims, bot_with_password, tmp_path, rule, created):
    data = make_school(students=6, teachers=3, traps=frozenset({"group_without_level"}))
    use_files(bot_with_password, data, tmp_path / "files")
    bot_with_password.config_data["schools"]["123"]["imports"] = {"unknown_level": rule}
    bot_with_password.write_config()
    report = run_import(bot_with_password, "sacoche-import-teachers")
    assert any(f"unknown_level: {rule}" in note for note in report["details"]["notes"])
    assert any(g["ref"] == "AS_SPORT" for g in school_state(sims)["groups"]) is created


def test_school_without_uai_in_sacoche_fails_clearly(sims, bot_with_password, tmp_path):
    use_files(bot_with_password, make_school(students=5, teachers=2), tmp_path / "files")
    sims.sacoche_store.set_school_uai(123, "")
    result = bot_with_password("run", "sacoche-import-teachers", "--school", "123", "--json")
    assert result.code == 2 and result.report["flows"][0]["status"] == "refused"
    assert "n°UAI de l'établissement n'est pas renseigné" in result.report["flows"][0]["details"]["summary"]
    assert current(school_state(sims), TEACHER_PROFILES) == []


def test_school_without_class_levels_fails_clearly(sims, bot_with_password, tmp_path):
    use_files(bot_with_password, make_school(students=5, teachers=2), tmp_path / "files")
    sims.sacoche_store.remove_levels(123)
    result = bot_with_password("run", "sacoche-import-teachers", "--school", "123", "--json")
    assert result.code == 2 and result.report["flows"][0]["status"] == "refused"
    assert "Aucun niveau de classe choisi" in result.report["flows"][0]["details"]["summary"]
    assert school_state(sims)["groups"] == [] and current(school_state(sims), TEACHER_PROFILES) == []


def _swap_students_for_parents(files):
    files["eleves"] = files["responsables"]


def _truncate_students(files):
    files["eleves"].write_bytes(files["eleves"].read_bytes()[:500])


def _last_year(files):
    text = files["eleves"].read_bytes().replace(f"<ANNEE_SCOLAIRE>{YEAR}<".encode(), f"<ANNEE_SCOLAIRE>{YEAR - 1}<".encode())
    files["eleves"].write_bytes(text)


def _entity_bomb(files):
    files["eleves"].write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                               "<BEE_ELEVES>&b;</BEE_ELEVES>", encoding="utf-8")


@pytest.mark.parametrize("spoil, expected", [
    (_swap_students_for_parents, "ElevesSansAdresses"),
    (_truncate_students, "XML"),
    (_last_year, f"{YEAR - 1}"),
    (_entity_bomb, "refusé par sécurité"),
], ids=["parents-as-students", "truncated", "last-year", "entity-bomb"])
def test_bad_students_files_are_refused_by_the_flow_before_any_click(sims, bot_with_password, tmp_path, spoil, expected):
    data = make_school(students=5, teachers=2)
    files = datagen.write_school_files(data, tmp_path / "files")
    spoil(files)
    bot_with_password.config_data["schools"]["123"]["files"] = {key: str(path) for key, path in files.items()}
    bot_with_password.write_config()
    result = bot_with_password("run", "sacoche-import-students", "--school", "123")
    assert result.code == 2, result.stderr
    assert expected in result.stderr
    assert sim_state(sims)["requests"] == 0
