"""The school's journal is a typed, versioned model checked on load. A journal of the wrong shape
is set aside (renamed with the date) and the run starts afresh, saying so; a journal written for
another school, or against another SACoche (address or base), is not trusted: its steps run again,
with the reason. Each CLI test checks SACoche's state (the students are there), not only the
report. The model's own rules are also tested directly, without a browser."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.errors import Refused
from bot.journal import Journal, JOURNAL_VERSION, journal_sites
from conftest import choose_college_levels, sim_state
from sim.server import Simulators

STUDENTS = ("full-onboarding", "--school", "123", "--only", "sacoche-import-students", "--json")


@pytest.fixture
def school(school, sims):
    """School 123 with its class levels chosen in SACoche: the students' import is the step run."""
    choose_college_levels(sims)
    return school


def journal_path(bot) -> Path:
    return bot.tmp_path / "state" / "journal" / "123.json"


def expected_students(sims) -> int:
    return sum(1 for s in sims.school_data.students if s.division and not s.date_sortie)


def students_in(sims) -> int:
    users = [u for u in sim_state(sims)["schools"]["123"]["users"] if u["profil"] == "ELV"]
    assert len({u["sconet_id"] for u in users}) == len(users), "someone twice"
    return len(users)


def no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text and "Erreur interne" not in text, text[-2000:]


def fresh_sacoche(sims, tmp_path: Path, name: str, same_address: bool) -> Simulators:
    """A SACoche (and ENT) with nobody imported yet: at the same address as `sims` (a reset
    site, `sims` stopped first), or at another one."""
    if same_address:
        sims.stop()
        ports = {"sacoche_port": sims.sacoche.port, "ent_port": sims.ent.port, "arena_port": sims.arena.port}
    else:
        ports = {}
    fresh = Simulators(tmp_path / name, school_data=sims.school_data, **ports).start()
    choose_college_levels(fresh)
    return fresh


# Wrong shapes --------------------------------------------------------------------------------------
WRONG_SHAPES = {
    "list": "[1, 2, 3]",
    "null": "null",
    "flows-text": '{"flows": "x"}',
    "step-as-text": '{"school": "123", "flows": {"sacoche-import-students": "fait"}, "facts": {}}',
    "facts-as-list": '{"school": "123", "flows": {}, "facts": []}',
    "pending-logins-wrong-types": ('{"school": "123", "flows": {}, "facts": {"students:logins_not_saved": '
                                   '{"at": 5, "accounts": "beaucoup"}}}'),
    "truncated": '{"school": "123", "flows": {"sacoche-import-students": {"status": "do',
}


@pytest.mark.parametrize("content", list(WRONG_SHAPES.values()), ids=list(WRONG_SHAPES))
def test_a_journal_of_the_wrong_shape_is_set_aside_and_the_run_starts_afresh(school, sims, content):
    path = journal_path(school)
    path.parent.mkdir(parents=True)
    path.write_text(content, encoding="utf-8")
    result = school(*STUDENTS)
    assert result.code == 0, result.stdout[-2000:] + result.stderr[-2000:]
    no_traceback(result.stdout, result.stderr)
    assert students_in(sims) == expected_students(sims)
    # Set aside, byte for byte, under a dated name; a fresh journal of the right shape in its place.
    aside = sorted(path.parent.glob("123.json.illisible-*"))
    assert len(aside) == 1 and aside[0].read_text(encoding="utf-8") == content
    assert f"mis de côté sous {aside[0]}" in result.stderr
    assert "repart de zéro" in result.stderr
    notes = result.report["journal_notes"]
    assert len(notes) == 1 and aside[0].name in notes[0]
    html = (Path(result.report["run_dir"]) / "report.html").read_text(encoding="utf-8")
    assert aside[0].name in html
    journal = json.loads(path.read_text(encoding="utf-8"))
    assert journal["school"] == "123" and journal["version"] == JOURNAL_VERSION
    assert journal["flows"]["sacoche-import-students"]["status"] == "done"


# Not trusted: another school, another SACoche ---------------------------------------------------------
def test_another_schools_journal_is_not_trusted_its_steps_run_again(school, sims, tmp_path):
    first = school(*STUDENTS)
    assert first.code == 0 and students_in(sims) == expected_students(sims)
    written = json.loads(journal_path(school).read_text(encoding="utf-8"))
    written["school"] = "124"   # another school's journal, placed as school 123's
    journal_path(school).write_text(json.dumps(written), encoding="utf-8")
    fresh = fresh_sacoche(sims, tmp_path, "sim-reset", same_address=True)
    try:
        again = school(*STUDENTS)
        assert again.code == 0, again.stdout[-2000:] + again.stderr[-2000:]
        no_traceback(again.stderr)
        assert again.report["flows"][0]["status"] == "done"          # run again, not « déjà faite »
        assert students_in(fresh) == expected_students(fresh)
        assert "écrit pour l'école 124" in again.stderr and "déjà faite" not in again.stderr
        assert "écrit pour l'école 124" in again.report["journal_notes"][0]
        aside = list(journal_path(school).parent.glob("123.json.autre-ecole-*"))
        assert len(aside) == 1 and json.loads(aside[0].read_text())["school"] == "124"
        assert json.loads(journal_path(school).read_text())["school"] == "123"
    finally:
        fresh.stop()


def test_a_journal_written_against_another_sacoche_address_is_not_trusted(school, sims, tmp_path):
    first = school(*STUDENTS)
    assert first.code == 0 and students_in(sims) == expected_students(sims)
    other = fresh_sacoche(sims, tmp_path, "sim-other", same_address=False)
    try:
        assert other.sacoche_url != sims.sacoche_url
        school.config_data["sites"]["sacoche"]["url"] = other.sacoche_url
        school.write_config()
        again = school(*STUDENTS)
        assert again.code == 0, again.stdout[-2000:] + again.stderr[-2000:]
        no_traceback(again.stderr)
        assert again.report["flows"][0]["status"] == "done"
        assert students_in(other) == expected_students(other)
        assert sims.sacoche_url in again.stderr and other.sacoche_url in again.stderr
        assert "déjà faite" not in again.stderr
        assert list(journal_path(school).parent.glob("123.json.autre-site-*"))
        # The new journal remembers the address it was written against: a third run trusts it.
        third = school(*STUDENTS)
        assert third.code == 0 and third.report["flows"][0]["status"] == "skipped"
        assert students_in(other) == expected_students(other)
    finally:
        other.stop()


def test_a_journal_written_against_another_sacoche_base_is_not_trusted(school, sims, tmp_path):
    first = school(*STUDENTS)
    assert first.code == 0 and students_in(sims) == expected_students(sims)
    written = json.loads(journal_path(school).read_text(encoding="utf-8"))
    sites = written.setdefault("sites", {})
    sites.setdefault("sacoche", {"url": sims.sacoche_url})["base"] = "124"
    journal_path(school).write_text(json.dumps(written), encoding="utf-8")
    fresh = fresh_sacoche(sims, tmp_path, "sim-reset", same_address=True)
    try:
        again = school(*STUDENTS)
        assert again.code == 0, again.stdout[-2000:] + again.stderr[-2000:]
        assert again.report["flows"][0]["status"] == "done"
        assert students_in(fresh) == expected_students(fresh)
        assert "base 124" in again.stderr and "base 123" in again.stderr
    finally:
        fresh.stop()


def test_a_journal_of_the_previous_version_is_kept_for_the_same_school(school, sims):
    """Written by the bot before its journal recorded the sites (no `version`, no `sites`): the
    same school's journal is trusted as it was, so a re-run after an upgrade skips what was done;
    the sites are recorded from then on."""
    first = school(*STUDENTS)
    assert first.code == 0
    written = json.loads(journal_path(school).read_text(encoding="utf-8"))
    legacy = {"school": "123", "flows": written["flows"], "facts": written["facts"]}
    journal_path(school).write_text(json.dumps(legacy), encoding="utf-8")
    again = school(*STUDENTS)
    assert again.code == 0 and again.report["flows"][0]["status"] == "skipped"
    assert "version précédente" in again.stderr
    assert students_in(sims) == expected_students(sims)
    upgraded = json.loads(journal_path(school).read_text(encoding="utf-8"))
    assert upgraded["version"] == JOURNAL_VERSION
    assert upgraded["sites"]["sacoche"] == {"url": sims.sacoche_url, "base": "123"}


# The model alone (no browser) -------------------------------------------------------------------------
SITES = {"sacoche": {"url": "https://sacoche.example.org/", "base": "123"}, "ent": {"url": "https://ent.example.org/"}}


def write(state: Path, content) -> Path:
    path = state / "journal" / "123.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def current(state: Path, **kwargs) -> Journal:
    return Journal(state, "123", sites=journal_sites_of(SITES), **kwargs)


def journal_sites_of(sites: dict):
    from bot.journal import SiteIdentity
    return {name: SiteIdentity(**value) for name, value in sites.items()}


def test_a_new_journal_records_its_school_and_sites(tmp_path):
    journal = current(tmp_path)
    journal.save()
    data = json.loads((tmp_path / "journal" / "123.json").read_text())
    assert data == {"version": JOURNAL_VERSION, "school": "123", "sites": SITES, "flows": {}, "facts": {}}
    assert journal.notes == []


def test_journal_sites_come_from_the_config():
    from bot.config import BotConfig
    config = BotConfig.model_validate({
        "sites": {"sacoche": {"url": "https://sacoche.example.org"}, "ent": {"url": "https://ent.example.org/"},
                  "arena": {"url": "https://arena.example.org/"}},
        "schools": {"123": {"name": "X", "uai": "0341234G", "department": "34",
                            "accounts": {"sacoche": {"login": "a"}}}}})
    assert {name: site.model_dump(exclude_none=True) for name, site in journal_sites(config, "123").items()} == SITES


@pytest.mark.parametrize("content", list(WRONG_SHAPES.values()) + [
    {"version": 99, "school": "123", "sites": SITES, "flows": {}, "facts": {}},
    {"version": JOURNAL_VERSION, "school": "123", "flows": {}, "facts": {}},            # v2 without its sites
    {"school": "123", "flows": {"sacoche-auth-mode": {"status": "done", "inputs": 42, "at": "2026-09-01T08:00:00"}}},
    {"school": "123", "flows": {"sacoche-auth-mode": {"status": "fini", "inputs": "x", "at": "2026-09-01T08:00:00"}}},
    {"school": "123", "flows": {"sacoche-auth-mode": {"status": "done", "inputs": "x", "at": "hier"}}},
    {"school": "123", "flows": {}, "facts": {"site_checks": {"sacoche": {"at": "2026-09-01T08:00:00",
                                                                         "identity": "x", "pages": [[1]]}}}},
    {"school": "123", "flows": {}, "facts": {"ent_accounts_csv": ["a"]}},
    {"school": 123, "flows": {}, "facts": {}},
], ids=[*WRONG_SHAPES, "future-version", "v2-without-sites", "inputs-number", "unknown-status", "bad-date",
        "site-checks-pages", "ent-csv-list", "school-number"])
def test_the_model_sets_aside_what_it_cannot_trust_to_read(tmp_path, content):
    path = write(tmp_path, content)
    raw = path.read_bytes()
    journal = current(tmp_path)
    assert journal.entry("sacoche-auth-mode") is None and journal.facts == {}
    assert not path.exists()
    aside = list(path.parent.glob("123.json.illisible-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == raw
    assert len(journal.notes) == 1 and "illisible" in journal.notes[0] and str(aside[0]) in journal.notes[0]
    journal.save()
    assert json.loads(path.read_text())["sites"] == SITES


def test_a_read_only_run_sets_nothing_aside(tmp_path):
    path = write(tmp_path, "[1, 2, 3]")
    journal = current(tmp_path, set_aside=False)
    assert journal.facts == {} and path.read_text() == "[1, 2, 3]"
    assert not list(path.parent.glob("*illisible*"))
    assert "pas pris en compte" in journal.notes[0]


@pytest.mark.parametrize("change, reason", [
    (lambda data: data.update(school="124"), "écrit pour l'école 124"),
    (lambda data: data["sites"]["sacoche"].update(url="https://autre.example.org/"), "https://autre.example.org/"),
    (lambda data: data["sites"]["sacoche"].update(base="7"), "base 7"),
    (lambda data: data["sites"]["ent"].update(url="https://autre-ent.example.org/"), "https://autre-ent.example.org/"),
], ids=["school", "sacoche-address", "sacoche-base", "ent-address"])
def test_a_journal_for_another_school_or_site_is_not_trusted(tmp_path, change, reason):
    data = {"version": JOURNAL_VERSION, "school": "123", "sites": json.loads(json.dumps(SITES)),
            "flows": {"sacoche-auth-mode": {"status": "done", "inputs": "x", "summary": "", "verified": {},
                                            "run_dir": "r", "at": "2026-09-01T08:00:00"}},
            "facts": {"ent_accounts_csv": "/r/x.csv"}}
    change(data)
    write(tmp_path, data)
    journal = current(tmp_path)
    assert journal.finished_with("sacoche-auth-mode", "x") is None and journal.facts == {}
    assert len(journal.notes) == 1 and reason in journal.notes[0] and "refaites" in journal.notes[0]


def test_the_same_sites_written_differently_are_the_same(tmp_path):
    data = {"version": JOURNAL_VERSION, "school": "123",
            "sites": {"sacoche": {"url": "HTTPS://Sacoche.Example.org:443", "base": "123"},
                      "ent": {"url": "https://ent.example.org"}},
            "flows": {"sacoche-auth-mode": {"status": "done", "inputs": "x", "summary": "", "verified": {},
                                            "run_dir": "r", "at": "2026-09-01T08:00:00"}}, "facts": {}}
    write(tmp_path, data)
    journal = current(tmp_path)
    assert journal.finished_with("sacoche-auth-mode", "x") is not None and journal.notes == []


def test_a_legacy_journal_of_the_same_school_is_kept_and_upgraded(tmp_path):
    write(tmp_path, {"school": "123", "flows": {"sacoche-auth-mode": {
        "status": "done", "inputs": "x", "summary": "s", "verified": {"a": 1}, "run_dir": "r",
        "at": "2026-09-01T08:00:00"}}, "facts": {"students:logins_not_saved": None}})
    journal = current(tmp_path)
    assert journal.finished_with("sacoche-auth-mode", "x")["verified"] == {"a": 1}
    assert "version précédente" in journal.notes[0]
    journal.save()
    assert json.loads((tmp_path / "journal" / "123.json").read_text())["sites"] == SITES


def test_a_legacy_journal_of_another_school_is_not_trusted(tmp_path):
    write(tmp_path, {"school": "124", "flows": {}, "facts": {"sacoche-import-students:logins_not_saved": {
        "at": "2026-09-01T08:00", "accounts": 63}}})
    journal = current(tmp_path)
    assert journal.facts == {}   # that school's unsaved logins are not this one's…
    assert "écrit pour l'école 124" in journal.notes[0]
    # … but they are said, with the file that keeps them.
    assert "étape sacoche-import-students : 63 compte(s) le 2026-09-01 à 08:00" in journal.notes[0]
    assert list((tmp_path / "journal").glob("123.json.autre-ecole-*"))


def test_facts_the_bot_does_not_know_are_kept(tmp_path):
    write(tmp_path, {"version": JOURNAL_VERSION, "school": "123", "sites": SITES, "flows": {},
                     "facts": {"a_future_fact": {"x": [1, 2]}, "arena_exports": {"sts": "/r/sts.xml"}}})
    journal = current(tmp_path)
    assert journal.facts == {"a_future_fact": {"x": [1, 2]}, "arena_exports": {"sts": "/r/sts.xml"}}
    journal.facts["site_versions"] = {"sacoche": "2017-09-19"}
    journal.save()
    assert current(tmp_path).facts["site_versions"] == {"sacoche": "2017-09-19"}


def test_a_journal_that_is_a_link_or_a_fifo_is_refused(tmp_path):
    import os
    decoy = tmp_path / "decoy.json"
    decoy.write_text('{"school": "123", "flows": {}, "facts": {}}')
    path = tmp_path / "state" / "journal" / "123.json"
    path.parent.mkdir(parents=True)
    path.symlink_to(decoy)
    with pytest.raises(Refused, match="lien symbolique"):
        Journal(tmp_path / "state", "123", sites={})
    path.unlink()
    os.mkfifo(path)
    with pytest.raises(Refused, match="FIFO"):
        Journal(tmp_path / "state", "123", sites={})
