"""Guide step "ENT — Récupération des comptes": Administration → Administration des comptes →
Rechercher (default options) → Extraction CSV Complète des identifiants. Read-only on the ENT."""
from __future__ import annotations

from pathlib import Path

from schoolfiles.ent_csv import read_ent_csv
from bot.flow import Outcome, RunContext, Status, Work

from .common import ENT_CSV_FACT, EntFlow, ent_admin_site


class EntAccountsExport(EntFlow):
    work = Work.DOWNLOADS   # read-only on the ENT
    report_labels = {"counts": {"ent_accounts": "comptes dans l'extraction de l'ENT"},
                     "details": {"file": "Extraction enregistrée", "encoding": "Encodage du fichier",
                                 "title": "Titre (première ligne du fichier)",
                                 "accounts": "comptes relus dans le fichier enregistré",
                                 "by_profile": "comptes par profil de l'ENT"},
                     # The ENT's own profile names (Eleve, Enseignant…), shown as the ENT writes them.
                     "data_keyed": ("by_profile",),
                     "inputs": {"export": "extraction des comptes de l'ENT (faite par une exécution précédente)"}}
    # Retry-safe: read-only on the ENT.
    name = "ent-accounts-export"
    title = "ENT : extraction CSV complète des identifiants"
    # Named as the ENT's page objects name them (see the label pack's page landmarks).
    site_pages = {"ent": ("admin", "accounts", "accounts_found")}

    def manual_steps(self, ctx: RunContext) -> list[str]:
        return ["Télécharger l'extraction des comptes de l'ENT (tous les profils) au format attendu par le connecteur "
                f"SACoche « {ctx.school.ent_connector} », puis l'indiquer sous schools.{ctx.school_id}.files.ent et "
                "relancer l'import des identifiants (sacoche-ent-ids)."]

    def inputs(self, ctx: RunContext) -> dict:
        saved = ctx.recall(ENT_CSV_FACT)
        return {"ent": ctx.site_url("ent"), "export": Path(saved) if saved else None}

    def run_on_ent(self, ctx: RunContext) -> Outcome:
        ctx.step("connexion à l'ENT, Administration des comptes, Rechercher, Extraction CSV")
        site = ent_admin_site(ctx)
        notes: list[str] = []
        path = site.download_accounts(ctx.run_dir, on_retry=lambda seconds, problem: notes.append(
            f"Téléchargement de l'extraction interrompu ({problem}) ; nouvel essai après {seconds:.0f} s."))
        export = read_ent_csv(path)
        ctx.remember(ENT_CSV_FACT, str(path))
        profiles = ", ".join(f"{count} {profile}" for profile, count in export.by_profile.items())
        # Read-only on the ENT: nothing there was changed, whatever the file holds.
        return Outcome(Status.UNCHANGED, f"Extraction téléchargée : {len(export.accounts)} comptes ({profiles}) ; "
                             "rien n'a été modifié sur l'ENT.",
                       details={"file": str(path), "encoding": export.encoding, "title": export.title,
                                "notes": notes},
                       counts={"ent_accounts": len(export.accounts)})

    def verify_on_ent(self, ctx: RunContext, outcome: Outcome) -> dict:
        export = read_ent_csv(ctx.recall(ENT_CSV_FACT))   # the file as saved on disk
        return {"accounts": len(export.accounts), "by_profile": export.by_profile}
