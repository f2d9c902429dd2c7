"""check-site for the ENT: its login form, then, as the school's ENT administrator, the pages
the flows use (the account search is run, the link's configuration is opened; nothing is
validated nor saved). The words are the label pack's, with the config's overrides."""
from __future__ import annotations

from bot.flow import RunContext
from bot.site_check import Inspection

from .common import ent_site


class EntInspector:
    site = "ent"
    title = "l'ENT"

    def preflight(self, ctx: RunContext) -> None:
        from .common import ent_labels
        ent_labels(ctx)   # a wrong pack or override key is refused before any request

    def inspect(self, ctx: RunContext, thorough: bool = True, pages: frozenset[str] | None = None) -> Inspection:
        site = ent_site(ctx, ctx.page)
        # No version: the ENT shows none the bot could read.
        return Inspection(site.inspect(ctx.login("ent"), ctx.password("ent"), thorough, pages), None,
                          "version non lue (l'ENT n'en affiche pas)")


INSPECTOR = EntInspector()
