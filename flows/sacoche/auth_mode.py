"""Guide step "Définir le mode d'accès": SACoche's identification mode becomes the ENT's CAS
connector (menu Mode d'identification / Connecteur ENT)."""
from __future__ import annotations

from bot.errors import FlowFailed, VerificationMismatch
from bot.flow import DONE, UNCHANGED, Flow, Outcome, RunContext

from .connectors import connector_option
from .pages import ConnexionPage, SacocheSite, is_transient


def sacoche_site(ctx: RunContext) -> SacocheSite:
    return SacocheSite(ctx.page, ctx.site_url("sacoche"), ctx.school_id)


class SacocheAuthMode(Flow):
    report_labels = {"details": {"mode": "Mode", "previous_mode": "Mode précédent",
                                 "mode_after_reload": "Mode relu après rechargement",
                                 "sso_address": "Adresse SSO affichée par SACoche"}}
    # Retry-safe: saving the same mode twice leaves the same settings.
    name = "sacoche-auth-mode"
    title = "SACoche : mode d'identification par l'ENT"
    sites = ("sacoche",)

    def wanted_mode(self, ctx: RunContext) -> str:
        return connector_option(ctx.school.ent_connector, ctx.school.department)

    def preflight(self, ctx: RunContext) -> None:
        self.wanted_mode(ctx)

    def inputs(self, ctx: RunContext) -> dict:
        return {"sacoche": ctx.site_url("sacoche"), "mode": self.wanted_mode(ctx)}

    def _open(self, ctx: RunContext) -> ConnexionPage:
        page = ConnexionPage(sacoche_site(ctx))
        page.open(ctx.login("sacoche"), ctx.password("sacoche"))
        return page

    def run(self, ctx: RunContext) -> Outcome:
        wanted = self.wanted_mode(ctx)
        ctx.step("connexion administrateur, page Mode d'identification / Connecteur ENT")
        page = self._open(ctx)
        current = page.current_mode()
        if current == wanted:
            return Outcome(UNCHANGED, f"Le mode d'identification est déjà {wanted} : rien à changer.",
                           details={"mode": wanted})
        if not page.has_option(wanted):
            raise FlowFailed(f"SACoche ne propose pas le mode {wanted} dans « Mode d'identification » "
                             "(version de SACoche différente ?)")
        ctx.step(f"choix du connecteur {wanted}, puis « Valider ce mode d'identification »", target=page.submit)
        page.choose_mode(wanted)
        feedback = page.save()
        if not feedback.ok:
            raise FlowFailed(f"SACoche a refusé le mode {wanted} : {feedback.text}",
                             transient=is_transient(feedback.text))
        return Outcome(DONE, f"Mode d'identification passé de {current} à {wanted} ({feedback.text}).",
                       details={"mode": wanted, "previous_mode": current})

    def verify(self, ctx: RunContext, outcome: Outcome) -> dict:
        wanted = self.wanted_mode(ctx)
        page = self._open(ctx)   # a fresh display: what SACoche stored, not what we typed
        shown = page.current_mode()
        if shown != wanted:
            raise VerificationMismatch(f"après rechargement, SACoche affiche le mode {shown} au lieu de {wanted}")
        sso = page.sso_address()
        ctx.facts["sacoche_sso_address"] = sso
        return {"mode_after_reload": shown, "sso_address": sso}
