"""ENT families: the ENTs whose pages the bot knows. Each is a folder under flows/ent/ whose
package exposes FAMILY, an EntFamily with its page object and its label pack. Adding an ENT is
adding such a folder; it is found here by name, nothing else to register."""
from __future__ import annotations

import copy
import importlib
import pkgutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

import yaml
from playwright.sync_api import Page

from bot.errors import Refused
from bot.secrets import Secret


class EntPages(Protocol):
    """What the ENT flows ask of a family's page object, one person in one browser context."""
    page: Page

    def __init__(self, page: Page, base_url: str, labels: dict): ...
    def log_in(self, login: str, password: Secret) -> None: ...
    def shows_login_form(self) -> bool: ...
    def download_accounts(self, folder: Path, on_retry=None) -> Path: ...
    def open_link_configuration(self) -> str: ...   # the address it opened at
    def reopen_link_configuration(self, address: str | None) -> None: ...
    def configure_base(self, base: str) -> str: ...
    def page_text(self) -> str: ...
    def open_sacoche_from_desktop(self) -> Page: ...
    def inspect(self, login: str, password: Secret, thorough: bool = True) -> list: ...   # check-site


@dataclass(frozen=True)
class EntFamily:
    name: str
    pages: type[EntPages]
    labels_path: Path

    def labels(self, overrides: dict | None = None) -> dict:
        return label_pack(self.labels_path, overrides or {}, "sites.ent.labels")

    def site(self, page: Page, base_url: str, labels: dict) -> EntPages:
        return self.pages(page, base_url, labels)


@cache
def _read_pack(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@cache
def ent_families() -> dict[str, EntFamily]:
    families = {}
    here = Path(__file__).parent
    for module in pkgutil.iter_modules([str(here)]):
        if module.ispkg:
            family = getattr(importlib.import_module(f"{__package__}.{module.name}"), "FAMILY", None)
            if isinstance(family, EntFamily):
                families[family.name] = family
    return families


def labels_of(pack: str, overrides: dict | None = None) -> dict:
    """The label pack of family `pack` (config sites.ent.selector_pack), with the user's overrides."""
    family = ent_families().get(pack)
    if family is None:
        known = ", ".join(sorted(ent_families()))
        raise Refused(f"Jeu de libellés ENT « {pack} » inconnu (clé sites.ent.selector_pack ; connus : {known})")
    return family.labels(overrides)


def label_pack(path: Path, overrides: dict, where: str) -> dict:
    """A label pack file with the config's overrides laid over it (unknown keys refused)."""
    labels = copy.deepcopy(_read_pack(path))
    _merge_overrides(labels, overrides or {}, where)
    return labels


def _merge_overrides(labels: dict, overrides: dict, where: str) -> None:
    for key, value in overrides.items():
        if key not in labels:
            raise Refused(f"{where}.{key} : libellé inconnu (clés possibles : {', '.join(labels)})")
        if isinstance(labels[key], dict):
            if not isinstance(value, dict):
                raise Refused(f"{where}.{key} : une liste de libellés est attendue")
            _merge_overrides(labels[key], value, f"{where}.{key}")
        else:
            labels[key] = value
