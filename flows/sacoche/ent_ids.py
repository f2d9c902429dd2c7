"""Guide step "Unification des identifiants": Importer / Imposer des identifiants → Importer /
Imposer les identifiants d'un ENT, with the ENT's account export. SACoche matches by surname and
first name; homonyms and unknown names are left for a person, and the bot lists them."""
from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

from bot.errors import FlowFailed, Refused, VerificationMismatch
from schoolfiles.checks import check_school_files
from schoolfiles.ent_csv import read_ent_csv
from bot.flow import Outcome, RunContext, Status
from bot.text import visible

from ..ent.common import ENT_CSV_FACT, ent_family
from .connectors import find_connector
from .common import SacocheFlow, sacoche_site
from .pages import IdentifierImportPage, UserListPage, is_transient

REASONS = {
    "homonymes trouvés dans la base : traiter ce cas manuellement": "homonyms",
    "nom et prénom non trouvés dans la base": "unknown_in_sacoche",
    "identifiant d'ENT déjà affecté à un autre utilisateur": "id_taken",
}
LIST_PAGES = {"administrateur_professeur": "personnel", "administrateur_eleve": "élève",
              "administrateur_parent": "parent"}
LABEL_ID = re.compile(r"^(?P<name>.*?)\s*\[(?P<ent_id>[^\]]*)\]$")   # "NOM Prénom [id ENT]" in SACoche's table
HOMONYMS = "Homonymes à traiter à la main (par nom)"
ENT_ONLY = "Comptes ENT sans utilisateur SACoche"
IDS_TAKEN = "Identifiants ENT déjà affectés à un autre utilisateur"
WITHOUT_ID = "Utilisateurs SACoche sans identifiant ENT"


class SacocheEntIds(SacocheFlow):
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

    def _csv_path(self, ctx: RunContext) -> Path | None:
        """The export of this run or of an earlier one (journal), else the configured file."""
        saved = ctx.recall(ENT_CSV_FACT)
        if saved and Path(saved).is_file():
            return Path(saved)
        return ctx.school.files.ent

    def inputs(self, ctx: RunContext) -> dict:
        files = ctx.school.files
        return {"connector": ctx.school.ent_connector, "csv": self._csv_path(ctx), "sts": files.sts, "eleves": files.eleves, "responsables": files.responsables}

    def preflight(self, ctx: RunContext) -> None:
        layout = self._layout(ctx)
        if layout is None:
            return   # this connector imports no file: nothing to check
        path = self._csv_path(ctx)
        if path is not None:
            read_ent_csv(path, layout=layout)
        elif not ent_family(ctx):
            raise Refused(f"Pas d'extraction CSV de l'ENT : le robot ne sait pas la télécharger sur cet ENT "
                          f"(connecteur {ctx.school.ent_connector}) ; indiquez le fichier sous "
                          f"schools.{ctx.school_id}.files.ent (format {layout.key} de SACoche).")
        elif "ent-accounts-export" not in ctx.planned[:ctx.planned.index(self.name)]:
            raise Refused(f"Pas d'extraction CSV de l'ENT : lancez d'abord « ent-accounts-export » dans la même "
                          f"exécution, ou indiquez le fichier sous schools.{ctx.school_id}.files.ent.")

    @staticmethod
    def _layout(ctx: RunContext):
        """How SACoche reads the ENT file for this school's connector (None: no file import)."""
        return find_connector(ctx.school.ent_connector, ctx.school.department).layout

    def run(self, ctx: RunContext) -> Outcome:
        layout = self._layout(ctx)
        if layout is None:
            return Outcome(Status.UNCHANGED, f"Le connecteur {ctx.school.ent_connector} n'importe pas de fichier "
                                             "d'identifiants : l'ENT les transmet lui-même à SACoche ; rien à faire.")
        path = self._csv_path(ctx)
        export = read_ent_csv(path, layout=layout)
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
        for cells in report.refused_rows:
            refused[REASONS.get(cells[-1], "unknown_in_sacoche")].append(cells[0])
        details = {
            "file": str(path),
            "changed": [cells[0] + " → " + cells[-1] for cells in report.set_rows],
            "by_hand": [{"label": HOMONYMS, "items": refused["homonyms"]},
                        {"label": ENT_ONLY, "items": refused["unknown_in_sacoche"]},
                        {"label": IDS_TAKEN, "items": refused["id_taken"]}],
        }
        counts = {"ent_ids_set": len(report.set_rows), "ent_ids_unchanged": len(report.same_rows),
                  "homonyms": len(refused["homonyms"]), "ent_only_accounts": len(refused["unknown_in_sacoche"]),
                  "ent_ids_taken": len(refused["id_taken"])}
        summary = (f"{counts['ent_ids_set']} identifiant(s) ENT posé(s), {counts['ent_ids_unchanged']} déjà en place, "
                   f"{counts['homonyms']} homonyme(s) à traiter à la main, {counts['ent_only_accounts']} compte(s) ENT "
                   f"sans utilisateur SACoche (sur {len(export.accounts)} lignes).")
        return Outcome(Status.DONE if counts["ent_ids_set"] else Status.UNCHANGED, summary, details=details, counts=counts,
                       data=report.set_rows)

    def verify(self, ctx: RunContext, outcome: Outcome) -> dict:
        if self._layout(ctx) is None:
            return {}
        return self._verify_ids(ctx, outcome)

    def _verify_ids(self, ctx: RunContext, outcome: Outcome) -> dict:
        """Read the three user pages once: every id SACoche announced is there, and who is
        still without an ENT id (a person must handle them)."""
        lists = UserListPage(sacoche_site(ctx))
        rows = [{**row, "_kind": kind} for list_page, kind in LIST_PAGES.items()
                for row in lists.rows(list_page, ctx.login("sacoche"), ctx.password("sacoche"))]
        held = {row.get("Id. ENT", "") for row in rows}
        wanted = {cells[-1].removeprefix("Id ENT :").strip() for cells in outcome.data or []}
        missing = sorted(wanted - held)
        if missing:
            raise VerificationMismatch(f"{len(missing)} identifiant(s) ENT annoncés posés mais absents des pages "
                                       f"de gestion : {', '.join(missing[:10])}")
        classes = ctx.once(student_classes)
        without_id = [describe(row, classes) for row in rows if not row.get("Id. ENT")]
        self._with_candidates(ctx, outcome, rows, classes)
        outcome.details["by_hand"].append({"label": WITHOUT_ID, "items": without_id})
        outcome.counts["sacoche_users_without_ent_id"] = len(without_id)
        outcome.summary = outcome.summary.replace(
            " (sur", f", {len(without_id)} utilisateur(s) SACoche sans identifiant ENT (sur", 1)
        report = {"counts": outcome.counts, **outcome.details}
        ctx.artifact_path("identifiants_ent_rapport.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
        return {"identifiants ENT relus dans les pages de gestion": len(wanted),
                "utilisateurs SACoche sans identifiant ENT": len(without_id)}

    @staticmethod
    def _with_candidates(ctx: RunContext, outcome: Outcome, rows: list[dict], classes: dict[str, str]) -> None:
        """Each homonym line with its ENT profile and every SACoche account of that name (profile,
        class, birth date, ids, login), so that a person picks the right one at a glance."""
        export = ctx.once(ent_export, str(outcome.details["file"]))
        by_name: dict[str, list[dict]] = {}
        for row in rows:
            by_name.setdefault(name_key(f"{row.get('Nom', '')} {row.get('Prénom', '')}"), []).append(row)
        group = next(g for g in outcome.details["by_hand"] if g["label"] == HOMONYMS)
        shown = []
        for label in group["items"]:
            match = LABEL_ID.match(label)
            name, ent_id = (match["name"], match["ent_id"]) if match else (label, "")
            account = export.account(ent_id) if ent_id else None
            candidates = by_name.get(name_key(name), [])
            text = label + (f" — profil ENT : {account.profile}" if account else "")
            if candidates:
                text += " ; comptes SACoche : " + " | ".join(describe(row, classes, with_name=False) for row in candidates)
            shown.append(text)
        group["items"] = shown


def name_key(text: str) -> str:
    """A name as SACoche compares them: no accents, no case, single spaces."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(plain.upper().split())


def describe(row: dict, classes: dict[str, str], with_name: bool = True) -> str:
    """One SACoche account as a person needs it to tell homonyms apart."""
    parts = [row.get("Profil") and f"{row['_kind']} {row['Profil']}" or row["_kind"]]
    sconet = row.get("Id Sconet", "")
    if sconet and sconet in classes:
        parts.append(f"classe {classes[sconet]}")
    if row.get("Date Naiss."):
        parts.append(f"né(e) le {row['Date Naiss.']}")
    if sconet:
        parts.append(f"Id Sconet {sconet}")
    if row.get("Id. ENT"):
        parts.append(f"Id. ENT {row['Id. ENT']}")
    if row.get("Login"):
        parts.append(f"login {row['Login']}")
    details = ", ".join(parts)
    name = f"{row.get('Nom', '')} {row.get('Prénom', '')}".strip()
    return f"{name} ({details})" if with_name else details


def student_classes(ctx: RunContext) -> dict[str, str]:
    """SIECLE id → class, from the students' file when it is configured (SACoche's lists have no
    class column)."""
    if ctx.school.files.eleves is None:
        return {}
    try:
        summary = check_school_files(ctx.config, ctx.school_id, only={"eleves"})
    except Refused:
        return {}
    return {str(student.eleve_id): student.division for student in summary.eleves.students if student.division}


def ent_export(ctx: RunContext, path: str):
    return read_ent_csv(path, layout=SacocheEntIds._layout(ctx))
