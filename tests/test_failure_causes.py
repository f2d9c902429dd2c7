"""Failures named by their cause, through the real CLI against the simulators. A site that
refuses the bot's login (a wrong password, an unknown account, ARENA's password or passcode
refused at each try, an SSO user's ENT password) is a refused login of that site: its own step,
its own words (the site, the account, the site's own message), the credentials advice, exit 2
(a configuration to correct, found before any write: never retried, never « Pages
différentes »), and nothing written on any site."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import DEMO, arena_state, ent_state, otp_command, sim_state
from sim.arena.app import DEMO_ARENA
from sim.ent.seed import DEMO_ENT_ADMIN

WRONG = "not-the-password-42"
# Reading a simulator changes these; logging in is no write.
VOLATILE = {"requests", "logins", "faults", "labels", "hits", "delaying", "sessions", "tickets", "refusals"}


def written(state: dict) -> dict:
    return {key: value for key, value in state.items() if key not in VOLATILE}


def site_states(sims) -> tuple:
    return written(sim_state(sims)), written(ent_state(sims)), arena_state(sims)["downloads"]


def said(result) -> str:
    return result.stdout + result.stderr


def assert_named_as_a_refused_login(result, site: str, account: str, site_message: str, key: str) -> dict:
    """The run's report: its last step is the refused login, worded as such (never as a page
    change), with the credentials advice; exit 2; returns that step."""
    text = said(result)
    assert result.code == 2, text[-3000:]
    assert "Traceback" not in result.stderr
    assert "Pages différentes" not in text and "ABSENT" not in text and "0/0 repères" not in text
    assert "↻" not in text and "nouvel essai" not in text   # never retried as a passing fault
    assert WRONG not in text
    report = result.report
    assert report["status"] == "refused"
    step = report["flows"][-1]
    summary = step["details"]["summary"]
    assert f"Connexion à {site} refusée pour le compte {account}" in summary, summary
    assert f"« {site_message}" in summary, summary
    assert ".." not in summary and "!." not in summary, summary
    assert step["status"] == "refused" and step["status_label"] == "REFUSÉ, rien n'a été écrit"
    assert step["name"] != "site-check" and "Pages" not in step["title"], step
    advice = step["details"]["what_to_do"]
    assert f"python -m bot credentials set --school 123 --site {key}" in advice, advice
    assert "relancer ne changera rien" not in advice and "plus tard" not in advice
    # The same words in the report.json the run left in its folder.
    on_disk = json.loads((Path(report["run_dir"]) / "report.json").read_text(encoding="utf-8"))
    assert on_disk["flows"][-1]["details"]["summary"] == summary
    assert "Pages différentes" not in json.dumps(on_disk, ensure_ascii=False)
    return step


def test_a_wrong_sacoche_password_is_a_refused_login_of_sacoche(sims, school):
    school.store_password(WRONG)
    before = site_states(sims)
    result = school("full-onboarding", "--school", "123", "--json")
    step = assert_named_as_a_refused_login(result, "SACoche", DEMO.sacoche_admin_login, "Mot de passe incorrect !",
                                           "sacoche")
    assert "(base 123)" in step["details"]["summary"]
    assert "Nouvelle tentative" not in step["details"]["summary"]
    # The ENT's export (a read) ran; SACoche stopped at its login, before any of its steps.
    assert [flow["name"] for flow in result.report["flows"]] == ["arena-exports", "ent-accounts-export", step["name"]]
    assert site_states(sims) == before
    assert not sim_state(sims)["logins"]
    # The terminal names the login refusal, never a landmark count of pages it could not see.
    assert "SACoche : connexion refusée" in result.stderr, result.stderr[-3000:]
    journal = json.loads((school.tmp_path / "state" / "journal" / "123.json").read_text())
    assert not [name for name in journal["flows"] if name.startswith("sacoche")]


def test_an_unknown_sacoche_account_is_a_refused_login_too(sims, school):
    school.config_data["schools"]["123"]["accounts"]["sacoche"]["login"] = "personne"
    school.write_config()
    before = site_states(sims)
    result = school("run", "sacoche-auth-mode", "--school", "123", "--json")
    assert_named_as_a_refused_login(result, "SACoche", "personne", "Nom d'utilisateur incorrect !", "sacoche")
    assert site_states(sims) == before and not sim_state(sims)["logins"]


def test_a_wrong_ent_administrator_password_is_a_refused_login_of_the_ent(sims, school):
    school.store_password(WRONG, site="ent")
    before = site_states(sims)
    result = school("run", "ent-accounts-export", "--school", "123", "--json")
    assert_named_as_a_refused_login(result, "l'ENT", DEMO_ENT_ADMIN[0], "Identifiant ou mot de passe incorrect", "ent")
    assert site_states(sims) == before
    assert sim_state(sims)["requests"] == 0 and arena_state(sims)["requests"] == 0
    assert not list(Path(result.report["run_dir"]).glob("*.csv"))


def test_an_sso_users_refused_ent_password_names_that_users_credential(sims, school):
    login = school.config_data["schools"]["123"]["sso_check"][0]["login"]
    school.store_password(WRONG, site=f"sso:{login}")
    before = site_states(sims)
    result = school("run", "sso-check", "--school", "123", "--json")
    step = assert_named_as_a_refused_login(result, "l'ENT", login, "Identifiant ou mot de passe incorrect",
                                           f"sso:{login}")
    assert step["name"] == "sso-check"
    assert site_states(sims) == before


def test_three_refused_arena_passcodes_are_a_refused_login_of_arena(sims, arena_school, tmp_path):
    command, codes = otp_command(tmp_path, wrong=3)
    result = arena_school("full-onboarding", "--school", "123", "--json", "--otp-command", command)
    step = assert_named_as_a_refused_login(result, "ARENA", DEMO_ARENA[0], "Authentification refusée", "arena")
    summary, advice = step["details"]["summary"], step["details"]["what_to_do"]
    assert "3 essais" in summary and "passcode" in summary
    assert "--otp-command" in advice and "PIN" in advice
    assert [flow["name"] for flow in result.report["flows"]] == [step["name"]]
    assert arena_state(sims)["refusals"] == 3 and arena_state(sims)["downloads"] == []
    assert len(codes.read_text().split()) == 3
    assert sim_state(sims)["requests"] == 0 and ent_state(sims)["requests"] == 0
    assert not any(code in said(result) for code in codes.read_text().split())


def test_a_wrong_arena_password_is_a_refused_login_of_arena(sims, arena_school, tmp_path):
    arena_school.store_password(WRONG, site="arena")
    command, codes = otp_command(tmp_path, wrong=0)   # good codes: the password is what is wrong
    result = arena_school("full-onboarding", "--school", "123", "--json", "--otp-command", command)
    step = assert_named_as_a_refused_login(result, "ARENA", DEMO_ARENA[0], "Authentification refusée", "arena")
    assert "mot de passe" in step["details"]["what_to_do"] and "PIN" in step["details"]["what_to_do"]
    assert arena_state(sims)["downloads"] == [] and arena_state(sims)["logins"] == 0
    assert sim_state(sims)["requests"] == 0 and ent_state(sims)["requests"] == 0


def test_check_site_with_a_wrong_password_says_the_login_was_refused(sims, school):
    school.store_password(WRONG)
    before = site_states(sims)
    text = school("check-site", "--school", "123", "--site", "sacoche")
    out = said(text)
    assert text.code == 2, out[-3000:]
    assert "ABSENT" not in out and "Pages différentes" not in out and "NON VÉRIFIÉ" not in out
    assert "CONNEXION REFUSÉE" in text.stdout, text.stdout
    assert "Connexion à SACoche refusée pour le compte admin.demo (base 123) : « Mot de passe incorrect ! »" in text.stdout
    assert "python -m bot credentials set --school 123 --site sacoche" in text.stdout
    assert WRONG not in out and ".." not in text.stdout
    as_json = school("check-site", "--school", "123", "--site", "sacoche", "--json")
    assert as_json.code == 2
    sacoche = json.loads(as_json.stdout)["sites"][0]
    assert not sacoche["ok"] and sacoche["login_refused"]["account"] == "admin.demo"
    assert "Mot de passe incorrect" in sacoche["login_refused"]["message"]
    # The public page was seen before the login (its landmarks, its version); nothing behind it.
    assert sacoche["landmarks"] and all(mark["present"] for mark in sacoche["landmarks"])
    assert {mark["page"] for mark in sacoche["landmarks"]} == {"Accueil (formulaire de connexion)"}
    assert sacoche["version"] == "2017-09-19"
    assert site_states(sims) == before and not sim_state(sims)["logins"]


def test_a_password_changed_since_the_last_check_is_refused_at_the_step_itself(sims, school):
    # The pages passed a check minutes ago: the next run does not visit them again, and the
    # step's own login is refused. The same words and advice, on that step; never retried.
    first = school("run", "sacoche-auth-mode", "--school", "123", "--json")
    assert first.code == 0, said(first)[-3000:]
    school.store_password(WRONG)
    before = site_states(sims)
    result = school("run", "sacoche-auth-mode", "--school", "123", "--json")
    assert "pas revisitées" in result.stderr, result.stderr[-3000:]
    step = assert_named_as_a_refused_login(result, "SACoche", DEMO.sacoche_admin_login, "Mot de passe incorrect !",
                                           "sacoche")
    assert step["name"] == "sacoche-auth-mode" and not step["details"].get("notes")
    assert site_states(sims) == before


def test_each_cause_keeps_its_own_words_in_the_sites_summary():
    """Without a browser: a changed page, a refused login and an unreachable site, each in its
    words, and no « .. » where a message already ended its sentence."""
    from bot.errors import LoginRefused, site_words
    from bot.landmarks import Landmark, LandmarkReading
    from bot.site_check import SiteReport, exit_status, summary, table, visited_text
    from bot.status import ExitStatus
    # The engine only puts a site's words on one line, without a dangling period; SACoche's own
    # retry notice is taken off by SACoche's page object (the CLI tests above see it gone).
    assert site_words("Mot de passe incorrect !") == "Mot de passe incorrect !"
    assert site_words("Identifiant ou mot de passe\n incorrect.") == "Identifiant ou mot de passe incorrect"
    refused = SiteReport("sacoche", "SACoche", login_refused=LoginRefused(
        "sacoche", "SACoche", "admin.demo", "Mot de passe incorrect !", where="base 123"), advice="Vérifiez le mot de passe.")
    unreachable = SiteReport("ent", "l'ENT", problem="site injoignable ou page inattendue : net::ERR_CONNECTION_REFUSED.")
    changed = SiteReport("arena", "ARENA", readings=[LandmarkReading("ARENA", "Portail", Landmark("lien « STS-web »"),
                                                                     False)])
    assert summary([refused]) == ("Connexion à SACoche refusée pour le compte admin.demo (base 123) : "
                                  "« Mot de passe incorrect ! ». Vérifiez le mot de passe.")
    assert exit_status([refused]) == ExitStatus.REFUSED
    assert "Pages différentes" not in summary([unreachable]) and "injoignable" in summary([unreachable])
    assert exit_status([refused, unreachable]) == ExitStatus.MISMATCH
    everything = summary([changed, refused, unreachable])
    assert everything.startswith("Pages différentes de celles que le robot connaît : ARENA, page « Portail » : lien")
    assert "Connexion à SACoche refusée" in everything and ".." not in everything
    assert "0/0" not in visited_text(refused) and "connexion refusée" in visited_text(refused)
    assert "CONNEXION REFUSÉE" in table([refused]) and "ABSENT" not in table([refused])
