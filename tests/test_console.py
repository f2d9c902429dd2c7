"""What support staff see: the step banner and the outline in the page (headed mode), and the
--step pauses. The banner logic is the same headless, so a headless Chromium can check it."""
from __future__ import annotations

import io

from playwright.sync_api import Page, expect

from bot.console import Console
from conftest import DEMO


def test_banner_names_the_step_survives_navigation_and_outlines_the_target(page: Page, sims):
    console = Console(headed=True, out=io.StringIO())
    console.attach(page.context)
    page.goto(f"{sims.sacoche_url}?id=123")
    console.flow(4, 8, "SACoche : import des élèves (SIECLE)", page=page)
    banner = page.locator("#sacoche-bot-banner")
    expect(banner).to_have_text("ROBOTÉtape 4/8 — SACoche : import des élèves (SIECLE)")
    console.step("étape 31 de l'assistant, sélection de toutes les classes", page=page,
                 target=page.locator("#f_submit"))
    expect(banner).to_have_text("ROBOTÉtape 4/8 — SACoche : import des élèves (SIECLE) : "
                                "étape 31 de l'assistant, sélection de toutes les classes")
    assert "solid" in page.locator("#f_submit").evaluate("el => el.style.outline")
    expect(banner).to_have_css("pointer-events", "none")    # never in the way of a click
    page.goto(f"{sims.ent_url}")                             # another origin, a new document
    expect(page.locator("#sacoche-bot-banner")).to_contain_text("étape 31 de l'assistant")


def test_headless_runs_leave_the_pages_untouched(page: Page, sims):
    console = Console(headed=False, out=io.StringIO())
    console.attach(page.context)
    page.goto(f"{sims.sacoche_url}?id=123")
    console.flow(1, 1, "x", page=page)
    expect(page.locator("#sacoche-bot-banner")).to_have_count(0)


def test_step_mode_waits_for_enter_before_each_flow(sims, bot):
    bot.store_password(DEMO.sacoche_admin_password)
    result = bot("full-onboarding", "--school", "123", "--only", "sacoche-auth-mode", "--step", stdin="\n")
    assert result.code == 0, result.stderr
    assert "Prochaine étape : Étape 1/1 — SACoche : mode d'identification par l'ENT." in result.stderr
    assert "Appuyez sur Entrée pour continuer" in result.stderr


def test_help_is_french_throughout():
    """argparse's own frame too: no « usage: », « options: » nor « show this help message »."""
    import subprocess
    import sys
    for command in ([], ["run"], ["full-onboarding"], ["credentials"], ["check-files"], ["demo"], ["flows"]):
        shown = subprocess.run([sys.executable, "-m", "bot", *command, "--help"], capture_output=True, text=True,
                               timeout=60)
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.startswith("utilisation : python -m bot"), shown.stdout[:200]
        assert "options :" in shown.stdout and "afficher cette aide et quitter" in shown.stdout
        for english in ("usage:", "options:", "show this help", "positional arguments"):
            assert english not in shown.stdout, (command, english)


ENGLISH_FRAME = ("usage:", "options:", "show this help", "positional arguments", "optional arguments",
                 "show program's version", "error:", "the following arguments", "invalid choice", "expected one")


def run_module(*args: str) -> "subprocess.CompletedProcess":
    import subprocess
    import sys
    from conftest import REPO
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=60, cwd=REPO)


def test_every_command_line_of_the_project_has_a_french_frame():
    """The simulators' and the generator's too, every sub-command's, and the usage errors."""
    import subprocess
    import sys
    from conftest import REPO
    helps = [["bot"], ["bot", "check-site"], ["bot", "credentials", "set"], ["bot", "full-onboarding"],
             ["sim"], ["sim.datagen"], ["sim.arena.otp"]]
    for command in helps:
        shown = run_module(*command, "--help")
        assert shown.returncode == 0, (command, shown.stderr)
        assert shown.stdout.startswith(f"utilisation : python -m {command[0]}"), shown.stdout[:200]
        assert "options :" in shown.stdout and "-h, --help" in shown.stdout
        assert "afficher cette aide et quitter" in shown.stdout
        for english in ENGLISH_FRAME:
            assert english not in shown.stdout, (command, english)
    for script in sorted((REPO / "benchmarks").glob("bench_*.py")):   # the measuring tools too
        shown = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=60,
                               cwd=REPO)
        assert shown.returncode == 0 and shown.stdout.startswith(f"utilisation : {script.name}"), shown.stderr
        assert "afficher cette aide et quitter" in shown.stdout
        assert not [english for english in ENGLISH_FRAME if english in shown.stdout], script.name
    errors = {("bot",): "arguments obligatoires manquants : COMMANDE",
              ("sim.datagen", "--year", "x"): "argument --year : nombre entier attendu, reçu 'x'",
              ("sim", "--sacoche-port"): "argument --sacoche-port : une valeur est attendue",
              ("sim.arena.otp", "pas-en-base32"): "graine « pas-en-base32 » : base32 attendue"}
    for command, french in errors.items():
        shown = run_module(*command)
        assert shown.returncode == 2, (command, shown.stdout, shown.stderr)
        assert shown.stderr.startswith("utilisation : python -m"), shown.stderr
        assert f"Erreur d'utilisation : {french}" in shown.stderr, shown.stderr
        assert "Traceback" not in shown.stderr
        for english in ENGLISH_FRAME:
            assert english not in shown.stderr, (command, english)


def test_version_is_the_package_s():
    from importlib.metadata import version
    shown = run_module("bot", "--version")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == f"sacoche-ent-bot {version('sacoche-ent-bot')}"
    assert "--version" in run_module("bot", "--help").stdout


def test_credentials_help_names_every_account_the_bot_keeps():
    for command in (["credentials"], ["credentials", "set"]):
        shown = " ".join(run_module("bot", *command, "--help").stdout.split())
        for site in ("sacoche (l'administrateur SACoche de l'école)", "ent (l'administrateur de l'ENT)",
                     "arena (le compte ARENA", "sso:<identifiant ENT> (un compte ENT de vérification SSO"):
            assert site in shown, (command, site, shown)
