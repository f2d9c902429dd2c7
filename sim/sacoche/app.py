"""A SACoche simulator: the administrator pages the bot drives, with the ids, AJAX calls, JSON
answers, messages and traps of the real SACoche (as read in its source and seen
driving it). Markup, scripts and wording of the prose are our own.

One blueprint per page family: core (index.php / ajax.php dispatch, sessions, faults), public
(login), etabl (identification mode, levels), fichiers (user import wizard, ENT ids), userlists
(the three user lists), user_edit (their "Modifier un utilisateur" dialog), compte (home, CNIL) and simview (the tests' door)."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from flask import Flask

from ..faults import Faults
from .core import accounts, core
from .etabl import etabl
from .fichiers import fichiers
from .public import public
from .simview import simview
from .site import SacocheSim
from .store import Store
from .user_edit import user_edit
from .userlists import user_lists

# SACoche-only switches of POST /_sim/faults, besides the rule kinds of sim/faults.py.
SACOCHE_FAULT_KEYS = {
    "ack_without_saving": "pages whose form says saved but stores nothing (administrateur_etabl_connexion)",
    "mail_domains_unreachable": "e-mail domains the server cannot reach (no MX, port 25 closed): the user dialog "
                                "then refuses to save an account with such an address, as SACoche does when "
                                "it hosts several schools",
    "ent_ids_former_ignored": "the ENT-id import leaves former accounts out of its candidates, as if another "
                              "release had changed that rule (true/false)",
    "version": "the release the public page and VERSION.txt show (default: the one the specs describe)",
}


def create_app(state_dir: Path, today: date | None = None) -> Flask:
    """`today` fixes the simulator's date (school year, leaving dates) for tests."""
    app = Flask(__name__)
    state = SacocheSim(store=Store(Path(state_dir) / "sacoche.sqlite"), faults=Faults(extra_keys=SACOCHE_FAULT_KEYS),
                       credentials_dir=Path(state_dir) / "login-mdp", today=today)
    app.extensions["sacoche"] = state
    app.config["STORE"], app.config["FAULTS"] = state.store, state.faults
    for blueprint in (core, public, accounts, etabl, fichiers, user_lists, user_edit, simview):
        app.register_blueprint(blueprint)
    return app
