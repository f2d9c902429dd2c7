"""What a flow is, seen from the engine: a named step of the guide that checks its inputs before
any click (`preflight`), does its work (`run`), then reads the site back (`verify`)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence, TypeVar

from playwright.sync_api import Page

from .config import BotConfig, SchoolConfig
from .results import Forecast, Outcome
from .secrets import Secret, get_password
from .status import Status, Work

if TYPE_CHECKING:
    from .console import Console
    from .site_check import SiteInspector

__all__ = ["Flow", "Forecast", "Outcome", "RunContext", "RunOptions", "Status", "Tracing", "Work"]

T = TypeVar("T")


class Tracing(StrEnum):
    """When a step's Playwright trace is kept, as pytest-playwright's --tracing: always, never, or
    only for a step that went wrong (recorded all along, dropped when the step succeeds)."""
    ON = "on"
    OFF = "off"
    RETAIN_ON_FAILURE = "retain-on-failure"

    @property
    def records(self) -> bool:
        return self is not Tracing.OFF

    def keeps(self, went_wrong: bool) -> bool:
        return self is Tracing.ON or (self is Tracing.RETAIN_ON_FAILURE and went_wrong)

    @property
    def films(self) -> bool:
        """Whether the trace also films the page (its strip of screenshots), besides each action
        with the page's DOM before and after it. Only with `on`: filming all along a trace that
        is dropped when the step succeeds cost about an eighth of a run, for a strip the step's
        own screenshot and the DOM snapshots already stand in for."""
        return self is Tracing.ON


@dataclass(frozen=True)
class RunOptions:
    """The command line's choices for a run."""
    headed: bool = False
    slow_mo_ms: int | None = None
    mode: str | None = None            # import display mode imposed on SACoche's wizard
    skip_finished: bool = False        # full-onboarding: skip flows the journal says are done
    force: bool = False                # … unless forced
    step_mode: str | None = None       # None, "flow" or "fine"
    tracing: Tracing = Tracing.RETAIN_ON_FAILURE
    video: bool = False
    quiet: bool = False
    forecast_only: bool = False        # check-files --prevision: log in, foresee, write nothing
    otp_command: str | None = None     # the operator's tool that prints a one-time passcode


@dataclass
class RunContext:
    """Everything a flow may use; tests can build one directly."""
    config: BotConfig
    school_id: str
    run_dir: Path
    say: Callable[[str], None] = print
    page: Page | None = None          # set by the runner once the browser is up
    options: RunOptions = field(default_factory=RunOptions)
    isolated_page: Callable[[], Page] | None = None   # a fresh browser context, set by the runner
    planned: list[str] = field(default_factory=list)  # names of the flows of this run, in order
    remembered: dict[str, Any] = field(default_factory=dict)   # JSON facts kept in the school's journal
    console: "Console | None" = None
    persist: Callable[[], None] | None = None         # writes the journal now (set by the runner)
    shown_page: Page | None = None   # the page whose screenshot shows this step's result
    no_page: str = ""                # why this step shows no page (French), when it opened none
    _computed: dict[tuple, Any] = field(default_factory=dict, repr=False)

    def show(self, page: Page) -> None:
        """Let the report's screenshot of this step be `page` (e.g. another browser context's)."""
        self.shown_page = page

    def show_no_page(self, why: str) -> None:
        """This step did its work without any page (nothing was needed): the report shows no
        screenshot, and says why (French), rather than a blank window."""
        self.no_page = why

    def start_step(self) -> None:
        self.shown_page, self.no_page = None, ""

    def page_to_show(self) -> tuple[Page | None, str]:
        """The page whose screenshot shows this step's result, or None and why there is none."""
        if self.no_page:
            return None, self.no_page
        page = self.shown_page or self.page
        if page is None or page.url == "about:blank":
            return None, "aucune page n'a été ouverte par cette étape"
        return page, ""

    def once(self, compute: Callable[..., T], *args: Any) -> T:
        """`compute(self, *args)`, worked out once per run (a file read, a plan made from it)
        and shared by every flow that asks for the same thing."""
        key = (compute, *args)
        if key not in self._computed:
            self._computed[key] = compute(self, *args)
        return self._computed[key]

    def use_config(self, config: BotConfig) -> None:
        """A flow produced inputs the config did not name (files it downloaded): the rest of the
        run sees them, and what was worked out from the former config is forgotten."""
        self.config = config
        self._computed.clear()

    def remember(self, key: str, value) -> None:
        """Keep a fact (no secret!) for later runs, e.g. where the ENT export was saved. It is
        on disk when this returns: a run killed the next instant still leaves it to the next."""
        self.remembered[key] = value
        if self.persist is not None:
            self.persist()

    def recall(self, key: str, default=None):
        return self.remembered.get(key, default)

    def step(self, text: str, target=None) -> None:
        """Tell the operator what happens now (headed mode: banner, and an outline on `target`);
        with --step=fine, wait for Entrée."""
        if self.console is not None:
            self.console.step(text, page=self.page, target=target)

    @property
    def school(self) -> SchoolConfig:
        return self.config.school(self.school_id)

    def site_url(self, site: str) -> str:
        return self.config.sites[site].url

    def login(self, site: str) -> str:
        return self.school.accounts[site].login

    def password(self, site: str) -> Secret:
        return get_password(self.config, self.school_id, site)

    def artifact_path(self, name: str) -> Path:
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name)
        path = self.run_dir / safe
        path.parent.mkdir(parents=True, exist_ok=True)
        return path


class Flow:
    name: str = ""
    title: str = ""                    # French, shown to the operator
    sites: tuple[str, ...] = ()        # whose passwords it needs
    # The pages of each site this flow works on, named as that site's inspector names them: a
    # run's pre-check visits those of its steps only (check-site visits every page). A flow
    # with an inspector and no entry here gets all of that site's pages checked.
    site_pages: dict[str, tuple[str, ...]] = {}
    # What it does on the sites, to word its status (« vérifié » for a read-only check).
    work: Work = Work.WRITES
    # French labels of the keys this flow puts in its outcome, for the reports: the only place a
    # flow words them (parts counts, details, inputs, data_keyed: see bot.labels). Lists a person
    # must go through are given in details["by_hand"] = [{"label": …, "items": […]}].
    report_labels: dict = {}

    def needed_sites(self, ctx: RunContext) -> tuple[str, ...]:
        """The sites whose passwords this flow needs for this school (pre-flight asks for them)."""
        return self.sites

    def preflight(self, ctx: RunContext) -> None:
        """Check inputs without touching any site; raise errors.Refused."""

    def site_inspectors(self, ctx: RunContext, every_site: bool = False) -> Sequence["SiteInspector"]:
        """The inspectors of the sites this flow works on for this school (see bot.site_check):
        their pages are checked before the run's first write. `every_site` (check-site): also
        a site this flow would skip with the present config (ARENA when files are named)."""
        return ()

    def warm_up(self, ctx: RunContext) -> None:
        """Once the browser is up and before the run's first step, and again after each step that
        went well while this one is still to come (an earlier step may have made it possible):
        start what a site makes the bot wait for (never a write), so that the wait passes while
        earlier steps work. Called several times: doing it once is up to the flow. Steps that
        share one warm-up (the same method: one site's) have it called once, for the first of
        them still to come, so it warms up a site, not a step. A failure here is ignored: the
        step then does it all itself."""

    def forecast(self, ctx: RunContext) -> list[str] | Forecast:
        """Once the browser is up and before the run's first step: what this flow expects to do,
        worked out by reading the sites without writing anything (French lines, shown to the
        operator and in the report; a Forecast adds the figures behind them). Empty when it has
        nothing to foresee."""
        return []

    def run(self, ctx: RunContext) -> Outcome:
        raise NotImplementedError

    def verify(self, ctx: RunContext, outcome: Outcome) -> dict:
        """Read the site back; return the facts checked, raise errors.VerificationMismatch."""
        raise NotImplementedError

    def inputs(self, ctx: RunContext) -> dict:
        """What this flow's result depends on (files as Paths, settings as values): a finished
        flow is run again by full-onboarding only when these changed."""
        return {}
