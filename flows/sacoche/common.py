"""What the SACoche flows share: the school's SACoche site, with its login form opened early
(see EarlyLoginForm), and the flow base that opens it before the run's first step."""
from __future__ import annotations

from bot.flow import Flow, RunContext

from .pages import EarlyLoginForm, SacocheSite


def early_login_form(ctx: RunContext) -> EarlyLoginForm:
    return EarlyLoginForm()


def sacoche_site(ctx: RunContext) -> SacocheSite:
    """The school's SACoche on the run's page; one early login form per run (ctx.once)."""
    return SacocheSite(ctx.page, ctx.site_url("sacoche"), ctx.school_id, early_form=ctx.once(early_login_form),
                       page_timeout_ms=ctx.config.browser.navigation_timeout_ms)


class SacocheFlow(Flow):
    """A step on the school's SACoche, as its administrator."""
    sites = ("sacoche",)

    def site_inspectors(self, ctx: RunContext, every_site: bool = False):
        from .site_check import INSPECTOR
        return (INSPECTOR,) if "sacoche" in self.needed_sites(ctx) else ()

    def warm_up(self, ctx: RunContext) -> None:
        from ..arena.exports import KINDS, exports_come_later
        if exports_come_later(ctx, self.name, KINDS):
            return   # SACoche is not touched before ARENA's exports have passed their checks
        site = sacoche_site(ctx)
        if not site.is_identified():
            site.early_form.open(site)
