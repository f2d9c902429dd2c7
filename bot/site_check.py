"""Site checks: before any write, each site the run needs is visited page by page (nothing is
validated, uploaded nor saved) and every landmark its page objects rely on is looked for; the
version a site shows is read and compared with the versions the bot was verified on. The
engine knows no site: flows give the inspectors (`Flow.site_inspectors`)."""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Mapping, Protocol, Sequence

from playwright.sync_api import Error as PlaywrightError

from .errors import BotError, FlowFailed, LoginRefused, Refused
from .flow import RunContext
from .landmarks import LandmarkReading, SiteChanged
from .retry import wait_before_retry
from .secrets import SSO_PREFIX
from .status import ExitStatus
from .text import de

INSPECTION_ATTEMPTS = 2   # a passing fault (a lost session, a server error) gets one more visit
# A site whose pages passed a run's check this recently is not visited again by the next run
# (a re-run after a failure): each step still checks its own pages before acting on them.
RECHECK_AFTER = timedelta(minutes=15)
CHECKS_FACT = "site_checks"
ALL_PAGES = "*"


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

    def inspect(self, ctx: RunContext, thorough: bool, pages: frozenset[str] | None = None) -> Inspection:
        """`thorough` (check-site): also the pages reached by an action that only reads (a
        search); a run's own pre-check leaves those to the flow, which checks them in turn.
        `pages`: only these (the names flows give in `Flow.site_pages`), besides what every
        visit passes through (login, home); None: every page."""
        ...


@dataclass
class SiteReport:
    site: str
    title: str
    version: str | None = None
    version_note: str = ""
    readings: list[LandmarkReading] = field(default_factory=list)
    problem: str = ""           # the site could not be visited (unreachable, a server error…)
    page_changed: str = ""      # a page on the way lacked what the bot knows (SiteChanged), before any reading
    duration_s: float = 0.0
    # The site refused the bot's login (its pages were not seen: neither present nor missing).
    login_refused: LoginRefused | None = None
    advice: str = ""            # what to do about it (French), with the command that fixes it

    @property
    def missing(self) -> list[LandmarkReading]:
        return [reading for reading in self.readings if not reading.present]

    @property
    def changed(self) -> bool:
        """The site's pages are not those the bot knows (a landmark missing)."""
        return bool(self.missing or self.page_changed)

    @property
    def ok(self) -> bool:
        return not self.problem and not self.changed and self.login_refused is None

    def as_dict(self) -> dict:
        return {"site": self.site, "title": self.title, "version": self.version, "version_note": self.version_note,
                # Why the pages were not all seen, in one sentence (report.html shows it).
                "ok": self.ok, "problem": self.problem or self.page_changed or (
                    self.login_refused.message if self.login_refused else ""), "duration_s": self.duration_s,
                **({"page_changed": True} if self.page_changed else {}),
                **({"login_refused": {**self.login_refused.as_dict(), "summary": self.login_refused.message,
                                      "what_to_do": self.advice}} if self.login_refused else {}),
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


def pages_used(ctx: RunContext, flows, site: str) -> frozenset[str] | None:
    """The pages of `site` these flows work on; None (all of them) when one of them has the
    site's inspector but does not say which pages it uses."""
    pages: set[str] = set()
    for flow in flows:
        if any(inspector.site == site for inspector in flow.site_inspectors(ctx)):
            if site not in flow.site_pages:
                return None
            pages.update(flow.site_pages[site])
    return frozenset(pages)


def _site_identity(ctx: RunContext, site: str) -> str:
    """What a check depends on besides the pages: the site's address and labels, the account."""
    account = ctx.school.accounts.get(site)
    settings = {"site": ctx.config.sites[site].model_dump(mode="json"), "login": account.login if account else None}
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def checked_lately(ctx: RunContext, site: str, pages: frozenset[str] | None, now: datetime | None = None) -> dict | None:
    """The journal's record of a check of these pages that passed less than RECHECK_AFTER ago,
    with the same address, labels and account; None when the site must be visited."""
    seen = ctx.recall(CHECKS_FACT, {}).get(site)
    if not isinstance(seen, dict) or seen.get("identity") != _site_identity(ctx, site):
        return None
    try:
        age = (now or datetime.now()) - datetime.fromisoformat(seen["at"])
    except (KeyError, TypeError, ValueError):
        return None
    covered = seen.get("pages")
    wide_enough = covered == ALL_PAGES or (pages is not None and isinstance(covered, list) and pages <= set(covered))
    return seen if timedelta(0) <= age < RECHECK_AFTER and wide_enough else None


def note_check_passed(ctx: RunContext, report: SiteReport, pages: frozenset[str] | None) -> None:
    record = {"at": datetime.now().isoformat(timespec="seconds"), "identity": _site_identity(ctx, report.site),
              "pages": ALL_PAGES if pages is None else sorted(pages), "version": report.version,
              "version_note": report.version_note, "landmarks": len(report.readings)}
    ctx.remember(CHECKS_FACT, {**ctx.recall(CHECKS_FACT, {}), report.site: record})


def inspect_sites(ctx: RunContext, inspectors: Sequence[SiteInspector], thorough: bool = False,
                  pages: Mapping[str, frozenset[str] | None] | None = None) -> list[SiteReport]:
    reports = []
    for inspector in inspectors:
        ctx.say(f"Vérification des pages {de(inspector.title)}…")
        if ctx.console is not None:
            ctx.console.stage(f"Vérification des pages {de(inspector.title)}, avant toute écriture")
        report = SiteReport(inspector.site, inspector.title)
        started = time.monotonic()
        for attempt in range(1, INSPECTION_ATTEMPTS + 1):
            try:
                inspection = inspector.inspect(ctx, thorough, (pages or {}).get(inspector.site))
            except SiteChanged as changed:
                report.problem, report.page_changed = "", changed.message
                break
            except LoginRefused as refused:
                # A password or an account to correct, not a page: never visited again in this run.
                report.problem, report.login_refused, report.advice = "", refused, login_advice(ctx, refused)
                report.readings, report.version, report.version_note = (list(refused.readings), refused.version,
                                                                        refused.version_note)
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


def exit_status(reports: Sequence[SiteReport]) -> ExitStatus:
    """check-site's exit code: 0 when every landmark is there; 4 when a page changed or a site
    could not be visited; else 2 when a site refused the login (a password to correct)."""
    if all(report.ok for report in reports):
        return ExitStatus.OK
    if any(report.changed or report.problem for report in reports):
        return ExitStatus.MISMATCH
    return ExitStatus.REFUSED


def login_advice(ctx: RunContext, refused: LoginRefused) -> str:
    """What to do about a refused login, with the command that stores the refused password: the
    site's own account (`accounts.<site>`), or an SSO user's of `sso_check` (`sso:<login>`)."""
    school = ctx.school
    account = school.accounts.get(refused.site)
    if account is not None and account.login == refused.account:
        return refused.advice(ctx.school_id, refused.site, f"schools.{ctx.school_id}.accounts.{refused.site}.login",
                              account.password_env)
    user = next((user for user in school.sso_check if user.login == refused.account), None)
    if user is not None:
        return refused.advice(ctx.school_id, f"{SSO_PREFIX}{user.login}", f"schools.{ctx.school_id}.sso_check",
                              user.password_env)
    return refused.advice(ctx.school_id, refused.site, f"schools.{ctx.school_id}.accounts.{refused.site}.login")


def visited_text(report: SiteReport) -> str:
    """The terminal's line after a site's check: its landmarks found, or why none were read."""
    if report.login_refused is not None:
        present = sum(reading.present for reading in report.readings)
        before = (f" ; {present}/{len(report.readings)} repères présents sur la page de connexion"
                  if report.readings else "")
        return f"{report.title} : connexion refusée, pages suivantes non vérifiées{before} ({report.duration_s:.1f} s)"
    if (report.problem or report.page_changed) and not report.readings:
        return f"{report.title} : pages non vérifiées ({report.duration_s:.1f} s)"
    present = sum(reading.present for reading in report.readings)
    seen = f" ; version {report.version}" if report.version else ""
    return (f"{report.title} : {present}/{len(report.readings)} repères présents{seen} ({report.duration_s:.1f} s)"
            + (f" ({report.version_note})" if report.version and report.version_note else ""))


LOGIN_REFUSED_STATE = "CONNEXION REFUSÉE"


def table(reports: Sequence[SiteReport]) -> str:
    """The French table check-site prints: site, page, landmark, present or missing; a site whose
    login was refused says so (its pages were not seen), and so does a site not visited."""
    rows = [("Site", "Page", "Repère", "État")]
    for report in reports:
        for reading in report.readings:
            rows.append((report.title, reading.page, reading.landmark.what, "présent" if reading.present else "ABSENT"))
        if report.login_refused is not None:
            rows.append((report.title, "connexion", f"compte {report.login_refused.account}", LOGIN_REFUSED_STATE))
        if report.page_changed:
            rows.append((report.title, "—", report.page_changed, "ABSENT"))
        if report.problem:
            rows.append((report.title, "—", report.problem, "NON VÉRIFIÉ"))
    widths = [min(max(len(row[i]) for row in rows), 60) for i in range(3)]
    lines = [" | ".join([*(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])), row[3]]) for row in rows]
    lines.insert(1, "-+-".join("-" * width for width in [*widths, len(LOGIN_REFUSED_STATE)]))
    for report in reports:
        seen = report.version or "non lue"
        lines.append(f"Version {de(report.title)} : {seen}" + (f" — {report.version_note}" if report.version_note else ""))
    return "\n".join(lines)


def _clause(text: str) -> str:
    """A sentence made a clause of a longer one: without its final period (no « .. »)."""
    text = text.strip()
    return text[:-1].rstrip() if text.endswith(".") and not text.endswith("..") else text


def summary(reports: Sequence[SiteReport]) -> str:
    """French: what is missing where, the logins refused (with what to do), the sites not
    visited; or that every landmark is there. Each cause in its own words: a refused login or
    an unreachable site is no page « différente »."""
    changed, refused, unvisited = [], [], []
    for report in reports:
        if report.login_refused is not None:
            refused.append(f"{report.login_refused.message}. {report.advice}")
        if report.page_changed:
            changed.append(f"{report.title} : {_clause(report.page_changed)}")
        if report.problem:
            unvisited.append(f"{report.title} : {_clause(report.problem)}")
        for reading in report.missing:
            hint = f" (adaptable : {reading.landmark.hint})" if reading.landmark.hint else ""
            changed.append(f"{report.title}, page « {reading.page} » : {reading.landmark.what} introuvable{hint}")
    if not (changed or refused or unvisited):
        count = sum(len(report.readings) for report in reports)
        return f"Tous les repères sont présents ({count} sur {len(reports)} site(s))."
    parts = []
    if changed:
        parts.append("Pages différentes de celles que le robot connaît : " + " ; ".join(changed) + ".")
    parts += refused
    if unvisited:
        parts.append("Site non vérifié : " + " ; ".join(unvisited) + ".")
    return " ".join(parts)
