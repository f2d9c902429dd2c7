"""One module per step of the guide. FLOWS lists them in the guide's order."""
from __future__ import annotations

from bot.flow import Flow

from .arena.exports import ArenaExports
from .ent.accounts_export import EntAccountsExport
from .ent.sacoche_link import EntSacocheLink
from .ent.sso_check import SsoCheck
from .sacoche.auth_mode import SacocheAuthMode
from .sacoche.class_levels import SacocheClassLevels
from .sacoche.ent_ids import SacocheEntIds
from .sacoche.import_users import PARENTS, STUDENTS, TEACHERS, SacocheImportUsers

# The guide's order.
FLOWS: list[Flow] = [
    ArenaExports(),              # when the config names no export files
    EntAccountsExport(),
    SacocheAuthMode(),
    SacocheClassLevels(),        # not in the paper guide: a new school has no class level
    SacocheImportUsers(TEACHERS),
    SacocheImportUsers(STUDENTS),
    SacocheImportUsers(PARENTS),
    SacocheEntIds(),
    EntSacocheLink(),
    SsoCheck(),
]

# The sites whose passwords the bot keeps (sites.<site>, schools.N.accounts.<site>), and whose
# account each is, for `credentials --help`.
ACCOUNTS: dict[str, str] = {
    "sacoche": "l'administrateur SACoche de l'école",
    "ent": "l'administrateur de l'ENT",
    "arena": "le compte ARENA qui télécharge les exports STS-Web et SIECLE",
}


def by_name() -> dict[str, Flow]:
    return {flow.name: flow for flow in FLOWS}
