"""Guide step "Unification des identifiants": Importer / Imposer des identifiants → Importer /
Imposer les identifiants d'un ENT, with the ENT's account export. SACoche matches by surname and
first name; homonyms and unknown names are left for a person, and the bot lists them."""
from __future__ import annotations

import json
from pathlib import Path

from bot.errors import FlowFailed, Refused, VerificationMismatch
from bot.files.ent_csv import read_ent_csv
from bot.flow import DONE, UNCHANGED, Flow, Outcome, RunContext
from bot.text import visible

from ..ent.common import ENT_CSV_FACT
from .auth_mode import sacoche_site
from .pages import IdentifierImportPage, UserListPage, is_transient

REASONS = {
    "homonymes trouvés dans la base : traiter ce cas manuellement": "homonyms",
    "nom et prénom non trouvés dans la base": "unknown_in_sacoche",
    "identifiant d'ENT déjà affecté à un autre utilisateur": "id_taken",
}
LIST_PAGES = ("administrateur_professeur", "administrateur_eleve", "administrateur_parent")
HOMONYMS = "Homonymes à traiter à la main (par nom)"
ENT_ONLY = "Comptes ENT sans utilisateur SACoche"
IDS_TAKEN = "Identifiants ENT déjà affectés à un autre utilisateur"
WITHOUT_ID = "Utilisateurs SACoche sans identifiant ENT"


class SacocheEntIds(Flow):
    report_labels = {
        "counts": {"ent_ids_set": "identifiants ENT posés", "ent_ids_unchanged": "identifiants ENT déjà en place",
                   "homonyms": "homonymes à traiter à la main", "ent_only_accounts": "comptes ENT sans utilisateur SACoche",
                   "ent_ids_taken": "identifiants ENT déjà affectés à un autre utilisateur",
                   "sacoche_users_without_ent_id": "utilisateurs SACoche sans identifiant ENT"},
        "details": {"file": "Extraction de l'ENT importée", "changed": "Identifiants posés"}}
    # Retry-safe: importing the same file again gives each matched account the id it already
    # has ("identifiant d'ENT identique").
    name = "sacoche-ent-ids"
    title = "SACoche : import des identifiants de l'ENT"
    sites = ("sacoche",)

    def _csv_path(self, ctx: RunContext) -> Path | None:
        """The export of this run or of an earlier one (journal), else the configured file."""
        saved = ctx.recall(ENT_CSV_FACT)
        if saved and Path(saved).is_file():
            return Path(saved)
        return ctx.school.files.ent

    def inputs(self, ctx: RunContext) -> dict:
        files = ctx.school.files
        return {"csv": self._csv_path(ctx), "sts": files.sts, "eleves": files.eleves, "responsables": files.responsables}

    def preflight(self, ctx: RunContext) -> None:
        path = self._csv_path(ctx)
        if path is not None:
            read_ent_csv(path)
        elif "ent-accounts-export" not in ctx.planned[:ctx.planned.index(self.name)]:
            raise Refused(f"Pas d'extraction CSV de l'ENT : lancez d'abord « ent-accounts-export » dans la même "
                          f"exécution, ou indiquez le fichier sous schools.{ctx.school_id}.files.ent.")

    def run(self, ctx: RunContext) -> Outcome:
        path = self._csv_path(ctx)
        export = read_ent_csv(path)
        page = IdentifierImportPage(sacoche_site(ctx))
        ctx.step("Importer / Imposer des identifiants, fichier de l'ENT")
        page.open(ctx.login("sacoche"), ctx.password("sacoche"))
        option = page.ent_option()
        if not option or option.endswith("_normal"):
            raise FlowFailed("SACoche n'a pas encore de connecteur ENT enregistré (option « import_id_ent_normal ») : "
                             "lancez d'abord « sacoche-auth-mode ».")
        ctx.step(f"envoi de {path.name} (appliqué aussitôt par SACoche)", target=page.page.locator("button#import_ent"))
        feedback = page.import_file(option, path)
        if not feedback.ok:
            raise FlowFailed(f"SACoche a refusé le fichier de l'ENT : {feedback.text}",
                             transient=is_transient(feedback.text))
        report = page.report()
        # SACoche's own markup, kept for support staff; names in it shown neutralised.
        ctx.artifact_path("identifiants_ent_rapport.html").write_text(visible(page.report_html()), encoding="utf-8")
        refused = {kind: [] for kind in REASONS.values()}
        for cells in report["refused"]["rows"]:
            refused[REASONS.get(cells[-1], "unknown_in_sacoche")].append(cells[0])
        details = {
            "file": str(path),
            "changed": [cells[0] + " → " + cells[-1] for cells in report["changed"]["rows"]],
            "by_hand": [{"label": HOMONYMS, "items": refused["homonyms"]},
                        {"label": ENT_ONLY, "items": refused["unknown_in_sacoche"]},
                        {"label": IDS_TAKEN, "items": refused["id_taken"]}],
        }
        counts = {"ent_ids_set": len(report["changed"]["rows"]), "ent_ids_unchanged": len(report["unchanged"]["rows"]),
                  "homonyms": len(refused["homonyms"]), "ent_only_accounts": len(refused["unknown_in_sacoche"]),
                  "ent_ids_taken": len(refused["id_taken"])}
        ctx.facts["ent_ids_changed"] = report["changed"]["rows"]
        summary = (f"{counts['ent_ids_set']} identifiant(s) ENT posé(s), {counts['ent_ids_unchanged']} déjà en place, "
                   f"{counts['homonyms']} homonyme(s) à traiter à la main, {counts['ent_only_accounts']} compte(s) ENT "
                   f"sans utilisateur SACoche (sur {len(export.accounts)} lignes).")
        return Outcome(DONE if counts["ent_ids_set"] else UNCHANGED, summary, details=details, counts=counts)

    def verify(self, ctx: RunContext, outcome: Outcome) -> dict:
        """Read the three user pages once: every id SACoche announced is there, and who is
        still without an ENT id (a person must handle them)."""
        lists = UserListPage(sacoche_site(ctx))
        rows = [row for list_page in LIST_PAGES
                for row in lists.rows(list_page, ctx.login("sacoche"), ctx.password("sacoche"))]
        held = {row.get("Id. ENT", "") for row in rows}
        wanted = {cells[-1].removeprefix("Id ENT :").strip() for cells in ctx.facts.get("ent_ids_changed", [])}
        missing = sorted(wanted - held)
        if missing:
            raise VerificationMismatch(f"{len(missing)} identifiant(s) ENT annoncés posés mais absents des pages "
                                       f"de gestion : {', '.join(missing[:10])}")
        without_id = [f"{row.get('Nom', '')} {row.get('Prénom', '')}".strip() for row in rows if not row.get("Id. ENT")]
        outcome.details["by_hand"].append({"label": WITHOUT_ID, "items": without_id})
        outcome.counts["sacoche_users_without_ent_id"] = len(without_id)
        outcome.summary = outcome.summary.replace(
            " (sur", f", {len(without_id)} utilisateur(s) SACoche sans identifiant ENT (sur", 1)
        report = {"counts": outcome.counts, **outcome.details}
        ctx.artifact_path("identifiants_ent_rapport.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
        return {"identifiants ENT relus dans les pages de gestion": len(wanted),
                "utilisateurs SACoche sans identifiant ENT": len(without_id)}
