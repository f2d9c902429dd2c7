"""report.html: the run's report as one self-contained page, for the school's IT administrator
or the academy's support staff. The markup is the Jinja2 template templates/report.html; this
module gives it the typed RunReport, each value already worded for a person (every key through
its step's vocabulary, bot.labels), and the few helpers it needs (links relative to the run
folder, French numbers and dates)."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, Undefined, select_autoescape
from markupsafe import Markup

from .fsutil import write_file
from .labels import Vocabulary, date_fr, when
from .report import duration_text
from .results import FlowResult, RunReport
from .secrets import redact
from .status import FALLBACK_ADVICE, Status, Work
from .text import visible

TEMPLATES = Path(__file__).with_name("templates")
LONG_LIST = 10
# Shown elsewhere on the page, so left out of the step's "Détails techniques".
SHOWN_KEYS = {"verified", "notes", "steps", "sensitive_files", "trace", "skipped_reason", "file", "title",
              "by_hand", "what_to_do", "forecast", "files_kept", "done_at", "done_summary", "done_in"}
RUN_STAMP = re.compile(r"(\d{8})-(\d{6})")


class Pairs(list):
    """A mapping as a person reads it: (French label, value) rows."""


class Code(str):
    """A value that is one technical token (an option value, an address, an id with « _ »):
    shown as such, in monospace, like a file name — not as a word of the sentence."""


TOKEN = re.compile(r"\S*(?:[_~|]|://)\S*|\S+\.[A-Za-z0-9]{2,4}|[0-9a-f]{32,}")   # … a file name, a hash


@dataclass
class Table:
    """Rows of mappings as a table: French column headings, then each row's values."""
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)


@dataclass
class Step:
    """One step as the template shows it."""
    number: int
    flow: FlowResult
    details: dict          # scrubbed of passwords, keys as the flow gave them
    words: Vocabulary
    verified: Any = None
    verified_heading: str = ""
    technical: Pairs = field(default_factory=Pairs)
    by_hand: list = field(default_factory=list)    # (label, items presented)
    kept: list = field(default_factory=list)       # (label, file name), then (label, file name, written)
    forecast: Pairs = field(default_factory=Pairs)


def _shown(value: Any) -> Any:
    """Every value the template prints: a password the bot has read is masked, invisible
    characters are made visible, then it is escaped (as html.escape does, quotes included)."""
    if isinstance(value, Markup):
        return value
    if value is None or isinstance(value, Undefined):
        return ""
    return Markup(html.escape(visible(redact(str(value))), quote=True))


@lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                              finalize=_shown, trim_blocks=True, lstrip_blocks=True)
    environment.tests["boolean"] = lambda value: isinstance(value, bool)
    environment.tests["pairs"] = lambda value: isinstance(value, Pairs)
    environment.tests["table"] = lambda value: isinstance(value, Table)
    environment.tests["code"] = lambda value: isinstance(value, Code)
    return environment


def steps_of(run: RunReport) -> list[Step]:
    """Each step with its values worded by its own vocabulary (never another step's)."""
    steps = []
    for number, flow in enumerate(run.flows, start=1):
        words = Vocabulary(run.labels_of(flow))
        details = _scrub(flow.details)
        step = Step(number, flow, details, words)
        if details.get("verified") not in (None, {}, [], ""):
            step.verified = present(details["verified"], words, "verified")
            step.verified_heading = words.detail("verified_then" if flow.status is Status.SKIPPED else
                                                 "verified_files" if flow.work is Work.DOWNLOADS else "verified")
        step.technical = Pairs((words.detail(key), present(value, words, key)) for key, value in details.items()
                               if key not in SHOWN_KEYS and words.shown(key))
        step.by_hand = [(group.get("label", ""), present(list(group.get("items") or []), words, "by_hand"))
                        for group in details.get("by_hand") or [] if isinstance(group, dict) and group.get("items")]
        kept = details.get("files_kept")
        if isinstance(kept, dict):
            step.kept = [(words.detail(key), name) for key, name in kept.items() if name]
        figures = details.get("forecast")
        if isinstance(figures, dict):
            step.forecast = present(figures, words, "forecast")
        steps.append(step)
    return steps


def unlabelled(run: RunReport | dict) -> set[str]:
    """The keys that reach report.html without a French label (shown as they are): none, the
    tests say, for what the flows report."""
    run = run if isinstance(run, RunReport) else RunReport.from_json_dict(run)
    steps = steps_of(run)
    _counts(run, steps)
    found: set[str] = set()
    for step in steps:
        found |= step.words.unlabelled
    return found


def render_html(run: RunReport | dict) -> str:
    """The whole page. A dict is a report.json read back (RunReport.from_json_dict)."""
    if not isinstance(run, RunReport):
        run = RunReport.from_json_dict(run)
    run_dir = Path(run.run_dir)
    heading = f"École n° {run.school}" if run.school else "École"
    if run.title:
        heading += f" — {run.title}"
    steps = steps_of(run)
    for step in steps:
        # A file the step meant to keep but never wrote (it stopped first) is named, not linked.
        step.kept = [(label, name, (run_dir / name).exists() or not run_dir.is_dir()) for label, name in step.kept]
    tally: dict[str, int] = {}
    for flow in run.flows:
        tally[flow.status_label] = tally.get(flow.status_label, 0) + 1
    page = _environment().get_template("report.html").render(
        run=run, steps=steps, heading=heading, run_date=_run_date(run, run_dir),
        total_time=duration_text(run.duration_s) if run.finished_at else "",
        tally=" ; ".join(f"{text} : {count}" for text, count in tally.items()),
        css=Markup((TEMPLATES / "report.css").read_text(encoding="utf-8")),
        counted=_counts(run, steps), forecasts=_forecasts(run, steps), inputs=_inputs(run, steps),
        kept=[step for step in steps if step.kept],
        fallback_advice=FALLBACK_ADVICE, long_list=LONG_LIST,
        href=lambda name: _href(name, run_dir), basename=_basename, number=_number, duration=duration_text)
    # One line per block of markup is enough; blank lines left by the template's tags are not.
    return "\n".join(line for line in page.splitlines() if line.strip()) + "\n"


def write_html(run: RunReport | dict, path: Path) -> None:
    write_file(path, render_html(run))   # never through a link planted in the run folder


def present(value: Any, words: Vocabulary, key: Any = None) -> Any:
    """A value as a person reads it: a mapping's keys worded (or shown as they are when they are
    data: class names…), rows of mappings a table with worded headings, the flow's internal keys
    (label None) left out."""
    if isinstance(value, dict):
        if words.keyed_by_data(key):
            return Pairs((str(name), present(item, words)) for name, item in value.items())
        return Pairs((words.detail(name), present(item, words, name)) for name, item in value.items()
                     if words.shown(name))
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(item, dict) for item in value):
            columns = [name for name in dict.fromkeys(name for row in value for name in row) if words.shown(name)]
            return Table([words.detail(name) for name in columns],
                         [[present(row.get(name), words, name) for name in columns] for row in value])
        return [present(item, words, key) for item in value]
    if isinstance(value, str) and TOKEN.fullmatch(value):
        return Code(value)
    return value


def _forecasts(run: RunReport, steps: list[Step]) -> list[dict]:
    """The « Prévisions » box: each forecast with its figures, worded by its step. Figures made
    before any write come with the forecast; a step that could only foresee once earlier steps
    of the run had done their part (the imports) gives those it made as it started."""
    by_name = {step.flow.name: step for step in steps}
    by_title = {step.flow.title: step for step in steps}
    shown, seen = [], set()
    for forecast in run.forecasts:
        step = by_name.get(forecast.get("step")) or by_title.get(forecast.get("title"))
        figures, at_start = Pairs(), False
        if isinstance(forecast.get("figures"), dict) and step is not None:
            figures = present(forecast["figures"], step.words, "forecast")
        elif step is not None and step.forecast:
            figures, at_start = step.forecast, True
        shown.append({"title": forecast.get("title") or (step.flow.shown_title if step else ""), "step": step,
                      "figures": figures, "at_start": at_start, "lines": list(forecast.get("lines") or []),
                      "impossible": bool(forecast.get("impossible"))})
        if step is not None:
            seen.add(step.number)
    for step in steps:
        if step.forecast and step.number not in seen:
            shown.append({"title": step.flow.shown_title, "step": step, "figures": step.forecast, "at_start": True,
                          "lines": [], "impossible": False})
    return shown


def _inputs(run: RunReport, steps: list[Step]) -> list[tuple[Any, Step | None, list[Step]]]:
    """Each file used, with the step of this run that made it when it is a download (ARENA's
    exports, the ENT's: the first step whose details name it), and the steps that read it."""
    listed = []
    for item in run.inputs:
        maker = None
        if item.produced:
            name = _basename(item.copied or item.source)
            maker = next((step for step in steps if name and _names(step.flow.details, name)), None)
        readers = [step for step in steps if step.flow.title in item.used_by and step is not maker]
        listed.append((item, maker, readers))
    return listed


def _names(value: Any, name: str) -> bool:
    if isinstance(value, dict):
        return any(_names(item, name) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_names(item, name) for item in value)
    return isinstance(value, str) and _basename(value) == name


# Values --------------------------------------------------------------------------------------
def _is_secret_key(key) -> bool:
    name = str(key).lower().replace("-", "_").replace(" ", "_")
    return "password" in name or "mot_de_passe" in name or "passwd" in name


def _scrub(value):
    """The value without any entry whose key names a password, at any depth."""
    if isinstance(value, dict):
        return {key: _scrub(item) for key, item in value.items() if not _is_secret_key(key)}
    if isinstance(value, (list, tuple)):
        return [_scrub(item) for item in value]
    return value


def _number(value) -> str:
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\u202f")
    if isinstance(value, float):
        return f"{value:,.2f}".replace(",", "\u202f").replace(".", ",")
    return str(value)


def _counts(run: RunReport, steps: list[Step]) -> list[tuple[str, list[tuple[str, Any]]]]:
    """Per step that counted something: (title, [(French label, value)]), each worded by its own
    step's labels."""
    counted = []
    for step in steps:
        if step.flow.counts:
            counted.append((step.flow.shown_title, [(_count_label(step.words, key), value)
                                                    for key, value in _scrub(step.flow.counts).items()]))
    if not counted and run.counts:
        words = Vocabulary(run.extra_labels)
        counted = [("Ensemble", [(_count_label(words, key), value) for key, value in _scrub(run.counts).items()])]
    return counted


def _count_label(words: Vocabulary, key: str) -> str:
    """A counter's label, capitalised; a key without one keeps its exact spelling (to grep for)."""
    label = words.count(key)
    return _capital(label) if label != key else key


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# Dates ---------------------------------------------------------------------------------------
def _run_date(run: RunReport, run_dir: Path) -> str:
    started, finished = when(run.started_at), when(run.finished_at)
    if started is None and run.started_at:
        return run.started_at   # unreadable date: shown as given rather than lost
    if started is None:
        # The run folder is named after the run's start (runner.new_run_dir).
        match = RUN_STAMP.search(run_dir.name)
        if not match:
            return ""
        try:
            started = datetime.strptime("".join(match.groups()), "%Y%m%d%H%M%S")
        except ValueError:
            return ""
    text = date_fr(started)
    if finished is not None:
        try:
            text += f" (durée {duration_text((finished - started).total_seconds())})"
        except TypeError:   # one aware, one naive: the end alone
            text += f", fin le {date_fr(finished)}"
    return text


# Links ---------------------------------------------------------------------------------------
def _href(name, run_dir: Path) -> str | None:
    """A link relative to the run's folder (where report.html sits), or None when the file is
    elsewhere: an absolute link would break once the folder is copied or sent."""
    if not name:
        return None
    path = PurePosixPath(str(name).replace("\\", "/"))
    if path.is_absolute():
        try:
            path = PurePosixPath(Path(str(name)).relative_to(run_dir).as_posix())
        except ValueError:
            return None
    if ".." in path.parts:
        return None
    # Quoting also turns any "scheme:" into plain text, so a name can never become a URL.
    return quote(path.as_posix(), safe="/")


def _basename(name) -> str:
    return PurePosixPath(str(name).replace("\\", "/")).name
