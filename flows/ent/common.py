"""What the ENT flows share: the site with its wording, for the school's ENT administrator."""
from __future__ import annotations

from bot.flow import RunContext

from .pages import EntSite, load_labels


def ent_labels(ctx: RunContext) -> dict:
    site = ctx.config.sites["ent"]
    return load_labels(site.selector_pack, site.labels)


def ent_admin_site(ctx: RunContext) -> EntSite:
    site = EntSite(ctx.page, ctx.site_url("ent"), ent_labels(ctx))
    site.log_in(ctx.login("ent"), ctx.password("ent"))
    return site


ENT_CSV_FACT = "ent_accounts_csv"
