"""Guide step « Récupération des services des enseignants » and « des comptes élèves et parents »:
log into ARENA (password followed by a one-time passcode the operator gives), download STS-Web's
timetable export and SIECLE BEE's « Elèves sans adresse » and « Responsables avec adresse », check
them as check-files does, and hand them to the imports of the same run. Read-only on ARENA."""
from __future__ import annotations

import hashlib
from pathlib import Path

from bot.config import BotConfig
from bot.errors import Refused, SiteNotReady, VerificationMismatch
from bot.flow import Flow, Outcome, RunContext, Status, Work
from bot.fsutil import check_dir
from bot.otp import OtpSource
from bot.text import de, shorten
from schoolfiles.checks import COUNT_LABELS, check_school_files

from ..ent.families import label_pack
from .pages import ArenaSite

SITE = "arena"
KINDS = ("sts", "eleves", "responsables")
# What a person calls each download (its key is the config's files.<kind>).
EXPORT_NAMES = {"sts": "export ARENA STS-Web (emploi du temps)",
                "eleves": "export ARENA SIECLE BEE (élèves sans adresse)",
                "responsables": "export ARENA SIECLE BEE (responsables avec adresse)"}
EXPORTS_FACT = "arena_exports"          # journal: where the last downloads were saved
PACK_PATH = Path(__file__).with_name("labels.yaml")
TRIES = 3


def arena_labels(ctx: RunContext) -> dict:
    return label_pack(PACK_PATH, ctx.config.sites[SITE].labels, "sites.arena.labels")


def missing_kinds(config: BotConfig, school_id: str) -> list[str]:
    files = config.school(school_id).files
    return [kind for kind in KINDS if getattr(files, kind) is None]


def arena_configured(ctx: RunContext) -> bool:
    return SITE in ctx.config.sites and SITE in ctx.school.accounts


def exports_come_later(ctx: RunContext, flow_name: str, kinds) -> bool:
    """True when `arena-exports` runs before `flow_name` in this run and will download one of
    `kinds` that the config does not name: that flow's files are checked once downloaded."""
    planned = ctx.planned[:ctx.planned.index(flow_name)] if flow_name in ctx.planned else []
    return (ArenaExports.name in planned and arena_configured(ctx)
            and bool(set(kinds) & set(missing_kinds(ctx.config, ctx.school_id))))


def files_await_arena(ctx: RunContext, flow_name: str, kinds, any_of: bool = False) -> bool:
    """For a flow's preflight: True when ARENA downloads its files earlier in this run. When
    they are neither in the config nor planned from ARENA, refused with the command that
    fetches them first (older downloads are not reused: a new school year needs new exports).
    `any_of`: the flow can work from any one of `kinds`."""
    if exports_come_later(ctx, flow_name, kinds):
        return True
    missing = [kind for kind in missing_kinds(ctx.config, ctx.school_id) if kind in set(kinds)]
    if missing and (not any_of or len(missing) == len(set(kinds))) and arena_configured(ctx):
        keys = ", ".join(f"schools.{ctx.school_id}.files.{kind}" for kind in missing)
        raise Refused(f"Fichier nécessaire non configuré ({keys}) : indiquez-le, ou faites-le télécharger "
                      f"d'ARENA juste avant : python -m bot full-onboarding --school {ctx.school_id} "
                      f"--only {ArenaExports.name},{flow_name}")
    return False


def refusal_text(attempt: int) -> str:
    return (f"ARENA a refusé le passcode (essai {attempt}/{TRIES}) : code faux ou expiré"
            + (" ; un nouveau code est demandé." if attempt < TRIES else "."))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ArenaExports(Flow):
    name = "arena-exports"
    title = "ARENA : exports STS-Web et SIECLE"
    work = Work.DOWNLOADS   # read-only on ARENA
    report_labels = {"counts": {"exports_downloaded": "exports ARENA téléchargés", "passcodes_refused": "passcodes refusés"},
                     "details": {"files": "Exports ARENA téléchargés", **EXPORT_NAMES, "sha256": "empreinte SHA-256",
                                 "file": "fichier", "checked": "Contenu des exports ARENA, vérifié comme check-files",
                                 **COUNT_LABELS, "exports_checked": "exports relus sur le disque, empreinte inchangée"}}

    def _needed(self, ctx: RunContext) -> list[str]:
        return missing_kinds(ctx.config, ctx.school_id) if arena_configured(ctx) else []

    def needed_sites(self, ctx: RunContext) -> tuple[str, ...]:
        return (SITE,) if self._needed(ctx) else ()

    def site_inspectors(self, ctx: RunContext, every_site: bool = False):
        from .site_check import INSPECTOR
        return (INSPECTOR,) if self._needed(ctx) or (every_site and arena_configured(ctx)) else ()

    def _otp(self, ctx: RunContext) -> OtpSource:
        return OtpSource.for_this_process(ctx.options.otp_command, ctx.options.headed)

    def preflight(self, ctx: RunContext) -> None:
        if not self._needed(ctx):
            return
        arena_labels(ctx)   # a wrong override key is refused before any click
        self._otp(ctx).check_usable(f"La connexion à ARENA de l'école {ctx.school_id}")

    def inputs(self, ctx: RunContext) -> dict:
        # Exports change every day of a school year: a run that needs them downloads them anew.
        return {"run": ctx.run_dir.name} if self._needed(ctx) else {"files": "configuration"}

    def run(self, ctx: RunContext) -> Outcome:
        wanted = self._needed(ctx)
        if not wanted:
            why = ("les fichiers sont indiqués dans la configuration (schools.{0}.files)" if not missing_kinds(
                ctx.config, ctx.school_id) else "ARENA n'est pas configuré (sites.arena, schools.{0}.accounts.arena)")
            # No page was opened: the report says why rather than show a blank window.
            ctx.show_no_page(f"ARENA n'a pas été ouvert, {why.format(ctx.school_id)}")
            return Outcome(Status.UNCHANGED, f"Pas besoin d'ARENA : {why.format(ctx.school_id)} ; rien téléchargé.",
                           work=Work.NOT_NEEDED)
        login = ctx.login(SITE)
        site = ArenaSite(ctx.page, ctx.site_url(SITE), arena_labels(ctx))
        notes: list[str] = []
        ctx.step("connexion à ARENA (mot de passe du trousseau suivi du passcode à usage unique)")
        refused = site.log_in(
            login, ctx.password(SITE), self._otp(ctx),
            prompt=f"Passcode ARENA {de(login)} pour {ctx.school.name} (école {ctx.school_id}) : ",
            tries=TRIES, on_refused=lambda attempt: self._refused(ctx, notes, attempt))
        folder = check_dir(ctx.run_dir / "arena", create=True)   # the bot's own folder, never a planted link
        retry_note = lambda what: lambda seconds, problem: notes.append(  # noqa: E731
            f"{what} : téléchargement interrompu ({problem}) ; nouvel essai après {seconds:.0f} s.")
        saved: dict[str, Path] = {}
        for kind in wanted:
            ctx.step(f"téléchargement : {'STS-web, Exports, Emploi du temps' if kind == 'sts' else 'SIECLE BEE, Exportations, en XML'}")
            saved[kind] = (site.download_sts(folder, retry_note("STS-web")) if kind == "sts" else
                           site.download_siecle("students" if kind == "eleves" else "parents", folder,
                                                retry_note("SIECLE BEE")))
        config = with_files(ctx.config, ctx.school_id, saved)
        try:
            summary = check_school_files(config, ctx.school_id, only=set(saved))
        except Refused as refusal:
            # Nothing goes on to SACoche with files it would refuse or misread; fetching them again
            # would give the same files, so this is refused like bad input, not retried.
            raise SiteNotReady(f"Les exports téléchargés d'ARENA sont refusés : {refusal}") from None
        ctx.use_config(config)
        ctx.remember(EXPORTS_FACT, {kind: str(path) for kind, path in saved.items()})
        files = {kind: {"file": path.name, "sha256": sha256_of(path)} for kind, path in saved.items()}
        counts = summary.counts()
        told = ", ".join(f"{path.name} (empreinte {shorten(files[kind]['sha256'], 13)})" for kind, path in saved.items())
        return Outcome(Status.UNCHANGED,
                       f"{len(saved)} export(s) ARENA téléchargé(s) et vérifié(s) : {told} ; UAI {summary.uai}, année "
                       f"{summary.year} ; rien n'a été modifié sur ARENA.",
                       details={"files": files, "notes": notes, "checked": counts},
                       counts={"exports_downloaded": len(saved), "passcodes_refused": refused},
                       data=saved)

    @staticmethod
    def _refused(ctx: RunContext, notes: list[str], attempt: int) -> None:
        message = refusal_text(attempt)
        notes.append(message)
        ctx.say(f"    {message}")

    def verify(self, ctx: RunContext, outcome: Outcome) -> dict:
        if not outcome.data:
            return {}
        for kind, path in outcome.data.items():
            if sha256_of(path) != outcome.details["files"][kind]["sha256"]:
                raise VerificationMismatch(f"L'export {path.name} a changé sur le disque depuis son téléchargement.")
        return {"exports_checked": len(outcome.data)}


def with_files(config: BotConfig, school_id: str, saved: dict[str, Path]) -> BotConfig:
    school = config.school(school_id)
    files = school.files.model_copy(update=saved)
    schools = {**config.schools, school_id: school.model_copy(update={"files": files})}
    return config.model_copy(update={"schools": schools})
