"""check-site for SACoche: the public page (its landmarks and the version it shows), then,
logged in as the school's administrator, every page the flows use (or those of a run's
steps), read only: the first opened on screen, the others fetched all at once and read
without being shown (their landmarks are element ids, option values and the page's global
PAGE, which its inline script sets)."""
from __future__ import annotations

from bot.browser import PrivatePage
from bot.errors import FlowFailed, LoginRefused
from bot.flow import RunContext
from bot.secrets import masked_url
from bot.landmarks import LandmarkReading, PageToFetch, read_fetched_pages, read_landmarks
from bot.site_check import Inspection

from .common import sacoche_site
from .pages import (HEADER, LOGIN_PAGE, SITE_NAME, USER_LISTS, ConnexionPage, IdentifierImportPage, ImportWizardPage,
                    LevelsPage, SacocheSite, user_list_landmarks)
from .versions import version_note

# The names steps give these pages in `Flow.site_pages` (the user lists by SACoche's own names).
AUTH_MODE, LEVELS, IMPORT_WIZARD, ENT_IDS = "connexion", "niveaux", "import_fichiers", "identifiants_ent"
LOGIN_FORM = "#form_auth"   # what SACoche shows instead of a page when the session is gone


class SacocheInspector:
    site = "sacoche"
    title = SITE_NAME

    def preflight(self, ctx: RunContext) -> None:
        pass

    def inspect(self, ctx: RunContext, thorough: bool = True, pages: frozenset[str] | None = None) -> Inspection:
        site = sacoche_site(ctx)
        login, password = ctx.login("sacoche"), ctx.password("sacoche")
        readings = self._public_page(site)
        if any(not reading.present for reading in readings):
            return Inspection(readings, site.version, version_note(site.version))
        wanted = lambda name: pages is None or name in pages  # noqa: E731
        admin = [page(site) for name, page in ((AUTH_MODE, ConnexionPage), (LEVELS, LevelsPage),
                                                (IMPORT_WIZARD, ImportWizardPage), (ENT_IDS, IdentifierImportPage))
                 if wanted(name)]
        to_read = [(page.PAGE, page.landmarks()) for page in admin]
        to_read += [(f"{name}&section=gestion", user_list_landmarks(name)) for name in USER_LISTS if wanted(name)]
        if not to_read:
            return Inspection(readings, site.version, version_note(site.version))
        if not site.shows_identified_page():
            # The first page opened as a person would (logging in), and read on screen.
            query, expected = to_read.pop(0)
            try:
                site.open_admin_page(query, login, password)
            except LoginRefused as refused:
                # The public page was seen (its landmarks, its version); the others were not.
                refused.readings, refused.version, refused.version_note = (readings, site.version,
                                                                           version_note(site.version))
                raise
            readings += read_landmarks(site.page, expected)
        # The others asked for all at once by that page, and read without being shown.
        fetched_pages = read_fetched_pages(site.page, [PageToFetch(site.url(f"page={query}"), expected)
                                                       for query, expected in to_read], probes=(LOGIN_FORM,),
                                           timeout_ms=site.page_timeout_ms)
        for fetched in fetched_pages:
            if fetched.status >= 500:
                raise FlowFailed(f"SACoche, {masked_url(fetched.url)} : erreur du serveur (HTTP {fetched.status})",
                                 transient=True)
            if fetched.probes[LOGIN_FORM] and not any(r.present for r in fetched.readings if r.landmark == HEADER):
                raise FlowFailed("SACoche : la session s'est perdue pendant la lecture des pages (retour au "
                                 "formulaire de connexion)", transient=True)
            readings += fetched.readings
        return Inspection(readings, site.version, version_note(site.version))

    @staticmethod
    def _public_page(site: SacocheSite) -> list[LandmarkReading]:
        """The public page's landmarks and version: on the login form opened early for the run
        (see EarlyLoginForm), or else on a private page of its own (loading it while identified
        would end the session)."""
        early = site.early_form.page if site.early_form else None
        if early is not None:
            return read_landmarks(early, LOGIN_PAGE)
        public = PrivatePage(site.page)
        try:
            here = SacocheSite(public.page, site.base_url, site.base)
            readings = here.read_login_page()
            site._saw_version(here.version)
            return readings
        finally:
            public.close()


INSPECTOR = SacocheInspector()
