"""The engine when a step has a bug or this machine's disk fails: one school's bug is that
school's failure (the batch goes on, its report and a log are written, no traceback on the
screen), a programming error is never retried as a passing fault, and a write that fails on
this machine ends the run cleanly with its journal intact. Real Chromium, real simulators; the
flows are small ones written here to have those faults."""
from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from concurrent.futures import ThreadPoolExecutor

from bot import report
from bot.config import load_config
from bot.status import ExitStatus, Status
from bot.flow import Flow, Outcome, RunContext
from bot.runner import RunOptions, run_school, run_schools
from conftest import REPO, sim_state
from flows.sacoche.auth_mode import SacocheAuthMode
from sim.seed import DEMO_SCHOOLS


def in_thread(function, *args):
    """Run the engine in its own thread, as a batch does: pytest-playwright's session may already
    hold this thread's event loop, and Playwright's sync API wants a thread of its own."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


class Faulty(Flow):
    """Opens SACoche's page, then fails the way it is told to for one school."""
    name = "faulty"
    title = "Étape de test"
    sites = ()

    def __init__(self, school: str, error: BaseException):
        self.school, self.error = school, error
        self.runs = 0

    def run(self, ctx: RunContext) -> Outcome:
        self.runs += 1
        ctx.page.goto(ctx.site_url("sacoche"))
        if ctx.school_id == self.school:
            raise self.error
        return Outcome(Status.UNCHANGED, "Rien à faire.")

    def verify(self, ctx: RunContext, outcome: Outcome) -> dict:
        return {}


@pytest.fixture
def config(sims, tmp_path, monkeypatch):
    schools = {}
    for school in DEMO_SCHOOLS:
        schools[str(school.base)] = {"name": school.name, "uai": school.uai, "department": school.department,
                                     "accounts": {"sacoche": {"login": school.sacoche_admin_login,
                                                              "password_env": f"SACOCHE_{school.base}_PASSWORD"},
                                                  "ent": {"login": "admin.ent"}}}
        monkeypatch.setenv(f"SACOCHE_{school.base}_PASSWORD", school.sacoche_admin_password)
    return load_config(REPO / "config.example.yaml", overrides={
        "sites": {"sacoche": {"url": sims.sacoche_url}, "ent": {"url": sims.ent_url}},
        "paths": {"state_dir": str(tmp_path / "state"), "recordings_dir": str(tmp_path / "recordings")},
        "schools": schools})


def test_one_schools_bug_fails_that_school_only_with_its_report_and_log(config, sims, capfd):
    buggy = Faulty("124", KeyError("oubli"))
    outcomes = in_thread(run_schools, config, ["123", "124", "125"], [SacocheAuthMode(), buggy], RunOptions(quiet=False))
    by_school = {o.school: o for o in outcomes}
    assert by_school["123"].status == "success" and by_school["125"].status == "success"
    failed = by_school["124"]
    assert failed.exit_code == ExitStatus.FLOW_FAILED
    step = failed.run.flows[-1]
    assert step.status == "failed" and "Erreur interne du bot (KeyError)" in step.summary
    run_dir = Path(failed.run.run_dir)
    assert json.loads((run_dir / "report.json").read_text())["status"] == "failed"
    assert (run_dir / "report.html").is_file()
    log = (run_dir / "erreur-interne.log").read_text()
    assert "KeyError: 'oubli'" in log and "Traceback" in log
    assert buggy.runs == 3                     # once per school: a bug is not retried
    shown = capfd.readouterr()
    assert "Traceback" not in shown.out + shown.err
    state = sim_state(sims)["schools"]
    assert all(state[school]["params"]["connexion_mode"] == "cas" for school in ("123", "124", "125"))


def test_a_bare_assert_in_a_step_is_a_bug_not_a_passing_fault(config, capfd):
    flow = Faulty("123", AssertionError("impossible"))
    run = in_thread(run_school, config, "123", [flow], RunOptions(quiet=True))
    assert flow.runs == 1 and run.exit_code == ExitStatus.FLOW_FAILED
    assert "Erreur interne du bot (AssertionError)" in run.flows[0].summary
    assert not run.flows[0].details.get("notes")          # no "Essai 1 en échec … nouvel essai"
    assert "Traceback" not in "".join(capfd.readouterr())


def test_a_full_disk_during_a_step_or_for_the_report_ends_cleanly_journal_intact(config, monkeypatch):
    flow = Faulty("123", OSError(errno.ENOSPC, "No space left on device", "/var/recordings/x.png"))
    run = in_thread(run_school, config, "123", [flow], RunOptions(quiet=True))
    assert run.exit_code == ExitStatus.FLOW_FAILED and flow.runs == 1
    assert run.flows[0].summary.startswith("Écriture impossible sur ce poste (No space left on device")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(report, "write_json", full)
    ok = in_thread(run_school, config, "123", [SacocheAuthMode()], RunOptions(quiet=True))
    assert ok.flows[0].status == "done" and ok.exit_code == ExitStatus.FLOW_FAILED
    assert ok.write_failures == ["le rapport report.json : No space left on device"]
    journal = json.loads((Path(config.paths.state_dir) / "journal" / "123.json").read_text())
    assert journal["flows"]["sacoche-auth-mode"]["status"] == "done"
