"""One module per step of the guide. FLOWS lists them in the guide's order."""
from __future__ import annotations

from bot.flow import Flow

from .sacoche.auth_mode import SacocheAuthMode
from .sacoche.import_users import PARENTS, STUDENTS, TEACHERS, SacocheImportUsers

FLOWS: list[Flow] = [
    SacocheAuthMode(),
    SacocheImportUsers(TEACHERS),
    SacocheImportUsers(STUDENTS),
    SacocheImportUsers(PARENTS),
]


def by_name() -> dict[str, Flow]:
    return {flow.name: flow for flow in FLOWS}
