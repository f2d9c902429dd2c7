"""What the ENT flows share: the ENT family a school's ENT belongs to, the site with its
wording, and, for an ENT the bot does not know, the steps left to a person."""
from __future__ import annotations

from bot.flow import Flow, Outcome, RunContext, Status, Work

from .families import EntFamily, EntPages, ent_families, labels_of

ENT_CSV_FACT = "ent_accounts_csv"
MANUAL = object()   # an outcome's data: the steps were left to a person


def ent_family(ctx: RunContext) -> EntFamily | None:
    """The school's ENT family (a folder under flows/ent/), when the bot knows its pages."""
    return ent_families().get(ctx.school.ent_family or ctx.school.ent_connector)


def ent_labels(ctx: RunContext) -> dict:
    site = ctx.config.sites["ent"]
    return labels_of(site.selector_pack or ent_family(ctx).name, site.labels)


def ent_site(ctx: RunContext, page) -> EntPages:
    """The school's ENT family's page object on `page`."""
    return ent_family(ctx).site(page, ctx.site_url("ent"), ent_labels(ctx))


def ent_admin_site(ctx: RunContext) -> EntPages:
    site = ent_site(ctx, ctx.page)
    site.log_in(ctx.login("ent"), ctx.password("ent"))
    return site


class EntFlow(Flow):
    """A step on the ENT's own pages. For an ENT of no known family it touches nothing, needs
    no ENT password, and lists what a person must do on that ENT instead."""
    sites = ("ent",)

    def manual_steps(self, ctx: RunContext) -> list[str]:
        raise NotImplementedError

    def preflight_on_ent(self, ctx: RunContext) -> None:
        ent_labels(ctx)   # a wrong pack name or override key is refused before any click

    def run_on_ent(self, ctx: RunContext) -> Outcome:
        raise NotImplementedError

    def verify_on_ent(self, ctx: RunContext, outcome: Outcome) -> dict:
        raise NotImplementedError

    def needed_sites(self, ctx: RunContext) -> tuple[str, ...]:
        return self.sites if ent_family(ctx) else ()

    def site_inspectors(self, ctx: RunContext, every_site: bool = False):
        from .site_check import INSPECTOR
        return (INSPECTOR,) if "ent" in self.needed_sites(ctx) else ()

    def preflight(self, ctx: RunContext) -> None:
        if ent_family(ctx):
            self.preflight_on_ent(ctx)

    def run(self, ctx: RunContext) -> Outcome:
        if ent_family(ctx):
            return self.run_on_ent(ctx)
        which = ctx.school.ent_family or ctx.school.ent_connector
        ctx.show_no_page(f"le robot ne connaît pas les pages de l'ENT « {which} », il n'en a ouvert aucune")
        return Outcome(Status.UNCHANGED, f"ENT « {which} » : le robot ne connaît pas ses pages ; rien n'y a été fait, "
                                         "étape à faire à la main (voir « À faire à la main »).",
                       details={"by_hand": [{"label": f"Sur l'ENT ({which}), à faire à la main",
                                             "items": self.manual_steps(ctx)}]},
                       data=MANUAL, work=Work.BY_HAND)

    def verify(self, ctx: RunContext, outcome: Outcome) -> dict:
        if outcome.data is MANUAL:
            return {}
        return self.verify_on_ent(ctx, outcome)
