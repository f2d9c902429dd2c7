"""`python -m bot demo`: the simulators on free loopback ports, the demo credentials in an
in-memory keyring (its passcodes read off the simulated ARENA token), every flow the bot has run against them, the report printed, all stopped."""
from __future__ import annotations

import dataclasses
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Sequence

import keyring
from keyring.backend import KeyringBackend

from bot import report
from bot.config import load_config
from bot.flow import Flow
from bot.runner import RunOptions, run_school
from bot.secrets import redact, set_password

from .arena.app import DEMO_ARENA
from .ent.seed import DEMO_ENT_ADMIN, demo_password
from .seed import DEMO_SCHOOLS, sso_check_logins
from .server import Simulators

EXAMPLE_CONFIG = Path(__file__).resolve().parents[1] / "config.example.yaml"
DEMO_SCHOOL = DEMO_SCHOOLS[0]


class InMemoryKeyring(KeyringBackend):
    """A keyring that lives as long as the process: the demo's passwords are never stored."""
    priority = 1

    def __init__(self):
        super().__init__()
        self._entries: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self._entries.get((service, username))

    def set_password(self, service, username, password):
        self._entries[(service, username)] = password

    def delete_password(self, service, username):
        self._entries.pop((service, username), None)


def demo_overrides(sims: Simulators, checkers: list[str], state_dir: Path) -> dict:
    """What the demo changes in config.example.yaml: the simulators' ports and the ENT users who
    prove SSO. No files: they come from the simulated ARENA, as for a real school."""
    return {"sites": {"sacoche": {"url": sims.sacoche_url}, "ent": {"url": sims.ent_url},
                      "arena": {"url": sims.arena_url}},
            "paths": {"state_dir": str(state_dir)},   # a fresh journal: the simulators are new too
            "schools": {str(DEMO_SCHOOL.base): {"sso_check": [{"login": login} for login in checkers]}}}


def demo_otp_command() -> str:
    """The demo alone reads its passcodes off the simulator's token (its seed is public)."""
    return f"{shlex.quote(sys.executable)} -m sim.arena.otp"


def run_demo(flows: Sequence[Flow], options: RunOptions | None = None, want_json: bool = False) -> int:
    """The full onboarding of the demo school (every flow given, in the guide's order)."""
    options = options or RunOptions()

    def say(message: str) -> None:
        print(redact(message), file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="sacoche-bot-demo-") as tmp, \
            Simulators(Path(tmp) / "sim") as sims:
        say(f"Simulateurs démarrés : SACoche {sims.sacoche_url} — ENT {sims.ent_url} — ARENA {sims.arena_url}")
        checkers = sso_check_logins(sims.school_data)
        config = load_config(EXAMPLE_CONFIG, overrides=demo_overrides(sims, checkers, Path(tmp) / "state"))
        keyring.set_keyring(InMemoryKeyring())
        school = str(DEMO_SCHOOL.base)
        set_password(school, "sacoche", DEMO_SCHOOL.sacoche_admin_password)
        set_password(school, "ent", DEMO_ENT_ADMIN[1])
        set_password(school, "arena", DEMO_ARENA[1])
        if options.otp_command is None:
            options = dataclasses.replace(options, otp_command=demo_otp_command())
        for login in checkers:
            set_password(school, f"sso:{login}", demo_password(login))
        run = run_school(config, school, flows, options)
    print(report.to_json(run) if want_json else report.to_text(run))
    return run.exit_code
