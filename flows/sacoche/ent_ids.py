"""Guide step "Unification des identifiants": Importer / Imposer des identifiants → Importer /
Imposer les identifiants d'un ENT, with the ENT's account export. SACoche matches by surname and
first name only. Before the upload the bot reads SACoche's accounts, current and former, and
predicts SACoche's answer line by line (ent_matching); after it, every difference is reported.
The homonyms SACoche refuses are then settled where the export tells the people apart (profile,
class), on each account's own "Modifier" dialog; the rest is left to a person, with candidates."""
from __future__ import annotations

import dataclasses
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bot.errors import FlowFailed, Refused, VerificationMismatch
from bot.flow import Forecast, Outcome, RunContext, Status, Work
from bot.fsutil import write_file
from bot.text import de, visible
from schoolfiles.checks import check_school_files
from schoolfiles.ent_csv import EntCsv, read_ent_csv

from ..ent.common import ENT_CSV_FACT, ent_family
from .common import SacocheFlow, sacoche_site
from .connectors import find_connector
from .ent_matching import (KINDS, Account, NameNeighbours, Prediction, Settlement, Verdict, differences, predict,
                           reported_rows, settle_homonyms)
from .pages import AjaxFeedback, IdentifierImportPage, UserEditDialog, UserListPage, is_transient
from .site_check import ENT_IDS

HOMONYMS = "Homonymes à traiter à la main (le robot n'a pas pu les départager)"
ENT_ONLY = "Comptes ENT sans utilisateur SACoche"
IDS_TAKEN = "Identifiants ENT déjà affectés à un autre utilisateur"
WITHOUT_ID = "Utilisateurs SACoche sans identifiant ENT"
LIST_PAGES = tuple(KINDS)
FORECAST_LABELS = {"ids_to_set": "identifiants à poser", "ids_unchanged": "identifiants déjà en place (inchangés)",
                   "lines_homonyms": "lignes que SACoche refusera pour homonymie",
                   "homonyms_to_settle": "homonymes que le robot départagera",
                   "homonyms_already_settled": "homonymes déjà départagés",
                   "homonyms_by_hand": "homonymes à traiter à la main",
                   "ent_unknown": "comptes ENT inconnus de SACoche",
                   "ids_taken": "identifiants déjà affectés à un autre compte",
                   "lines_without_id": "lignes sans identifiant (ignorées)"}
PREDICTION_FILE = "identifiants_ent_prevision.json"
SACOCHE_REPORT = "identifiants_ent_rapport.html"
RESULT_FILE = "identifiants_ent_rapport.json"


class SacocheEntIds(SacocheFlow):
    report_labels = {
        "counts": {"ent_ids_set": "identifiants ENT posés", "ent_ids_unchanged": "identifiants ENT déjà en place",
                   "homonyms": "lignes refusées par SACoche pour homonymie",
                   "homonyms_resolved": "homonymes départagés par le robot",
                   "homonyms_already_resolved": "homonymes déjà départagés (inchangés)",
                   "homonyms_left": "homonymes à traiter à la main",
                   "ent_only_accounts": "comptes ENT sans utilisateur SACoche",
                   "ent_ids_taken": "identifiants ENT déjà affectés à un autre utilisateur",
                   "prediction_differences": "écarts entre la prévision et la réponse de SACoche",
                   "sacoche_users_without_ent_id": "utilisateurs SACoche sans identifiant ENT"},
        "details": {"file": "Extraction de l'ENT importée", "changed": "Identifiants posés",
                    "resolved": "Homonymes départagés par le robot",
                    # The figures of the forecast (« Prévisions »).
                    **FORECAST_LABELS,
                    # The columns of the lists left to a person.
                    "ent_line": "Ligne de l'ENT", "ent_profile": "Profil ENT", "ent_class": "Classe ENT",
                    "why": "Pourquoi", "sacoche_candidates": "Comptes SACoche de ce nom",
                    "likely_cause": "Cause probable",
                    "nearest_names": "Noms SACoche proches (suggestions, rien n'est fait)",
                    # What it keeps for support staff.
                    "prediction_file": "Prévision du robot, ligne par ligne (écrite avant l'envoi)",
                    "sacoche_report": "Rapport de SACoche sur l'import (ses trois tableaux)",
                    "result_file": "Résultat de l'étape, avec les listes à traiter (JSON)",
                    # What it read back.
                    "ids_read_back": "identifiants ENT relus dans les pages de gestion",
                    "settled_read_back": "dont homonymes départagés par le robot",
                    "users_without_ent_id": "utilisateurs SACoche sans identifiant ENT"},
        "inputs": {"csv": "extraction des comptes de l'ENT", "sts": "export STS-Web", "eleves": "export SIECLE des élèves",
                   "responsables": "export SIECLE des responsables"}}
    # Retry-safe: importing the same file again gives each matched account the id it already
    # has ("identifiant d'ENT identique"), and a settled homonym already holds its id.
    name = "sacoche-ent-ids"
    title = "SACoche : import des identifiants de l'ENT"
    site_pages = {"sacoche": (ENT_IDS, *LIST_PAGES)}

    def _csv_path(self, ctx: RunContext) -> Path | None:
        """The export of this run or of an earlier one (journal), else the configured file."""
        saved = ctx.recall(ENT_CSV_FACT)
        if saved and Path(saved).is_file():
            return Path(saved)
        return ctx.school.files.ent

    def inputs(self, ctx: RunContext) -> dict:
        files = ctx.school.files
        return {"connector": ctx.school.ent_connector, "csv": self._csv_path(ctx), "sts": files.sts,
                "eleves": files.eleves, "responsables": files.responsables,
                "resolve_homonyms": ctx.school.ent_ids.resolve_homonyms}

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

    def forecast(self, ctx: RunContext) -> list[str]:
        """SACoche's answer to the file and what the bot will settle, read before any write.
        After imports of the same run the accounts will have changed: the step foresees then."""
        layout = self._layout(ctx)
        path = self._csv_path(ctx)
        earlier = ctx.planned[:ctx.planned.index(self.name)] if self.name in ctx.planned else []
        if layout is None:
            return []
        if path is None or any(name.startswith("sacoche-import") or name == "ent-accounts-export" for name in earlier):
            return ["prévision faite au début de l'étape, une fois les comptes importés et l'export de l'ENT téléchargé"]
        accounts = read_accounts(ctx)
        prediction = predict(read_ent_csv(path, layout=layout), accounts)
        figures = forecast_figures(prediction, accounts, ctx.school.ent_ids.resolve_homonyms)
        return Forecast([describe_prediction(prediction),
                         f"homonymes : {figures['homonyms_to_settle']} que le robot départagera, "
                         f"{figures['homonyms_already_settled']} déjà départagé(s), "
                         f"{figures['homonyms_by_hand']} à traiter à la main"], figures)

    def run(self, ctx: RunContext) -> Outcome:
        layout = self._layout(ctx)
        if layout is None:
            ctx.show_no_page("aucun fichier d'identifiants à importer pour ce connecteur : SACoche n'a pas été ouvert")
            return Outcome(Status.UNCHANGED, f"Le connecteur {ctx.school.ent_connector} n'importe pas de fichier "
                                             "d'identifiants : l'ENT les transmet lui-même à SACoche ; rien à faire.",
                           work=Work.NOT_NEEDED)
        path = self._csv_path(ctx)
        export = read_ent_csv(path, layout=layout)
        site = sacoche_site(ctx)
        page = IdentifierImportPage(site)
        ctx.step("Importer / Imposer des identifiants, fichier de l'ENT")
        page.open(ctx.login("sacoche"), ctx.password("sacoche"))
        option = page.ent_option()
        if not option or option.endswith("_normal"):
            raise FlowFailed("SACoche n'a pas encore de connecteur ENT enregistré (option « import_id_ent_normal ») : "
                             "lancez d'abord « sacoche-auth-mode ».")

        ctx.step("lecture des comptes SACoche, actuels et anciens, pour prévoir la réponse de SACoche")
        accounts = read_accounts(ctx)
        prediction = predict(export, accounts)
        ctx.say(f"    prévision : {describe_prediction(prediction)}")
        # On disk before SACoche is written to: a local disk that fails stops the step first.
        write_prediction(ctx.artifact_path(PREDICTION_FILE), prediction)
        foreseen = forecast_figures(prediction, accounts, ctx.school.ent_ids.resolve_homonyms)
        with ThreadPoolExecutor(max_workers=1) as beside:
            # The nearest names of the lines SACoche will not know are found while SACoche
            # applies the file (1.5 s of Python at 2,000 students, spent waiting otherwise).
            # Nothing here touches the browser.
            unknown = beside.submit(unknown_items, prediction, accounts)
            feedback = self._send(ctx, page, option, path)
        if not feedback.ok:
            raise FlowFailed(f"SACoche a refusé le fichier de l'ENT : {feedback.text}",
                             transient=is_transient(feedback.text))
        report = page.report()
        # SACoche's own markup, kept for support staff; names in it shown neutralised.
        write_file(ctx.artifact_path(SACOCHE_REPORT), visible(page.report_html()))
        reported = reported_rows(report.set_rows, report.refused_rows, report.same_rows)
        gaps = differences(prediction, reported)
        verdicts = [verdict for _, verdict in reported]

        settlements = settle_homonyms(prediction, after_upload(accounts, prediction, gaps))
        if not ctx.school.ent_ids.resolve_homonyms:
            for settlement in settlements:
                if settlement.account is not None and not settlement.already:
                    settlement.account, settlement.reason = None, "départage désactivé (ent_ids.resolve_homonyms: false)"
        if gaps:
            # Our reading of SACoche's rules is wrong somewhere: do not act on it.
            for settlement in settlements:
                if settlement.account is not None and not settlement.already:
                    settlement.account, settlement.reason = None, "la réponse de SACoche diffère de la prévision"
        resolved = self._settle(ctx, site, settlements)
        left = [s for s in settlements if s.account is None]
        already = [s for s in settlements if s.already]

        counts = {"ent_ids_set": verdicts.count(Verdict.SET.value), "ent_ids_unchanged": verdicts.count(Verdict.SAME.value),
                  "homonyms": verdicts.count(Verdict.HOMONYMS.value), "homonyms_resolved": len(resolved),
                  "homonyms_already_resolved": len(already), "homonyms_left": len(left),
                  "ent_only_accounts": verdicts.count(Verdict.UNKNOWN.value),
                  "ent_ids_taken": verdicts.count(Verdict.TAKEN.value), "prediction_differences": len(gaps)}
        details = {
            "file": str(path),
            "forecast": foreseen,
            "files_kept": {"prediction_file": PREDICTION_FILE, "sacoche_report": SACOCHE_REPORT,
                           "result_file": RESULT_FILE},
            "changed": [cells[0] + " → " + cells[-1] for cells in report.set_rows],
            "resolved": [f"{s.line.file_label} → {s.account.nom} {s.account.prenom} ({s.account.kind}"
                         f"{', classe ' + s.account.class_name if s.account.class_name else ''})" for s in resolved],
            "by_hand": [{"label": HOMONYMS, "items": [homonym_item(s) for s in left]},
                        {"label": ENT_ONLY, "items": unknown.result()},
                        {"label": IDS_TAKEN, "items": [p.line.file_label for p in prediction.of(Verdict.TAKEN)]}],
        }
        if gaps:
            details["notes"] = [f"Écart avec la prévision du robot (sa lecture des règles de SACoche est à revoir) : {gap}"
                                for gap in gaps]
        summary = (f"{counts['ent_ids_set']} identifiant(s) ENT posé(s) par l'import, {counts['ent_ids_unchanged']} déjà "
                   f"en place ; {counts['homonyms']} ligne(s) refusée(s) pour homonymie : {len(resolved)} départagée(s) "
                   f"par le robot, {len(already)} déjà départagée(s), {len(left)} à traiter à la main ; "
                   f"{counts['ent_only_accounts']} compte(s) ENT sans utilisateur SACoche (sur {len(export.accounts)} lignes).")
        if gaps:
            summary += f" Attention : {len(gaps)} écart(s) avec la prévision."
        changed = counts["ent_ids_set"] or resolved
        return Outcome(Status.DONE if changed else Status.UNCHANGED, summary, details=details, counts=counts,
                       data={"set": report.set_rows, "resolved": resolved})

    @staticmethod
    def _send(ctx: RunContext, page: IdentifierImportPage, option: str, path: Path) -> AjaxFeedback:
        if not page.is_open():   # the accounts were read from this page, without leaving it
            page.open(ctx.login("sacoche"), ctx.password("sacoche"))
        ctx.step(f"envoi {de(path.name)} (appliqué aussitôt par SACoche)", target=page.page.locator("button#import_ent"))
        return page.import_file(option, path)

    @staticmethod
    def _settle(ctx: RunContext, site, settlements: list[Settlement]) -> list[Settlement]:
        """Set each settled homonym's Id. ENT on its own dialog; SACoche's refusal leaves it to a person."""
        dialog = UserEditDialog(site)
        done = []
        to_set = sorted((s for s in settlements if s.account is not None and not s.already),
                        key=lambda s: (s.account.list_page, s.account.former, s.account.nom))
        for settlement in to_set:
            account = settlement.account
            ctx.step(f"homonyme départagé : {settlement.line.file_label} → compte n° {account.user_id} ({account.kind})")
            dialog.show_rows(account.list_page, account.former, account.nom, ctx.login("sacoche"), ctx.password("sacoche"))
            answer = dialog.set_ent_id(account.list_page, account.user_id, settlement.line.ent_id)
            if answer.ok:
                done.append(settlement)
            else:
                settlement.account, settlement.reason = None, refusal_advice(answer.message, account)
        return done

    def verify(self, ctx: RunContext, outcome: Outcome) -> dict:
        if self._layout(ctx) is None:
            return {}
        return self._verify_ids(ctx, outcome)

    def _verify_ids(self, ctx: RunContext, outcome: Outcome) -> dict:
        """Read the user pages once: every id SACoche announced and every id the bot set is
        there, on the right account; and who is still without an ENT id (a person must see to them)."""
        resolved: list[Settlement] = outcome.data["resolved"]
        lists = [(list_page, former) for former in (False, True) for list_page in LIST_PAGES
                 if not former or any(s.account.former for s in resolved)]
        read = UserListPage(sacoche_site(ctx)).read_lists(lists, ctx.login("sacoche"), ctx.password("sacoche"))
        rows = [{**row, "_kind": KINDS[list_page]} for list_page in LIST_PAGES for row in read[list_page, False]]
        rows_former = [{**row, "_kind": KINDS[list_page]} for (list_page, former), found in read.items() if former
                       for row in found]
        held = {row.get("Id. ENT", "") for row in rows}
        wanted = {cells[-1].removeprefix("Id ENT :").strip() for cells in outcome.data["set"]}
        missing = sorted(wanted - held)
        by_id = {row["id"]: row for row in rows + rows_former}
        wrong = [s.line.label for s in resolved if by_id.get(s.account.user_id, {}).get("Id. ENT") != s.line.ent_id]
        if missing or wrong:
            raise VerificationMismatch(f"{len(missing) + len(wrong)} identifiant(s) ENT annoncés posés mais absents des "
                                       f"pages de gestion : {', '.join((missing + wrong)[:10])}")
        classes = ctx.once(student_classes)
        without_id = [describe(row, classes) for row in rows if not row.get("Id. ENT")]
        outcome.details["by_hand"].append({"label": WITHOUT_ID, "items": without_id})
        outcome.counts["sacoche_users_without_ent_id"] = len(without_id)
        outcome.summary = outcome.summary.replace(
            " (sur", f", {len(without_id)} utilisateur(s) SACoche sans identifiant ENT (sur", 1)
        report = {"counts": outcome.counts, **outcome.details}
        write_file(ctx.artifact_path(RESULT_FILE), json.dumps(report, ensure_ascii=False, indent=2))
        return {"ids_read_back": len(wanted) + len(resolved), "settled_read_back": len(resolved),
                "users_without_ent_id": len(without_id)}


def refusal_advice(message: str, account: Account) -> str:
    """SACoche's refusal of the account's dialog, with what a person can do about it."""
    if message.startswith("Erreur avec le domaine"):
        return (f"SACoche a refusé : {message} Il vérifie le domaine de l'adresse électronique de tout compte qu'on "
                f"enregistre, et ne le joint pas : corrigez ou videz le courriel du compte n° {account.user_id}, "
                "puis posez l'Id. ENT (ou relancez l'étape)")
    if message.startswith("Identifiant ENT déjà utilisé"):
        return (f"SACoche a refusé : {message} Un autre compte (administrateur compris) porte déjà cet "
                "identifiant : cherchez-le par « Rechercher un utilisateur », champ Id. ENT")
    return f"SACoche a refusé : {message}"


def read_accounts(ctx: RunContext) -> list[Account]:
    """Every account SACoche matches ENT lines against: students, parents and staff, current
    and former, from their user pages (students' classes from the SIECLE file, if any)."""
    classes = ctx.once(student_classes)
    lists = [(list_page, former) for list_page in LIST_PAGES for former in (False, True)]
    read = UserListPage(sacoche_site(ctx)).read_lists(lists, ctx.login("sacoche"), ctx.password("sacoche"))
    accounts = []
    for (list_page, former), rows in read.items():
        for row in rows:
            class_name = classes.get(row.get("Id Sconet", ""), "") if list_page == "administrateur_eleve" else ""
            accounts.append(Account.from_row(row, list_page, former, class_name))
    return accounts


def after_upload(accounts: list[Account], prediction: Prediction, gaps: list[str]) -> list[Account]:
    """The accounts as the upload left them: the ids SACoche set, where it did as predicted."""
    if gaps:
        return accounts
    given = {p.candidates[0].user_id: p.line.ent_id for p in prediction.of(Verdict.SET)}
    return [dataclasses.replace(a, id_ent=given[a.user_id]) if a.user_id in given else a for a in accounts]


def forecast_figures(prediction: Prediction, accounts: list[Account], resolve: bool) -> dict[str, int]:
    """The forecast's figures, read before the upload: SACoche's answer line by line, and what
    the bot will settle of the homonyms it refuses (FORECAST_LABELS words them)."""
    counts = prediction.counts()
    settlements = settle_homonyms(prediction, after_upload(accounts, prediction, []))
    already = sum(s.already for s in settlements)
    settled = sum(1 for s in settlements if s.account is not None and not s.already) if resolve else 0
    return {"ids_to_set": counts[Verdict.SET.value], "ids_unchanged": counts[Verdict.SAME.value],
            "lines_homonyms": counts[Verdict.HOMONYMS.value], "homonyms_to_settle": settled,
            "homonyms_already_settled": already, "homonyms_by_hand": len(settlements) - settled - already,
            "ent_unknown": counts[Verdict.UNKNOWN.value], "ids_taken": counts[Verdict.TAKEN.value],
            "lines_without_id": counts[Verdict.NOT_GIVEN.value]}


def describe_prediction(prediction: Prediction) -> str:
    counts = prediction.counts()
    return (f"{counts['set']} identifiant(s) à poser, {counts['same']} déjà en place, {counts['homonyms']} ligne(s) "
            f"refusée(s) pour homonymie, {counts['unknown_in_sacoche']} nom(s) inconnu(s) de SACoche, "
            f"{counts['id_taken']} identifiant(s) déjà affecté(s) à un autre compte")


def write_prediction(path: Path, prediction: Prediction) -> None:
    write_file(path, json.dumps(prediction_json(prediction), ensure_ascii=False, indent=2))


def prediction_json(prediction: Prediction) -> dict:
    return {"counts": prediction.counts(),
            "lines": [{"line": p.line.label, "verdict": p.verdict.value,
                       "candidates": [a.describe() for a in p.candidates]} for p in prediction.lines]}


def homonym_item(settlement: Settlement) -> dict:
    line = settlement.line
    return {"ent_line": line.file_label, "ent_profile": line.source.profile, "ent_class": line.source.classe,
            "why": settlement.reason,
            "sacoche_candidates": " | ".join(_candidate_text(a) for a in settlement.candidates)}


def _candidate_text(account: Account) -> str:
    parts = [f"n° {account.user_id}", " ".join(filter(None, (account.kind, account.profile)))]
    parts += [f"classe {account.class_name}" if account.class_name else "",
              f"né(e) le {account.birth}" if account.birth else "", f"login {account.login}" if account.login else "",
              f"Id. ENT {account.id_ent}" if account.id_ent else "", "ancien compte" if account.former else ""]
    return ", ".join(part for part in parts if part)


def unknown_items(prediction: Prediction, accounts: list[Account]) -> list[dict]:
    """The ENT accounts SACoche has no one for, each with a likely cause and the nearest names."""
    neighbours = NameNeighbours(accounts)
    items = []
    for line in (p.line for p in prediction.of(Verdict.UNKNOWN)):
        nearest = neighbours.suggestions(line)
        items.append({"ent_line": line.file_label, "ent_profile": line.source.profile,
                      "likely_cause": neighbours.why_unknown(line, nearest),
                      "nearest_names": ", ".join(f"{a.nom} {a.prenom} ({a.kind})" for _, a in nearest)})
    return items


def describe(row: dict, classes: dict[str, str]) -> str:
    """One SACoche account as a person needs it to find it."""
    parts = [row.get("Profil") and f"{row['_kind']} {row['Profil']}" or row["_kind"]]
    sconet = row.get("Id Sconet", "")
    if sconet and sconet in classes:
        parts.append(f"classe {classes[sconet]}")
    if row.get("Date Naiss."):
        parts.append(f"né(e) le {row['Date Naiss.']}")
    if sconet:
        parts.append(f"Id Sconet {sconet}")
    if row.get("Login"):
        parts.append(f"login {row['Login']}")
    name = f"{row.get('Nom', '')} {row.get('Prénom', '')}".strip()
    return f"{name} ({', '.join(parts)})"


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


def ent_export(ctx: RunContext, path: str) -> EntCsv:
    return read_ent_csv(path, layout=SacocheEntIds._layout(ctx))
