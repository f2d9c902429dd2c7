"""One module per step of the guide. FLOWS lists them in the guide's order."""
from __future__ import annotations

from bot.flow import Flow

from .sacoche.auth_mode import SacocheAuthMode

FLOWS: list[Flow] = [
    SacocheAuthMode(),
]


def by_name() -> dict[str, Flow]:
    return {flow.name: flow for flow in FLOWS}
