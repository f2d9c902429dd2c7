"""Site checks: before any write, each site the run needs is visited page by page (nothing is
validated, uploaded nor saved) and every landmark its page objects rely on is looked for; the
version a site shows is read and compared with the versions the bot was verified on. The
engine knows no site: flows give the inspectors (`Flow.site_inspectors`)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol, Sequence

from playwright.sync_api import Error as PlaywrightError

from .errors import BotError, FlowFailed, Refused
from .flow import RunContext
from .landmarks import LandmarkReading, SiteChanged
from .retry import wait_before_retry

INSPECTION_ATTEMPTS = 2   # a passing fault (a lost session, a server error) gets one more visit


@dataclass
class Inspection:
    """What an inspector read on its site."""
    readings: list[LandmarkReading]
    version: str | None = None
    version_note: str = ""      # French: verified on …, or a warning that it never was


class SiteInspector(Protocol):
    site: str     # the config's key (sites.<site>)
    title: str    # French, for the table

    def preflight(self, ctx: RunContext) -> None:
        """Before any request: what the visit needs (a way to get a one-time passcode…);
        raise errors.Refused."""
        ...

    def inspect(self, ctx: RunContext, thorough: bool) -> Inspection:
        """`thorough` (check-site): also the pages reached by an action that only reads (a
        search); a run's own pre-check leaves those to the flow, which checks them in turn."""
        ...


@dataclass
class SiteReport:
    site: str
    title: str
    version: str | None = None
    version_note: str = ""
    readings: list[LandmarkReading] = field(default_factory=list)
    problem: str = ""           # the site could not be visited (unreachable, login refused…)
    duration_s: float = 0.0

    @property
    def missing(self) -> list[LandmarkReading]:
        return [reading for reading in self.readings if not reading.present]

    @property
    def ok(self) -> bool:
        return not self.problem and not self.missing

    def as_dict(self) -> dict:
        return {"site": self.site, "title": self.title, "version": self.version, "version_note": self.version_note,
                "ok": self.ok, "problem": self.problem, "duration_s": self.duration_s,
                "landmarks": [{"page": r.page, "landmark": r.landmark.what, "present": r.present,
                               **({"hint": r.landmark.hint} if r.landmark.hint and not r.present else {})}
                              for r in self.readings]}


def distinct_inspectors(ctx: RunContext, flows, every_site: bool = False) -> list[SiteInspector]:
    """The inspectors of these flows' sites, each once, in the order the flows come."""
    found: dict[str, SiteInspector] = {}
    for flow in flows:
        for inspector in flow.site_inspectors(ctx, every_site):
            found.setdefault(inspector.site, inspector)
    return list(found.values())


def inspect_sites(ctx: RunContext, inspectors: Sequence[SiteInspector], thorough: bool = False) -> list[SiteReport]:
    reports = []
    for inspector in inspectors:
        ctx.say(f"Vérification des pages de {inspector.title}…")
        report = SiteReport(inspector.site, inspector.title)
        started = time.monotonic()
        for attempt in range(1, INSPECTION_ATTEMPTS + 1):
            try:
                inspection = inspector.inspect(ctx, thorough)
            except SiteChanged as changed:
                report.problem = changed.message
                break
            except Refused:
                raise
            except FlowFailed as failure:
                report.problem = failure.message
                if not failure.transient or attempt == INSPECTION_ATTEMPTS:
                    break
                wait_before_retry(attempt)
                continue
            except BotError as failure:
                report.problem = failure.message
                break
            except PlaywrightError as failure:
                report.problem = f"site injoignable ou page inattendue : {str(failure).splitlines()[0]}"
                if attempt == INSPECTION_ATTEMPTS:
                    break
                wait_before_retry(attempt)
                continue
            report.problem = ""
            report.readings, report.version, report.version_note = (inspection.readings, inspection.version,
                                                                    inspection.version_note)
            break
        report.duration_s = round(time.monotonic() - started, 1)
        reports.append(report)
    return reports


def table(reports: Sequence[SiteReport]) -> str:
    """The French table check-site prints: site, page, landmark, present or missing."""
    rows = [("Site", "Page", "Repère", "État")]
    for report in reports:
        for reading in report.readings:
            rows.append((report.title, reading.page, reading.landmark.what, "présent" if reading.present else "ABSENT"))
        if report.problem:
            rows.append((report.title, "—", report.problem, "NON VÉRIFIÉ"))
    widths = [min(max(len(row[i]) for row in rows), 60) for i in range(3)]
    lines = [" | ".join([*(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])), row[3]]) for row in rows]
    lines.insert(1, "-+-".join("-" * width for width in [*widths, 11]))
    for report in reports:
        seen = report.version or "non lue"
        lines.append(f"Version de {report.title} : {seen}" + (f" — {report.version_note}" if report.version_note else ""))
    return "\n".join(lines)


def summary(reports: Sequence[SiteReport]) -> str:
    """One French sentence: what is missing where, or that every landmark is there."""
    wrong = []
    for report in reports:
        if report.problem:
            wrong.append(f"{report.title} : {report.problem}")
        for reading in report.missing:
            hint = f" (adaptable : {reading.landmark.hint})" if reading.landmark.hint else ""
            wrong.append(f"{report.title}, page « {reading.page} » : {reading.landmark.what} introuvable{hint}")
    if not wrong:
        count = sum(len(report.readings) for report in reports)
        return f"Tous les repères sont présents ({count} sur {len(reports)} site(s))."
    return "Pages différentes de celles que le robot connaît : " + " ; ".join(wrong) + "."
