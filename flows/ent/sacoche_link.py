"""Guide step "Configurer le lien SACoche dans l'ENT": Administration → Applications externes,
second page, configuration of the link « SACoche », select all, Modifier un ensemble de liens,
the number after « base= », Valider, Enregistrer; verified by reopening the configuration."""
from __future__ import annotations

import re

from bot.errors import VerificationMismatch
from bot.flow import Outcome, RunContext, Status

from .common import EntFlow, ent_admin_site

BASE_IN_URL = re.compile(r"[?&]base=(\d+)")


def bases_shown(text: str) -> list[str]:
    return BASE_IN_URL.findall(text)


class EntSacocheLink(EntFlow):
    report_labels = {"details": {"bases_before": "Bases avant l'étape", "ent_status": "Message de l'ENT",
                                 "base": "base= relu dans la configuration",
                                 "structures": "structures liées à SACoche",
                                 "addresses": "adresses du lien « SACoche »"}}
    # Retry-safe: the same number saved again leaves the same link.
    name = "ent-sacoche-link"
    title = "ENT : lien « SACoche » vers l'établissement (base=)"
    site_pages = {"ent": ("admin", "apps", "app_links")}

    def manual_steps(self, ctx: RunContext) -> list[str]:
        return [f"Dans l'administration de l'ENT, configurer le lien de l'application externe « SACoche » de "
                f"l'établissement avec l'adresse de SACoche suivie de « ?base={ctx.school_id} »."]

    def inputs(self, ctx: RunContext) -> dict:
        return {"ent": ctx.site_url("ent"), "base": ctx.school_id}

    def run_on_ent(self, ctx: RunContext) -> Outcome:
        ctx.step("Applications externes, page de « SACoche », configuration du lien")
        site = ent_admin_site(ctx)
        address = site.open_link_configuration()
        before = bases_shown(site.page_text())
        if before and set(before) == {ctx.school_id}:
            return Outcome(Status.UNCHANGED, f"Le lien « SACoche » pointe déjà sur base={ctx.school_id} "
                                      f"({len(before)} structure(s)) : rien à changer.",
                           details={"bases_before": before}, data=address)
        ctx.step(f"tout sélectionner, Modifier un ensemble de liens, base={ctx.school_id}, Valider, Enregistrer")
        status = site.configure_base(ctx.school_id)
        return Outcome(Status.DONE, f"Lien « SACoche » configuré avec base={ctx.school_id} ({status}).",
                       details={"bases_before": before, "ent_status": status}, data=address)

    def verify_on_ent(self, ctx: RunContext, outcome: Outcome) -> dict:
        site = ent_admin_site(ctx)
        site.reopen_link_configuration(outcome.data)   # reopened: what the ENT stored, not what was typed
        text = site.page_text()
        shown = bases_shown(text)
        if not shown or set(shown) != {ctx.school_id}:
            raise VerificationMismatch(f"après réouverture, le lien « SACoche » montre base={', '.join(shown) or 'rien'} "
                                       f"au lieu de base={ctx.school_id}")
        urls = sorted(set(re.findall(r"\S+[?&]base=\d+", text)))
        return {"base": ctx.school_id, "structures": len(shown), "addresses": urls}
