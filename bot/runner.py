"""Runs flows for one school: pre-flight of every input and secret, then the browser, then each
flow's run and verification in order, a screenshot after each, and the report."""
from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Sequence

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from . import report
from .browser import BrowserSession
from .config import BotConfig
from .errors import (EXIT_FLOW_FAILED, EXIT_MISMATCH, EXIT_OK, EXIT_REFUSED, BotError, FlowFailed, Refused, SiteNotReady,
                     VerificationMismatch)
from .console import Console
from .flow import Flow, RunContext
from .journal import FINISHED, Journal, fingerprint
from .lock import SchoolLock
from .retry import wait_before_retry
from .tls import accepted_certificates
from .secrets import redact, take_environment_passwords

FAILED = "failed"
MISMATCH = "mismatch"
SKIPPED = "skipped"
REFUSED = "refused"   # the flow read the site, found it could not go on, and wrote nothing


@dataclass
class FlowResult:
    name: str
    title: str
    status: str
    summary: str
    duration_s: float
    details: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    screenshot: str | None = None
    labels: dict = field(default_factory=dict)


@dataclass
class RunReport:
    school: str
    run_dir: Path
    title: str = ""
    flows: list[FlowResult] = field(default_factory=list)
    started_at: str = field(default_factory=lambda: datetime.now().isoformat(timespec="seconds"))
    finished_at: str = ""
    write_failures: list[str] = field(default_factory=list)   # what could not be written on this machine

    @property
    def status(self) -> str:
        for status in (FAILED, MISMATCH, REFUSED):
            if any(f.status == status for f in self.flows):
                return status
        return "success"

    @property
    def exit_code(self) -> int:
        code = {FAILED: EXIT_FLOW_FAILED, MISMATCH: EXIT_MISMATCH, REFUSED: EXIT_REFUSED}.get(self.status, EXIT_OK)
        return EXIT_FLOW_FAILED if self.write_failures and code == EXIT_OK else code

    @property
    def counts(self) -> dict:
        total: dict = {}
        for result in self.flows:
            for key, value in result.counts.items():
                total[key] = total.get(key, 0) + value
        return total


MIB = 1024 * 1024


def check_local_side(config: BotConfig) -> None:
    """Before any click: the state and recordings folders are directories the bot can write in,
    with room to spare. A run that cannot keep its journal or its report would change the sites
    and then lose what it did."""
    for key, folder in (("paths.state_dir", config.paths.state_dir), ("paths.recordings_dir", config.paths.recordings_dir)):
        folder = Path(folder)
        where = f"{config.source or 'configuration'} : {key} « {folder} »"
        if folder.exists() and not folder.is_dir():
            raise Refused(f"{where} n'est pas un dossier (un fichier porte ce nom) : indiquez un dossier.")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-") as probe:
                probe.write(b"0")
                probe.flush()
        except OSError as exc:
            raise Refused(f"{where} : impossible d'y écrire ({exc.strerror or exc}) ; indiquez un dossier "
                          "accessible en écriture. Rien n'a été fait sur les sites.") from None
        free = shutil.disk_usage(folder).free
        if free < config.paths.min_free_mb * MIB:
            raise Refused(f"{where} : {free // MIB} Mo libres sur ce disque, moins que les {config.paths.min_free_mb} Mo "
                          "demandés (paths.min_free_mb) ; libérez de la place. Rien n'a été fait sur les sites.")


def new_run_dir(config: BotConfig, school_id: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    run_dir = Path(config.paths.recordings_dir) / school_id / stamp
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


@dataclass
class RunOptions:
    headed: bool = False
    slow_mo_ms: int | None = None
    mode: str | None = None            # import display mode imposed on SACoche's wizard
    skip_finished: bool = False        # full-onboarding: skip flows the journal says are done
    force: bool = False                # … unless forced
    step_mode: str | None = None       # None, "flow" or "fine"
    trace: bool = True
    video: bool = False
    quiet: bool = False


def preflight(ctx: RunContext, flows: Sequence[Flow]) -> None:
    """Everything that can refuse the run without a browser: secrets first, then inputs."""
    for site in dict.fromkeys(site for flow in flows for site in flow.sites):
        ctx.password(site)
    for flow in flows:
        flow.preflight(ctx)


def run_school(config: BotConfig, school_id: str, flows: Sequence[Flow], options: RunOptions | None = None,
               console: Console | None = None) -> RunReport:
    options = options or RunOptions()
    console = console or Console(quiet=options.quiet, headed=options.headed, step_mode=options.step_mode)
    config.school(school_id)
    take_environment_passwords(config)
    check_local_side(config)
    with SchoolLock(config.paths.state_dir, school_id) as lock:
        if lock.takeover_note():
            console.say(lock.takeover_note())
        return _run_locked(config, school_id, flows, options, console)


def _run_locked(config: BotConfig, school_id: str, flows: Sequence[Flow], options: RunOptions,
                console: Console) -> RunReport:
    journal = Journal(config.paths.state_dir, school_id)
    run_dir = new_run_dir(config, school_id)
    try:
        return _run_in(run_dir, journal, config, school_id, flows, options, console)
    except Refused:
        # Refused before any click: nothing to show in a run folder.
        with contextlib.suppress(OSError):
            run_dir.rmdir()
        raise


def _run_in(run_dir: Path, journal: Journal, config: BotConfig, school_id: str, flows: Sequence[Flow],
            options: RunOptions, console: Console) -> RunReport:
    ctx = RunContext(config=config, school_id=school_id, run_dir=run_dir, say=console.say,
                     options={"mode": options.mode} if options.mode else {},
                     planned=[flow.name for flow in flows], remembered=journal.facts, console=console,
                     persist=journal.save)
    run = RunReport(school=school_id, run_dir=run_dir, title=ctx.school.name)
    to_run = []
    for flow in flows:
        done = (journal.finished_with(flow.name, fingerprint(flow.inputs(ctx)))
                if options.skip_finished and not options.force else None)
        if done:
            run.flows.append(FlowResult(
                name=flow.name, title=flow.title, status=SKIPPED, duration_s=0.0,
                summary=f"Déjà fait le {done['at'].replace('T', ' à ')}, entrées inchangées : étape sautée "
                        f"(--force pour la refaire). {done.get('summary', '')}".strip(),
                details={"skipped_reason": "déjà faite, entrées inchangées", "verified": done.get("verified", {})},
                labels=flow.report_labels))
        else:
            to_run.append(flow)
    preflight(ctx, to_run)
    # Certificates are checked before any click (a refusal touches nothing on either site).
    accepted = accepted_certificates(config.sites) if to_run else []
    video_dir = run_dir / "video" if options.video else None
    with BrowserSession(config.browser, run_dir / "downloads", headed=options.headed,
                        slow_mo_ms=options.slow_mo_ms, trace=options.trace, video_dir=video_dir,
                        accepted_certificates=accepted) as session:
        ctx.page = session.page
        ctx.isolated_page = session.isolated_page
        console.attach(session.context)
        for number, flow in enumerate(flows, start=1):
            if flow not in to_run:
                console.say(f"[{number}/{len(flows)}] {flow.title} : déjà faite, sautée.")
                continue
            console.flow(number, len(flows), flow.title, page=ctx.page)
            session.start_trace_chunk(f"{number:02d} {flow.title}")
            result = _run_one(ctx, flow, number)
            # Taken after the run, so that what a flow produced for itself (the ENT export)
            # counts as its input next time.
            inputs = fingerprint(flow.inputs(ctx))
            trace = session.stop_trace_chunk(run_dir / f"{number:02d}-{flow.name}.trace.zip")
            if trace is not None:
                result.details["trace"] = trace.name
            run.flows.append(result)
            try:
                journal.record(flow.name, result.status, inputs if result.status in FINISHED else "",
                               result.summary, result.details.get("verified", {}), run_dir)
            except OSError as exc:
                _local_write_failed(result, "le journal de l'école", exc)
            console.say(f"    → {result.summary}")
            if result.status in (FAILED, MISMATCH, REFUSED):
                break   # later flows build on this one
    run.finished_at = datetime.now().isoformat(timespec="seconds")
    for write, what in ((journal.save, "le journal de l'école"),
                        (lambda: report.write_json(run, run_dir / "report.json"), "le rapport report.json"),
                        (lambda: report.write_html(run, run_dir / "report.html"), "le rapport report.html")):
        try:
            write()
        except OSError as exc:
            console.say(f"Attention : impossible d'écrire {what} ({exc.strerror or exc}) ; le disque local est "
                        "plein ou protégé en écriture.")
            run.write_failures.append(f"{what} : {exc.strerror or exc}")
    return run


def _local_write_failed(result: "FlowResult", what: str, exc: OSError) -> None:
    """A write on this machine failed after the flow: the run stops there, cleanly."""
    result.status = FAILED
    result.summary = (f"{result.summary} — mais impossible d'écrire {what} sur ce poste ({exc.strerror or exc}) : "
                      "disque plein ou dossier protégé ?")
    result.details["what_to_do"] = ("Libérez de la place ou rendez le dossier accessible en écriture, puis relancez "
                                    "la même commande : l'étape sera refaite, sans rien créer en double.")


def _run_one(ctx: RunContext, flow: Flow, number: int) -> FlowResult:
    """Run and verify one flow. A passing failure (lost session, server error, timeout,
    network) runs the whole flow again from its start: every flow is written so that this is
    safe (see each flow's `retry_safe` note), and a wizard cut in the middle is restarted
    rather than resumed, because SACoche keeps its state per session."""
    started = time.monotonic()
    attempts = ctx.config.browser.retries + 1
    notes = []
    for attempt in range(1, attempts + 1):
        status, summary, details, counts, transient = _attempt(ctx, flow)
        if status not in (FAILED,) or not transient or attempt == attempts:
            break
        waited = wait_before_retry(attempt)
        notes.append(f"Essai {attempt} en échec ({summary}) ; nouvel essai depuis le début après {waited:.0f} s.")
        ctx.say(f"    ↻ {notes[-1]}")
    if notes:
        details.setdefault("notes", [])
        details["notes"] = [*notes, *details["notes"]]
    if status in (FAILED, MISMATCH, REFUSED):
        details.setdefault("what_to_do", what_to_do(status, transient, attempt))
    shot_name = f"{number:02d}-{flow.name}{'' if status not in (FAILED, MISMATCH, REFUSED) else '-echec'}.png"
    screenshot = None
    try:
        ctx.page.screenshot(path=str(ctx.artifact_path(shot_name)), full_page=True)
        screenshot = shot_name
    except (PlaywrightError, OSError):
        pass   # a dead page must not hide the flow's own result
    return FlowResult(name=flow.name, title=flow.title, status=status, summary=redact(summary),
                      duration_s=round(time.monotonic() - started, 2), details=details,
                      counts=counts, screenshot=screenshot, labels=flow.report_labels)


def what_to_do(status: str, transient: bool, attempts: int) -> str:
    """The French advice shown with a failed step: the cause is in its summary."""
    if status == REFUSED:
        return ("Rien n'a été écrit sur le site : corrigez la cause indiquée (dans SACoche ou dans la configuration), "
                "puis relancez la même commande ; elle reprend à cette étape.")
    if status == MISMATCH:
        return ("Le site n'a pas gardé ce que le bot a fait : vérifiez à la main la page indiquée, puis relancez "
                "la même commande (elle reprend à cette étape).")
    if transient:
        return (f"Panne passagère du site qui a duré malgré {attempts} essai(s) : relancez la même commande plus "
                "tard ; elle reprend à cette étape, sans rien créer en double.")
    return "Corrigez la cause indiquée, puis relancez la même commande : elle reprend à cette étape."


def _attempt(ctx: RunContext, flow: Flow) -> tuple[str, str, dict, dict, bool]:
    """One run + verification: (status, summary, details, counts, transient)."""
    try:
        outcome = flow.run(ctx)
        verified = flow.verify(ctx, outcome)   # may complete the outcome with what it read
        details = {**outcome.details, "verified": verified}
        return outcome.status, outcome.summary, details, dict(outcome.counts), False
    except VerificationMismatch as exc:
        return MISMATCH, f"Vérification en échec : {exc.message}", {}, {}, False
    except FlowFailed as exc:
        return FAILED, exc.message, {}, {}, exc.transient
    except SiteNotReady as exc:
        return REFUSED, exc.message, {}, {}, False
    except BotError as exc:
        return FAILED, exc.message, {}, {}, False
    except PlaywrightTimeout as exc:
        return FAILED, ("Délai dépassé en attendant la page (site lent ou page différente de celle "
                        f"attendue) : {_first_line(exc)}{_awaited(exc)}"), {}, {}, True
    except PlaywrightError as exc:
        if "net::ERR_CERT" in str(exc):
            # A certificate the browser refuses is no passing fault: never retried nor ignored.
            return FAILED, (f"Certificat TLS refusé par le navigateur : {_first_line(exc)} ; vérifiez l'adresse du "
                            "site, ou autorisez explicitement son certificat auto-signé (voir le README)."), {}, {}, False
        # net::ERR_… : the server went away or the network broke; anything else is not passing.
        return FAILED, f"Erreur du navigateur : {_first_line(exc)}", {}, {}, "net::ERR_" in str(exc)
    except AssertionError as exc:
        if not _from_playwright_expect(exc):
            return _internal_error(ctx, flow, exc)
        # Playwright's expect(): a page state that did not come in time (or a dead browser).
        closed = "has been closed" in str(exc)
        what = "le navigateur s'est fermé" if closed else "l'état attendu de la page n'est pas venu à temps"
        return FAILED, f"Erreur du navigateur : {what} ({_first_line(exc)}){_awaited(exc)}", {}, {}, not closed
    except OSError as exc:
        # The sites are reached through the browser: an OSError here is this machine's disk.
        return FAILED, (f"Écriture impossible sur ce poste ({exc.strerror or exc}"
                        f"{f' : {exc.filename}' if exc.filename else ''}) : disque plein ou dossier protégé ?"), \
            {"what_to_do": "Libérez de la place ou corrigez les droits du dossier, puis relancez la même commande."}, \
            {}, False
    except Exception as exc:   # a bug of the bot: this school's failure, never a passing fault
        return _internal_error(ctx, flow, exc)


def _from_playwright_expect(exc: AssertionError) -> bool:
    """Playwright's expect() raises AssertionError too; a bare `assert` of ours does not come
    from its assertion module."""
    return any("playwright" in frame.filename and "_assertions" in frame.filename
               for frame in traceback.extract_tb(exc.__traceback__))


INTERNAL_LOG = "erreur-interne.log"


def _internal_error(ctx: RunContext, flow: Flow, exc: BaseException) -> tuple[str, str, dict, dict, bool]:
    """An unexpected error is the bot's own bug: the step fails (exit 3, no retry), its
    traceback goes to a log file in the run folder (redacted), never to the screen."""
    text = redact("".join(traceback.format_exception(exc)))
    logged = ""
    with contextlib.suppress(OSError):
        path = ctx.artifact_path(INTERNAL_LOG)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- {datetime.now().isoformat(timespec='seconds')} étape {flow.name}\n{text}\n")
        logged = f" ; détails techniques dans {path}"
    return FAILED, (f"Erreur interne du bot ({exc.__class__.__name__}) pendant l'étape : signalez-la à l'équipe "
                    f"du bot avec le rapport{logged}."), {
        "what_to_do": "Erreur du bot lui-même, pas du site : transmettez le dossier de l'exécution à l'équipe du bot. "
                      "Relancer la même commande reprend à cette étape."}, {}, False


def _awaited(exc: Exception) -> str:
    """What the browser was waiting for (Playwright's call log), so that the operator knows
    which control or label was not found."""
    match = re.search(r"waiting for (.+)", str(exc))
    return f" — élément attendu : {redact(match.group(1).strip())}" if match else ""


def _first_line(exc: Exception) -> str:
    return redact(str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__)


@dataclass
class SchoolOutcome:
    school: str
    run: RunReport | None = None
    refused: str = ""
    failed: str = ""     # an internal error outside any step

    @property
    def status(self) -> str:
        return self.run.status if self.run else FAILED if self.failed else "refused"

    @property
    def exit_code(self) -> int:
        return self.run.exit_code if self.run else EXIT_FLOW_FAILED if self.failed else EXIT_REFUSED


def _school_crash_log(config: BotConfig, school_id: str, exc: BaseException) -> Path | None:
    try:
        folder = Path(config.paths.recordings_dir) / school_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{INTERNAL_LOG[:-4]}-{datetime.now():%Y%m%d-%H%M%S-%f}.log"
        path.write_text(redact("".join(traceback.format_exception(exc))), encoding="utf-8")
        return path
    except OSError:
        return None


def run_schools(config: BotConfig, school_ids: Sequence[str], flows: Sequence[Flow], options: RunOptions,
                parallel: int = 1, ask=None) -> list[SchoolOutcome]:
    """Several schools, each in its own browser, `parallel` at a time; one school's failure or
    refusal does not stop the others."""
    def one(school_id: str) -> SchoolOutcome:
        prefix = f"[{school_id}] " if len(school_ids) > 1 else ""
        console = Console(quiet=options.quiet, headed=options.headed, step_mode=options.step_mode,
                          prefix=prefix, ask=ask)
        try:
            return SchoolOutcome(school_id, run=run_school(config, school_id, flows, options, console))
        except BotError as exc:   # refused before any click (or no browser)
            if len(school_ids) > 1:   # alone, the command line says it once, as its error
                console.say(f"Refusé : {redact(exc.message)}")
            return SchoolOutcome(school_id, refused=redact(exc.message))
        except Exception as exc:   # a bug outside any step: this school's failure, not the batch's
            log = _school_crash_log(config, school_id, exc)
            message = (f"Erreur interne du bot ({exc.__class__.__name__}) : signalez-la à l'équipe du bot"
                       + (f" ; détails techniques dans {log}" if log else "") + ".")
            console.say(message)
            return SchoolOutcome(school_id, failed=message)

    if parallel <= 1 or len(school_ids) <= 1:
        return [one(school_id) for school_id in school_ids]
    # Each worker thread starts its own Playwright (the sync API is per thread).
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        return list(pool.map(one, school_ids))
