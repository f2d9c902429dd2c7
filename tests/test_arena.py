"""ARENA: the simulator pinned to the guide's wording, then the `arena-exports` flow against it —
the passcode's tries, exports refused before any SACoche request, files in the config skipping
ARENA, a relabelled portal."""
from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from bot.errors import FlowFailed, Refused
from bot.otp import OtpSource
from conftest import arena_state, ent_state, get_json, otp_command, post_json, sim_state
from sim.arena.app import DEMO_ARENA, PACK_PATH
from sim.arena.otp import DEMO_SEED, accepts, code_at
from sim.ent.labels import load_pack

# The guide's own words (screens of the Montpellier academy's ARENA, STS-web and SIECLE BEE).
GUIDE = {"login": {"heading": "Authentification", "username": "Identifiant",
                   "password": "Mot de Passe ou Passcode OTP", "submit": "Valider",
                   "help": "Besoin d'aide sur l'authentification ?"},
         "sts": {"exports_menu": "Exports", "timetable_row": "Emploi du temps",
                 "timetable_export": "Export vers l'emploi du temps"},
         "bee": {"exports_menu": "Exportations", "xml": "en XML", "students": "Elèves sans adresse",
                 "parents": "Responsables avec adresse"}}

# The simulator ------------------------------------------------------------------------------------
def test_the_label_pack_is_the_guides_wording():
    pack = load_pack(PACK_PATH)
    for section, words in GUIDE.items():
        assert {key: pack[section][key] for key in words} == words


def test_totp_accepts_the_current_code_and_its_neighbours_only():
    now = 1_800_000_000
    assert accepts(DEMO_SEED, code_at(DEMO_SEED, now), now)
    assert accepts(DEMO_SEED, code_at(DEMO_SEED, now - 30), now)
    assert not accepts(DEMO_SEED, code_at(DEMO_SEED, now + 3600), now)
    assert code_at("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 59, digits=8) == "94287082"   # RFC 6238, appendix B


def test_sim_login_and_exports_as_the_guide_shows_them(page: Page, sims, tmp_path):
    page.goto(sims.arena_url)
    expect(page.get_by_role("heading", name="Authentification")).to_be_visible()
    page.get_by_label("Identifiant", exact=True).fill(DEMO_ARENA[0])
    page.get_by_label("Mot de Passe ou Passcode OTP", exact=True).fill(DEMO_ARENA[1] + "000000x")
    page.get_by_role("button", name="Valider", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Authentification refusée")
    expect(page.get_by_role("link", name="Besoin d'aide sur l'authentification ?")).to_be_visible()
    page.get_by_label("Mot de Passe ou Passcode OTP", exact=True).fill(DEMO_ARENA[1] + code_at(DEMO_SEED, time.time()))
    page.get_by_role("button", name="Valider", exact=True).click()
    page.get_by_role("link", name="STS-web", exact=True).click()
    page.get_by_role("link", name="Exports", exact=True).click()
    rows = {row.get_by_role("rowheader").inner_text(): row for row in page.get_by_role("row").all()}
    assert list(rows) == ["Emploi du temps", "Structure", "Services"]
    expect(rows["Structure"].get_by_role("link", name="Export de la totalité de la structure")).to_be_visible()
    expect(rows["Services"].get_by_role("link", name="Export des services")).to_be_visible()
    # The trap: the « Structure » row has a link named like the timetable export.
    expect(page.get_by_role("link", name="Export vers l'emploi du temps", exact=True)).to_have_count(2)
    with page.expect_download() as info:
        rows["Emploi du temps"].get_by_role("link", name="Export vers l'emploi du temps").click()
    school = sims.school_data.spec
    assert info.value.suggested_filename == f"sts_emp_{school.uai}_{school.year}.xml"
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert f'CODE="{school.uai}"'.encode() in saved.read_bytes()   # PARAMETRES/UAJ of this school
    page.goto(sims.arena_url)
    page.get_by_role("link", name="SIECLE BEE", exact=True).click()
    page.get_by_role("link", name="Exportations", exact=True).click()
    page.get_by_role("link", name="en XML", exact=True).click()
    for name in ("Elèves sans adresse", "Responsables avec adresse", "Elèves avec adresse"):
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    state = arena_state(sims)
    assert (state["refusals"], state["logins"], state["downloads"]) == (1, 1, [saved.name])


# The flow -----------------------------------------------------------------------------------------
def test_a_wrong_passcode_then_a_good_one_downloads_the_three_exports(sims, arena_school, tmp_path):
    command, log = otp_command(tmp_path, wrong=1)
    result = arena_school("run", "arena-exports", "--school", "123", "--json", "--otp-command", command)
    assert result.code == 0, result.stdout[-2000:] + result.stderr[-2000:]
    flow = result.report["flows"][0]
    # The refused code came at the check of ARENA's pages, which logs in first: said there,
    # and the step then found the session open.
    assert flow["counts"] == {"exports_downloaded": 3, "passcodes_refused": 0}
    assert "ARENA a refusé le passcode (essai 1/3)" in result.stdout + result.stderr
    state = arena_state(sims)
    assert (state["refusals"], state["logins"]) == (1, 1)
    assert sorted(state["downloads"]) == sorted(f["file"] for f in flow["details"]["files"].values())
    run_dir = Path(result.report["run_dir"])
    for kind, fact in flow["details"]["files"].items():
        path = run_dir / "arena" / fact["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == fact["sha256"]
    assert sim_state(sims)["requests"] == 0 and ent_state(sims)["requests"] == 0
    # Neither the password nor the codes show anywhere the run left something.
    codes = log.read_text().split()
    assert len(codes) == 2
    for path in [p for p in run_dir.rglob("*") if p.is_file() and p.parent.name != "arena"]:
        content = path.read_bytes()
        assert DEMO_ARENA[1].encode() not in content, path
        assert not any(code.encode() in content for code in codes), path
    assert not any(code in result.stdout + result.stderr for code in codes)


def test_three_wrong_passcodes_end_with_exit_2_and_no_sacoche_request(sims, arena_school, tmp_path):
    # A refused login is a password or a passcode to correct (see tests/test_failure_causes.py).
    command, _ = otp_command(tmp_path, wrong=3)
    result = arena_school("full-onboarding", "--school", "123", "--otp-command", command)
    assert result.code == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Connexion à ARENA refusée pour le compte arena.demo" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert arena_state(sims)["refusals"] == 3 and arena_state(sims)["downloads"] == []
    assert sim_state(sims)["requests"] == 0


@pytest.mark.parametrize("fault, shown", [({"export_uai": "0349999X"}, "0349999X"),
                                          ({"export_year": 2019}, "2019")])
def test_an_export_of_another_school_or_year_is_refused_before_any_sacoche_request(sims, arena_school, tmp_path,
                                                                                   fault, shown):
    post_json(sims.arena_url + "_sim/faults", fault)
    command, _ = otp_command(tmp_path, wrong=0)
    result = arena_school("full-onboarding", "--school", "123", "--otp-command", command)
    assert result.code == 2, result.stdout[-2000:] + result.stderr[-2000:]
    output = result.stdout + result.stderr
    assert "Les exports téléchargés d'ARENA sont refusés" in output and shown in output
    assert sim_state(sims)["requests"] == 0 and ent_state(sims)["requests"] == 0


def test_files_named_in_the_config_skip_arena(sims, school):
    # No ARENA password in the keyring: it is not asked for either.
    result = school("run", "arena-exports", "--school", "123", "--json")
    assert result.code == 0, result.stderr
    assert result.report["flows"][0]["details"]["summary"].startswith("Pas besoin d'ARENA : les fichiers sont indiqués")
    assert arena_state(sims)["requests"] == 0
    # No page was opened: no blank screenshot, the report says why; worded as not needed.
    flow = result.report["flows"][0]
    assert flow["screenshot"] is None and not list(Path(result.report["run_dir"]).glob("*.png"))
    assert flow["screenshot_missing"] == "ARENA n'a pas été ouvert, les fichiers sont indiqués dans la configuration (schools.123.files)"
    assert flow["status_label"] == "pas nécessaire"


def test_no_terminal_and_no_otp_command_is_refused_before_any_request(sims, arena_school):
    result = arena_school("full-onboarding", "--school", "123")
    assert result.code == 2 and "passcode à usage unique" in result.stderr and "--otp-command" in result.stderr
    assert arena_state(sims)["requests"] == 0 and sim_state(sims)["requests"] == 0


def test_a_portal_worded_otherwise_passes_with_a_label_override(sims, arena_school, tmp_path):
    post_json(sims.arena_url + "_sim/labels", {"bee.students": "Élèves sans adresses"})
    arena_school.config_data["sites"]["arena"]["labels"] = {"bee": {"students": "Élèves sans adresses"}}
    arena_school.write_config()
    command, _ = otp_command(tmp_path, wrong=0)
    result = arena_school("run", "arena-exports", "--school", "123", "--json", "--otp-command", command)
    assert result.code == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert result.report["flows"][0]["counts"]["exports_downloaded"] == 3
    unknown = dict(arena_school.config_data)
    unknown["sites"]["arena"]["labels"] = {"bee": {"eleves": "x"}}
    arena_school.write_config(unknown)
    bad = arena_school("run", "arena-exports", "--school", "123", "--otp-command", command)
    assert bad.code == 2 and "sites.arena.labels.bee.eleves : libellé inconnu" in bad.stderr


# Where the code comes from ------------------------------------------------------------------------
def test_the_terminal_prompt_names_the_school_and_a_failing_tool_shows_nothing_it_printed(tmp_path):
    asked = []
    source = OtpSource(interactive=True, ask=lambda prompt: asked.append(prompt) or " 123456 ")
    assert source.code("Passcode ARENA de arena.demo pour Collège (école 123) : ").reveal() == "123456"
    assert asked == ["Passcode ARENA de arena.demo pour Collège (école 123) : "]
    with pytest.raises(FlowFailed, match="Aucun passcode saisi"):
        OtpSource(interactive=True, ask=lambda prompt: "").code("?")
    with pytest.raises(Refused, match="personne ne peut le taper ici"):
        OtpSource().check_usable("La connexion")
    failing = OtpSource(command=f"{sys.executable} -c \"print('654321'); raise SystemExit(4)\"")
    with pytest.raises(FlowFailed) as failure:
        failing.code("?")
    assert "code de sortie 4" in str(failure.value) and "654321" not in str(failure.value)
    assert OtpSource(headed=True).typed_in_browser and not OtpSource(headed=True, interactive=True).typed_in_browser


# ARENA's faults: one per kind, where it hurts ----------------------------------------------------
ARENA_FAULTS = {
    "http_500": {"http_500": [{"path": "/bee/exportations/xml/eleves"}]},
    "expire_session": {"expire_session": [{"path": "/bee/exportations/xml"}]},
    "cut": {"cut": [{"path": "/sts/exports/emp", "bytes": 200}]},
    "go_away": {"go_away": [{"path": "/bee/exportations/xml/responsables", "seconds": 1}]},
    "delay": {"delay": [{"path": "/sts/exports", "seconds": 2}]},
}


@pytest.mark.parametrize("kind", sorted(ARENA_FAULTS))
def test_arena_faults_are_recovered_and_the_three_exports_arrive_whole(sims, arena_school, tmp_path, kind):
    post_json(sims.arena_url + "_sim/faults", ARENA_FAULTS[kind])
    command, codes = otp_command(tmp_path, wrong=0)
    result = arena_school("run", "arena-exports", "--school", "123", "--json", "--otp-command", command)
    assert result.code == 0, result.stdout[-2000:] + result.stderr[-2000:]
    flow = result.report["flows"][0]
    assert flow["counts"]["exports_downloaded"] == 3
    hits = get_json(sims.arena_url + "_sim/faults")["hits"]
    assert len(hits) == 1, hits     # the fault did fire
    # Every saved file is the simulator's own export, byte for byte.
    run_dir = Path(result.report["run_dir"])
    expected = arena_state(sims)["served"]
    for fact in flow["details"]["files"].values():
        assert expected[fact["file"]] == hashlib.sha256((run_dir / "arena" / fact["file"]).read_bytes()).hexdigest()
    notes = " ".join(flow["details"].get("notes", []))
    if kind == "expire_session":
        # The flow started again from the login, with a new passcode.
        assert arena_state(sims)["logins"] == 2 and len(codes.read_text().split()) == 2
    elif kind == "http_500":
        assert "nouvel essai" in notes or "Essai 1 en échec" in notes, notes
    # A cut download or a server gone for a second: Chromium resumes or re-sends by itself.


def test_a_rerun_downloads_again_and_skips_the_import_fed_the_same_exports(sims, arena_school, tmp_path):
    command, codes = otp_command(tmp_path, wrong=0)
    steps = "arena-exports,sacoche-auth-mode,sacoche-class-levels,sacoche-import-teachers"
    first = arena_school("full-onboarding", "--school", "123", "--json", "--otp-command", command, "--only", steps)
    assert first.code == 0, first.stdout[-2000:] + first.stderr[-2000:]
    # The downloads the run's steps read are its files used, each with the steps that read it (the
    # responsables' export was downloaded, but no step of this run reads it).
    inputs = {Path(item["copied"]).name: item for item in first.report["inputs"]}
    assert {name.split("_")[0] for name in inputs} == {"sts", "ExportXML"}
    sts = next(item for item in inputs.values() if item["role"] == "Export STS-Web")
    assert sts["produced"] and sts["copied"].startswith("arena/") and sts["used_by"] == [
        "SACoche : niveaux de classe de l'établissement", "SACoche : import des professeurs et personnels (STS-Web)"]
    assert first.report["flows"][0]["status_label"] == "téléchargé et vérifié"
    users = sim_state(sims)["schools"]["123"]["users"]
    assert len(users) > 1
    again = arena_school("full-onboarding", "--school", "123", "--json", "--otp-command", command, "--only", steps)
    assert again.code == 0, again.stdout[-2000:] + again.stderr[-2000:]
    status = {flow["name"]: flow for flow in again.report["flows"]}
    # ARENA is asked again (its exports change during a year), with a new passcode; the same
    # content zipped anew is not a new input: the import is not run again.
    assert status["arena-exports"]["status"] == "unchanged" and len(codes.read_text().split()) == 2
    for fed in ("sacoche-class-levels", "sacoche-import-teachers"):
        assert status[fed]["status"] == "skipped"
        assert "fichiers reçus identiques" in status[fed]["details"]["summary"]
    assert sim_state(sims)["schools"]["123"]["users"] == users


def test_an_import_run_alone_without_files_names_the_command_that_fetches_them(sims, arena_school):
    result = arena_school("run", "sacoche-import-students", "--school", "123")
    assert result.code == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert "--only arena-exports,sacoche-import-students" in result.stderr
    assert "Traceback" not in result.stderr
    assert arena_state(sims)["requests"] == 0 and sim_state(sims)["requests"] == 0


# The operator's own hands -------------------------------------------------------------------------
OPERATOR_TYPES_IN_THE_BROWSER = """
document.addEventListener("input", (event) => {
  const field = event.target;
  if (field.type !== "password" || field.value !== %(password)s) return;
  // A person reads the form, then types the code after the password and validates.
  setTimeout(() => { field.value += %(code)s; field.form.requestSubmit(); }, 300);
});
"""


def test_headed_the_operator_types_the_code_in_the_browser_and_the_bot_waits_for_the_portal(page: Page, sims,
                                                                                           monkeypatch):
    """--headed without a terminal: the bot types the password only, and waits while the person
    types the passcode in the window (here a script in each login context plays that person: a
    wrong code first, then the right one)."""
    from flows.arena.pages import ArenaSite
    from bot.secrets import Secret
    browser, contexts = page.context.browser, []
    plain_new_context = browser.new_context

    def context_with_an_operator(**options):
        context = plain_new_context(**options)
        code = code_at(DEMO_SEED, time.time() + (3600 if not contexts else 0))
        context.add_init_script(OPERATOR_TYPES_IN_THE_BROWSER % {"password": json.dumps(DEMO_ARENA[1]),
                                                                 "code": json.dumps(code)})
        contexts.append(code)
        return context

    monkeypatch.setattr(browser, "new_context", context_with_an_operator)   # the shared browser: undone after
    refusals = []
    site = ArenaSite(page, sims.arena_url, load_pack(PACK_PATH))
    otp = OtpSource(headed=True)
    assert otp.typed_in_browser
    refused = site.log_in(DEMO_ARENA[0], Secret(DEMO_ARENA[1]), otp, prompt="?", on_refused=refusals.append)
    assert (refused, refusals, len(contexts)) == (1, [1], 2)
    # The bot's own page goes on identified, on the portal.
    assert site.at_portal()
    state = arena_state(sims)
    assert (state["refusals"], state["logins"]) == (1, 1)


def test_on_a_terminal_the_bot_asks_for_the_code_without_echo(sims, arena_school):
    """The operator's terminal, for real (a pseudo-terminal): the prompt names the account and
    the school, the typed code is not echoed, and ARENA lets the bot in."""
    import os
    import pty
    import select
    import subprocess
    from conftest import REPO
    controller, terminal = pty.openpty()
    bot = subprocess.Popen([sys.executable, "-m", "bot", "run", "arena-exports", "--school", "123",
                            "--config", str(arena_school.config_path)],
                           cwd=REPO, env=arena_school.env, stdin=terminal, stdout=terminal, stderr=terminal,
                           start_new_session=True)
    os.close(terminal)
    shown, typed, deadline = b"", None, time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 1)
            if ready:
                try:
                    chunk = os.read(controller, 4096)
                except OSError:     # the bot ended and closed the terminal
                    break
                if not chunk:
                    break
                shown += chunk
            if typed is None and b"Passcode ARENA d'arena.demo pour" in shown:
                typed = code_at(DEMO_SEED, time.time())
                os.write(controller, typed.encode() + b"\n")
            if bot.poll() is not None and not ready:
                break
        assert bot.wait(timeout=60) == 0, shown.decode(errors="replace")[-3000:]
    finally:
        if bot.poll() is None:
            bot.kill()
        os.close(controller)
    text = shown.decode(errors="replace")
    assert typed and "(école 123)" in text
    assert typed not in text    # no echo, and never printed back
    assert arena_state(sims)["logins"] == 1 and len(arena_state(sims)["downloads"]) == 3
