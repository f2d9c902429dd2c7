"""check-site for ARENA: the login form, then (logged in with the one-time passcode) the portal,
STS-web's exports and SIECLE BEE's XML exports; nothing is downloaded."""
from __future__ import annotations

from bot.flow import RunContext
from bot.otp import OtpSource
from bot.site_check import Inspection
from bot.text import de

from .pages import SITE_NAME, ArenaSite


class ArenaInspector:
    site = "arena"
    title = SITE_NAME

    def preflight(self, ctx: RunContext) -> None:
        from .exports import arena_labels
        arena_labels(ctx)
        OtpSource.for_this_process(ctx.options.otp_command, ctx.options.headed).check_usable(
            f"La vérification des pages d'ARENA de l'école {ctx.school_id}")

    def inspect(self, ctx: RunContext, thorough: bool = True, pages: frozenset[str] | None = None) -> Inspection:
        # `pages` is not read: ARENA's one step uses every page checked here.
        from .exports import SITE, arena_labels, refusal_text
        login = ctx.login(SITE)
        site = ArenaSite(ctx.page, ctx.site_url(SITE), arena_labels(ctx))
        otp = OtpSource.for_this_process(ctx.options.otp_command, ctx.options.headed)
        readings = site.inspect(login, ctx.password(SITE), otp,
                                prompt=f"Passcode ARENA {de(login)} pour {ctx.school.name} (école {ctx.school_id}) : ",
                                on_refused=lambda attempt: ctx.say(f"    {refusal_text(attempt)}"))
        return Inspection(readings, None, "version non lue (ARENA n'en affiche pas)")


INSPECTOR = ArenaInspector()
