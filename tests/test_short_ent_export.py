"""An ENT export that arrives whole but short (the server stopped writing it): no transfer error
for the browser to see, so the bot's own checks of the file must refuse it, cleanly. (A browser
killed in the middle of any step is in the fault matrix, test_fault_matrix.py.)"""
from __future__ import annotations

from conftest import ent_state, post_json


def test_an_ent_export_cut_short_fails_cleanly_then_succeeds(sims, school):
    post_json(sims.ent_url + "_sim/faults", {"csv_truncate": 150})
    cut = school("run", "ent-accounts-export", "--school", "123", "--json")
    assert cut.code == 3
    summary = cut.report["flows"][0]["details"]["summary"]
    assert summary.startswith("Extraction CSV de l'ENT")
    post_json(sims.ent_url + "_sim/faults", {})
    whole = school("run", "ent-accounts-export", "--school", "123", "--json")
    assert whole.code == 0
    assert whole.report["flows"][0]["details"]["verified"]["accounts"] == len(ent_state(sims)["accounts"]) - 1
