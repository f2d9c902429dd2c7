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

from . import interrupt, report
from .browser import BrowserSession, ScreenshotMissing, take_screenshot
from .config import BotConfig
from .errors import BotError, FlowFailed, LoginRefused, Refused, SiteNotReady, VerificationMismatch
from .console import Console
from .flow import Flow, RunContext, RunOptions
from .fsutil import UnsafePath, make_dirs, new_dir, write_file
from .inputs import INPUTS_DIR, copy_inputs
from .labels import date_fr, skipped_summary
from .journal import Journal, fingerprint, journal_sites
from .landmarks import SiteChanged
from .site_check import (RECHECK_AFTER, SiteReport, checked_lately, distinct_inspectors, inspect_sites, login_advice,
                         note_check_passed, pages_used, summary, visited_text)
from .results import FlowResult, RunReport
from .status import ExitStatus, Status, Work
from .lock import SchoolLock
from .retry import wait_before_retry
from .tls import accepted_certificates
from .secrets import redact, remember_for_masking, require_passwords, take_environment_passwords
from .text import de

@dataclass
class Attempt:
    """One run + verification of a flow."""
    status: Status
    summary: str
    details: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    transient: bool = False   # a passing fault: the flow may be run again from its start
    work: Work | None = None   # what the step did this time (Outcome.work), when not its usual


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
    """recordings/<school>/<start of the run>, made now: the school's folder and the run's are
    real folders of the bot's, never a link planted there (refused before any click)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    try:
        return new_dir(make_dirs(config.paths.recordings_dir, school_id) / stamp)
    except UnsafePath as exc:
        raise Refused(f"Dossier d'enregistrement de l'école {school_id} refusé : {exc.message} Rien n'a été fait "
                      "sur les sites.") from None
    except OSError as exc:
        raise Refused(f"Dossier d'enregistrement de l'école {school_id} impossible à créer ({exc.strerror or exc}"
                      f"{f' : {exc.filename}' if exc.filename else ''}) : vérifiez paths.recordings_dir. Rien n'a été "
                      "fait sur les sites.") from None


def preflight(ctx: RunContext, flows: Sequence[Flow]) -> None:
    """Everything that can refuse the run without a browser: secrets first (every missing one
    at once), then inputs."""
    require_passwords(ctx.config, ctx.school_id, [site for flow in flows for site in flow.needed_sites(ctx)])
    for flow in flows:
        flow.preflight(ctx)


def check_sites(config: BotConfig, school_id: str, flows: Sequence[Flow], options: RunOptions,
                only: str | None = None, console: Console | None = None) -> list[SiteReport]:
    """check-site: visit every site the flows use for this school (or `only` that one), write
    nothing there nor here (no run folder, no journal), and read each page's landmarks."""
    console = console or Console(quiet=options.quiet, headed=options.headed)
    config.school(school_id)
    take_environment_passwords(config)
    remember_for_masking(config, school_id)
    with tempfile.TemporaryDirectory(prefix="check-site-") as scratch:
        ctx = RunContext(config=config, school_id=school_id, run_dir=Path(scratch), say=console.say,
                         options=options, console=console)
        inspectors = [inspector for inspector in distinct_inspectors(ctx, flows, every_site=True)
                      if only is None or inspector.site == only]
        if not inspectors:
            known = ", ".join(inspector.site for inspector in distinct_inspectors(ctx, flows, every_site=True))
            raise Refused(f"Aucun site « {only} » à vérifier pour l'école {school_id} (configurés : {known or 'aucun'}).")
        # Missing secrets are refused before any request, all of them at once.
        require_passwords(config, school_id, [inspector.site for inspector in inspectors])
        for inspector in inspectors:
            inspector.preflight(ctx)
        with BrowserSession(config.browser, Path(scratch), headed=options.headed,
                            slow_mo_ms=options.slow_mo_ms, accepted_certificates=accepted_certificates(config.sites),
                            prepare_context=console.attach) as session:
            ctx.page = session.page
            ctx.isolated_page = session.isolated_page
            return inspect_sites(ctx, inspectors, thorough=True)


def run_school(config: BotConfig, school_id: str, flows: Sequence[Flow], options: RunOptions | None = None,
               console: Console | None = None) -> RunReport:
    options = options or RunOptions()
    console = console or Console(quiet=options.quiet, headed=options.headed, step_mode=options.step_mode)
    config.school(school_id)
    take_environment_passwords(config)
    remember_for_masking(config, school_id)
    check_local_side(config)
    with SchoolLock(config.paths.state_dir, school_id) as lock:
        if lock.takeover_note():
            console.say(lock.takeover_note())
        return _run_locked(config, school_id, flows, options, console)


def _run_locked(config: BotConfig, school_id: str, flows: Sequence[Flow], options: RunOptions,
                console: Console) -> RunReport:
    # Checked on load: a journal of another school or other sites, or unreadable, is not acted on.
    journal = Journal(config.paths.state_dir, school_id, sites=journal_sites(config, school_id),
                      set_aside=not options.forecast_only)
    for note in journal.notes:
        console.say(note)
    school_dir = Path(config.paths.recordings_dir) / school_id
    school_dir_was_there = school_dir.exists()
    run_dir = new_run_dir(config, school_id)
    try:
        return _run_in(run_dir, journal, config, school_id, flows, options, console)
    except Refused:
        # Refused before any click: nothing to show in a run folder, nor in the school's folder
        # when this run made it (a folder left with something in it stays).
        with contextlib.suppress(OSError):
            _discard_unstarted(run_dir)
            if not school_dir_was_there:
                school_dir.rmdir()
        raise


def _discard_unstarted(run_dir: Path) -> None:
    """Removes the folder of a run refused before it started: it holds at most the copies of
    its inputs (a browser that would not start, a refused certificate). Anything else in it (a
    screenshot, a trace) is kept, with the folder."""
    if all((path.is_dir() and not path.is_symlink()) or path.relative_to(run_dir).parts[0] == INPUTS_DIR
           for path in run_dir.rglob("*")):
        shutil.rmtree(run_dir)


def _run_in(run_dir: Path, journal: Journal, config: BotConfig, school_id: str, flows: Sequence[Flow],
            options: RunOptions, console: Console) -> RunReport:
    ctx = RunContext(config=config, school_id=school_id, run_dir=run_dir, say=console.say, options=options,
                     planned=[flow.name for flow in flows], remembered=journal.facts, console=console,
                     persist=journal.save)
    run = RunReport(school=school_id, run_dir=run_dir, title=ctx.school.name, journal_notes=list(journal.notes))
    def finished_already(flow: Flow) -> dict | None:
        return (journal.finished_with(flow.name, fingerprint(flow.inputs(ctx)))
                if options.skip_finished and not options.force else None)

    to_run = []
    for flow in flows:
        done = finished_already(flow)
        if done:
            run.flows.append(_skipped(flow, done))
        else:
            to_run.append(flow)
    preflight(ctx, to_run)
    try:
        run.inputs = copy_inputs(run_dir, [(flow.title, flow.inputs(ctx), flow.report_labels) for flow in to_run])
    except UnsafePath as exc:
        raise Refused(f"Copie des fichiers d'entrée refusée : {exc.message} Rien n'a été fait sur les sites.") from None
    # Certificates are checked before any click (a refusal touches nothing on either site).
    accepted = accepted_certificates(config.sites) if to_run else []
    video_dir = run_dir / "video" if options.video else None
    with BrowserSession(config.browser, run_dir, headed=options.headed,
                        slow_mo_ms=options.slow_mo_ms, trace=options.tracing.records, video_dir=video_dir,
                        accepted_certificates=accepted, trace_screenshots=options.tracing.films,
                        prepare_context=console.attach) as session:
        ctx.page = session.page
        ctx.isolated_page = session.isolated_page
        _warm_up(ctx, to_run)
        _forecast(ctx, to_run, run, console)
        checked_sites: set[str] = set()
        for number, flow in enumerate(flows if not options.forecast_only else [], start=1):
            interrupt.check()   # a batch's other schools stop at their next step
            if flow not in to_run:
                console.say(f"[{number}/{len(flows)}] {flow.title} : déjà faite, sautée.")
                continue
            done = finished_already(flow) if ctx.config is not config else None
            if done:
                # An earlier step of this run gave this one its files (ARENA's exports): they
                # are what it last finished with, so there is nothing to do again.
                run.flows.append(_skipped(flow, done, "fichiers reçus identiques à ceux d'alors"))
                console.say(f"[{number}/{len(flows)}] {flow.title} : déjà faite avec ces mêmes fichiers, sautée.")
                continue
            if not _sites_look_as_expected(ctx, flow, to_run[to_run.index(flow):], run, console, checked_sites):
                break   # nothing written on that site; the steps after it build on it
            console.flow(number, len(flows), flow.title, page=ctx.page)
            # Files an earlier step of this run made for this one (ARENA's exports, the ENT's).
            try:
                run.inputs = copy_inputs(run_dir, [(flow.title, flow.inputs(ctx), flow.report_labels)],
                                         known=run.inputs)
            except UnsafePath as exc:
                run.flows.append(_unsafe_before_step(flow, exc))
                console.say(f"    → {run.flows[-1].summary}")
                break
            session.start_trace_chunk(f"{number:02d} {flow.title}")
            result = _run_one(ctx, flow, number)
            _point_to_copies(result, run)
            # Taken after the run, so that what a flow produced for itself (the ENT export)
            # counts as its input next time.
            inputs = fingerprint(flow.inputs(ctx))
            try:
                trace = session.stop_trace_chunk(run_dir / f"{number:02d}-{flow.name}.trace.zip",
                                                 keep=options.tracing.keeps(result.status.went_wrong))
            except OSError as exc:
                trace = None
                _local_write_failed(result, "la trace de l'étape", exc)
            if trace is not None:
                result.details["trace"] = trace.name
            run.flows.append(result)
            try:
                journal.record(flow.name, result.status, inputs if result.status.finished else "",
                               result.summary, result.details.get("verified", {}), run_dir)
            except OSError as exc:
                _local_write_failed(result, "le journal de l'école", exc)
            console.say(f"    → {result.summary}")
            if result.status.went_wrong:
                break   # later flows build on this one
            _warm_up(ctx, to_run[to_run.index(flow) + 1:])   # what this step made possible (ARENA's files)
    for problem in session.problems:   # what Playwright wrote at the end (videos) and could not be kept
        console.say(f"Attention : {problem}")
        run.write_failures.append(problem)
    if options.forecast_only:
        # Nothing was done: the journal stays as it was, only the forecasts are kept.
        run.finished_at = datetime.now().isoformat(timespec="seconds")
        _write_local(console, run, [(lambda: report.write_html(run, run_dir / "report.html"), "le rapport report.html")])
        return run
    run.finished_at = datetime.now().isoformat(timespec="seconds")
    _write_local(console, run, [(journal.save, "le journal de l'école"),
                                (lambda: report.write_json(run, run_dir / "report.json"), "le rapport report.json"),
                                (lambda: report.write_html(run, run_dir / "report.html"), "le rapport report.html")])
    return run


def _warm_up(ctx: RunContext, coming: Sequence[Flow]) -> None:
    done = set()
    for flow in coming:
        # One call per distinct warm-up (the steps of one site share theirs): each call may be
        # a round trip to the browser, and the later steps would only repeat the first's.
        warm_up = getattr(type(flow), "warm_up", None)
        if warm_up in done:
            continue
        done.add(warm_up)
        try:
            flow.warm_up(ctx)
        except (BotError, PlaywrightError):
            pass   # the step will do it all itself, and say so if it cannot


SITE_CHECK_STEP = "site-check"
LOGIN_STEP = "login"   # a site that refused the login at its check: "<site>-login"


def _sites_look_as_expected(ctx: RunContext, flow: Flow, coming: Sequence[Flow], run: RunReport, console: Console,
                            checked: set[str]) -> bool:
    """Before a site's first step of the run: every page of that site the coming steps use has
    its landmarks (the pages no step of this run needs are left to check-site). When one is missing (or the site cannot be visited), the run stops here as a
    step of its own, with what is missing and a screenshot, before any write on that site
    (the steps before were on other sites; those that write come later in the guide)."""
    inspectors = [inspector for inspector in distinct_inspectors(ctx, [flow]) if inspector.site not in checked]
    if not inspectors:
        return True
    checked.update(inspector.site for inspector in inspectors)
    pages = {inspector.site: pages_used(ctx, coming, inspector.site) for inspector in inspectors}
    to_visit = []
    for inspector in inspectors:
        seen = checked_lately(ctx, inspector.site, pages[inspector.site])
        if seen is None:
            to_visit.append(inspector)
            continue
        run.sites = [*run.sites, {"site": inspector.site, "title": inspector.title, "version": seen.get("version"),
                                  "version_note": seen.get("version_note", ""), "ok": True, "problem": "",
                                  "duration_s": 0.0, "landmarks": [], "checked_at": seen["at"]}]
        console.say(f"    {inspector.title} : pages vérifiées à {seen['at'][11:16]} par une exécution précédente "
                    f"(moins de {int(RECHECK_AFTER.total_seconds() // 60)} min), pas revisitées ; chaque étape vérifie "
                    "encore les siennes avant d'agir")
    if not to_visit:
        return True
    started = time.monotonic()
    reports = inspect_sites(ctx, to_visit, pages=pages)
    run.sites = [*run.sites, *(site_report.as_dict() for site_report in reports)]
    versions = {site_report.site: site_report.version for site_report in reports if site_report.version}
    with contextlib.suppress(OSError):
        if versions:
            ctx.remember("site_versions", {**ctx.recall("site_versions", {}), **versions})
        for site_report in reports:
            if site_report.ok:
                note_check_passed(ctx, site_report, pages[site_report.site])
    for site_report in reports:
        console.say(f"    {visited_text(site_report)}")
    if all(site_report.ok for site_report in reports):
        return True
    refused = next((site_report for site_report in reports if site_report.login_refused is not None), None)
    if refused is not None and not any(site_report.changed for site_report in reports):
        # A password or an account to correct: the site's own step, worded as a refused login.
        run.flows.append(FlowResult(
            name=f"{refused.site}-{LOGIN_STEP}", title=f"Connexion à {refused.title} (avant toute écriture)",
            status=Status.REFUSED, summary=redact(refused.login_refused.message),
            duration_s=round(time.monotonic() - started, 2), details={"what_to_do": redact(refused.advice)},
            screenshot_missing="pas de capture : le mot de passe est tapé dans une fenêtre privée, jamais filmée"))
        console.say(f"    → {run.flows[-1].summary}")
        return False
    unreachable = not any(site_report.changed for site_report in reports)
    shot = f"00-{SITE_CHECK_STEP}-echec.png"
    screenshot, missing = shot, ""
    try:
        take_screenshot(ctx.page, ctx.artifact_path(shot), whole_page=True, timeout_ms=ctx.config.browser.action_timeout_ms)
    except ScreenshotMissing as why:
        screenshot, missing = None, why.reason
    what_to_do = ("Un site n'a pas pu être visité (cause ci-dessus) : corrigez-la ou attendez qu'il réponde, puis "
                  "relancez la même commande ; rien n'y a été écrit."
                  if unreachable else
                  "Le site n'a plus les pages que le robot connaît : relancer ne changera rien. Si seul un libellé a "
                  "changé (ENT, ARENA), adaptez-le dans la configuration (clé indiquée) ; sinon transmettez ce rapport "
                  "(page, élément, version, capture) à l'équipe du robot. Rien n'a été écrit sur ce site.")
    run.flows.append(FlowResult(
        name=SITE_CHECK_STEP, title=f"Pages {de(', '.join(r.title for r in reports))} (vérifiées avant toute écriture)",
        status=Status.FAILED if unreachable else Status.MISMATCH, summary=redact(summary(reports)),
        duration_s=round(time.monotonic() - started, 2), details={"what_to_do": what_to_do},
        screenshot=screenshot, screenshot_missing=missing))
    console.say(f"    → {run.flows[-1].summary}")
    return False


def _skipped(flow: Flow, done: dict, why: str | None = None) -> FlowResult:
    # What the step did then stays apart from this run's sentence: never told as just done.
    summary = skipped_summary(done["at"], why) if why else skipped_summary(done["at"])
    return FlowResult(
        name=flow.name, title=flow.title, status=Status.SKIPPED, duration_s=0.0, summary=summary,
        details={"skipped_reason": summary.split(" : ")[0], "done_at": date_fr(done["at"]),
                 "done_summary": done.get("summary", ""), "done_in": done.get("run_dir", ""),
                 "verified": done.get("verified", {})},
        labels=flow.report_labels)


def _write_local(console: Console, run: RunReport, writes) -> None:
    for write, what in writes:
        try:
            write()
        except UnsafePath as exc:
            console.say(f"Attention : refus d'écrire {what} : {exc.message}")
            run.write_failures.append(f"{what} : {exc.message}")
        except OSError as exc:
            console.say(f"Attention : impossible d'écrire {what} ({exc.strerror or exc}) ; le disque local est "
                        "plein ou protégé en écriture.")
            run.write_failures.append(f"{what} : {exc.strerror or exc}")


def _forecast(ctx: RunContext, flows: Sequence[Flow], run: RunReport, console: Console) -> None:
    """Each flow's forecast, read on the sites before any write. One that cannot be made is
    said, and the run goes on (the flow then works it out itself)."""
    for flow in flows:
        impossible = False
        try:
            lines = flow.forecast(ctx)
        except Exception as exc:   # a forecast never stops the run: the step itself will tell
            impossible = True
            why = redact(str(exc)).splitlines()[0] if isinstance(exc, BotError) and str(exc) else exc.__class__.__name__
            lines = [f"prévision impossible ({why}) : l'étape la refera en commençant"]
        if lines:
            run.forecasts.append({"title": flow.title, "step": flow.name, "lines": list(lines)}
                                 | ({"figures": lines.figures} if getattr(lines, "figures", None) else {})
                                 | ({"impossible": True} if impossible else {}))
            console.say(f"Prévision — {flow.title} :")
            for line in lines:
                console.say(f"    {line}")


def _local_write_failed(result: "FlowResult", what: str, exc: OSError) -> None:
    """A write on this machine failed after the flow: the run stops there, cleanly."""
    result.status = Status.FAILED
    if isinstance(exc, UnsafePath):
        result.summary = f"{result.summary} — mais refus d'écrire {what} : {exc.message}"
        result.details["what_to_do"] = UNSAFE_ADVICE
        return
    result.summary = (f"{result.summary} — mais impossible d'écrire {what} sur ce poste ({exc.strerror or exc}) : "
                      "disque plein ou dossier protégé ?")
    result.details["what_to_do"] = ("Libérez de la place ou rendez le dossier accessible en écriture, puis relancez "
                                    "la même commande : l'étape sera refaite, sans rien créer en double.")


UNSAFE_ADVICE = ("Quelque chose que le robot n'a pas créé se trouvait là où il écrit (nommé ci-dessus) : il n'y a pas "
                 "touché. Vérifiez qui l'a mis là, supprimez-le s'il n'a rien à y faire, puis relancez la même "
                 "commande : l'étape sera refaite, sans rien créer en double.")


def _unsafe_before_step(flow: Flow, exc: UnsafePath) -> FlowResult:
    """A step that could not start: something planted where the bot copies its inputs."""
    return FlowResult(name=flow.name, title=flow.title, status=Status.FAILED, duration_s=0.0,
                      summary=f"Copie des fichiers d'entrée refusée : {exc.message}",
                      details={"what_to_do": UNSAFE_ADVICE}, labels=flow.report_labels)


def _run_one(ctx: RunContext, flow: Flow, number: int) -> FlowResult:
    """Run and verify one flow. A passing failure (lost session, server error, timeout,
    network) runs the whole flow again from its start: every flow is written so that this is
    safe (see each flow's `retry_safe` note), and a wizard cut in the middle is restarted
    rather than resumed, because SACoche keeps its state per session."""
    started = time.monotonic()
    started_at = datetime.now().isoformat(timespec="milliseconds")
    attempts = ctx.config.browser.retries + 1
    notes = []
    ctx.start_step()
    for attempt in range(1, attempts + 1):
        result = _attempt(ctx, flow)
        if result.status is not Status.FAILED or not result.transient or attempt == attempts:
            break
        waited = wait_before_retry(attempt)
        notes.append(f"Essai {attempt} en échec ({result.summary}) ; nouvel essai depuis le début après {waited:.0f} s.")
        ctx.say(f"    ↻ {notes[-1]}")
    details = result.details
    # A note said twice (by a retried attempt, or by two readings of one page) is shown once.
    details["notes"] = list(dict.fromkeys([*notes, *details.get("notes", [])]))
    if not details["notes"]:
        del details["notes"]
    if result.status.went_wrong:
        details.setdefault("what_to_do", result.status.advice(result.transient, attempt))
    shot_name = f"{number:02d}-{flow.name}{'-echec' if result.status.went_wrong else ''}.png"
    screenshot, missing = shot_name, ""
    # The page the flow said shows its result (the SSO check: SACoche's page), else the main
    # one: the window after a step, the whole page (up to a height) after a failure. None when
    # the step opened no page (a blank window would say nothing).
    shown, no_page = ctx.page_to_show()
    try:
        if shown is None:
            raise ScreenshotMissing(no_page)
        take_screenshot(shown, ctx.artifact_path(shot_name), whole_page=result.status.went_wrong,
                        timeout_ms=ctx.config.browser.action_timeout_ms)
    except ScreenshotMissing as why:
        screenshot, missing = None, why.reason   # the flow's own result matters more
        if why.unsafe is not None:   # … unless something was planted where it goes
            result.status = Status.FAILED
            result.summary = f"{result.summary} — mais refus d'écrire la capture d'écran : {why.unsafe.message}"
            details["what_to_do"] = UNSAFE_ADVICE
    # The summary stays as it is (the journal keeps it); what shows it (terminal, reports) masks it.
    return FlowResult(name=flow.name, title=flow.title, status=result.status, summary=result.summary,
                      duration_s=round(time.monotonic() - started, 2), details=details,
                      counts=result.counts, screenshot=screenshot, screenshot_missing=missing,
                      started_at=started_at, labels=flow.report_labels, work=result.work or flow.work)


def _point_to_copies(result: FlowResult, run: RunReport) -> None:
    """A detail naming an input file names its copy in the run folder: the original may be a
    temporary folder gone by the time someone reads the report."""
    copies = {item.source: item.copied for item in run.inputs if item.copied}
    for key, value in list(result.details.items()):
        if isinstance(value, str) and value in copies:
            result.details[key] = copies[value]


def _attempt(ctx: RunContext, flow: Flow) -> Attempt:
    try:
        outcome = flow.run(ctx)
        verified = flow.verify(ctx, outcome)   # may complete the outcome with what it read
        return Attempt(outcome.status, outcome.summary, {**outcome.details, "verified": verified}, dict(outcome.counts),
                       work=outcome.work)
    except VerificationMismatch as exc:
        return Attempt(Status.MISMATCH, f"Vérification en échec : {exc.message}")
    except SiteChanged as exc:
        # Never retried: the same page would be found again.
        return Attempt(Status.FAILED, exc.message, {"what_to_do": exc.advice, "site_changed": exc.as_dict()})
    except FlowFailed as exc:
        return Attempt(Status.FAILED, exc.message, transient=exc.transient)
    except SiteNotReady as exc:
        return Attempt(Status.REFUSED, exc.message)
    except LoginRefused as exc:
        # A password or an account to correct: never retried (the same login would be refused).
        return Attempt(Status.REFUSED, exc.message, {"what_to_do": redact(login_advice(ctx, exc))})
    except BotError as exc:
        return Attempt(Status.FAILED, exc.message)
    except PlaywrightTimeout as exc:
        return Attempt(Status.FAILED, ("Délai dépassé en attendant la page (site lent ou page différente de celle "
                                       f"attendue) : {_first_line(exc)}{_awaited(exc)}"), transient=True)
    except PlaywrightError as exc:
        if "net::ERR_CERT" in str(exc):
            # A certificate the browser refuses is no passing fault: never retried nor ignored.
            return Attempt(Status.FAILED, (f"Certificat TLS refusé par le navigateur : {_first_line(exc)} ; vérifiez "
                                           "l'adresse du site, ou autorisez explicitement son certificat auto-signé "
                                           "(voir le README)."))
        # net::ERR_… : the server went away or the network broke; anything else is not passing.
        return Attempt(Status.FAILED, f"Erreur du navigateur : {_first_line(exc)}", transient="net::ERR_" in str(exc))
    except AssertionError as exc:
        if not _from_playwright_expect(exc):
            return _internal_error(ctx, flow, exc)
        # Playwright's expect(): a page state that did not come in time (or a dead browser).
        closed = "has been closed" in str(exc)
        what = "le navigateur s'est fermé" if closed else "l'état attendu de la page n'est pas venu à temps"
        return Attempt(Status.FAILED, f"Erreur du navigateur : {what} ({_first_line(exc)}){_awaited(exc)}",
                       transient=not closed)
    except UnsafePath as exc:
        # Something planted where the step writes (a link, a FIFO): never followed, not retried.
        return Attempt(Status.FAILED, exc.message, {"what_to_do": UNSAFE_ADVICE})
    except OSError as exc:
        # The sites are reached through the browser: an OSError here is this machine's disk.
        return Attempt(Status.FAILED, (f"Écriture impossible sur ce poste ({exc.strerror or exc}"
                                       f"{f' : {exc.filename}' if exc.filename else ''}) : disque plein ou dossier protégé ?"),
                       {"what_to_do": "Libérez de la place ou corrigez les droits du dossier, puis relancez la même "
                                      "commande."})
    except Exception as exc:   # a bug of the bot: this school's failure, never a passing fault
        return _internal_error(ctx, flow, exc)


def _from_playwright_expect(exc: AssertionError) -> bool:
    """Playwright's expect() raises AssertionError too; a bare `assert` of ours does not come
    from its assertion module."""
    return any("playwright" in frame.filename and "_assertions" in frame.filename
               for frame in traceback.extract_tb(exc.__traceback__))


INTERNAL_LOG = "erreur-interne.log"


def _internal_error(ctx: RunContext, flow: Flow, exc: BaseException) -> Attempt:
    """An unexpected error is the bot's own bug: the step fails (exit 3, no retry), its
    traceback goes to a log file in the run folder (redacted), never to the screen."""
    text = redact("".join(traceback.format_exception(exc)))
    logged = ""
    try:
        path = ctx.artifact_path(INTERNAL_LOG)
        write_file(path, f"--- {datetime.now().isoformat(timespec='seconds')} étape {flow.name}\n{text}\n", append=True)
        logged = f" ; détails techniques dans {path}"
    except UnsafePath as refused:
        logged = f" ; détails techniques non écrits : {refused.message}"
    except OSError:
        pass
    return Attempt(Status.FAILED, (f"Erreur interne du bot ({exc.__class__.__name__}) pendant l'étape : signalez-la "
                                   f"à l'équipe du bot avec le rapport{logged}."), {
        "what_to_do": "Erreur du bot lui-même, pas du site : transmettez le dossier de l'exécution à l'équipe du bot. "
                      "Relancer la même commande reprend à cette étape."})


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
    def status(self) -> Status:
        return self.run.status if self.run else Status.FAILED if self.failed else Status.REFUSED

    @property
    def exit_code(self) -> ExitStatus:
        return self.run.exit_code if self.run else ExitStatus.FLOW_FAILED if self.failed else ExitStatus.REFUSED


def _school_crash_log(config: BotConfig, school_id: str, exc: BaseException) -> Path | None:
    try:
        folder = make_dirs(config.paths.recordings_dir, school_id)
        path = folder / f"{INTERNAL_LOG[:-4]}-{datetime.now():%Y%m%d-%H%M%S-%f}.log"
        return write_file(path, redact("".join(traceback.format_exception(exc))))
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
    pool = ThreadPoolExecutor(max_workers=parallel)
    try:
        return list(pool.map(one, school_ids))
    except KeyboardInterrupt:
        # Only this thread hears Ctrl-C: the schools not started are not, the others stop at
        # their next step (a passcode tool they wait for, at once).
        interrupt.STOP.set()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)
