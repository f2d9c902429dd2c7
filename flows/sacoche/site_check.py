"""check-site for SACoche: the public page (its landmarks and the version it shows), then,
logged in as the school's administrator, every page the flows use (or those of a run's
steps), opened and read only."""
from __future__ import annotations

from bot.browser import PrivatePage
from bot.flow import RunContext
from bot.site_check import Inspection

from .common import sacoche_site
from .pages import (SITE_NAME, USER_LISTS, ConnexionPage, IdentifierImportPage, ImportWizardPage, LevelsPage,
                    SacocheSite, UserListPage)
from .versions import version_note

# The names steps give these pages in `Flow.site_pages` (the user lists by SACoche's own names).
AUTH_MODE, LEVELS, IMPORT_WIZARD, ENT_IDS = "connexion", "niveaux", "import_fichiers", "identifiants_ent"


class SacocheInspector:
    site = "sacoche"
    title = SITE_NAME

    def preflight(self, ctx: RunContext) -> None:
        pass

    def inspect(self, ctx: RunContext, thorough: bool = True, pages: frozenset[str] | None = None) -> Inspection:
        site = sacoche_site(ctx)
        login, password = ctx.login("sacoche"), ctx.password("sacoche")
        # The public page in a page of its own: loading it while identified would end the session.
        public = PrivatePage(ctx.page)
        try:
            here = SacocheSite(public.page, site.base_url, site.base)
            readings = here.read_login_page()
            site._saw_version(here.version)
        finally:
            public.close()
        if any(not reading.present for reading in readings):
            return Inspection(readings, site.version, version_note(site.version))
        wanted = lambda name: pages is None or name in pages  # noqa: E731
        for name, page in ((AUTH_MODE, ConnexionPage), (LEVELS, LevelsPage), (IMPORT_WIZARD, ImportWizardPage),
                           (ENT_IDS, IdentifierImportPage)):
            if wanted(name):
                readings += page(site).read_landmarks(login, password)
        lists = UserListPage(site)
        for page_name in USER_LISTS:
            if wanted(page_name):
                readings += lists.read_list_landmarks(page_name, login, password)
        return Inspection(readings, site.version, version_note(site.version))


INSPECTOR = SacocheInspector()
