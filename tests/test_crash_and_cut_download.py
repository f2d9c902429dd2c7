"""Two faults the bot cannot repair by itself, which must end cleanly and then be resumed: the
browser killed in the middle of a wizard, and the ENT export cut short."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from conftest import REPO, ent_state, post_json, sim_state


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def test_a_browser_killed_mid_wizard_fails_cleanly_and_the_rerun_completes(sims, school):
    # Slow down step 41 of the students' wizard so the test can kill Chromium during it.
    post_json(sims.sacoche_url + "_sim/faults", {"delay": [
        {"page": "administrateur_fichier_user", "times": 1, "seconds": 6,
         "form": {"f_step": "41", "f_action": "siecle_eleves_oui"}}]})
    command = [sys.executable, "-m", "bot", "full-onboarding", "--school", "123", "--json", "--only",
               "sacoche-auth-mode,sacoche-import-teachers,sacoche-import-students", "--config", str(school.config_path)]
    bot = subprocess.Popen(command, cwd=REPO, env=school.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not sim_state(sims)["schools"]["123"]["params"].get("date_last_import_professeurs"):
        assert time.monotonic() < deadline and bot.poll() is None, "the teachers' import never finished"
        time.sleep(0.2)
    time.sleep(2)   # the students' wizard is now waiting on its slow step 41
    browsers = [pid for pid in descendants(bot.pid)
                if "chrom" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")]
    assert browsers
    for pid in browsers:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    out, err = bot.communicate(timeout=120)
    assert bot.returncode == 3, err[-2000:]
    assert '"status": "failed"' in out and "sacoche-import-students" in out

    rerun = school("full-onboarding", "--school", "123", "--json", "--only",
                   "sacoche-auth-mode,sacoche-import-teachers,sacoche-import-students")
    assert rerun.code == 0, rerun.stdout[-2000:]
    statuses = {flow["name"]: flow["status"] for flow in rerun.report["flows"]}
    assert statuses["sacoche-import-teachers"] == "skipped" and statuses["sacoche-import-students"] == "done"
    students = [u for u in sim_state(sims)["schools"]["123"]["users"] if u["profil"] == "ELV" and not u["sortie"]]
    wanted = [s.eleve_id for s in sims.school_data.students if s.division and not s.date_sortie]
    assert Counter(u["sconet_id"] for u in students) == Counter(wanted)


def test_an_ent_export_cut_short_fails_cleanly_then_succeeds(sims, school):
    post_json(sims.ent_url + "_sim/faults", {"csv_truncate": 150})
    cut = school("run", "ent-accounts-export", "--school", "123", "--json")
    assert cut.code == 3
    summary = cut.report["flows"][0]["details"]["summary"]
    assert summary.startswith("Extraction CSV de l'ENT")
    post_json(sims.ent_url + "_sim/faults", {})
    whole = school("run", "ent-accounts-export", "--school", "123", "--json")
    assert whole.code == 0
    assert whole.report["flows"][0]["details"]["verified"]["comptes"] == len(ent_state(sims)["accounts"]) - 1
