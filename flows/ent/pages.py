"""Page objects of the ENT. Nobody on the project has the real ENT's HTML, so every control is
found by what a person sees: its role and accessible name, taken from a selector pack
(packs/<name>.yaml) that the user's config may override label by label (sites.ent.labels)."""
from __future__ import annotations

import copy
import re
from pathlib import Path

import yaml
from playwright.sync_api import Locator, Page, expect

from bot.browser import private_page
from bot.errors import FlowFailed, Refused
from bot.secrets import Secret

PACKS = Path(__file__).resolve().parent / "packs"
DEFAULT_PACK = "esup_montpellier"


def load_labels(pack: str | None, overrides: dict) -> dict:
    name = pack or DEFAULT_PACK
    path = PACKS / f"{name}.yaml"
    if not re.fullmatch(r"[a-z0-9_]+", name) or not path.is_file():
        known = ", ".join(sorted(p.stem for p in PACKS.glob("*.yaml")))
        raise Refused(f"Jeu de libellés ENT « {name} » inconnu (clé sites.ent.selector_pack ; connus : {known})")
    labels = yaml.safe_load(path.read_text(encoding="utf-8"))
    _merge_overrides(labels, overrides or {}, "sites.ent.labels")
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


class EntSite:
    """The ENT as one person sees it in one browser context."""

    def __init__(self, page: Page, base_url: str, labels: dict):
        self.page = page
        self.base_url = base_url
        self.labels = copy.deepcopy(labels)

    def control(self, name: str) -> Locator:
        """A button or a link with that accessible name (icons may be either)."""
        return self.page.get_by_role("button", name=name, exact=True).or_(
            self.page.get_by_role("link", name=name, exact=True)).first

    def link(self, name: str) -> Locator:
        return self.page.get_by_role("link", name=name, exact=True).first

    # Login --------------------------------------------------------------------------------------
    def log_in(self, login: str, password: Secret) -> None:
        if self._at_desktop_or_login():
            return   # already logged in in this context
        # The password is typed in a private context (never traced nor filmed); the ENT's
        # session cookie then carries over to this page's context.
        with private_page(self.page) as private:
            EntSite(private, self.base_url, self.labels)._log_in_here(login, password)
        if not self._at_desktop_or_login():
            raise FlowFailed(f"La session ENT de {login} n'a pas été reprise après la connexion.")

    def _at_desktop_or_login(self) -> bool:
        """Open the ENT; True when it shows the Bureau (identified), False on its login form."""
        self.page.goto(self.base_url)
        username = self.page.get_by_label(self.labels["login"]["username"], exact=True)
        desktop = self.link(self.labels["menu"]["desktop"])
        username.or_(desktop).first.wait_for()
        return desktop.is_visible()

    def _log_in_here(self, login: str, password: Secret) -> None:
        words = self.labels["login"]
        desktop = self.link(self.labels["menu"]["desktop"])
        if self._at_desktop_or_login():
            return
        username = self.page.get_by_label(words["username"], exact=True)
        username.fill(login)
        self.page.get_by_label(words["password"], exact=True).fill(password.reveal())
        self.page.get_by_role("button", name=words["submit"], exact=True).click()
        problem = self.page.get_by_role("alert")
        desktop.or_(problem).first.wait_for()
        if not desktop.is_visible():
            raise FlowFailed(f"Connexion à l'ENT refusée pour {login} : {problem.inner_text().strip()}")

    def open_menu(self, *entries: str) -> None:
        for entry in entries:
            self.link(self.labels["menu"][entry]).click()

    # Accounts export ------------------------------------------------------------------------------
    def download_accounts(self, folder: Path) -> Path:
        words = self.labels["accounts"]
        self.open_menu("administration", "accounts")
        self.control(words["search"]).click()
        export = self.control(words["export"])
        with self.page.expect_download() as download_info:
            export.click()
        download = download_info.value
        failure = download.failure()
        if failure:
            raise FlowFailed(f"Le téléchargement de l'extraction CSV a échoué : {failure}")
        target = folder / (download.suggested_filename or "extraction_ent.csv")
        download.save_as(target)
        return target

    # External application link ---------------------------------------------------------------------
    def open_link_configuration(self) -> None:
        words = self.labels["external_apps"]
        self.open_menu("administration", "external_apps")
        page_link = self.link(words["page_link"].format(number=words["sacoche_page"]))
        if page_link.count():
            page_link.click()
        configure = self.control(words["configure"].format(app=words["app"]))
        if configure.count() == 0:
            configure.wait_for()   # give the page its time before saying it is not there
        configure.click()

    def configure_base(self, base: str) -> str:
        """Select every structure, give them the base number, validate, save; returns the
        status the ENT printed."""
        words = self.labels["external_apps"]
        select_all = self.page.get_by_role("checkbox", name=words["select_all"], exact=True)
        select_all.check()
        self.control(words["edit_links"]).click()
        field = self.page.get_by_label(words["base_field"], exact=True)
        field.fill(base)
        self.control(words["validate"]).click()
        self.control(words["save"]).click()
        status = self.page.get_by_role("status")
        problem = self.page.get_by_role("alert")
        expect(status.or_(problem).first).to_be_visible()
        if problem.count() and problem.first.is_visible():
            raise FlowFailed(f"L'ENT a refusé la configuration du lien : {problem.first.inner_text().strip()}")
        return status.first.inner_text().strip()

    def page_text(self) -> str:
        return self.page.locator("body").inner_text()

    # Bureau -----------------------------------------------------------------------------------------
    def open_sacoche_from_desktop(self) -> Page:
        """Click the SACoche tile on the Bureau; returns the page SACoche opened in (a new tab
        if the ENT opens one)."""
        self.open_menu("desktop")
        tile = self.link(self.labels["desktop"]["tile"])
        target = tile.get_attribute("target")
        if target == "_blank":
            with self.page.context.expect_page() as new_page:
                tile.click()
            return new_page.value
        tile.click()
        return self.page
