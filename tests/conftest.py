"""Fixture chain: sims → config → bot (a real `python -m bot` process driving a real Chromium).
pytest-playwright's own `page` fixture is pointed at the same Chromium the bot finds."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Page, expect

from bot.browser import LAUNCH_FLAGS, find_browser
from sim.arena.app import DEMO_ARENA
from sim.seed import DEMO_SCHOOLS
from sim.server import Simulators

REPO = Path(__file__).resolve().parents[1]
DEMO = DEMO_SCHOOLS[0]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    headless = browser_type_launch_args.get("headless", True)
    return {**browser_type_launch_args, "executable_path": str(find_browser(None, headless=headless)),
            "args": LAUNCH_FLAGS}


@pytest.fixture
def sims(tmp_path):
    with Simulators(tmp_path / "sim") as running:
        yield running


def descendants(pid: int) -> list[int]:
    """Every process started, directly or not, by `pid` (read from /proc)."""
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


def command_line(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.load(answer)


def post_json(url: str, data: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(data).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def sim_state(sims) -> dict:
    return get_json(sims.sacoche_url + "_sim/state")


def ent_state(sims) -> dict:
    return get_json(sims.ent_url + "_sim/state")


def arena_state(sims) -> dict:
    return get_json(sims.arena_url + "_sim/state")


@dataclass
class BotResult:
    code: int
    stdout: str
    stderr: str

    @property
    def report(self) -> dict:
        return json.loads(self.stdout)


class Bot:
    """Runs `python -m bot …` as a user would, with its own keyring file and config."""

    def __init__(self, tmp_path: Path, sims: Simulators | None):
        self.tmp_path = tmp_path
        self.env = {**os.environ,
                    "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
                    "XDG_DATA_HOME": str(tmp_path / "xdg"),
                    "PYTHONPATH": str(REPO)}
        self.env.pop("SACOCHE_123_PASSWORD", None)
        self.config_data = yaml.safe_load((REPO / "config.example.yaml").read_text(encoding="utf-8"))
        if sims is not None:
            self.config_data["sites"]["sacoche"]["url"] = sims.sacoche_url
            self.config_data["sites"]["ent"]["url"] = sims.ent_url
            self.config_data["sites"]["arena"]["url"] = sims.arena_url
        self.config_data["paths"] = {"state_dir": str(tmp_path / "state"),
                                     "recordings_dir": str(tmp_path / "recordings")}
        self.config_path = tmp_path / "config.yaml"
        self.write_config()

    def write_config(self, data: dict | None = None) -> Path:
        self.config_path.write_text(yaml.safe_dump(data or self.config_data, allow_unicode=True),
                                    encoding="utf-8")
        return self.config_path

    def __call__(self, *args: str, stdin: str | None = None, config: bool = True,
                 env: dict | None = None) -> BotResult:
        command = [sys.executable, "-m", "bot", *args]
        if config:
            command += ["--config", str(self.config_path)]
        done = subprocess.run(command, input=stdin, capture_output=True, text=True, cwd=REPO,
                              env={**self.env, **(env or {})}, timeout=300)
        return BotResult(done.returncode, done.stdout, done.stderr)

    def store_password(self, password: str, school: str = "123", site: str = "sacoche") -> None:
        # The tests' keyring is a plain-text file in their own temporary home: chosen explicitly,
        # as a person would have to.
        result = self("credentials", "set", "--school", school, "--site", site, "--allow-plaintext-keyring",
                      stdin=password + "\n")
        assert result.code == 0, result.stderr


@pytest.fixture
def bot(tmp_path, sims):
    return Bot(tmp_path, sims)


@pytest.fixture
def school(sims, bot, tmp_path):
    """School 123 configured with the simulators' own synthetic school (its files, the ENT users
    who prove SSO) and every password in the test keyring."""
    return configure_school(bot, sims, tmp_path / "files")


def configure_school(bot: Bot, sims: Simulators, files_dir: Path) -> Bot:
    from sim import datagen
    from sim.ent.seed import DEMO_ENT_ADMIN, demo_password
    from sim.seed import sso_check_logins
    files = datagen.write_school_files(sims.school_data, files_dir)
    checkers = sso_check_logins(sims.school_data)
    config = bot.config_data["schools"]["123"]
    config["files"] = {key: str(path) for key, path in files.items()}
    config["sso_check"] = [{"login": login} for login in checkers]
    bot.write_config()
    bot.store_password(DEMO.sacoche_admin_password)
    bot.store_password(DEMO_ENT_ADMIN[1], site="ent")
    for login in checkers:
        bot.store_password(demo_password(login), site=f"sso:{login}")
    return bot


def choose_college_levels(sims, base: int = 123) -> None:
    """For tests whose subject is not the level step: the school as sacoche-class-levels leaves
    it (Sixième to Troisième chosen), set straight in the simulator."""
    from sim.sacoche.store import COLLEGE_LEVELS
    for level_id in COLLEGE_LEVELS:
        sims.sacoche_store.activate_level(base, level_id)


@pytest.fixture
def arena_school(sims, bot, tmp_path):
    """School 123 with every password, and no export file in its config: ARENA gives them."""
    configure_school(bot, sims, tmp_path / "unused-files")
    bot.config_data["schools"]["123"].pop("files")
    bot.write_config()
    bot.store_password(DEMO_ARENA[1], site="arena")
    return bot


@pytest.fixture
def bot_with_password(bot):
    bot.store_password(DEMO.sacoche_admin_password)
    return bot


# Driving the simulator by hand in pytest-playwright's page (contract tests) ----------------
def wait_out_login_delay(page: Page) -> None:
    """Submit as soon as the form shows: the simulator must refuse, like SACoche, and the
    refusal must restart the delay; then waiting it out lets the login through."""
    with page.expect_response(lambda r: "public_accueil" in r.url and r.request.method == "POST") as info:
        page.click("#f_submit")
    assert info.value.json() == {"statut": False,
                                 "value": "Sécurité : patienter 2s avant une nouvelle tentative."}
    expect(page.locator("#ajax_msg")).to_have_class("alerte")


def log_in(page: Page, base_url: str, mode_normal: bool = False) -> None:
    page.goto(f"{base_url}index.php?base=123" + ("&mode=normal" if mode_normal else ""))
    page.fill("#f_login", DEMO.sacoche_admin_login)
    page.fill("#f_password", DEMO.sacoche_admin_password)
    wait_out_login_delay(page)
    # The simulator keeps SACoche's whole-second delay; a test may wait, the bot may not.
    page.wait_for_timeout(2100)
    page.click("#f_submit")
    page.wait_for_url(re.compile(r"index\.php\?log_id=123&page=compte_accueil$"))




def pytest_terminal_summary(terminalreporter):
    """Print the fault matrix (fault × flow → outcome) when its tests ran."""
    matrix_module = sys.modules.get("test_fault_matrix")
    if matrix_module is None or not matrix_module.MATRIX:
        return
    kinds = [kind for kind in matrix_module.KINDS if any(k == kind for k, _ in matrix_module.MATRIX)]
    terminalreporter.section("matrice des pannes (panne × étape → résultat)")
    terminalreporter.write_line("| étape | " + " | ".join(matrix_module.KIND_FR[k] for k in kinds) + " |")
    terminalreporter.write_line("|---" * (len(kinds) + 1) + "|")
    for flow in matrix_module.FLOWS:
        cells = [matrix_module.MATRIX.get((kind, flow), "") for kind in kinds]
        terminalreporter.write_line(f"| {flow} | " + " | ".join(cells) + " |")


# ARENA's one-time passcodes, from a tool as --otp-command runs it --------------------------------
OTP_SCRIPT = """
import pathlib, sys, time
from sim.arena.otp import DEMO_SEED, code_at
log, wrong = pathlib.Path(sys.argv[1]), int(sys.argv[2])
used = log.read_text().split() if log.exists() else []
# A code from an hour ahead: the right shape, refused now (a mistyped or stale code).
code = code_at(DEMO_SEED, time.time() + (3600 if len(used) < wrong else 0))
log.write_text(" ".join([*used, code]))
print(code)
"""


def otp_command(tmp_path: Path, wrong: int) -> tuple[str, Path]:
    """A passcode tool giving `wrong` refused codes first, then good ones; the codes it gave are
    kept in the returned file."""
    script, log = tmp_path / "otp_tool.py", tmp_path / "codes.txt"
    script.write_text(OTP_SCRIPT, encoding="utf-8")
    return f"{sys.executable} {script} {log} {wrong}", log
