"""check-site for SACoche: the public page (its landmarks and the version it shows), then,
logged in as the school's administrator, every page the flows use, opened and read only."""
from __future__ import annotations

from bot.browser import PrivatePage
from bot.flow import RunContext
from bot.site_check import Inspection

from .common import sacoche_site
from .pages import (SITE_NAME, USER_LISTS, ConnexionPage, IdentifierImportPage, ImportWizardPage, LevelsPage,
                    SacocheSite, UserListPage)
from .versions import version_note


class SacocheInspector:
    site = "sacoche"
    title = SITE_NAME

    def preflight(self, ctx: RunContext) -> None:
        pass

    def inspect(self, ctx: RunContext, thorough: bool = True) -> Inspection:
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
        readings += ConnexionPage(site).read_landmarks(login, password)
        readings += LevelsPage(site).read_landmarks(login, password)
        readings += ImportWizardPage(site).read_landmarks(login, password)
        readings += IdentifierImportPage(site).read_landmarks(login, password)
        lists = UserListPage(site)
        for page_name in USER_LISTS:
            readings += lists.read_list_landmarks(page_name, login, password)
        return Inspection(readings, site.version, version_note(site.version))


INSPECTOR = SacocheInspector()
