"""report.html: the run's report as one self-contained page, for the school's IT administrator
or the academy's support staff. The markup is the Jinja2 template templates/report.html; this
module gives it the typed RunReport and the few helpers it needs (links relative to the run
folder, French numbers and dates, the flows' labels)."""
from __future__ import annotations

import html
import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, Undefined, select_autoescape
from markupsafe import Markup

from .report import duration_text
from .results import FlowResult, RunReport
from .secrets import redact
from .status import FALLBACK_ADVICE
from .text import visible

TEMPLATES = Path(__file__).with_name("templates")
LONG_LIST = 10
# Shown elsewhere on the page, so left out of the step's "Détails techniques".
SHOWN_KEYS = {"verified", "notes", "steps", "sensitive_files", "trace", "skipped_reason", "file", "title",
              "by_hand", "what_to_do"}
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
          "octobre", "novembre", "décembre")
RUN_STAMP = re.compile(r"(\d{8})-(\d{6})")


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
    return environment


def render_html(run: RunReport | dict) -> str:
    """The whole page. A dict is a report.json read back (RunReport.from_json_dict)."""
    if not isinstance(run, RunReport):
        run = RunReport.from_json_dict(run)
    labels = run.labels
    run_dir = Path(run.run_dir)
    heading = f"École n° {run.school}" if run.school else "École"
    if run.title:
        heading += f" — {run.title}"
    flows = [(number, flow, _scrub(flow.details)) for number, flow in enumerate(run.flows, start=1)]
    tally: dict[str, int] = {}
    for flow in run.flows:
        tally[flow.status.label] = tally.get(flow.status.label, 0) + 1
    page = _environment().get_template("report.html").render(
        run=run, flows=flows, heading=heading, run_date=_run_date(run, run_dir),
        total_time=duration_text(run.duration_s) if run.finished_at else "",
        tally=" ; ".join(f"{text} : {count}" for text, count in tally.items()),
        css=Markup((TEMPLATES / "report.css").read_text(encoding="utf-8")),
        counted=_counts(run, labels.get("counts", {})), fallback_advice=FALLBACK_ADVICE, long_list=LONG_LIST,
        href=lambda name: _href(name, run_dir), basename=_basename, number=_number, duration=duration_text,
        label=lambda key: labels.get("details", {}).get(str(key), str(key)),
        columns_of=lambda rows: list(dict.fromkeys(key for row in rows for key in row)),
        technical=lambda details: {key: value for key, value in details.items() if key not in SHOWN_KEYS})
    # One line per block of markup is enough; blank lines left by the template's tags are not.
    return "\n".join(line for line in page.splitlines() if line.strip()) + "\n"


def write_html(run: RunReport | dict, path: Path) -> None:
    Path(path).write_text(render_html(run), encoding="utf-8")


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


def _counts(run: RunReport, names: dict[str, str]) -> list[tuple[str, list[tuple[str, Any]]]]:
    """Per step that counted something: (title, [(French label, value)]). A key without a label
    keeps its exact spelling, so that support can grep the code for it."""
    per_flow: list[tuple[FlowResult | None, dict]] = [(flow, _scrub(flow.counts)) for flow in run.flows if flow.counts]
    if not per_flow and run.counts:
        per_flow = [(None, _scrub(run.counts))]
    return [(flow.shown_title if flow else "Ensemble",
             [(_capital(names[key]) if key in names else key, value) for key, value in values.items()])
            for flow, values in per_flow]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# Dates ---------------------------------------------------------------------------------------
def _when(text) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def _date_fr(moment: datetime) -> str:
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year} à {moment:%H:%M}"


def _run_date(run: RunReport, run_dir: Path) -> str:
    started, finished = _when(run.started_at), _when(run.finished_at)
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
    text = _date_fr(started)
    if finished is not None:
        try:
            text += f" (durée {duration_text((finished - started).total_seconds())})"
        except TypeError:   # one aware, one naive: the end alone
            text += f", fin le {_date_fr(finished)}"
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
