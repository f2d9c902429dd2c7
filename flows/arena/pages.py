"""ARENA's pages as a person sees them: every control found by its role and accessible name, from
the label pack (labels.yaml) with the config's overrides (sites.arena.labels)."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Callable

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page

from bot.browser import (DownloadBroken, NavigationWatch, PageInsteadOfDownload, download_by_clicking,
                         private_page)
from bot.errors import FlowFailed, LoginRefused
from bot.landmarks import (ARRIVAL_TIMEOUT_MS, LandmarkReading, PageLandmarks, SiteChanged, from_label_pack,
                           read_in_turn, read_landmarks, require_landmarks)
from bot.otp import OtpSource
from bot.retry import retry_with_backoff
from bot.secrets import Secret, masked_url
from bot.text import de

# The operator typing the code in the browser has this long (a person, not a site, is awaited).
TYPED_IN_BROWSER_TIMEOUT_MS = 5 * 60 * 1000


SITE_NAME = "ARENA"
SITE_KEY = "arena"   # its key in the configuration (sites.arena, accounts.arena)


class PasscodeRefused(LoginRefused):
    """ARENA refused the login at each try: a wrong or expired code, or a wrong password (ARENA
    takes both in one field and says the same for either)."""

    def __init__(self, account: str, site_message: str, tries: int, typed_in_browser: bool = False):
        codes = ("les passcodes tapés dans la fenêtre (un code neuf à chaque essai)" if typed_in_browser else
                 "l'outil qui donne les passcodes (--otp-command : l'heure de la machine, la graine du compte) ou les "
                 "codes tapés (un code neuf à chaque essai)")
        super().__init__(SITE_KEY, SITE_NAME, account, site_message,
                         where="mot de passe ou PIN suivi du passcode", tries=tries,
                         checks=f"le trousseau garde le mot de passe ou le PIN (la partie fixe du passcode) ; vérifiez "
                                f"aussi {codes}")


class ArenaSite:
    """ARENA as one person sees it in one browser context. Each page's landmarks are the label
    pack's words, checked before the page is used."""

    def __init__(self, page: Page, base_url: str, labels: dict):
        self.page = page
        self.base_url = base_url
        self.labels = copy.deepcopy(labels)
        self.loads = NavigationWatch(page)

    # Landmarks ------------------------------------------------------------------------------------
    def _word(self, kind: str, key: str):
        return from_label_pack(self.labels, key, kind, "sites.arena.labels")

    def landmarks(self, page: str) -> PageLandmarks:
        pages = {
            "login": ("Authentification", (self._word("label", "login.username"), self._word("label", "login.password"),
                                           self._word("button", "login.submit"))),
            "portal": ("Portail (applications)", (self._word("link", "portal.sts"), self._word("link", "portal.bee"))),
            "sts": ("STS-web", (self._word("link", "sts.exports_menu"),)),
            "sts_exports": ("STS-web, Exports", (self._word("rowheader", "sts.timetable_row"),
                                                 self._word("link", "sts.timetable_export"))),
            "bee": ("SIECLE BEE", (self._word("link", "bee.exports_menu"),)),
            "bee_exports": ("SIECLE BEE, Exportations", (self._word("link", "bee.xml"),)),
            "bee_xml": ("SIECLE BEE, Exportations en XML", (self._word("link", "bee.students"),
                                                            self._word("link", "bee.parents"))),
        }
        title, landmarks = pages[page]
        return PageLandmarks(SITE_NAME, title, landmarks)

    def require(self, page: str) -> None:
        require_landmarks(self.page, self.landmarks(page))

    def inspect(self, login: str, password, otp, prompt: str, on_refused=None) -> list[LandmarkReading]:
        """check-site: the login form, then (logged in) every page the flow uses; nothing is
        downloaded."""
        readings: list[LandmarkReading] = []
        if not self.at_portal():
            readings += read_landmarks(self.page, self.landmarks("login"))
            if any(not reading.present for reading in readings):
                return readings
            try:
                self.log_in(login, password, otp, prompt, on_refused=on_refused)
            except LoginRefused as refused:
                refused.readings = readings   # the login form was seen; the pages behind it were not
                raise
        sts, bee = self.labels["portal"]["sts"], self.labels["portal"]["bee"]
        visits = (("portal", ()), ("sts", (sts,)), ("sts_exports", (sts, self.labels["sts"]["exports_menu"])),
                  ("bee", (bee,)), ("bee_exports", (bee, self.labels["bee"]["exports_menu"])),
                  ("bee_xml", (bee, self.labels["bee"]["exports_menu"], self.labels["bee"]["xml"])))
        return readings + read_in_turn(self.page, [(lambda links=links: self._open(*links), self.landmarks(page))
                                                   for page, links in visits])

    def link(self, name: str) -> Locator:
        return self.page.get_by_role("link", name=name, exact=True).first

    def _username(self) -> Locator:
        return self.page.get_by_label(self.labels["login"]["username"], exact=True)

    def _portal_link(self) -> Locator:
        return self.link(self.labels["portal"]["sts"])

    def check_arrival(self, doing: str) -> None:
        problem = self.loads.problem()
        if problem:
            raise FlowFailed(f"ARENA, {doing} : {problem}", transient=True)
        if self._username().is_visible():
            raise FlowFailed(f"ARENA, {doing} : la session a expiré (retour à la page de connexion)", transient=True)

    def at_portal(self) -> bool:
        """Open ARENA; True on its application list (identified), False on its login form."""
        self.page.goto(self.base_url)
        problem = self.loads.problem()
        if problem:
            raise FlowFailed(f"ARENA, page d'accueil : {problem}", transient=True)
        try:
            self._username().or_(self._portal_link()).first.wait_for(timeout=ARRIVAL_TIMEOUT_MS)
        except PlaywrightError:
            raise SiteChanged.lacking(SITE_NAME, "Accueil (portail ou authentification)",
                                      [self._word("link", "portal.sts"), self._word("label", "login.username")]) from None
        return self._portal_link().is_visible()

    # Login --------------------------------------------------------------------------------------
    def log_in(self, login: str, password: Secret, otp: OtpSource, prompt: str, tries: int = 3,
               on_refused: Callable[[int], None] | None = None) -> int:
        """Log in with the password followed by a one-time code, asking for a new code after each
        refusal, `tries` times at most; returns how many codes were refused. The password and
        the code are typed in a private context (neither traced nor filmed)."""
        if self.at_portal():
            return 0
        for attempt in range(1, tries + 1):
            with private_page(self.page) as private:
                in_place = private is self.page
                here = ArenaSite(private, self.base_url, self.labels)
                if not in_place:
                    here.at_portal()
                refusal = here._submit(login, password, otp, prompt)
            if refusal is None:
                if not in_place and not self.at_portal():
                    raise FlowFailed(f"La session ARENA {de(login)} n'a pas été reprise après la connexion.")
                return attempt - 1
            if on_refused:
                on_refused(attempt)
        raise PasscodeRefused(login, refusal, tries, typed_in_browser=otp.typed_in_browser)

    def _submit(self, login: str, password: Secret, otp: OtpSource, prompt: str) -> str | None:
        """One login; None once on the portal, else ARENA's refusal (its own words)."""
        words = self.labels["login"]
        self.require("login")
        self._username().fill(login)
        field = self.page.get_by_label(words["password"], exact=True)
        portal, refusal = self._portal_link(), self.page.get_by_role("alert")
        if otp.typed_in_browser:
            # The operator types the code after the password, then validates, in the window.
            field.fill(password.reveal())
            field.focus()
            portal.or_(refusal).first.wait_for(timeout=TYPED_IN_BROWSER_TIMEOUT_MS)
        else:
            code = otp.code(prompt)
            field.fill(password.reveal() + code.reveal())
            self.page.get_by_role("button", name=words["submit"], exact=True).click()
            portal.or_(refusal).first.wait_for()
        if portal.is_visible():
            return None
        return refusal.first.inner_text().strip() or "connexion refusée"

    # Exports ------------------------------------------------------------------------------------
    def _open(self, *links: str) -> None:
        if not self.at_portal():
            raise FlowFailed("ARENA : la session a expiré (retour à la page de connexion)", transient=True)
        for name in links:
            if not self.link(name).count():
                # The page before this link: the portal, or a menu of STS-web / SIECLE BEE.
                where = {self.labels["portal"]["sts"]: "portal", self.labels["portal"]["bee"]: "portal",
                         self.labels["sts"]["exports_menu"]: "sts", self.labels["bee"]["exports_menu"]: "bee",
                         self.labels["bee"]["xml"]: "bee_exports"}.get(name, "portal")
                self.require(where)
            with self.page.expect_navigation():
                self.link(name).click()
            self.check_arrival(f"lien « {name} »")

    def _download(self, path_to: tuple[str, ...], page_key: str, target: Callable[[], Locator], folder: Path,
                  default: str, what: str, on_retry=None) -> Path:
        def once() -> Path:
            self._open(*path_to)
            self.require(page_key)
            return download_by_clicking(target(), folder, default)
        try:
            # A download is a read: repeating it is safe.
            return retry_with_backoff(once, attempts=3, retry_on=(DownloadBroken,), on_wait=on_retry)
        except DownloadBroken as broken:
            raise FlowFailed(f"ARENA, {what} : le téléchargement a échoué 3 fois ({broken})", transient=True) from None
        except PageInsteadOfDownload as page:
            self.check_arrival(what)
            raise FlowFailed(f"ARENA, {what} : {page} ({masked_url(page.url)}) au lieu du fichier",
                             transient=True) from None

    def download_sts(self, folder: Path, on_retry=None) -> Path:
        words = self.labels["sts"]
        # The timetable export of the « Emploi du temps » row: the « Structure » row has a link
        # of the same name, which gives another file.
        row = lambda: self.page.get_by_role("row").filter(  # noqa: E731
            has=self.page.get_by_role("rowheader", name=words["timetable_row"], exact=True))
        return self._download((self.labels["portal"]["sts"], words["exports_menu"]), "sts_exports",
                              lambda: row().get_by_role("link", name=words["timetable_export"], exact=True),
                              folder, "sts_emp.xml", f"STS-web, « {words['timetable_export']} »", on_retry)

    def download_siecle(self, kind: str, folder: Path, on_retry=None) -> Path:
        words = self.labels["bee"]
        name = words[kind]
        return self._download((self.labels["portal"]["bee"], words["exports_menu"], words["xml"]), "bee_xml",
                              lambda: self.link(name), folder, f"{kind}.xml", f"SIECLE BEE, « {name} »", on_retry)
