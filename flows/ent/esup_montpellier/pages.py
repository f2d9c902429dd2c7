"""Page objects of the Montpellier academy's ENT (ESUP portal). Nobody on the project has the
real ENT's HTML, so every control is found by what a person sees: its role and accessible name,
taken from this family's label pack (labels.yaml), which the user's config may override label by
label (sites.ent.labels)."""
from __future__ import annotations

import copy
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect

from bot.browser import (DownloadBroken, NavigationWatch, PageInsteadOfDownload, download_by_clicking,
                         private_page)
from bot.errors import FlowFailed, LoginRefused
from bot.landmarks import (ARRIVAL_TIMEOUT_MS, Landmark, LandmarkReading, PageLandmarks, SiteChanged, from_label_pack,
                           read_in_turn, read_landmarks, require_landmarks)
from bot.retry import retry_with_backoff
from bot.secrets import Secret, masked_url
from bot.text import de

SITE_NAME = "l'ENT"
SITE_KEY = "ent"   # its key in the configuration (sites.ent)


class EsupSite:
    """The ENT as one person sees it in one browser context. Each page's landmarks are the
    label pack's words, checked before the page is used (`inspect` reads them all for check-site)."""

    def __init__(self, page: Page, base_url: str, labels: dict):
        self.page = page
        self.base_url = base_url
        self.labels = copy.deepcopy(labels)
        self.loads = NavigationWatch(page)

    # Landmarks ------------------------------------------------------------------------------------
    def _word(self, kind: str, key: str, **values) -> Landmark:
        return from_label_pack(self.labels, key, kind, "sites.ent.labels", **values)

    def landmarks(self, page: str) -> PageLandmarks:
        apps = self.labels["external_apps"]
        pages = {
            "login": ("Connexion", (self._word("label", "login.username"), self._word("label", "login.password"),
                                    self._word("button", "login.submit"))),
            "desktop": ("Bureau", (self._word("link", "menu.desktop"), self._word("link", "menu.administration"),
                                   self._word("link", "menu.logout"))),
            "admin": ("Administration", (self._word("link", "menu.accounts"), self._word("link", "menu.external_apps"))),
            "accounts": ("Administration des comptes", (self._word("button|link", "accounts.search"),)),
            "accounts_found": ("Administration des comptes (résultats)", (self._word("button|link", "accounts.export"),)),
            "apps": ("Applications externes", (self._word("button|link", "external_apps.configure", app=apps["app"]),)),
            "app_links": (f"Configuration du lien « {apps['app']} »", (
                self._word("checkbox", "external_apps.select_all"), self._word("button|link", "external_apps.edit_links"),
                self._word("label", "external_apps.base_field"), self._word("button|link", "external_apps.validate"),
                self._word("button|link", "external_apps.save"))),
            "bureau_tile": ("Bureau (tuile de l'application)", (self._word("link", "desktop.tile"),)),
        }
        title, landmarks = pages[page]
        return PageLandmarks(SITE_NAME, title, landmarks)

    def require(self, page: str) -> None:
        require_landmarks(self.page, self.landmarks(page))

    def shows_login_form(self) -> bool:
        return self.page.get_by_label(self.labels["login"]["username"], exact=True).is_visible()

    def check_arrival(self, doing: str) -> None:
        """After a click that loads a page: a server error, a server gone, or the ENT's login form
        (the admin session expired) ends the flow at once as a passing failure; running the flow
        again from its start logs in again."""
        problem = self.loads.problem()
        if problem:
            raise FlowFailed(f"ENT, {doing} : {problem}", transient=True)
        if self.shows_login_form():
            raise FlowFailed(f"ENT, {doing} : la session a expiré (retour à la page de connexion)", transient=True)

    def control(self, name: str) -> Locator:
        """A button or a link with that accessible name (icons may be either)."""
        return self.page.get_by_role("button", name=name, exact=True).or_(
            self.page.get_by_role("link", name=name, exact=True)).first

    def link(self, name: str) -> Locator:
        return self.page.get_by_role("link", name=name, exact=True).first

    # Login --------------------------------------------------------------------------------------
    def log_in(self, login: str, password: Secret) -> None:
        if self._identified_here():
            return   # already logged in in this context
        on_login_form = self.page.url.startswith(self.base_url) and self.shows_login_form()
        if not on_login_form and self._at_desktop_or_login():
            return
        # The password is typed in a private context (never traced nor filmed); the ENT's
        # session cookie then carries over to this page's context.
        with private_page(self.page) as private:
            in_place = private is self.page   # an isolated page: already on the login form
            EsupSite(private, self.base_url, self.labels)._log_in_here(login, password, on_login_form=in_place)
        if not in_place and not self._at_desktop_or_login():
            raise FlowFailed(f"La session ENT {de(login)} n'a pas été reprise après la connexion.")

    def _identified_here(self) -> bool:
        """The page on screen is one of this ENT's, with its menu (Bureau, Déconnexion): a session
        is open and the menus can be followed from here, without going back to the home page."""
        if not self.page.url.startswith(self.base_url):
            return False
        menu = self.labels["menu"]
        return all(self.link(menu[entry]).count() for entry in ("desktop", "logout"))

    def _at_desktop_or_login(self) -> bool:
        """Open the ENT; True when it shows the Bureau (identified), False on its login form."""
        self.page.goto(self.base_url)
        problem = self.loads.problem()
        if problem:
            raise FlowFailed(f"ENT, page d'accueil : {problem}", transient=True)
        username = self.page.get_by_label(self.labels["login"]["username"], exact=True)
        desktop = self.link(self.labels["menu"]["desktop"])
        try:
            username.or_(desktop).first.wait_for(timeout=ARRIVAL_TIMEOUT_MS)
        except PlaywrightError:
            # Neither the login form nor the Bureau: not the page the label pack describes.
            raise SiteChanged.lacking(SITE_NAME, "Accueil (Bureau ou formulaire de connexion)",
                                      [self._word("link", "menu.desktop"), self._word("label", "login.username")]) from None
        return desktop.is_visible()

    def _log_in_here(self, login: str, password: Secret, on_login_form: bool = False) -> None:
        words = self.labels["login"]
        desktop = self.link(self.labels["menu"]["desktop"])
        if not on_login_form and self._at_desktop_or_login():
            return
        self.require("login")
        username = self.page.get_by_label(words["username"], exact=True)
        username.fill(login)
        self.page.get_by_label(words["password"], exact=True).fill(password.reveal())
        self.page.get_by_role("button", name=words["submit"], exact=True).click()
        problem = self.page.get_by_role("alert")
        desktop.or_(problem).first.wait_for()
        if not desktop.is_visible():
            # A wrong password or an unknown account (the administrator's, or an SSO user's):
            # the same login would be refused again.
            raise LoginRefused(SITE_KEY, SITE_NAME, login, problem.first.inner_text())

    def open_menu(self, *entries: str) -> None:
        """Follow the menu path `entries`, from the deepest of its links the page already shows
        (a sub-menu open on the page needs no click on its parent)."""
        shown = next((i for i in range(len(entries) - 1, 0, -1) if self.link(self.labels["menu"][entries[i]]).count()), 0)
        for entry in entries[shown:]:
            if not self.link(self.labels["menu"][entry]).count():
                self.require({"administration": "desktop", "desktop": "desktop"}.get(entry, "admin"))
            # The next page must have come before anything is read on it: reading right after
            # the click may still see the page the click left (a race seen under load).
            with self.page.expect_navigation():
                self.link(self.labels["menu"][entry]).click()
            self.check_arrival(f"menu « {self.labels['menu'][entry]} »")

    # Accounts export ------------------------------------------------------------------------------
    def download_accounts(self, folder: Path, on_retry=None) -> Path:
        words = self.labels["accounts"]

        def search_then_export() -> Path:
            # From the portal's home each time: after a failed download the page may be an
            # error page without the menu.
            if not (self._identified_here() or self._at_desktop_or_login()):
                raise FlowFailed("ENT : la session a expiré (retour à la page de connexion)", transient=True)
            self.open_menu("administration", "accounts")
            self.require("accounts")
            self.control(words["search"]).click()
            self.check_arrival(f"bouton « {words['search']} »")
            self.require("accounts_found")
            return download_by_clicking(self.control(words["export"]), folder, "extraction_ent.csv")
        try:
            # A download is a read: repeating it is safe, and cheaper than the whole flow.
            return retry_with_backoff(search_then_export, attempts=3, retry_on=(DownloadBroken,), on_wait=on_retry)
        except DownloadBroken as broken:
            raise FlowFailed(f"Le téléchargement de l'extraction CSV a échoué 3 fois : {broken}",
                             transient=True) from None
        except PageInsteadOfDownload as page:
            self.check_arrival(f"« {words['export']} »")   # a lost session says so
            raise FlowFailed(f"« {words['export']} » a ouvert {page} ({masked_url(page.url)})", transient=True) from None

    # External application link ---------------------------------------------------------------------
    def open_link_configuration(self) -> str:
        """Through the menus; returns the address the configuration opened at."""
        words = self.labels["external_apps"]
        self._open_apps_page()
        self.require("apps")
        self.control(words["configure"].format(app=words["app"])).click()
        self.check_arrival(f"configuration du lien « {words['app']} »")
        self.require("app_links")
        return self.page.url

    def reopen_link_configuration(self, address: str | None) -> None:
        """The configuration again, as the ENT stored it: at the address it opened at before
        (one page load instead of four), else, when that address does not give it back (an
        address valid once, a page that needs its form), through the menus."""
        if address and address.startswith(self.base_url):
            try:
                self.page.goto(address)
                self.check_arrival("configuration du lien, rouverte à son adresse")
                self.require("app_links")
                return
            except (FlowFailed, PlaywrightError):   # SiteChanged included: not the page it was
                pass   # the menus below say what is wrong, if anything is
        self.open_link_configuration()

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
        self.check_arrival(f"bouton « {words['validate']} »")
        self.control(words["save"]).click()
        self.check_arrival(f"bouton « {words['save']} »")
        status = self.page.get_by_role("status")
        problem = self.page.get_by_role("alert")
        expect(status.or_(problem).first).to_be_visible()
        if problem.count() and problem.first.is_visible():
            raise FlowFailed(f"L'ENT a refusé la configuration du lien : {problem.first.inner_text().strip()}")
        return status.first.inner_text().strip()

    # check-site -------------------------------------------------------------------------------------
    def inspect(self, login: str, password: Secret, thorough: bool = True,
                pages: frozenset[str] | None = None) -> list[LandmarkReading]:
        """Every page the flows use (`pages`: those only, besides the login form and the Bureau
        a login lands on), read without writing: the search is run (a read; not `thorough`, the
        flow checks its results itself), the link's configuration is opened, nothing is
        validated nor saved."""
        readings: list[LandmarkReading] = []
        self.page.goto(self.base_url)
        self.page.wait_for_load_state()
        if self.shows_login_form() or not self.link(self.labels["menu"]["desktop"]).count():
            readings += read_landmarks(self.page, self.landmarks("login"))
            if any(not reading.present for reading in readings):
                return readings
        try:
            self.log_in(login, password)
        except LoginRefused as refused:
            refused.readings = readings   # the login form was seen; the pages behind it were not
            raise
        stay = lambda: None  # noqa: E731
        visits = [(stay, "desktop"), (stay, "bureau_tile"),
                  (lambda: self.open_menu("administration"), "admin"), (lambda: self.open_menu("accounts"), "accounts"),
                  *([(lambda: self._click_and_arrive(self.labels["accounts"]["search"]), "accounts_found")]
                    if thorough else []),
                  (self._open_apps_page, "apps"),
                  (lambda: self._click_and_arrive(self.labels["external_apps"]["configure"].format(
                      app=self.labels["external_apps"]["app"])), "app_links")]
        visits = [(go, page) for go, page in visits if go is stay or pages is None or page in pages]
        return readings + read_in_turn(self.page, [(go, self.landmarks(page)) for go, page in visits])

    def _click_and_arrive(self, name: str) -> None:
        self.control(name).click()
        self.check_arrival(f"« {name} »")

    def _open_apps_page(self) -> None:
        words = self.labels["external_apps"]
        self.open_menu("administration", "external_apps")
        page_link = self.link(words["page_link"].format(number=words["sacoche_page"]))
        if page_link.count():
            with self.page.expect_navigation():
                page_link.click()

    def page_text(self) -> str:
        return self.page.locator("body").inner_text()

    # Bureau -----------------------------------------------------------------------------------------
    def open_sacoche_from_desktop(self) -> Page:
        """Click the SACoche tile on the Bureau; returns the page SACoche opened in (a new tab
        if the ENT opens one)."""
        if not self.link(self.labels["desktop"]["tile"]).count():   # not on the Bureau (a login lands there)
            self.open_menu("desktop")
        self.require("bureau_tile")
        tile = self.link(self.labels["desktop"]["tile"])
        target = tile.get_attribute("target")
        if target == "_blank":
            with self.page.context.expect_page() as new_page:
                tile.click()
            return new_page.value
        tile.click()
        return self.page
