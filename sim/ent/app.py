"""An ENT simulator (ESUP-Portail as the Montpellier academy's guide shows it) and its CAS 2.0
server. Nobody here has the real ENT's HTML: the markup is our own, ordinary semantic HTML, and
every control the bot uses carries exactly the accessible name of the label pack
(flows/ent/esup_montpellier/labels.yaml), so that the bot finds it by role + name as a person
would.

One blueprint per page family: site (request count, faults, template helpers), cas (the CAS 2.0
server), portal (Bureau, Administration menu page), accounts (Administration des comptes, CSV
export), external_apps (Applications externes, link configuration) and simview (the tests'
door). Their shared state is an `EntSim` in `app.extensions["ent"]` (site.py)."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from ..faults import Faults
from .accounts import CSV_ENCODINGS, accounts
from .cas import cas
from .external_apps import external_apps
from .labels import PACK_PATH, load_pack, merged  # noqa: F401 (PACK_PATH: the tests read the pack)
from .portal import portal
from .simview import simview
from .site import EntSim, site
from .store import Store

# ENT-only switches of POST /_sim/faults (the whole set is replaced at each call), besides the
# rule kinds of sim/faults.py (`http_500` also takes bare paths: those fail for good).
FAULT_KEYS = {
    "ticket_ttl_s": "service tickets expire after this many seconds (0: at once)",
    "csv_encoding": f"encoding of the accounts export, one of {', '.join(CSV_ENCODINGS)}",
    "csv_truncate": "the accounts export is a whole file of only this many bytes",
    "links_ack_without_saving": "`Enregistrer` says saved but stores nothing",
    "expire_sessions": "one shot: every ENT session ends now (not kept in the set)",
}


def create_app(state_dir: Path, labels: dict | None = None, ticket_ttl_s: float = 10.0) -> Flask:
    """`labels` (nested, as the pack) overrides the pack's labels; `ticket_ttl_s` is the life of
    a CAS service ticket."""
    app = Flask(__name__)
    state = EntSim(store=Store(Path(state_dir) / "ent.sqlite"), faults=Faults(extra_keys=FAULT_KEYS),
                   labels=merged(load_pack(), labels or {}), ticket_ttl_s=ticket_ttl_s)
    app.extensions["ent"] = state
    # The same objects, where sim/server.py and the tests look for them.
    app.config["STORE"], app.config["FAULTS"], app.config["LABELS"] = state.store, state.faults, state.labels
    for blueprint in (site, cas, portal, accounts, external_apps, simview):
        app.register_blueprint(blueprint)
    return app
