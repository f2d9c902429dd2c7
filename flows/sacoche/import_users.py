"""Guide steps "Import des professeurs" and "Réitérez l'opération pour les élèves et les
parents": SACoche's "Importer des fichiers d'utilisateurs" wizard, run to its end selecting
everything and passing the password warning. One loop for the three categories: read the step on
screen, tick what must be ticked, fill what must be filled, click the step's control, parse its
report. Verified afterwards on SACoche's own user pages."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bot.browser import DownloadBroken, PageInsteadOfDownload
from bot.errors import FlowFailed, Refused, SiteNotReady, VerificationMismatch
from bot.flow import Outcome, RunContext, Status
from bot.text import de

from ..arena.exports import files_await_arena
from .common import SacocheFlow, sacoche_site
from .class_levels import school_level_plan
from .expected import expected_people, same_rank_students
from .pages import IMPORT_DONE, ImportWizardPage, UserListPage, WizardRefusal, WizardStep, is_transient
from .site_check import IMPORT_WIZARD

MAX_STEPS = 20   # the longest wizard has 12 steps: more means SACoche is looping

# Notices SACoche prints at the top of the import page before any upload. Blocking ones stop the
# flow before the upload, which would already write (subjects, temporary files): (text in the
# notice, imports it blocks, French advice). Any other notice is only reported.
BLOCKING_NOTICES = [
    ("Aucun niveau de classe choisi", {"sacoche-import-teachers", "sacoche-import-students"},
     "SACoche n'a aucun niveau de classe choisi pour l'établissement : chaque nouvelle classe bloquerait "
     "l'import. Lancez d'abord l'étape sacoche-class-levels (ou choisissez les niveaux dans SACoche, "
     "Paramétrages établissement > Niveaux), puis relancez."),
]

USERS_LINE = re.compile(
    r"(\d+) utilisateurs? actuels? et (\d+) utilisateurs? anciens? → (\d+) utilisateurs? modifiés? "
    r"\+ (\d+) utilisateurs? ajoutés? − (\d+) utilisateurs? retirés? → (\d+) utilisateurs? actuels? "
    r"et (\d+) utilisateurs? anciens?")
GROUPS_LINE = re.compile(r"(\d+) (classe|groupe)s? présente?s? \+ (\d+) (?:classe|groupe)s? ajoutée?s? "
                         r"− (\d+) (?:classe|groupe)s? supprimée?s? = (\d+)")
CHANGE_LINES = [
    (re.compile(r"associations utilisateurs / classes effectuées : (\d+)"), "class_memberships_changed"),
    (re.compile(r"associations utilisateurs / p\.principal effectuées : (\d+)"), "main_teachers_changed"),
    (re.compile(r"associations utilisateurs / groupes effectuées : (\d+)"), "group_memberships_changed"),
    (re.compile(r"Nouvelles adresses ajoutées : (\d+)"), "addresses_added"),
    (re.compile(r"Anciennes adresses modifiées : (\d+)"), "addresses_modified"),
    (re.compile(r"Liens de responsabilités modifiés pour (\d+) élèves?"), "students_links_changed"),
]


COUNT_PREFIX = {"sacoche-import-teachers": "teachers", "sacoche-import-students": "students",
                "sacoche-import-parents": "parents"}
COUNT_LABELS = {
    "classes_added": "classes ajoutées", "classes_deleted": "classes supprimées",
    "groups_added": "groupes ajoutés", "groups_deleted": "groupes supprimés",
    "users_added": "utilisateurs ajoutés", "users_modified": "utilisateurs modifiés",
    "users_removed": "utilisateurs retirés", "users_current": "utilisateurs actuels",
    "users_former": "anciens utilisateurs",
    "class_memberships_changed": "affectations aux classes modifiées",
    "main_teachers_changed": "professeurs principaux modifiés",
    "group_memberships_changed": "affectations aux groupes modifiées",
    "addresses_added": "adresses ajoutées", "addresses_modified": "adresses modifiées",
    "students_links_changed": "élèves dont les liens de responsabilité ont changé",
}
WHAT_IS_DONE = {
    "passer_etape_suivante": "passage à l'étape suivante",
    "envoyer_infos_regroupements": "sélection de toutes les classes / tous les groupes nouveaux",
    "envoyer_infos_utilisateurs": "sélection de tout ce que SACoche propose",
    "step53": "récupération des identifiants des nouveaux comptes (avertissement mots de passe)",
}


@dataclass(frozen=True)
class ImportKind:
    name: str
    title: str
    category: str       # option value without its _oui/_non suffix
    button: str         # the category's "Parcourir..." button id
    file_key: str       # key under schools.N.files
    list_page: str      # where SACoche lists these users
    noun: str           # French, plural
    file_name: str      # French: what a person calls its file


STUDENTS_FILE = "export SIECLE des élèves"
TEACHERS = ImportKind("sacoche-import-teachers", "SACoche : import des professeurs et personnels (STS-Web)",
                      "siecle_professeurs_directeurs", "siecle_professeurs_directeurs", "sts",
                      "administrateur_professeur", "professeurs et personnels", "export STS-Web")
STUDENTS = ImportKind("sacoche-import-students", "SACoche : import des élèves (SIECLE)",
                      "siecle_eleves", "siecle_eleves", "eleves", "administrateur_eleve", "élèves", STUDENTS_FILE)
PARENTS = ImportKind("sacoche-import-parents", "SACoche : import des parents (SIECLE)",
                     "siecle_parents", "siecle_parents", "responsables", "administrateur_parent", "parents",
                     "export SIECLE des responsables")


class SacocheImportUsers(SacocheFlow):
    # Retry-safe: SACoche only writes at the validation steps (32, 42, 52, 62, 72, 82) and
    # matches people by their SIECLE/STS id first, so running the wizard again from its start
    # after a cut finds the accounts already created and adds nobody twice.

    def __init__(self, kind: ImportKind):
        self.kind = kind
        self.name = kind.name
        self.title = kind.title
        self.site_pages = {"sacoche": (IMPORT_WIZARD, kind.list_page)}
        self.report_labels = {
            "counts": {f"{COUNT_PREFIX[kind.name]}_{key}": label for key, label in COUNT_LABELS.items()},
            "details": {"mode": "Mode d'affichage de l'assistant", "file": "Fichier importé",
                        "steps": "Messages de l'assistant SACoche, par étape de l'assistant",
                        "expected": f"{kind.noun} attendus (d'après le fichier)",
                        "listed": f"{kind.noun} listés par SACoche"},
            "inputs": {"file": kind.file_name, "eleves": STUDENTS_FILE}}

    # Before any click -------------------------------------------------------------------------
    def preflight(self, ctx: RunContext) -> None:
        mode = ctx.options.mode
        if mode not in (None, "complet", "partiel"):
            raise Refused(f"Mode d'import « {mode} » inconnu : complet ou partiel.")
        needs = {self.kind.file_key} | ({"eleves"} if self.kind is PARENTS else set())
        if files_await_arena(ctx, self.name, needs):
            return   # ARENA's downloads are checked as soon as they arrive, before any SACoche click
        ctx.once(expected_people, self.kind.file_key)
        if self.kind is not PARENTS and ctx.school.imports.unknown_level == "members":
            school_level_plan(ctx)
        if self.kind is PARENTS:
            ctx.once(same_rank_students)

    def inputs(self, ctx: RunContext) -> dict:
        files = ctx.school.files
        parts = {"file": getattr(files, self.kind.file_key), "mode": ctx.options.mode,
                 "rules": ctx.school.imports.model_dump()}
        if self.kind is PARENTS or ctx.school.imports.unknown_level == "members":
            parts["eleves"] = files.eleves   # parents are kept only for imported students; levels from members
        return parts

    @property
    def _pending_key(self) -> str:
        return f"{self.kind.name}:logins_not_saved"

    # The wizard ---------------------------------------------------------------------------------
    def run(self, ctx: RunContext) -> Outcome:
        expected = ctx.once(expected_people, self.kind.file_key)
        pending = ctx.recall(self._pending_key)   # logins of an interrupted run never saved
        wizard = ImportWizardPage(sacoche_site(ctx))
        wizard.open(f"{self.kind.category}_oui", ctx.login("sacoche"), ctx.password("sacoche"))
        notices = wizard.warnings()
        for text, blocked, advice in BLOCKING_NOTICES:
            if self.kind.name in blocked and any(text in notice for notice in notices):
                raise SiteNotReady(f"{advice} (Message de SACoche : « {next(n for n in notices if text in n)} ».)")
        category = wizard.category_value(self.kind.category)
        if not category.endswith("_oui"):
            raise SiteNotReady("SACoche ne propose pas l'import SIECLE : le n°UAI de l'établissement n'est pas "
                          "renseigné (à demander au webmestre, page Identité de l'établissement) ; rien n'a été écrit.")
        wizard.choose(category)
        proposed = wizard.proposed_mode()
        mode = ctx.options.mode or proposed
        wizard.set_mode(mode)
        log = StepLog(ctx, self.kind)
        log.notes.extend(f"Avertissement de SACoche sur la page d'import : {notice}" for notice in notices)
        ctx.say(f"    mode {mode} ({'proposé par SACoche' if mode == proposed else 'imposé'}), fichier {expected.path.name}")
        try:
            ctx.step(f"choix de la catégorie, mode {mode}, envoi {de(expected.path.name)}",
                     target=wizard.page.locator(f"button#{self.kind.button}"))
            step = wizard.upload(self.kind.button, expected.path)
            for _ in range(MAX_STEPS):
                log.record(step)
                if step.control == "retourner_depart":
                    break
                step = self._advance(ctx, wizard, step, log)
            else:
                raise FlowFailed(f"L'assistant d'import ne s'est pas terminé après {MAX_STEPS} étapes.")
        except WizardRefusal as refusal:
            raise FlowFailed(f"SACoche a refusé l'import des {self.kind.noun} à l'étape {log.current} : "
                             f"{refusal}", transient=is_transient(str(refusal))) from None
        if not any(IMPORT_DONE in line for line in log.all_lines):
            raise FlowFailed("L'assistant est revenu au départ sans annoncer la fin de l'import.")
        changed = any(log.counts.get(key, 0) for key in (
            "users_added", "users_modified", "users_removed", "classes_added", "classes_deleted",
            "groups_added", "groups_deleted",
            "class_memberships_changed", "main_teachers_changed", "group_memberships_changed",
            "addresses_added", "addresses_modified", "students_links_changed"))
        details = {"mode": mode, "file": str(expected.path), "steps": log.steps, "notes": log.notes}
        if pending:
            # The interrupted run was about to add `accounts` people: those this run did not add
            # again were created then, and their passwords never saved.
            lost = pending["accounts"] - log.counts.get("users_added", 0)
            if lost > 0:
                log.lost_before.append(f"{lost} compte(s) créé(s) lors de l'exécution interrompue du "
                                       f"{pending['at'].replace('T', ' à ')}")
        ctx.remember(self._pending_key, None)
        if log.to_decide:
            details["by_hand"] = [{"label": f"Import des {self.kind.noun} : à vérifier", "items": log.to_decide}]
        if log.lost_before:
            details.setdefault("by_hand", []).append({
                "label": f"Identifiants jamais récupérés de nouveaux comptes ({self.kind.noun}) — l'exécution "
                         "s'est arrêtée juste après leur création : régénérez leurs mots de passe dans SACoche",
                "items": log.lost_before})
        if log.credentials_lost:
            details.setdefault("by_hand", []).append({
                "label": f"Identifiants des nouveaux comptes ({self.kind.noun}) non téléchargés après 3 essais "
                         "— régénérez leurs mots de passe dans SACoche",
                "items": [f"{log.counts.get('users_added', 0)} compte(s) créé(s) ; cause : {log.credentials_lost}"]})
        if log.credentials:
            # Logins and clear passwords of the new accounts: to hand out, then delete.
            details["sensitive_files"] = [str(p) for p in log.credentials]
        rewritten = ctx.once(same_rank_students) if self.kind is PARENTS else []
        if rewritten and not (changed and self._only_known_rewrite(log, len(rewritten))):
            log.notes.append(f"Élève(s) dont deux responsables ont le même rang (RESP_LEGAL) : {', '.join(rewritten)} ; "
                             "SACoche réécrira leurs liens à chaque import.")
        if changed and rewritten and self._only_known_rewrite(log, len(rewritten)):
            # SACoche compares links rank by rank and rewrites, on every run, those of a student
            # whose two responsables share a rank: that is not a change.
            changed = False
            log.notes.append(f"« Liens de responsabilités modifiés pour {len(rewritten)} élève(s) » : réécriture que "
                             "SACoche refait à chaque import pour les élèves dont deux responsables ont le même rang "
                             f"(RESP_LEGAL), rien n'a changé : {', '.join(rewritten)}.")
        if not changed:
            return Outcome(Status.UNCHANGED, f"Import des {self.kind.noun} : rien à changer, SACoche est déjà à jour "
                                      f"({log.counts.get('users_current', 0)} comptes actuels).",
                           details=details, counts=log.public_counts())
        return Outcome(Status.DONE, f"Import des {self.kind.noun} : {log.counts.get('users_added', 0)} ajoutés, "
                             f"{log.counts.get('users_modified', 0)} modifiés, {log.counts.get('users_removed', 0)} retirés.",
                       details=details, counts=log.public_counts())

    @staticmethod
    def _only_known_rewrite(log: "StepLog", students: int) -> bool:
        counts = log.counts
        others = ("users_added", "users_modified", "users_removed", "addresses_added", "addresses_modified")
        return counts.get("students_links_changed", 0) == students and not any(counts.get(k, 0) for k in others)

    def _advance(self, ctx: RunContext, wizard: ImportWizardPage, step: WizardStep, log: "StepLog") -> WizardStep:
        options = ctx.school.imports
        ctx.step(f"étape {log.current} de l'assistant, {WHAT_IS_DONE.get(step.control, 'suite')}",
                 target=wizard.control(step))
        if step.control == "envoyer_infos_regroupements":
            for reference in wizard.new_rows_without_level():
                if options.unknown_level == "members":
                    self._level_from_members(ctx, wizard, reference, log)
                elif options.unknown_level == "first":
                    level = wizard.give_first_level(reference)
                    log.decide(f"« {reference} » : niveau inconnu de SACoche, niveau « {level} » choisi "
                               "(règle imports.unknown_level: first).")
                else:
                    wizard.untick_new(reference)
                    log.decide(f"« {reference} » : niveau inconnu de SACoche, non créé "
                               "(règle imports.unknown_level: skip).")
            deletions = wizard.proposed_deletions()
            if deletions:
                if options.delete_missing_groups:
                    wizard.tick_all(("del_",))
                    log.notes.append(f"Suppression confirmée de : {', '.join(deletions)}.")
                else:
                    log.decide(f"Suppression proposée mais non cochée (à décider à la main) : {', '.join(deletions)}.")
        elif step.control == "envoyer_infos_utilisateurs":
            # SACoche pre-ticks additions, modifications and removals here; the guide says to
            # select everything, so any box left unticked is ticked too.
            extra, boxes = wizard.tick_all(("add_", "mod_", "del_", "classe_", "pp_", "groupe_"), counting=("del_", "add_"))
            if extra:
                log.notes.append(f"Étape {log.current} : {extra} case(s) que SACoche n'avait pas cochées ont été cochées.")
            removals = boxes["del_"]
            if removals:
                log.notes.append(f"Étape {log.current} : {removals} retrait(s) confirmé(s) (absents du fichier).")
            adding = boxes["add_"]
            if adding:
                # Accounts are written by the next click, and their passwords shown only once
                # after it: until they are saved, a cut here (a browser that dies) would lose
                # them silently. The journal keeps this until the logins file is saved.
                ctx.remember(self._pending_key, {"at": datetime.now().isoformat(timespec="minutes"),
                                                 "accounts": adding})
        elif step.control == "step53":
            # Step 53 shows the password warning; the new logins can only be had now.
            after = wizard.go_on(step)
            log.current = 53
            log.record(after)
            try:
                log.credentials += wizard.download_credentials(
                    ctx.run_dir, on_retry=lambda seconds, problem: log.notes.append(
                        f"Téléchargement des identifiants interrompu ({problem}) ; nouvel essai après {seconds:.0f} s."))
            except (DownloadBroken, PageInsteadOfDownload) as broken:
                # The accounts exist: stopping here would lose nothing more, but the run must
                # say loudly that these passwords are to be generated again by hand.
                log.credentials_lost = f"{broken}"
            ctx.remember(self._pending_key, None)   # saved, or reported as lost just above
            return wizard.go_on(after)
        return wizard.go_on(step)

    def _level_from_members(self, ctx: RunContext, wizard: ImportWizardPage, reference: str, log: "StepLog") -> None:
        """Rule `members`: the level the files give (a class: its students' MEF; a group: most of
        its members' classes), when SACoche offers it; otherwise the row is left unticked."""
        planned = school_level_plan(ctx).for_reference(reference)
        offered = wizard.level_options(reference)
        level = planned.level if planned else None
        if level is not None and str(level.id) in offered:
            wizard.give_level(reference, str(level.id))
            log.notes.append(f"« {reference} » : niveau inconnu de SACoche, niveau « {offered[str(level.id)]} » choisi "
                             f"({planned.why} ; règle imports.unknown_level: members).")
            return
        wizard.untick_new(reference)
        if planned is None:
            why = "absent des fichiers lus par le bot"
        elif level is None:
            why = planned.why
        else:
            why = f"{planned.why}, mais SACoche ne propose pas ce niveau (voir l'étape sacoche-class-levels)"
        choices = ", ".join(f"{name} : {count}" for name, count in getattr(planned, "members_by_level", {}).items())
        log.decide(f"« {reference} » : niveau à choisir à la main, non créé ({why}"
                   + (f" ; membres par niveau — {choices}" if choices else "") + ").")

    # Reading SACoche back ---------------------------------------------------------------------------
    def verify(self, ctx: RunContext, outcome: Outcome) -> dict:
        expected = ctx.once(expected_people, self.kind.file_key)
        rows = UserListPage(sacoche_site(ctx)).rows(self.kind.list_page, ctx.login("sacoche"), ctx.password("sacoche"))
        shown = {}
        for row in rows:
            sconet = row.get("Id Sconet", "")
            if sconet.isdigit():
                shown[int(sconet)] = f"{row.get('Nom', '')} {row.get('Prénom', '')}".strip()
        missing = sorted(set(expected.people) - set(shown))
        extra = sorted(set(shown) - set(expected.people))
        if missing or len(rows) != len(expected.people):
            names = ", ".join(expected.people[i] for i in missing[:10])
            raise VerificationMismatch(
                f"SACoche liste {len(rows)} {self.kind.noun} actuels, le fichier en annonce {len(expected.people)}"
                + (f" ; absents de SACoche : {names}" + ("…" if len(missing) > 10 else "") if missing else "")
                + (f" ; {len(extra)} compte(s) hors fichier" if extra else ""))
        return {"expected": len(expected.people), "listed": len(rows)}


class StepLog:
    """What each wizard step reported, and the counts parsed from it."""

    def __init__(self, ctx: RunContext, kind: ImportKind):
        self.ctx = ctx
        self.kind = kind
        self.steps: list[dict] = []
        self.notes: list[str] = []
        self.to_decide: list[str] = []    # the notes a person must look at
        self.counts: dict[str, int] = {}
        self.credentials: list = []
        self.credentials_lost = ""
        self.lost_before: list[str] = []
        self.current = 10

    def decide(self, note: str) -> None:
        self.notes.append(note)
        self.to_decide.append(note)

    @property
    def all_lines(self) -> list[str]:
        return [line for step in self.steps for line in step["lines"]]

    def record(self, step: WizardStep) -> None:
        self.steps.append({"step": self.current, "lines": step.lines})
        # Every line in full, one under the other (a person reads them); one say() per line, so that
        # in a batch each line keeps its school's prefix.
        head = f"    étape {self.current} : "
        for number, line in enumerate(step.lines or [""]):
            self.ctx.say(f"{head if number == 0 else ' ' * len(head)}{line}".rstrip())
        for line in step.lines:
            self._parse(line)
        if step.target:
            self.current = step.target

    def _parse(self, line: str) -> None:
        users = USERS_LINE.search(line)
        if users:
            values = [int(v) for v in users.groups()]
            self.counts.update(users_modified=values[2], users_added=values[3], users_removed=values[4],
                               users_current=values[5], users_former=values[6])
        groups = GROUPS_LINE.search(line)
        if groups:
            word = "classes" if groups.group(2) == "classe" else "groups"
            self.counts[f"{word}_added"] = int(groups.group(3))
            self.counts[f"{word}_deleted"] = int(groups.group(4))
        for pattern, key in CHANGE_LINES:
            found = pattern.search(line)
            if found:
                self.counts[key] = int(found.group(1))

    def public_counts(self) -> dict:
        prefix = COUNT_PREFIX[self.kind.name]
        return {f"{prefix}_{key}": value for key, value in self.counts.items()}
