"""Runs flows for one school: pre-flight of every input and secret, then the browser, then each
flow's run and verification in order, a screenshot after each, and the report."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Sequence

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from . import report
from .browser import BrowserSession
from .config import BotConfig
from .errors import EXIT_FLOW_FAILED, EXIT_MISMATCH, EXIT_OK, BotError, VerificationMismatch
from .flow import Flow, RunContext
from .secrets import redact

FAILED = "failed"
MISMATCH = "mismatch"


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


@dataclass
class RunReport:
    school: str
    run_dir: Path
    flows: list[FlowResult] = field(default_factory=list)

    @property
    def status(self) -> str:
        if any(f.status == FAILED for f in self.flows):
            return FAILED
        if any(f.status == MISMATCH for f in self.flows):
            return MISMATCH
        return "success"

    @property
    def exit_code(self) -> int:
        return {FAILED: EXIT_FLOW_FAILED, MISMATCH: EXIT_MISMATCH}.get(self.status, EXIT_OK)

    @property
    def counts(self) -> dict:
        total: dict = {}
        for result in self.flows:
            for key, value in result.counts.items():
                total[key] = total.get(key, 0) + value
        return total


def new_run_dir(config: BotConfig, school_id: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    run_dir = Path(config.paths.recordings_dir) / school_id / stamp
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def preflight(ctx: RunContext, flows: Sequence[Flow]) -> None:
    """Everything that can refuse the run without a browser: secrets first, then inputs."""
    for site in dict.fromkeys(site for flow in flows for site in flow.sites):
        ctx.password(site)
    for flow in flows:
        flow.preflight(ctx)


def run_school(config: BotConfig, school_id: str, flows: Sequence[Flow], *, headed: bool = False,
               slow_mo_ms: int | None = None, say: Callable[[str], None] = print,
               options: dict | None = None) -> RunReport:
    config.school(school_id)
    run_dir = new_run_dir(config, school_id)
    ctx = RunContext(config=config, school_id=school_id, run_dir=run_dir, say=say, options=dict(options or {}),
                     planned=[flow.name for flow in flows])
    preflight(ctx, flows)
    run = RunReport(school=school_id, run_dir=run_dir)
    with BrowserSession(config.browser, run_dir / "downloads", headed=headed,
                        slow_mo_ms=slow_mo_ms) as session:
        ctx.page = session.page
        ctx.isolated_page = session.isolated_page
        for number, flow in enumerate(flows, start=1):
            say(f"[{number}/{len(flows)}] {flow.title}…")
            result = _run_one(ctx, flow, number)
            run.flows.append(result)
            say(f"    → {result.summary}")
            if result.status in (FAILED, MISMATCH):
                break   # later flows build on this one
    report.write_json(run, run_dir / "report.json")
    return run


def _run_one(ctx: RunContext, flow: Flow, number: int) -> FlowResult:
    started = time.monotonic()
    status, summary, details, counts = FAILED, "", {}, {}
    try:
        outcome = flow.run(ctx)
        details, counts = dict(outcome.details), dict(outcome.counts)
        details["verified"] = flow.verify(ctx, outcome)
        status, summary = outcome.status, outcome.summary
    except VerificationMismatch as exc:
        status, summary = MISMATCH, f"Vérification en échec : {exc.message}"
    except BotError as exc:
        summary = exc.message
    except PlaywrightTimeout as exc:
        summary = ("Délai dépassé en attendant la page (site lent ou page différente de celle "
                   f"attendue) : {_first_line(exc)}{_awaited(exc)}")
    except PlaywrightError as exc:
        summary = f"Erreur du navigateur : {_first_line(exc)}"
    shot_name = f"{number:02d}-{flow.name}{'' if status not in (FAILED, MISMATCH) else '-echec'}.png"
    screenshot = None
    try:
        ctx.page.screenshot(path=str(ctx.artifact_path(shot_name)), full_page=True)
        screenshot = shot_name
    except PlaywrightError:
        pass   # a dead page must not hide the flow's own result
    return FlowResult(name=flow.name, title=flow.title, status=status, summary=redact(summary),
                      duration_s=round(time.monotonic() - started, 2), details=details,
                      counts=counts, screenshot=screenshot)


def _awaited(exc: Exception) -> str:
    """What the browser was waiting for (Playwright's call log), so that the operator knows
    which control or label was not found."""
    match = re.search(r"waiting for (.+)", str(exc))
    return f" — élément attendu : {redact(match.group(1).strip())}" if match else ""


def _first_line(exc: Exception) -> str:
    return redact(str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__)
