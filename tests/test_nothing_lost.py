"""Nothing lost, nothing hung: two runs of one school at once, a bot killed (SIGKILL, SIGTERM)
right after the click that creates accounts, local folders that cannot be written, inputs that
would block or take forever, ambiguous configuration and archives, names that would act on the
screen, a browser that does not start, one school's bug in a batch, and passwords kept out of
child processes. Each test checks the simulators' state (nobody twice, nobody missing) or that
no request reached them, and that no traceback reached the terminal."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from conftest import DEMO, REPO, descendants, get_json, post_json, sim_state
from sim import datagen

STUDENTS_WRITE = {"page": "administrateur_fichier_user", "form": {"f_step": "52", "f_action": "siecle_eleves_oui"}}


def no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text, text[-2000:]


def users_once(state: dict, profiles: set[str]) -> list[dict]:
    users = [u for u in state["users"] if u["profil"] in profiles]
    ids = [u["sconet_id"] for u in users]
    assert len(ids) == len(set(ids)), "someone twice"
    return users


def popen_bot(bot, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bot", *args, "--config", str(bot.config_path)], cwd=REPO,
                            env=bot.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def wait_for(condition, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.1)


def delayed_in_flight(sims) -> bool:
    return bool(get_json(sims.sacoche_url + "_sim/faults").get("delaying"))


# One run per school ---------------------------------------------------------------------------------
def test_two_runs_on_one_school_one_is_refused_the_other_completes(school, sims):
    post_json(sims.sacoche_url + "_sim/faults", {"delay": [{**STUDENTS_WRITE, "times": 1, "seconds": 3}]})
    # SACoche's steps only: the users are what two runs at once would duplicate.
    first = popen_bot(school, "full-onboarding", "--school", "123", "--json", "--only",
                      "sacoche-auth-mode,sacoche-class-levels,sacoche-import-teachers,sacoche-import-students,"
                      "sacoche-import-parents")
    lock = school.tmp_path / "state" / "locks" / "123.lock"
    wait_for(lambda: lock.is_file() and lock.read_text(), "the first run holds the lock")
    second = school("full-onboarding", "--school", "123", "--json")
    assert second.code == 2, second.stdout + second.stderr
    assert "Une autre exécution du bot travaille déjà sur l'école 123" in second.stderr
    assert f"processus {first.pid}" in second.stderr and "full-onboarding" in second.stderr
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, out[-2000:] + err[-2000:]
    no_traceback(second.stderr, err)
    state = sim_state(sims)["schools"]["123"]
    data = sims.school_data
    assert len(users_once(state, {"ELV"})) == sum(1 for s in data.students if s.division and not s.date_sortie)
    assert len(users_once(state, {"TUT"})) == json.loads(out)["counts"]["parents_users_added"]


def test_a_lock_left_by_a_dead_run_is_taken_over_and_said(school, sims):
    lock = school.tmp_path / "state" / "locks" / "123.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text(json.dumps({"pid": 999999, "started": "2026-09-01T08:00:00", "command": "python -m bot run x"}))
    result = school("run", "sacoche-auth-mode", "--school", "123")
    assert result.code == 0, result.stderr
    assert "Verrou laissé par une exécution interrompue (processus 999999" in result.stderr
    assert sim_state(sims)["schools"]["123"]["params"]["connexion_mode"] == "cas"


def test_a_batch_naming_a_school_twice_is_refused_before_anything(school, sims):
    result = school("full-onboarding", "--school", "123", "--school", "124", "--school", "123")
    assert result.code == 2 and "nommée(s) deux fois dans --school : 123" in result.stderr
    assert sim_state(sims)["requests"] == 0


# Killed right after the click that creates accounts ----------------------------------------------------
@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
def test_killed_after_the_accounts_click_the_rerun_says_which_logins_were_lost(school, sims, stop):
    post_json(sims.sacoche_url + "_sim/faults", {"delay": [{**STUDENTS_WRITE, "times": 1, "seconds": 4}]})
    # The steps up to the students' import (those after it play no part here).
    up_to_students = ("--only", "sacoche-auth-mode,sacoche-class-levels,sacoche-import-teachers,sacoche-import-students")
    run = popen_bot(school, "full-onboarding", "--school", "123", "--json", *up_to_students)
    wait_for(lambda: delayed_in_flight(sims), "step 52 of the students' wizard is under way")
    if stop == signal.SIGKILL:
        os.killpg(run.pid, signal.SIGKILL)            # the bot, its driver and Chromium at once
    else:
        os.kill(run.pid, signal.SIGTERM)              # like a service manager stopping it
    out, err = run.communicate(timeout=120)
    if stop == signal.SIGTERM:
        assert run.returncode == 130 and "Interrompu" in err
        no_traceback(out, err)
    for pid in descendants(run.pid):
        with __import__("contextlib").suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    # The server finishes the step it had received: the accounts exist, their passwords were never shown.
    data = sims.school_data
    students = sum(1 for s in data.students if s.division and not s.date_sortie)
    wait_for(lambda: len([u for u in sim_state(sims)["schools"]["123"]["users"] if u["profil"] == "ELV"]) == students,
             "the students were created by the request in flight")
    again = school("full-onboarding", "--school", "123", "--json", *up_to_students)
    assert again.code == 0, again.stdout[-2000:] + again.stderr[-2000:]
    no_traceback(again.stderr)
    flow = next(f for f in again.report["flows"] if f["name"] == "sacoche-import-students")
    lost = next(group for group in flow["details"]["by_hand"] if group["label"].startswith("Identifiants jamais"))
    assert lost["items"][0].startswith(f"{students} compte(s) créé(s)"), lost
    assert "régénérez leurs mots de passe" in lost["label"]
    state = sim_state(sims)["schools"]["123"]
    assert len(users_once(state, {"ELV"})) == students


# The local side ----------------------------------------------------------------------------------------
def test_unusable_local_folders_are_refused_before_any_click(school, sims, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for key, value, expected in (("state_dir", str(blocker), "n'est pas un dossier"),
                                 ("recordings_dir", str(blocker / "below"), "impossible d'y écrire")):
        school.config_data["paths"][key] = value
        school.write_config()
        result = school("full-onboarding", "--school", "123")
        assert result.code == 2 and expected in result.stderr, result.stderr
        no_traceback(result.stderr)
        school.config_data["paths"][key] = str(tmp_path / key)
    school.config_data["paths"]["min_free_mb"] = 10 ** 6
    school.write_config()
    full = school("full-onboarding", "--school", "123")
    assert full.code == 2 and "Mo libres sur ce disque" in full.stderr
    assert sim_state(sims)["requests"] == 0


def test_a_browser_that_will_not_start_is_refused_cleanly(school, sims, tmp_path):
    hangs = tmp_path / "hangs.sh"
    hangs.write_text("#!/bin/sh\nexec sleep 600\n")
    hangs.chmod(0o755)
    for executable in ("/bin/false", str(hangs)):
        school.config_data["browser"] = {"executable": executable, "launch_timeout_ms": 3000}
        school.write_config()
        result = school("run", "sacoche-auth-mode", "--school", "123")
        assert result.code == 2, result.stderr
        assert "ne démarre pas" in result.stderr
        no_traceback(result.stderr)
    assert sim_state(sims)["requests"] == 0


# Bounded, unambiguous inputs ----------------------------------------------------------------------------
def test_special_files_never_block_and_bad_csvs_name_their_line(school, sims, tmp_path):
    fifo = tmp_path / "sts_emp_0341234G_2026.xml"
    os.mkfifo(fifo)
    school.config_data["schools"]["123"]["files"]["sts"] = str(fifo)
    school.write_config()
    result = school("check-files", "--school", "123")
    assert result.code == 2 and "tube nommé (FIFO)" in result.stderr
    header = "Extraction des comptes ENT\r\nuid;profil;nom;prenom;classe\r\n"
    good = "abernard1;Eleve;BERNARD;Léa;3A\r\ncmartin1;Enseignant;MARTIN;Claire;\r\nsbernard1;Parent;BERNARD;Sophie;\r\n"
    cases = {
        "dev-zero": (Path("/dev/zero"), "périphérique"),
        "bare-cr": ((header + good + "zz1;Eleve;DUPONT\rDURAND;Paul;\r\n").encode(), "ligne 6 (un retour chariot"),
        "huge-field": ((header + good + 'zz2;Eleve;"' + "X" * 140_000 + '";Y;\r\n').encode(), "ligne 6 (un champ démesuré"),
    }
    for name, (content, expected) in cases.items():
        path = content if isinstance(content, Path) else tmp_path / f"{name}.csv"
        if not isinstance(content, Path):
            path.write_bytes(content)
        school.config_data["schools"]["123"]["files"] = {"ent": str(path)}
        school.write_config()
        result = school("run", "sacoche-ent-ids", "--school", "123")
        assert result.code == 2, (name, result.stderr)
        assert expected in result.stderr, (name, result.stderr)
        no_traceback(result.stderr)
    assert sim_state(sims)["requests"] == 0


def test_a_huge_comment_is_read_in_bounded_time_and_a_doubled_zip_member_refused(school, sims, tmp_path):
    files = school.config_data["schools"]["123"]["files"]
    sts = Path(files["sts"])
    text = sts.read_bytes().replace(b"<PARAMETRES>", b"<!--" + b"x" * 30_000_000 + b"--><PARAMETRES>", 1)
    bomb = tmp_path / "bomb" / (sts.stem + ".zip")
    bomb.parent.mkdir()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(sts.name, text)
    assert bomb.stat().st_size < 100_000      # a tiny archive: 30 MB of comment inside
    school.config_data["schools"]["123"]["files"] = {"sts": str(bomb)}
    school.write_config()
    result = school("check-files", "--school", "123")   # the harness's own timeout bounds it
    assert result.code == 0, result.stderr
    assert "10 personnels enseignants" in result.stdout

    doubled = tmp_path / "doubled" / (sts.stem + ".zip")
    doubled.parent.mkdir()
    with zipfile.ZipFile(doubled, "w") as archive, pytest.warns(UserWarning):
        archive.writestr(sts.name, sts.read_bytes())
        archive.writestr(sts.name, b"<STS_EDT/>")
    school.config_data["schools"]["123"]["files"] = {"sts": str(doubled)}
    school.write_config()
    result = school("check-files", "--school", "123")
    assert result.code == 2 and "deux fichiers du même nom" in result.stderr
    assert sim_state(sims)["requests"] == 0


def test_a_key_given_twice_in_the_config_is_refused_naming_both_lines(school, sims):
    text = school.config_path.read_text(encoding="utf-8")
    url_line = next(line for line in text.splitlines() if line.strip().startswith("url: http"))
    school.config_path.write_text(text.replace(url_line, f"{url_line}\n{url_line.replace('127.0.0.1', 'localhost')}", 1),
                                  encoding="utf-8")
    result = school("run", "sacoche-auth-mode", "--school", "123")
    assert result.code == 2
    assert "clé « url » donnée deux fois (lignes" in result.stderr
    assert sim_state(sims)["requests"] == 0


def test_control_and_bidi_characters_are_shown_neutralised(school, sims, tmp_path):
    assert school("run", "sacoche-auth-mode", "--school", "123").code == 0
    evil = "EVIL\u202eTXT.EXE\x1b[2J"
    export = tmp_path / "ent.csv"
    export.write_bytes(("Extraction des comptes ENT\r\nuid;profil;nom;prenom;classe\r\n"
                        f"zz1;Eleve;{evil};Paul;3A\r\nzz2;Enseignant;MARTIN;Claire;\r\nzz3;Parent;BERNARD;Sophie;\r\n")
                       .encode("utf-8"))
    school.config_data["schools"]["123"]["files"] = {"ent": str(export)}
    school.write_config()
    for extra in ((), ("--json",)):
        result = school("run", "sacoche-ent-ids", "--school", "123", *extra)
        assert result.code == 0, result.stderr
        shown = result.stdout + result.stderr
        assert "\u202e" not in shown and "\x1b" not in shown
        assert ("EVIL⟨U+202E⟩TXT.EXE⟨U+001B⟩[2J" if not extra else "EVIL\\u202eTXT.EXE\\u001b[2J") in shown, shown
    run_dir = Path(result.report["run_dir"])
    for name in ("report.html", "identifiants_ent_rapport.html"):
        page = (run_dir / name).read_text(encoding="utf-8")
        assert "\u202e" not in page and "\x1b" not in page, name
    # The bot's report names the line as the export writes it; SACoche's own report names it as
    # SACoche cleaned it (control characters dropped, a character outside Latin-1 made a "Z").
    assert "EVIL⟨U+202E⟩TXT.EXE⟨U+001B⟩[2J" in (run_dir / "report.html").read_text(encoding="utf-8")
    assert "EVILZTXT.EXE[2J" in (run_dir / "identifiants_ent_rapport.html").read_text(encoding="utf-8")


# One school's bug, and secrets in child processes -------------------------------------------------------------
def test_passwords_from_the_environment_never_reach_child_processes(school, sims):
    secret = DEMO.sacoche_admin_password
    school.config_data["schools"]["123"]["accounts"]["sacoche"]["password_env"] = "SACOCHE_123_PASSWORD"
    school.write_config()
    env = {**school.env, "SACOCHE_123_PASSWORD": secret}
    run = subprocess.Popen([sys.executable, "-m", "bot", "run", "sacoche-auth-mode", "--school", "123", "--config",
                            str(school.config_path)], cwd=REPO, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    environments = []
    while run.poll() is None:
        for pid in descendants(run.pid):
            with __import__("contextlib").suppress(OSError):
                environments.append(Path(f"/proc/{pid}/environ").read_bytes())
        time.sleep(0.05)
    run.communicate()
    assert run.returncode == 0
    assert len(environments) > 3                     # the driver and Chromium's processes were seen
    assert all(secret.encode() not in environ and b"SACOCHE_123_PASSWORD" not in environ for environ in environments)
