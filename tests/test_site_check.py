"""When a site changes: `check-site` visits each site's pages without writing and names every
landmark (element id, option, AJAX endpoint, label) that is missing; `full-onboarding` runs the
same checks first and stops before any write; a page changed under a flow fails at once, never
retried as a passing fault. Pages are changed on purpose with the simulators' `rename` fault."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import arena_state, ent_state, get_json, otp_command, post_json, sim_state
from sim.arena.app import DEMO_ARENA

VOLATILE = {"requests", "logins", "faults", "labels", "hits", "delaying", "sessions", "tickets"}   # logging in is no write


def written(state: dict) -> dict:
    """A simulator's state without what reading it changes (request counts, sessions)."""
    return {key: value for key, value in state.items() if key not in VOLATILE}


def site_states(sims) -> tuple:
    return written(sim_state(sims)), written(ent_state(sims)), arena_state(sims)["downloads"]


@pytest.fixture
def every_site_school(school, tmp_path):
    """School 123 with ARENA's account too (its files stay named: ARENA is only visited)."""
    school.store_password(DEMO_ARENA[1], site="arena")
    command, _ = otp_command(tmp_path, wrong=0)
    school.otp = command
    return school


def test_check_site_finds_every_landmark_of_the_three_sites_and_writes_nothing(sims, every_site_school):
    before = site_states(sims)
    result = every_site_school("check-site", "--school", "123", "--json", "--otp-command", every_site_school.otp)
    assert result.code == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(result.stdout)
    sites = {site["site"]: site for site in report["sites"]}
    assert list(sites) == ["arena", "ent", "sacoche"] and report["ok"]
    for site in sites.values():
        assert site["ok"] and site["landmarks"] and all(mark["present"] for mark in site["landmarks"]), site
    pages = {mark["page"] for mark in sites["sacoche"]["landmarks"]}
    assert {"Importer des fichiers d'utilisateurs", "Mode d'identification / Connecteur ENT", "Niveaux",
            "Importer / Imposer des identifiants", "Accueil (formulaire de connexion)"} <= pages
    assert sites["sacoche"]["version"] == "2017-09-19" and "vérifiée le" in sites["sacoche"]["version_note"]
    assert any("ajax.php?page=administrateur_fichier_user" in mark["landmark"] for mark in sites["sacoche"]["landmarks"])
    # Nothing was written on any site (nothing downloaded from ARENA either), and no run folder.
    assert site_states(sims) == before
    assert not list((every_site_school.tmp_path / "recordings").rglob("report.json"))
    text = every_site_school("check-site", "--school", "123", "--site", "sacoche")
    assert text.code == 0 and "Version de SACoche : 2017-09-19" in text.stdout and "ABSENT" not in text.stdout


def test_a_renamed_sacoche_id_is_named_and_full_onboarding_stops_before_any_write(sims, every_site_school):
    post_json(sims.sacoche_url + "_sim/faults", {"rename": [
        {"page": "administrateur_fichier_user", "from": 'id="f_choix_principal"', "to": 'id="f_choix_v2"'}]})
    before = site_states(sims)
    check = every_site_school("check-site", "--school", "123", "--site", "sacoche")
    assert check.code == 4, check.stdout[-3000:] + check.stderr[-3000:]
    assert "Importer des fichiers d'utilisateurs" in check.stdout and "#f_choix_principal introuvable" in check.stdout
    run = every_site_school("full-onboarding", "--school", "123", "--json")
    assert run.code == 4, run.stdout[-3000:] + run.stderr[-3000:]
    # SACoche's pages are checked before its first step: only the ENT's export (a read) ran.
    assert [flow["name"] for flow in run.report["flows"]] == ["arena-exports", "ent-accounts-export", "site-check"]
    step = run.report["flows"][-1]
    assert step["status"] == "mismatch" and "#f_choix_principal" in step["details"]["summary"]
    assert "Rien n'a été écrit sur ce site" in step["details"]["what_to_do"]
    assert (Path(run.report["run_dir"]) / step["screenshot"]).is_file()
    assert site_states(sims) == before
    # The journal holds no SACoche step, so the next run starts SACoche from its beginning.
    journal = json.loads((every_site_school.tmp_path / "state" / "journal" / "123.json").read_text())
    assert not [name for name in journal["flows"] if name.startswith("sacoche")]
    assert journal["facts"]["site_versions"] == {"sacoche": "2017-09-19"}


def test_a_renamed_ent_label_is_named_then_a_label_override_passes(sims, every_site_school):
    post_json(sims.ent_url + "_sim/faults", {"rename": [
        {"path": "/admin/comptes", "from": "Rechercher", "to": "Lancer la recherche"}]})
    before = site_states(sims)
    check = every_site_school("check-site", "--school", "123", "--site", "ent", "--json")
    assert check.code == 4
    ent = json.loads(check.stdout)["sites"][0]
    missing = [mark for mark in ent["landmarks"] if not mark["present"]]
    assert missing == [{"page": "Administration des comptes", "landmark": "bouton « Rechercher »", "present": False,
                        "hint": "sites.ent.labels.accounts.search"}]
    every_site_school.config_data["sites"]["ent"]["labels"] = {"accounts": {"search": "Lancer la recherche"}}
    every_site_school.write_config()
    again = every_site_school("check-site", "--school", "123", "--site", "ent")
    assert again.code == 0, again.stdout[-3000:]
    assert site_states(sims) == before


def test_an_unreachable_site_is_said_and_the_others_are_still_checked(sims, every_site_school):
    every_site_school.config_data["sites"]["ent"]["url"] = "http://127.0.0.1:9/"   # nothing listens there
    every_site_school.write_config()
    post_json(sims.sacoche_url + "_sim/faults", {"version": "2099-01-01"})
    before = site_states(sims)
    check = every_site_school("check-site", "--school", "123", "--site", "ent")
    assert check.code == 4 and "NON VÉRIFIÉ" in check.stdout and "Traceback" not in check.stderr
    whole = every_site_school("check-site", "--school", "123", "--json", "--otp-command", every_site_school.otp)
    sites = {site["site"]: site for site in json.loads(whole.stdout)["sites"]}
    assert whole.code == 4 and sites["ent"]["problem"] and not sites["ent"]["ok"]
    # Another SACoche release is a warning, not a refusal: its pages have every landmark.
    assert sites["sacoche"]["ok"] and sites["sacoche"]["version"] == "2099-01-01"
    assert "jamais vérifiée" in sites["sacoche"]["version_note"]
    assert sites["arena"]["ok"]
    assert site_states(sims)[0] == before[0] and site_states(sims)[2] == before[2]


def test_a_page_changed_under_a_flow_fails_at_once_and_is_not_retried(sims, every_site_school):
    # The search's results (not opened by the run's pre-check): the export control renamed.
    post_json(sims.ent_url + "_sim/faults", {"rename": [
        {"path": "/admin/comptes", "query": {"rechercher": "1"}, "from": "Extraction CSV Complète des identifiants",
         "to": "Exporter les identifiants", "label": "changed"}]})
    before = site_states(sims)
    result = every_site_school("run", "ent-accounts-export", "--school", "123", "--json")
    assert site_states(sims) == before
    assert result.code == 3, result.stdout[-3000:] + result.stderr[-3000:]
    flow = result.report["flows"][0]
    assert flow["status"] == "failed"
    assert "Administration des comptes (résultats)" in flow["details"]["summary"]
    assert "Extraction CSV Complète des identifiants" in flow["details"]["summary"]
    assert "relancer ne changera rien" in flow["details"]["what_to_do"]
    assert "sites.ent.labels.accounts.export" in flow["details"]["what_to_do"]
    assert not flow["details"].get("notes")   # no "Essai 1 en échec … nouvel essai"
    assert len(get_json(sims.ent_url + "_sim/faults")["hits"]) == 1   # one search: never retried
    assert (Path(result.report["run_dir"]) / flow["screenshot"]).is_file()


def test_a_run_checks_the_pages_of_its_own_steps_only(sims, school):
    # The levels page changed: the run of the auth-mode step alone neither visits nor needs it.
    post_json(sims.sacoche_url + "_sim/faults", {"rename": [
        {"page": "administrateur_etabl_niveau", "from": 'id="f_famille"', "to": 'id="f_famille_v2"'}]})
    result = school("run", "sacoche-auth-mode", "--school", "123", "--json")
    assert result.code == 0, result.stdout[-3000:] + result.stderr[-3000:]
    pages = {mark["page"] for site in result.report["sites"] for mark in site["landmarks"]}
    assert pages == {"Accueil (formulaire de connexion)", "Mode d'identification / Connecteur ENT"}
    assert sim_state(sims)["schools"]["123"]["params"]["connexion_mode"] == "cas"
    # check-site visits every page, and names what the run did not need.
    check = school("check-site", "--school", "123", "--site", "sacoche")
    assert check.code == 4 and "select#f_famille introuvable" in check.stdout, check.stdout[-3000:]
    # The same step again within minutes: its pages passed, they are not visited again.
    again = school("run", "sacoche-auth-mode", "--school", "123", "--json")
    assert again.code == 0, again.stdout[-3000:]
    assert [(site["site"], bool(site.get("checked_at")), site["landmarks"]) for site in again.report["sites"]] == [
        ("sacoche", True, [])]
    said = school("run", "sacoche-auth-mode", "--school", "123")
    assert "SACoche : pages vérifiées à" in said.stdout + said.stderr and "pas revisitées" in said.stdout + said.stderr
    # A step that needs a page not checked yet is checked, and stops before it, nothing written.
    levels = school("run", "sacoche-class-levels", "--school", "123", "--json")
    assert levels.code == 4 and [flow["name"] for flow in levels.report["flows"]] == ["site-check"]
    assert "select#f_famille" in levels.report["flows"][0]["details"]["summary"]
