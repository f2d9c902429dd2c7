"""full-onboarding: the whole guide in one command, resumable, selectable, several schools;
checked against both simulators' state."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path

from conftest import (DEMO, REPO, choose_college_levels, command_line, descendants, ent_state, get_json, otp_command,
                      post_json, sim_state)
from bot.browser import SYSTEM_CHROMIUM
from sim import datagen
from sim.arena.app import DEMO_ARENA
from sim.ent.seed import DEMO_ENT_ADMIN, demo_password
from sim.seed import DEMO_SCHOOLS

ALL_FLOWS = ["arena-exports", "ent-accounts-export", "sacoche-auth-mode", "sacoche-class-levels", "sacoche-import-teachers", "sacoche-import-students",
             "sacoche-import-parents", "sacoche-ent-ids", "ent-sacoche-link", "sso-check"]
YEAR = date.today().year if date.today().month >= 8 else date.today().year - 1


def onboard(bot, *extra: str, code: int = 0) -> dict:
    result = bot("full-onboarding", "--school", "123", "--json", *extra)
    assert result.code == code, result.stdout[-3000:] + result.stderr[-3000:]
    return result.report


def statuses(report: dict) -> dict:
    return {flow["name"]: flow["status"] for flow in report["flows"]}


def users(state: dict, profiles: set[str]) -> list[dict]:
    return [u for u in state["users"] if u["profil"] in profiles and not u["sortie"]]


def trace_events(path: Path) -> Counter:
    """The kinds of events a Playwright trace archive holds (actions, DOM snapshots, screencast frames)."""
    with zipfile.ZipFile(path) as archive:
        lines = b"\n".join(archive.read(name) for name in archive.namelist() if name.endswith(".trace"))
    return Counter(json.loads(line)["type"] for line in lines.splitlines() if line.strip())


def test_full_onboarding_agrees_with_both_sites_then_skips_what_is_done(sims, school):
    report = onboard(school)
    assert report["status"] == "success"
    assert list(statuses(report)) == ALL_FLOWS
    state = sim_state(sims)["schools"]["123"]
    counts = report["counts"]
    assert counts["students_users_added"] == len(users(state, {"ELV"}))
    assert counts["parents_users_added"] == len(users(state, {"TUT"}))
    assert counts["teachers_users_added"] == len(users(state, {"ENS", "DIR", "EDU", "DOC"}))
    # The import sets the ids; the homonyms it refuses are settled one by one on their dialog.
    assert counts["homonyms_resolved"] == counts["homonyms"] > 0
    assert counts["ent_ids_set"] + counts["homonyms_resolved"] == sum(1 for u in state["users"] if u["id_ent"])
    sacoche_app = next(app for app in ent_state(sims)["apps"] if app["kind"] == "sacoche")
    assert {row["value"] for row in sacoche_app["links"]} == {"123"}
    run_dir = Path(report["run_dir"])
    assert (run_dir / "report.html").is_file()
    # --tracing retain-on-failure (the default): a run where every step succeeded keeps no trace,
    # and every step has its screenshot, the visible window.
    assert not list(run_dir.glob("*.trace.zip"))
    # One SACoche session for the whole run, and its login form opened early enough that
    # SACoche's 2-second delay never refused it ("too_early"); the SSO checks are the ENT
    # users' own logins through CAS.
    assert sim_state(sims)["logins"] == {"normal": 1, "cas": len(school.config_data["schools"]["123"]["sso_check"])}
    # ARENA, not needed (the config names the files), opened no page: no blank screenshot, and why.
    arena, *others = report["flows"]
    assert all(flow["screenshot"] and (run_dir / flow["screenshot"]).is_file() for flow in others)
    assert arena["screenshot"] is None and arena["screenshot_missing"].startswith("ARENA n'a pas été ouvert")
    assert (arena["status_label"], others[0]["status_label"], others[-1]["status_label"]) == (
        "pas nécessaire", "téléchargé et vérifié", "vérifié")
    # Every key reaching report.html is worded; its files and the forecast's figures are there.
    from bot.report_html import unlabelled
    assert unlabelled(report) == set()
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "identifiants à poser" in page and 'href="identifiants_ent_prevision.json"' in page
    assert 'href="identifiants_ent_rapport.html"' in page and ">Fichiers utilisés<" in page
    # The journal holds outcomes, never a secret.
    journal = (school.tmp_path / "state" / "journal" / "123.json").read_text(encoding="utf-8")
    assert json.loads(journal)["flows"]["sso-check"]["status"] == "unchanged"   # read-only: nothing changed
    assert DEMO.sacoche_admin_password not in journal and DEMO_ENT_ADMIN[1] not in journal

    again = onboard(school)
    assert set(statuses(again).values()) == {"skipped"}
    # Said as done then, with nothing changed since; what it did then is kept apart.
    ids = next(flow for flow in again["flows"] if flow["name"] == "sacoche-ent-ids")
    assert re.fullmatch(r"Fait le \d+ \w+ \d{4} à \d\d:\d\d ; entrées inchangées depuis : étape sautée "
                        r"\(--force pour la refaire\)\.", ids["details"]["summary"])
    assert ids["details"]["done_summary"].startswith(f"{counts['ent_ids_set']} identifiant(s) ENT posé(s)")
    assert sim_state(sims)["schools"]["123"]["users"] == state["users"]

    forced = onboard(school, "--force")
    # Run again, every flow finds everything in place: the parents' known rewrite (two
    # responsables of one rank) included, which is reported as such.
    assert statuses(forced) == {name: "unchanged" for name in ALL_FLOWS}
    parents = next(f for f in forced["flows"] if f["name"] == "sacoche-import-parents")
    assert any("même rang" in note for note in parents["details"]["notes"])
    assert any("Liens de responsabilités modifiés pour 1 élève" in line
               for step in parents["details"]["steps"] for line in step["lines"])
    after = sim_state(sims)["schools"]["123"]
    assert after["users"] == state["users"] and after["parent_links"] == state["parent_links"]
    assert after["groups"] == state["groups"] and after["levels"] == state["levels"]


def test_a_run_broken_in_the_students_wizard_resumes_without_duplicates(sims, school):
    # Step 61 comes after the accounts were created at step 52: the worst place to stop.
    post_json(sims.sacoche_url + "_sim/faults",
              {"http_500": [{"page": "administrateur_fichier_user", "times": 3,   # beyond the 2 retries
                            "form": {"f_step": "61", "f_action": "siecle_eleves_oui"}}]})
    broken = onboard(school, code=3)
    assert statuses(broken)["sacoche-import-students"] == "failed"
    assert "étape 61" in broken["flows"][-1]["details"]["summary"]
    # The failed step keeps its trace (retain-on-failure), and a screenshot of the whole page.
    run_dir = Path(broken["run_dir"])
    assert sorted(p.name for p in run_dir.glob("*.trace.zip")) == ["06-sacoche-import-students.trace.zip"]
    assert broken["flows"][-1]["details"]["trace"] == "06-sacoche-import-students.trace.zip"
    # It replays each action with the page's DOM before and after it; the strip of screenshots
    # is filmed with --tracing on only.
    events = trace_events(run_dir / "06-sacoche-import-students.trace.zip")
    assert events["before"] > 10 and events["frame-snapshot"] > 10 and events["screencast-frame"] == 0
    assert broken["flows"][-1]["screenshot"] == "06-sacoche-import-students-echec.png"
    assert "sacoche-ent-ids" not in statuses(broken)
    created = users(sim_state(sims)["schools"]["123"], {"ELV"})
    assert created   # half done: accounts exist, their groups do not

    resumed = onboard(school)
    assert resumed["status"] == "success"
    assert statuses(resumed)["sacoche-import-teachers"] == "skipped"
    assert statuses(resumed)["sacoche-import-students"] in ("done", "unchanged")
    state = sim_state(sims)["schools"]["123"]
    students = users(state, {"ELV"})
    data = sims.school_data
    wanted = {s.eleve_id: sorted(s.groups) for s in data.students if s.division and not s.date_sortie}
    assert Counter(u["sconet_id"] for u in students) == Counter(list(wanted))    # no duplicate, none missing
    assert {u["sconet_id"]: u["groupes"] for u in students} == wanted           # and the memberships are there


def test_the_full_chromium_that_headed_runs_take_gets_every_file_too(sims, school):
    # Headless runs take Chromium's headless shell; a headed one takes the full browser, whose
    # downloads differ: a tab opened for a file closes itself, an error page reloads itself.
    school.config_data.setdefault("browser", {})["executable"] = str(SYSTEM_CHROMIUM)
    school.write_config()
    post_json(sims.ent_url + "_sim/faults", {"go_away": [{"path": "/admin/comptes/extraction", "seconds": 1,
                                                          "times": 1, "label": "export"}]})
    report = onboard(school, "--only", "ent-accounts-export,sacoche-auth-mode,sacoche-class-levels,"
                                       "sacoche-import-teachers")
    assert statuses(report) == {"ent-accounts-export": "unchanged", "sacoche-auth-mode": "done",
                                "sacoche-class-levels": "done", "sacoche-import-teachers": "done"}
    export = report["flows"][0]
    assert "nouvel essai" in " ".join(export["details"]["notes"])   # the server was away: tried again
    assert [hit["kind"] for hit in get_json(sims.ent_url + "_sim/faults")["hits"]] == ["go_away"]
    state = sim_state(sims)["schools"]["123"]
    assert report["counts"]["teachers_users_added"] == len(users(state, {"ENS", "DIR", "EDU", "DOC"})) > 0
    # The new teachers' logins file, saved from the tab SACoche opens for it, is the server's own.
    server_files = {path.name: path.read_bytes() for path in (sims.state_dir / "login-mdp").glob("*.csv")}
    saved = {path.name: path.read_bytes() for path in Path(report["run_dir"]).rglob("identifiants_*.csv")}
    assert len(saved) == 1 and saved.items() <= server_files.items()


def test_only_and_from_do_what_they_say(sims, school):
    only = onboard(school, "--only", "sacoche-auth-mode,ent-sacoche-link")
    assert list(statuses(only)) == ["sacoche-auth-mode", "ent-sacoche-link"]
    assert sim_state(sims)["schools"]["123"]["params"]["connexion_mode"] == "cas"
    assert users(sim_state(sims)["schools"]["123"], {"ELV"}) == []
    choose_college_levels(sims)
    rest = onboard(school, "--only", "sacoche-import-teachers,sacoche-import-students",
                   "--from", "sacoche-import-students")
    assert list(statuses(rest)) == ["sacoche-import-students"]   # --from cuts what --only chose
    state = sim_state(sims)["schools"]["123"]
    assert users(state, {"ELV"}) and users(state, {"ENS"}) == []
    bad = school("full-onboarding", "--school", "123", "--from", "nowhere")
    assert bad.code == 2 and "--from : étape inconnue « nowhere »" in bad.stderr


def test_a_batch_of_three_schools_with_one_broken_file(sims, bot, tmp_path):
    flows = "sacoche-auth-mode,sacoche-class-levels,sacoche-import-teachers,sacoche-import-students"
    for school in DEMO_SCHOOLS:
        data = datagen.generate_school(datagen.SchoolSpec(uai=school.uai, year=YEAR, students=8, teachers=3,
                                                          seed=school.base))
        files = datagen.write_school_files(data, tmp_path / str(school.base))
        if school.base == 124:
            files["eleves"].write_bytes(b"<?xml version='1.0'?><BEE_ELEVES><PARAMETRES>")   # truncated export
        config = bot.config_data["schools"].setdefault(str(school.base), json.loads(json.dumps(
            bot.config_data["schools"]["123"])))
        config.update({"name": school.name, "uai": school.uai, "department": school.department,
                       "files": {key: str(path) for key, path in files.items()}})
        config["accounts"]["sacoche"] = {"login": school.sacoche_admin_login}
        bot.write_config()
        bot.store_password(school.sacoche_admin_password, school=str(school.base))
    result = bot("full-onboarding", "--all", "--only", flows, "--parallel", "2")
    assert result.code == 2, result.stderr
    table = result.stdout.split("\n")
    assert any(line.split()[:2] == ["123", "réussite"] for line in table)
    assert any(line.split()[:2] == ["125", "réussite"] for line in table)
    assert any(line.split()[:2] == ["124", "refusé"] for line in table)
    assert "Fichier SIECLE des élèves" in result.stderr
    state = sim_state(sims)["schools"]
    assert users(state["123"], {"ELV"}) and users(state["125"], {"ELV"})
    assert users(state["124"], {"ELV"}) == [] and state["124"]["params"]["connexion_mode"] == "normal"


def test_no_secret_in_any_artifact_of_a_filmed_run_nor_in_the_process_list(sims, school):
    """A whole run with --video and traces, ARENA's exports included: no password nor one-time
    passcode in the videos, traces (every member of the zips), screenshots, reports, journal,
    downloads, the bot's output, nor in the command line of any process it started (bot,
    Playwright's driver, Chromium), sampled all along."""
    school.config_data["schools"]["123"].pop("files")
    school.write_config()
    school.store_password(DEMO_ARENA[1], site="arena")
    otp_tool, codes_file = otp_command(school.tmp_path, wrong=0)
    secrets = [DEMO.sacoche_admin_password, DEMO_ENT_ADMIN[1], DEMO_ARENA[1],
               *(demo_password(u["login"]) for u in school.config_data["schools"]["123"]["sso_check"])]
    command = [sys.executable, "-m", "bot", "full-onboarding", "--school", "123", "--json", "--video",
               "--tracing", "on", "--config", str(school.config_path), "--otp-command", otp_tool]
    with open(school.tmp_path / "out.txt", "w") as out, open(school.tmp_path / "err.txt", "w") as err:
        bot = subprocess.Popen(command, cwd=REPO, env=school.env, stdout=out, stderr=err)
        command_lines = set()
        while bot.poll() is None:
            command_lines |= {line for pid in [bot.pid, *descendants(bot.pid)] if (line := command_line(pid))}
            time.sleep(0.05)
    output = (school.tmp_path / "out.txt").read_bytes() + (school.tmp_path / "err.txt").read_bytes()
    assert bot.returncode == 0, output[-3000:]
    assert any(b"chrom" in line for line in command_lines) and len(command_lines) >= 3
    for line in command_lines:
        for secret in secrets:
            assert secret.encode() not in line, f"{secret!r} in the command line {line[:200]!r}"

    report = json.loads((school.tmp_path / "out.txt").read_text())
    run_dir = Path(report["run_dir"])
    artifacts = [p for p in [*run_dir.rglob("*"), *(school.tmp_path / "state").rglob("*")] if p.is_file()]
    assert sum(p.name.endswith(".trace.zip") for p in artifacts) == len(ALL_FLOWS)
    assert trace_events(run_dir / "07-sacoche-import-parents.trace.zip")["screencast-frame"] > 0   # filmed with on
    videos = [p for p in artifacts if p.suffix == ".webm"]
    # The main page is filmed whole; the short ones are the tabs the credentials links open.
    assert videos and max(p.stat().st_size for p in videos) > 100_000
    blobs = [output]
    for path in artifacts:
        blobs.append(path.read_bytes())
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                blobs += [archive.read(name) for name in archive.namelist()]
    codes = codes_file.read_text().split()
    assert len(codes) == 1 and report["flows"][0]["counts"]["exports_downloaded"] == 3
    # A code is six digits: it counts only standing alone, not inside a longer number.
    code_alone = re.compile(b"|".join(rb"(?<!\d)" + code.encode() + rb"(?!\d)" for code in codes))
    for content in blobs:
        for secret in secrets:
            assert secret.encode() not in content
        assert not code_alone.search(content)
    assert len(blobs) > 100


def test_video_without_any_ffmpeg_is_refused_before_any_click(sims, school, tmp_path):
    # A PATH without ffmpeg and an empty Playwright registry: nothing can film.
    empty = tmp_path / "no-ffmpeg"
    empty.mkdir()
    env = {"PATH": f"{empty}:{Path(sys.executable).parent}", "PLAYWRIGHT_BROWSERS_PATH": str(empty),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    result = school("full-onboarding", "--school", "123", "--video", "--only", "sacoche-auth-mode", env=env)
    assert result.code == 2 and "La vidéo (--video) demande ffmpeg" in result.stderr
    assert sim_state(sims)["requests"] == 0 and ent_state(sims)["requests"] == 0
