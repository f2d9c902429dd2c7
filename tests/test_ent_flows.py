"""The ENT side and single sign-on, against both simulators: accounts export → identifier import
→ link → SSO check, checked in both simulators' state."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from conftest import ent_state, post_json, sim_state
from sim import datagen
from sim.datagen import name_key
from sim.ent.seed import DEMO_ENT_ADMIN, ent_accounts

IMPORTS = ["sacoche-import-teachers", "sacoche-import-students", "sacoche-import-parents"]


def run(bot, flow: str, code: int = 0) -> dict:
    result = bot("run", flow, "--school", "123", "--json")
    assert result.code == code, result.stdout + result.stderr
    return result.report["flows"][0]


@pytest.fixture
def onboarded(sims, school):
    """A school whose SACoche has its ENT mode and its users, and the ENT its export downloaded."""
    bot = school
    # One run (one browser, one login per site) for what these tests build on.
    result = bot("full-onboarding", "--school", "123", "--json", "--only",
                 ",".join(["ent-accounts-export", "sacoche-auth-mode", "sacoche-class-levels", *IMPORTS]))
    assert result.code == 0, result.stdout[-3000:] + result.stderr[-3000:]
    export = result.report["flows"][0]
    bot.config_data["schools"]["123"]["files"]["ent"] = export["details"]["file"]
    bot.write_config()
    return bot


def by_hand(flow: dict, label: str) -> list[str]:
    """A list the flow says a person must go through, found by the start of its label."""
    return next(group["items"] for group in flow["details"]["by_hand"] if group["label"].startswith(label))


def expected_ent_ids(data, homonyms_too: bool = False) -> dict[str, str]:
    """SIECLE/STS person → ENT id, for every ENT line SACoche can match unambiguously (with
    `homonyms_too`, for every person of the files)."""
    accounts = ent_accounts(data)
    imported = {f"eleve:{s.eleve_id}" for s in data.students if s.division and not s.date_sortie}
    kept = {f"personne:{l.personne_id}" for l in data.links if l.resp_legal and f"eleve:{l.eleve_id}" in imported}
    staff = {f"sts:{m.sts_id}" for m in data.staff if m.fonction in datagen.KEPT_FUNCTIONS}
    in_sacoche = [a for a in accounts if a.source in imported | kept | staff]
    names = Counter(name_key(a.nom, a.prenom) for a in in_sacoche)
    return {a.source: a.ent_id for a in in_sacoche if homonyms_too or names[name_key(a.nom, a.prenom)] == 1}


def test_check_files_foresees_the_ids_import_and_writes_nothing(sims, onboarded, tmp_path):
    bot = onboarded
    state_dir = Path(bot.config_data["paths"]["state_dir"])
    journal_before = {p.name: p.read_bytes() for p in state_dir.rglob("*") if p.is_file() and p.suffix != ".lock"}
    before = sim_state(sims)
    result = bot("check-files", "--school", "123", "--prevision", "--json")
    assert result.code == 0, result.stdout + result.stderr
    answer = json.loads(result.stdout)
    assert answer["files"]["status"] == "checked"
    forecast = answer["forecasts"][0]
    assert forecast["title"] == "SACoche : import des identifiants de l'ENT"
    assert "4 ligne(s) refusée(s) pour homonymie" in forecast["lines"][0]
    # Read on SACoche, nothing written there or in the school's journal.
    after = sim_state(sims)
    assert after["requests"] > before["requests"] and after["schools"] == before["schools"]
    assert {p.name: p.read_bytes() for p in state_dir.rglob("*") if p.is_file() and p.suffix != ".lock"} == journal_before
    # The text form says the same, and the import then does what was foreseen.
    text = bot("check-files", "--school", "123", "--prevision")
    assert text.code == 0 and "Prévision — SACoche : import des identifiants de l'ENT" in text.stdout
    ids = run(bot, "sacoche-ent-ids")
    counts = ids["counts"]
    assert f"{counts['ent_ids_set']} identifiant(s) à poser" in forecast["lines"][0]
    assert forecast["lines"][1].startswith(f"homonymes : {counts['homonyms_resolved']} que le robot départagera")


def test_check_files_without_the_password_refuses_the_forecast(sims, school):
    assert school("credentials", "delete", "--school", "123", "--site", "sacoche").code == 0
    result = school("check-files", "--school", "123", "--prevision")
    assert result.code == 2 and "Traceback" not in result.stderr
    assert "Mot de passe sacoche de l'école 123 introuvable" in result.stderr
    assert sim_state(sims)["requests"] == 0


def test_export_then_ids_then_link_then_sso(sims, onboarded):
    bot = onboarded
    csv_path = Path(bot.config_data["schools"]["123"]["files"]["ent"])
    lines = csv_path.read_bytes().decode("latin-1").splitlines()
    assert lines[0] == "Extraction des comptes ENT" and lines[1].startswith("uid;profil;nom;prenom")

    result = bot("run", "sacoche-ent-ids", "--school", "123", "--json")
    assert result.code == 0, result.stdout + result.stderr
    ids = result.report["flows"][0]
    assert ids["status"] == "done"
    # Foreseen before any write: what SACoche will answer, and the homonyms the bot will settle.
    forecast = result.report["forecasts"][0]["lines"]
    assert "4 ligne(s) refusée(s) pour homonymie" in forecast[0]
    assert forecast[1] == "homonymes : 4 que le robot départagera, 0 déjà départagé(s), 0 à traiter à la main"
    users = sim_state(sims)["schools"]["123"]["users"]
    key = {"ELV": "eleve", "TUT": "personne"}
    by_source = {f"{key.get(u['profil'], 'sts')}:{u['sconet_id']}": u for u in users if u["profil"] != "ADM"}
    # Every person of the files has the id the ENT gives them, homonyms included: the bot told
    # the two FAURE Juliette apart by class, and the teacher and the parent BONNET Stephane by profile.
    wanted = expected_ent_ids(sims.school_data, homonyms_too=True)
    assert {source: by_source[source]["id_ent"] for source in wanted} == wanted
    homonyms = [u for u in users if (u["nom"], u["prenom"]) in (("FAURE", "Juliette"), ("BONNET", "Stephane"))]
    assert len(homonyms) == 4 and all(u["id_ent"] for u in homonyms)
    counts = ids["counts"]
    assert (counts["homonyms"], counts["homonyms_resolved"], counts["homonyms_left"]) == (4, 4, 0)
    assert counts["prediction_differences"] == 0 and not ids["details"].get("notes")
    assert by_hand(ids, "Homonymes") == []
    unknown = by_hand(ids, "Comptes ENT sans utilisateur SACoche")
    agent = next(item for item in unknown if item["ent_line"].startswith("AGENT Entretien"))
    assert "personnel" in agent["likely_cause"]
    report = json.loads((Path(bot.tmp_path / "recordings").glob("123/*/identifiants_ent_rapport.json").__next__()).read_text())
    assert report["counts"]["homonyms_resolved"] == 4
    # The prediction, written before the file was sent, says what SACoche then did.
    forecast = json.loads(next(Path(bot.tmp_path / "recordings").glob("123/*/identifiants_ent_prevision.json")).read_text())
    assert (forecast["counts"]["homonyms"], forecast["counts"]["unknown_in_sacoche"]) == (
        counts["homonyms"], counts["ent_only_accounts"])
    assert len(forecast["lines"]) == sum(forecast["counts"].values())

    link = run(bot, "ent-sacoche-link")
    assert link["status"] == "done"
    sacoche_app = next(app for app in ent_state(sims)["apps"] if app["kind"] == "sacoche")
    assert sacoche_app["page"] == 2
    assert {row["value"] for row in sacoche_app["links"]} == {"123"}
    assert all(row["url"] == f"{sims.sacoche_url}?sso&base=123" for row in sacoche_app["links"])

    before = ent_state(sims)["tickets"]
    sso = run(bot, "sso-check")
    connected = sso["details"]["verified"]["connected_users"]
    assert len(connected) == 3 and {"[professeur]", "[élève]", "[parent]"} <= {c.rsplit(" ", 1)[-1] for c in connected}
    after = ent_state(sims)["tickets"]
    assert after["used"] - before["used"] >= 3      # SACoche validated a ticket per user

    # Re-running changes nothing and says so; the settled homonyms keep their ids.
    ids_before = {u["id"]: u["id_ent"] for u in sim_state(sims)["schools"]["123"]["users"]}
    again = run(bot, "sacoche-ent-ids")
    assert again["status"] == "unchanged"
    assert again["counts"]["homonyms_already_resolved"] == 4
    assert {u["id"]: u["id_ent"] for u in sim_state(sims)["schools"]["123"]["users"]} == ids_before
    assert run(bot, "ent-sacoche-link")["status"] == "unchanged"


def test_sso_check_fails_clearly_when_an_identifier_is_wrong(sims, onboarded):
    bot = onboarded
    run(bot, "sacoche-ent-ids")
    run(bot, "ent-sacoche-link")
    student_login = bot.config_data["schools"]["123"]["sso_check"][1]["login"]
    sims.sacoche_store.execute("UPDATE user SET id_ent = 'corrompu' WHERE id_ent = ?", (student_login,))
    result = bot("run", "sso-check", "--school", "123", "--json")
    assert result.code == 4
    summary = result.report["flows"][0]["details"]["summary"]
    assert student_login in summary and "inconnu dans SACoche" in summary


def test_a_renamed_ent_label_is_fixed_by_a_config_override_alone(sims, onboarded):
    bot = onboarded
    post_json(sims.ent_url + "_sim/labels", {"external_apps.edit_links": "Modifier plusieurs liens"})
    bot.config_data["browser"] = {**bot.config_data.get("browser", {}), "retries": 0, "action_timeout_ms": 5000}
    bot.write_config()
    failed = bot("run", "ent-sacoche-link", "--school", "123", "--json")
    # The ENT's pages are checked before the step: the missing label is named, with its key.
    assert failed.code == 4
    assert [flow["name"] for flow in failed.report["flows"]] == ["site-check"]
    summary = failed.report["flows"][0]["details"]["summary"]
    assert "Modifier un ensemble de liens" in summary and "sites.ent.labels.external_apps.edit_links" in summary
    sacoche_app = next(app for app in ent_state(sims)["apps"] if app["kind"] == "sacoche")
    assert not any(row["value"] for row in sacoche_app["links"])
    bot.config_data["sites"]["ent"]["labels"] = {"external_apps": {"edit_links": "Modifier plusieurs liens"}}
    bot.write_config()
    assert run(bot, "ent-sacoche-link")["status"] == "done"
    sacoche_app = next(app for app in ent_state(sims)["apps"] if app["kind"] == "sacoche")
    assert {row["value"] for row in sacoche_app["links"]} == {"123"}


def test_unknown_label_override_is_refused_before_any_click(sims, bot):
    bot.store_password(DEMO_ENT_ADMIN[1], site="ent")
    bot.config_data["sites"]["ent"]["labels"] = {"external_apps": {"edit_link": "x"}}
    bot.write_config()
    result = bot("run", "ent-sacoche-link", "--school", "123")
    assert result.code == 2 and "sites.ent.labels.external_apps.edit_link : libellé inconnu" in result.stderr
    assert ent_state(sims)["requests"] == 0


def test_ids_import_without_an_export_is_refused(sims, bot_with_password):
    result = bot_with_password("run", "sacoche-ent-ids", "--school", "123")
    assert result.code == 2 and "Pas d'extraction CSV de l'ENT" in result.stderr
    assert sim_state(sims)["requests"] == 0


def bonnet_parent_login(users: list[dict]) -> str:
    return next(u["login"] for u in users if (u["nom"], u["prenom"], u["profil"]) == ("BONNET", "Stephane", "TUT"))


def test_former_namesakes_are_predicted_an_ambiguous_homonym_is_left_and_a_wrong_rule_is_flagged(sims, onboarded):
    bot = onboarded
    store = sims.sacoche_store
    users = sim_state(sims)["schools"]["123"]["users"]
    names = Counter((u["nom"], u["prenom"]) for u in users)
    student = next(u for u in users if u["profil"] == "ELV" and names[(u["nom"], u["prenom"])] == 1 and not u["sortie"])
    parent = next(u for u in users if u["profil"] == "TUT" and names[(u["nom"], u["prenom"])] == 1)
    # A former student who bears a current student's name, and a second parent of another's name.
    for profil, login, person, sortie in (("ELV", "ancien.homonyme", student, "2024-07-05"),
                                          ("TUT", "parent.homonyme", parent, "")):
        store.execute("INSERT INTO user (base, profil, login, password_hash, nom, prenom, sortie) VALUES (123, ?, ?, '', ?, ?, ?)",
                      (profil, login, person["nom"], person["prenom"], sortie))

    # A multi-school SACoche that cannot reach the parents' e-mail domain refuses to save them.
    domain = next(u["email"] for u in users if u["login"] == bonnet_parent_login(users)).split("@")[1]
    post_json(sims.sacoche_url + "_sim/faults", {"mail_domains_unreachable": [domain]})

    ids = run(bot, "sacoche-ent-ids")
    assert ids["counts"]["prediction_differences"] == 0, ids["details"].get("notes")
    assert ids["counts"]["homonyms"] == 4 + 2        # the demo's 4, the student's and the parent's lines
    # The student is told from the former one by class; the parent BONNET is refused by SACoche.
    assert ids["counts"]["homonyms_resolved"] == 4
    refused = next(item for item in by_hand(ids, "Homonymes") if "BONNET Stephane" in item["ent_line"])
    assert f'Erreur avec le domaine "{domain}"' in refused["why"] and "courriel" in refused["why"]
    assert next(u for u in sim_state(sims)["schools"]["123"]["users"]
                if u["login"] == bonnet_parent_login(users))["id_ent"] == ""
    post_json(sims.sacoche_url + "_sim/faults", {})
    after = {u["login"]: u for u in sim_state(sims)["schools"]["123"]["users"]}
    assert after[student["login"]]["id_ent"] and after["ancien.homonyme"]["id_ent"] == ""
    # The two parents: nothing in the export tells them apart, so nothing is set, and both are shown.
    assert after[parent["login"]]["id_ent"] == "" and after["parent.homonyme"]["id_ent"] == ""
    left = [item for item in by_hand(ids, "Homonymes") if "BONNET Stephane" not in item["ent_line"]]
    # By-hand lines are named as the ENT export writes them, whose case may differ from SACoche's.
    assert len(left) == 1 and left[0]["ent_line"].upper().startswith(f"{parent['nom']} {parent['prenom']} [".upper())
    assert left[0]["sacoche_candidates"].count("parent TUT") == 2 and "correspondent encore" in left[0]["why"]

    # Another release that no longer counts former accounts: the bot's prediction is now wrong
    # for the student's line, the report says so, and the bot settles nothing on that reading.
    post_json(sims.sacoche_url + "_sim/faults", {"ent_ids_former_ignored": True})
    flagged = run(bot, "sacoche-ent-ids")
    notes = flagged["details"]["notes"]
    assert flagged["counts"]["prediction_differences"] == 1 and len(notes) == 1
    assert f"{student['nom']} {student['prenom']}" in notes[0] and "prévu refusé (homonymes)" in notes[0]
    assert flagged["counts"]["homonyms_resolved"] == 0


def test_the_link_configuration_is_reopened_at_its_address_or_else_through_the_menus(sims, page):
    from bot.secrets import Secret
    from flows.ent.families import ent_families
    from flows.ent.sacoche_link import bases_shown

    family = ent_families()["esup_montpellier"]
    site = family.site(page, sims.ent_url, family.labels())
    site.log_in(DEMO_ENT_ADMIN[0], Secret(DEMO_ENT_ADMIN[1]))
    address = site.open_link_configuration()
    site.configure_base("123")
    stored = sorted(link["value"] for link in next(app for app in ent_state(sims)["apps"]
                                                    if app["kind"] == "sacoche")["links"])
    assert stored and set(stored) == {"123"}
    page_loads = []
    page.on("request", lambda request: request.is_navigation_request() and page_loads.append(request.url))

    site.reopen_link_configuration(address)
    assert page_loads == [address] and page.url == address
    assert sorted(bases_shown(site.page_text())) == stored      # what the ENT stored, read back

    # An address that does not give the configuration back (another application's, a page
    # gone), or one off the ENT: the menus are followed, and the same configuration shows.
    for elsewhere in (sims.ent_url + "admin/applications/999999", "http://127.0.0.1:9/admin"):
        page_loads.clear()
        site.reopen_link_configuration(elsewhere)
        assert page.url == address and len(page_loads) >= 3 and page_loads[-1] == address
        assert sorted(bases_shown(site.page_text())) == stored
