"""`python -m bot demo`: the simulators on free loopback ports, the demo credentials in an
in-memory keyring, every flow the bot has run against them, the report printed, all stopped."""
from __future__ import annotations

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

from . import datagen
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


def demo_overrides(sims: Simulators, files: dict, checkers: list[str], state_dir: Path) -> dict:
    """What the demo changes in config.example.yaml: the simulators' ports, the generated files,
    and the ENT users who prove SSO."""
    return {"sites": {"sacoche": {"url": sims.sacoche_url}, "ent": {"url": sims.ent_url}},
            "paths": {"state_dir": str(state_dir)},   # a fresh journal: the simulators are new too
            "schools": {str(DEMO_SCHOOL.base): {"files": {key: str(path) for key, path in files.items()},
                                                "sso_check": [{"login": login} for login in checkers]}}}


def run_demo(flows: Sequence[Flow], options: RunOptions | None = None, want_json: bool = False) -> int:
    """The full onboarding of the demo school (every flow given, in the guide's order)."""
    options = options or RunOptions()

    def say(message: str) -> None:
        print(redact(message), file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="sacoche-bot-demo-") as tmp, \
            Simulators(Path(tmp) / "sim") as sims:
        say(f"Simulateurs démarrés : SACoche {sims.sacoche_url} — ENT {sims.ent_url}")
        files = datagen.write_school_files(sims.school_data, Path(tmp) / "fichiers")
        say(f"Fichiers STS-Web et SIECLE de démonstration générés : {files['sts'].parent}")
        checkers = sso_check_logins(sims.school_data)
        config = load_config(EXAMPLE_CONFIG, overrides=demo_overrides(sims, files, checkers, Path(tmp) / "state"))
        keyring.set_keyring(InMemoryKeyring())
        school = str(DEMO_SCHOOL.base)
        set_password(school, "sacoche", DEMO_SCHOOL.sacoche_admin_password)
        set_password(school, "ent", DEMO_ENT_ADMIN[1])
        for login in checkers:
            set_password(school, f"sso:{login}", demo_password(login))
        run = run_school(config, school, flows, options)
    print(report.to_json(run) if want_json else report.to_text(run))
    return run.exit_code
