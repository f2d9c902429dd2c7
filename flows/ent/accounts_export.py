"""Guide step "ENT — Récupération des comptes": Administration → Administration des comptes →
Rechercher (default options) → Extraction CSV Complète des identifiants. Read-only on the ENT."""
from __future__ import annotations

from pathlib import Path

from bot.files.ent_csv import read_ent_csv
from bot.flow import UNCHANGED, Flow, Outcome, RunContext

from .common import ENT_CSV_FACT, ent_admin_site, ent_labels


class EntAccountsExport(Flow):
    report_labels = {"counts": {"ent_accounts": "comptes dans l'extraction de l'ENT"},
                     "details": {"file": "Extraction enregistrée", "encoding": "Encodage", "title": "Titre"}}
    # Retry-safe: read-only on the ENT.
    name = "ent-accounts-export"
    title = "ENT : extraction CSV complète des identifiants"
    sites = ("ent",)

    def preflight(self, ctx: RunContext) -> None:
        ent_labels(ctx)   # a wrong pack name or override key is refused before any click

    def inputs(self, ctx: RunContext) -> dict:
        saved = ctx.recall(ENT_CSV_FACT)
        return {"ent": ctx.site_url("ent"), "export": Path(saved) if saved else None}

    def run(self, ctx: RunContext) -> Outcome:
        ctx.step("connexion à l'ENT, Administration des comptes, Rechercher, Extraction CSV")
        site = ent_admin_site(ctx)
        notes: list[str] = []
        path = site.download_accounts(ctx.run_dir, on_retry=lambda seconds, problem: notes.append(
            f"Téléchargement de l'extraction interrompu ({problem}) ; nouvel essai après {seconds:.0f} s."))
        export = read_ent_csv(path)
        ctx.remember(ENT_CSV_FACT, str(path))
        profiles = ", ".join(f"{count} {profile}" for profile, count in export.by_profile.items())
        # Read-only on the ENT: nothing there was changed, whatever the file holds.
        return Outcome(UNCHANGED, f"Extraction téléchargée : {len(export.accounts)} comptes ({profiles}) ; "
                             "rien n'a été modifié sur l'ENT.",
                       details={"file": str(path), "encoding": export.encoding, "title": export.title,
                                "notes": notes},
                       counts={"ent_accounts": len(export.accounts)})

    def verify(self, ctx: RunContext, outcome: Outcome) -> dict:
        export = read_ent_csv(ctx.recall(ENT_CSV_FACT))   # the file as saved on disk
        return {"comptes": len(export.accounts), "par profil": export.by_profile}
