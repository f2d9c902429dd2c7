"""The ENT of the Montpellier academy (ESUP portal, SACoche connector `esup_montpellier`): the
first ENT family the bot drives, with the guide's own wording in labels.yaml."""
from __future__ import annotations

from pathlib import Path

from ..families import EntFamily
from .pages import EsupSite

FAMILY = EntFamily(name="esup_montpellier", pages=EsupSite, labels_path=Path(__file__).with_name("labels.yaml"))
