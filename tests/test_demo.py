"""The README's main command: the demo runs everything against fresh simulators."""
from __future__ import annotations

import json
from pathlib import Path

from conftest import Bot


def test_demo_runs_every_flow_and_succeeds(tmp_path):
    bot = Bot(tmp_path, sims=None)
    result = bot("demo", "--json", config=False)
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "success"
    assert [f["name"] for f in report["flows"]] == [
        "arena-exports", "ent-accounts-export", "sacoche-auth-mode", "sacoche-class-levels", "sacoche-import-teachers",
        "sacoche-import-students", "sacoche-import-parents", "sacoche-ent-ids", "ent-sacoche-link", "sso-check"]
    assert report["flows"][2]["details"]["verified"]["mode_after_reload"] == "cas~34|esup_montpellier"
    # The demo's school starts as a new one: no class level; the bot chose the four it needs.
    assert report["flows"][3]["counts"] == {"levels_added": 4}
    assert len(report["flows"][-1]["details"]["verified"]["connected_users"]) == 3
    read_only = {"arena-exports", "ent-accounts-export", "sso-check"}   # they change nothing, whatever they find
    assert {f["name"]: f["status"] for f in report["flows"]} == {
        f["name"]: "unchanged" if f["name"] in read_only else "done" for f in report["flows"]}
    assert report["counts"]["students_users_added"] > 0
    assert "Simulateurs démarrés" in result.stderr
    # The imports were fed from what ARENA gave, listed with their fingerprints.
    arena = report["flows"][0]
    assert arena["counts"]["exports_downloaded"] == 3
    assert all(len(fact["sha256"]) == 64 for fact in arena["details"]["files"].values())
    assert report["flows"][5]["details"]["file"].endswith("ExportXML_ElevesSansAdresses.zip")
    # What support staff read: every key worded, the files used (ARENA's, the ENT's), the forecast.
    from bot.report_html import unlabelled
    assert unlabelled(report) == set()
    assert {item["copied"].split("/")[0] for item in report["inputs"]} == {"arena", "extraction_comptes_0341234G.csv"}
    page = (Path(report["run_dir"]) / "report.html").read_text(encoding="utf-8")
    assert "identifiants à poser" in page and "PARIS Leo (élève)" in page
