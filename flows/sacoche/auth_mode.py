"""Guide step "Définir le mode d'accès": SACoche's identification mode becomes the ENT's CAS
connector (menu Mode d'identification / Connecteur ENT)."""
from __future__ import annotations

from bot.errors import FlowFailed, Refused, VerificationMismatch
from bot.flow import Outcome, RunContext, Status

from .connectors import connector_option, find_connector
from .common import SacocheFlow, sacoche_site
from .pages import ConnexionPage, is_transient
from .site_check import AUTH_MODE


class SacocheAuthMode(SacocheFlow):
    report_labels = {"details": {"mode": "Valeur de l'option du mode", "previous_mode": "Valeur de l'option précédente",
                                 "mode_label": "Mode", "previous_mode_label": "Mode précédent",
                                 "cas_server_typed": "Serveur CAS saisi",
                                 "mode_read_back": "Mode relu après rechargement",
                                 "mode_after_reload": "Valeur de l'option relue",
                                 "sso_address": "Adresse SSO affichée par SACoche"}}
    # Retry-safe: saving the same mode twice leaves the same settings.
    name = "sacoche-auth-mode"
    title = "SACoche : mode d'identification par l'ENT"
    site_pages = {"sacoche": (AUTH_MODE,)}

    def wanted_mode(self, ctx: RunContext) -> str:
        return connector_option(ctx.school.ent_connector, ctx.school.department)

    def preflight(self, ctx: RunContext) -> None:
        connector = find_connector(ctx.school.ent_connector, ctx.school.department)
        server = ctx.school.cas_server
        where = f"schools.{ctx.school_id}.cas_server"
        if connector.manual_cas and not (server.host and server.port):
            raise Refused(f"Le connecteur « perso » (configuration CAS manuelle) demande le serveur CAS : indiquez "
                          f"{where}.host et {where}.port (et .root si besoin).")
        if connector.variable_subdomain and not server.subdomain:
            raise Refused(f"Le connecteur {connector.nom} demande le sous-domaine du serveur CAS de l'établissement : "
                          f"indiquez {where}.subdomain.")
        if connector.variable_port and not server.port:
            raise Refused(f"Le connecteur {connector.nom} demande le port du serveur CAS : indiquez {where}.port.")

    def inputs(self, ctx: RunContext) -> dict:
        return {"sacoche": ctx.site_url("sacoche"), "mode": self.wanted_mode(ctx),
                "cas_server": ctx.school.cas_server.model_dump()}

    def _open(self, ctx: RunContext) -> ConnexionPage:
        page = ConnexionPage(sacoche_site(ctx))
        page.open(ctx.login("sacoche"), ctx.password("sacoche"))
        return page

    def run(self, ctx: RunContext) -> Outcome:
        wanted = self.wanted_mode(ctx)
        ctx.step("connexion administrateur, page Mode d'identification / Connecteur ENT")
        page = self._open(ctx)
        current = page.current_mode()
        shown_wanted, shown_current = page.option_label(wanted), page.option_label(current)
        if current == wanted:
            return Outcome(Status.UNCHANGED, f"Le mode d'identification est déjà « {shown_wanted} » : rien à changer.",
                           details={"mode": wanted, "mode_label": shown_wanted})
        if not page.has_option(wanted):
            raise FlowFailed(f"SACoche ne propose pas le mode {wanted} dans « Mode d'identification » "
                             "(version de SACoche différente ?)")
        ctx.step(f"choix du connecteur « {shown_wanted} », puis « Valider ce mode d'identification »",
                 target=page.submit)
        page.choose_mode(wanted)
        connector = find_connector(ctx.school.ent_connector, ctx.school.department)
        server = ctx.school.cas_server
        typed = page.fill_cas_server(server.subdomain, server.port, server.host, server.root, connector.manual_cas)
        feedback = page.save()
        if not feedback.ok:
            raise FlowFailed(f"SACoche a refusé le mode {wanted} : {feedback.text}",
                             transient=is_transient(feedback.text))
        return Outcome(Status.DONE, f"Mode d'identification passé de « {shown_current} » à « {shown_wanted} » "
                                    f"({feedback.text}).",
                       details={"mode": wanted, "previous_mode": current, "mode_label": shown_wanted,
                                "previous_mode_label": shown_current,
                                **({"cas_server_typed": typed} if typed else {})})

    def verify(self, ctx: RunContext, outcome: Outcome) -> dict:
        wanted = self.wanted_mode(ctx)
        page = self._open(ctx)   # a fresh display: what SACoche stored, not what we typed
        shown = page.current_mode()
        if shown != wanted:
            raise VerificationMismatch(f"après rechargement, SACoche affiche le mode {shown} au lieu de {wanted}")
        sso = page.sso_address()
        return {"mode_read_back": page.option_label(shown), "mode_after_reload": shown, "sso_address": sso}
