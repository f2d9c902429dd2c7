"""`python -m bot demo`: the simulators on free loopback ports, the demo credentials in an
in-memory keyring, every flow the bot has run against them, the report printed, all stopped."""
from __future__ import annotations

import sys
import tempfile
from datetime import date
from pathlib import Path

import keyring
from keyring.backend import KeyringBackend

from bot import report
from bot.config import load_config
from bot.runner import run_school
from bot.secrets import redact, set_password

from . import datagen
from .seed import DEMO_SCHOOLS
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


def demo_files(folder: Path) -> dict[str, Path]:
    """A synthetic school of this school year, with the traps a real one has."""
    today = date.today()
    year = today.year if today.month >= 8 else today.year - 1
    spec = datagen.SchoolSpec(uai=DEMO_SCHOOL.uai, year=year, students=60, teachers=10, seed=123,
                              support_staff=True,
                              traps=frozenset({"homonyms", "accents", "student_left", "student_without_class",
                                               "parent_of_several", "group_without_level"}))
    return datagen.write_school_files(datagen.generate_school(spec), folder)


def run_demo(headed: bool = False, slow_mo_ms: int | None = None, want_json: bool = False) -> int:
    from flows import FLOWS

    def say(message: str) -> None:
        print(redact(message), file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="sacoche-bot-demo-") as tmp, \
            Simulators(Path(tmp) / "sim") as sims:
        say(f"Simulateur SACoche démarré : {sims.sacoche_url}")
        files = demo_files(Path(tmp) / "fichiers")
        say(f"Fichiers STS-Web et SIECLE de démonstration générés : {files['sts'].parent}")
        config = load_config(EXAMPLE_CONFIG, overrides={
            "sites": {"sacoche": {"url": sims.sacoche_url}},
            "schools": {str(DEMO_SCHOOL.base): {"files": {key: str(path) for key, path in files.items()}}}})
        keyring.set_keyring(InMemoryKeyring())
        set_password(str(DEMO_SCHOOL.base), "sacoche", DEMO_SCHOOL.sacoche_admin_password)
        run = run_school(config, str(DEMO_SCHOOL.base), FLOWS, headed=headed,
                         slow_mo_ms=slow_mo_ms, say=say)
    print(report.to_json(run) if want_json else report.to_text(run))
    return run.exit_code
