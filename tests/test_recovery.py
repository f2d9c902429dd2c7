"""Recovery: a flow that fails for a passing reason (server error, lost session, slow site) is
run again from its start, boundedly, and leaves SACoche exactly as the files say; a failure that
lasts ends cleanly (exit 3) and a later run succeeds."""
from __future__ import annotations

from collections import Counter

import pytest

from conftest import choose_college_levels, post_json, sim_state
from sim import datagen

TEACHER_PROFILES = {"ENS", "DIR", "EDU", "DOC"}


@pytest.fixture(autouse=True)
def levels_chosen(sims):
    choose_college_levels(sims)


def fault(sims, **rules) -> None:
    post_json(sims.sacoche_url + "_sim/faults", rules)


def teachers_once(sims) -> None:
    data = sims.school_data
    kept = [m.sts_id for m in data.staff if m.fonction in datagen.KEPT_FUNCTIONS]
    accounts = [u for u in sim_state(sims)["schools"]["123"]["users"] if u["profil"] in TEACHER_PROFILES | {"LAB"}]
    assert Counter(u["sconet_id"] for u in accounts) == Counter(kept)


# Step 52 of every wizard is in the fault matrix (test_fault_matrix.py); these are the steps after
# the accounts were written, where only the memberships are left to do.
@pytest.mark.parametrize("kind, step", [("http_500", "61"), ("expire_session", "62")])
def test_a_cut_wizard_is_restarted_and_adds_nobody_twice(sims, school, kind, step):
    fault(sims, **{kind: [{"page": "administrateur_fichier_user", "times": 1,
                           "form": {"f_step": step, "f_action": "siecle_professeurs_directeurs_oui"}}]})
    result = school("run", "sacoche-import-teachers", "--school", "123", "--json")
    assert result.code == 0, result.stdout[-2000:]
    notes = result.report["flows"][0]["details"]["notes"]
    assert any(note.startswith("Essai 1 en échec") for note in notes)
    teachers_once(sims)
    state = sim_state(sims)["schools"]["123"]
    assert any(u["pp"] for u in state["users"])       # the memberships of step 62 are there too


def test_a_lasting_failure_ends_cleanly_then_a_rerun_succeeds(sims, school):
    fault(sims, http_500=[{"page": "administrateur_fichier_user", "times": 3,
                           "form": {"f_step": "20", "f_action": "siecle_professeurs_directeurs_oui"}}])
    failed = school("run", "sacoche-import-teachers", "--school", "123", "--json")
    assert failed.code == 3
    flow = failed.report["flows"][0]
    assert flow["status"] == "failed" and "étape 20" in flow["details"]["summary"]
    assert sim_state(sims)["schools"]["123"]["groups"] == []      # nothing half-written
    again = school("run", "sacoche-import-teachers", "--school", "123", "--json")
    assert again.code == 0
    teachers_once(sims)


def test_a_slow_site_is_waited_for_not_slept_on(sims, school):
    fault(sims, delay=[{"page": "administrateur_etabl_connexion", "times": 5, "seconds": 2},
                       {"page": "public_accueil", "times": 20, "seconds": 1}])
    result = school("run", "sacoche-auth-mode", "--school", "123", "--json")
    assert result.code == 0, result.stdout[-2000:]
    assert result.report["flows"][0]["status"] == "done"
    assert sim_state(sims)["schools"]["123"]["params"]["connexion_mode"] == "cas"
