"""The flow sacoche-auth-mode, run by the real CLI in a real Chromium against the simulator;
results are checked in the simulator's state, not only in the bot's report."""
from __future__ import annotations

import json
from pathlib import Path

from conftest import DEMO, post_json, sim_state

WANTED = {"connexion_mode": "cas", "connexion_nom": "esup_montpellier", "connexion_departement": "34",
          "cas_serveur_host": "www.environnementnumeriquedetravail.fr", "cas_serveur_port": "443",
          "cas_serveur_root": "cas"}


def school_params(sims) -> dict:
    return sim_state(sims)["schools"]["123"]["params"]


def test_sets_the_ent_mode_and_verifies_it(sims, bot_with_password):
    assert school_params(sims)["connexion_mode"] == "normal"
    result = bot_with_password("run", "sacoche-auth-mode", "--school", "123", "--json")
    assert result.code == 0, result.stderr
    params = school_params(sims)
    assert {key: params[key] for key in WANTED} == WANTED
    report = result.report
    assert report["school"] == "123" and report["status"] == "success"
    flow = report["flows"][0]
    assert flow["name"] == "sacoche-auth-mode" and flow["status"] == "done"
    assert flow["details"]["verified"]["mode_after_reload"] == "cas~34|esup_montpellier"
    assert flow["details"]["verified"]["sso_address"] == f"{sims.sacoche_url}?sso=123"
    run_dir = Path(report["run_dir"])
    assert json.loads((run_dir / "report.json").read_text())["status"] == "success"
    assert (run_dir / "01-sacoche-auth-mode.png").stat().st_size > 0


def test_a_run_on_sacoche_alone_logs_in_once_without_being_refused_as_too_early(sims, bot_with_password):
    # No ENT step to work on while SACoche's 2-second delay runs: the bot waits out what is
    # left of it instead of sending the login early (a refusal would start the delay again).
    result = bot_with_password("run", "sacoche-auth-mode", "--school", "123", "--json")
    assert result.code == 0, result.stderr
    assert sim_state(sims)["logins"] == {"normal": 1}
    assert school_params(sims)["connexion_mode"] == "cas"


def test_rerun_changes_nothing_and_says_so(sims, bot_with_password):
    first = bot_with_password("run", "sacoche-auth-mode", "--school", "123", "--json")
    assert first.code == 0, first.stderr
    before = school_params(sims)
    second = bot_with_password("run", "sacoche-auth-mode", "--school", "123", "--json")
    assert second.code == 0, second.stderr
    assert second.report["flows"][0]["status"] == "unchanged"
    assert "rien à changer" in second.report["flows"][0]["details"]["summary"]
    assert school_params(sims) == before
    # Once the ENT mode is on, the login page pre-checks the ENT radio: the bot got past it.
    assert second.report["flows"][0]["details"]["verified"]["mode_after_reload"] == "cas~34|esup_montpellier"


def test_replaces_another_department_of_the_same_ent(sims, bot_with_password):
    sims.sacoche_store.set_params(123, {"connexion_mode": "cas", "connexion_nom": "esup_montpellier",
                                        "connexion_departement": "30"})
    result = bot_with_password("run", "sacoche-auth-mode", "--school", "123", "--json")
    assert result.code == 0, result.stderr
    assert result.report["flows"][0]["details"]["previous_mode"] == "cas~30|esup_montpellier"
    assert school_params(sims)["connexion_departement"] == "34"


def test_wrong_password_is_refused_clearly_with_exit_2(sims, bot):
    # A refused login is a password to correct, found before any write (tests/test_failure_causes.py).
    bot.store_password("not-the-password")
    result = bot("run", "sacoche-auth-mode", "--school", "123", "--json")
    assert result.code == 2
    summary = result.report["flows"][0]["details"]["summary"]
    assert "Connexion à SACoche refusée pour le compte admin.demo (base 123)" in summary
    assert "Mot de passe incorrect" in summary
    assert "not-the-password" not in result.stdout + result.stderr
    assert school_params(sims)["connexion_mode"] == "normal"


def test_unknown_login_fails_clearly(sims, bot):
    bot.config_data["schools"]["123"]["accounts"]["sacoche"]["login"] = "personne"
    bot.write_config()
    bot.store_password(DEMO.sacoche_admin_password)
    result = bot("run", "sacoche-auth-mode", "--school", "123")
    assert result.code == 2
    assert "Nom d'utilisateur incorrect" in result.stdout


def test_a_save_the_site_did_not_keep_is_a_verification_failure(sims, bot_with_password):
    post_json(sims.sacoche_url + "_sim/faults", {"ack_without_saving": ["administrateur_etabl_connexion"]})
    result = bot_with_password("run", "sacoche-auth-mode", "--school", "123", "--json")
    assert result.code == 4
    assert result.report["status"] == "mismatch"
    assert "après rechargement" in result.report["flows"][0]["details"]["summary"]
    assert school_params(sims)["connexion_mode"] == "normal"


def test_password_from_environment_variable(sims, bot):
    result = bot("run", "sacoche-auth-mode", "--school", "123",
                 env={"SACOCHE_123_PASSWORD": DEMO.sacoche_admin_password})
    assert result.code == 0, result.stderr
    assert school_params(sims)["connexion_mode"] == "cas"
