"""The run's report as one self-contained HTML page (report.html, in the run's folder), for the
school's IT administrator or the academy's support: what a person must do by hand first, then
each step with its checks, screenshot and files, then the counts.

One file with inline CSS and no JavaScript nor external resource, so that it opens from a USB key
or an e-mail attachment, and prints. Links are relative to the run's folder, where it sits."""
from __future__ import annotations

import html
import re
from datetime import datetime
from contextvars import ContextVar
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from .secrets import redact
from .text import visible

# Own copies rather than bot.report.STATUS_FR: the page needs "skipped" and its own badge words.
RUN_STATUS_FR = {
    "success": "réussite",
    "failed": "échec",
    "mismatch": "vérification en échec",
    "refused": "refusé avant toute action",
}
FLOW_STATUS_FR = {
    "done": "fait",
    "unchanged": "déjà en place, rien changé",
    "failed": "ÉCHEC",
    "mismatch": "VÉRIFICATION EN ÉCHEC",
    "refused": "REFUSÉ, rien n'a été écrit",
    "skipped": "ignoré",
}
BAD = ("failed", "mismatch", "refused")

LONG_LIST = 10

# The flows name their keys in French (report["labels"]); the engine knows none of them.
_LABELS: ContextVar[dict] = ContextVar("report_labels", default={})

# Shown elsewhere on the page, so left out of the step's "Détails techniques".
SHOWN_KEYS = {"summary", "verified", "notes", "steps", "sensitive_files", "trace", "skipped_reason",
              "file", "title", "by_hand", "what_to_do"}

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
          "octobre", "novembre", "décembre")
RUN_STAMP = re.compile(r"(\d{8})-(\d{6})")

CSS = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa;
  --ok: #1a7f37; --ok-bg: #dafbe1; --bad: #b42318; --bad-bg: #fee4e2;
  --warn: #9a4c00; --warn-bg: #fff1d6; --same: #0b5cad; --same-bg: #ddf0ff;
  --skip: #59636e; --skip-bg: #eaeef2; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--soft); color: var(--ink); line-height: 1.5;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; }
main { max-width: 68rem; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
h1, h2, h3 { line-height: 1.25; margin: 0; }
h1 { font-size: 1.6rem; }
h2 { font-size: 1.2rem; }
h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
p { margin: .4rem 0; }
a { color: #0550ae; }
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .88em;
  background: var(--soft); border: 1px solid var(--line); border-radius: 4px; padding: 0 .25em;
  overflow-wrap: anywhere; }
ul { margin: .3rem 0; padding-left: 1.3rem; }
li { margin: .1rem 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 1rem 1.25rem;
  margin: 0 0 1rem; }
.kicker { color: var(--muted); font-size: .85rem; letter-spacing: .04em; text-transform: uppercase;
  margin: 0 0 .2rem; }
.title-row { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1rem; }
.badge { display: inline-block; border-radius: 999px; padding: .15rem .7rem; font-weight: 700;
  font-size: .9rem; white-space: nowrap; border: 1px solid currentColor;
  -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.badge.big { font-size: 1.05rem; padding: .25rem .9rem; text-transform: uppercase; letter-spacing: .03em; }
.s-success, .s-done { color: var(--ok); background: var(--ok-bg); }
.s-failed, .s-refused { color: var(--bad); background: var(--bad-bg); }
.s-mismatch { color: var(--warn); background: var(--warn-bg); }
.s-unchanged { color: var(--same); background: var(--same-bg); }
.s-skipped, .s-other { color: var(--skip); background: var(--skip-bg); }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .8rem 0 0; }
.meta dt { color: var(--muted); }
.meta dd { margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: .93rem; }
th, td { text-align: left; vertical-align: top; padding: .3rem .6rem; border-bottom: 1px solid var(--line); }
thead th { background: var(--soft); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.kv th { width: 45%; font-weight: 500; color: var(--muted); }
table.kv td ul { padding-left: 1.1rem; margin: 0; }
table.kv.tech th { width: 11rem; }
table.kv td table { font-size: .88rem; }
table.overview td:first-child { color: var(--muted); width: 2.5rem; }
table.counts { max-width: 46rem; }
table.counts td:first-child { width: 55%; }
.todo { border: 2px solid #d4a72c; background: #fffbeb; }
.todo h2 { font-size: 1.3rem; }
.todo > ul { list-style: none; padding: 0; margin: .6rem 0 0; }
.todo > ul > li { border-top: 1px solid #f0dca0; padding: .55rem 0; }
.todo > ul > li:first-child { border-top: 0; }
.todo li.fail { color: var(--bad); }
.todo li.fail .msg { color: var(--ink); }
.todo .count { font-weight: 400; color: var(--muted); }
.todo.clear { border-color: var(--ok); background: #f2fbf4; }
.hint { color: var(--muted); font-size: .9rem; }
.rerun { font-weight: 700; }
details { margin: .35rem 0; }
summary { cursor: pointer; font-weight: 600; }
details > ul, details > ol, details > table, details > div { margin-top: .3rem; }
.cols { columns: 2 16rem; column-gap: 2rem; }
.cols li { break-inside: avoid; }
.flow-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: .4rem .9rem; }
.flow-head .num { color: var(--muted); font-weight: 600; }
.flow-head .duration { margin-left: auto; color: var(--muted); font-size: .9rem; }
.flow.bad { border-color: var(--bad); border-width: 2px; }
.flow.warn { border-color: #d4a72c; border-width: 2px; }
.flow-body { display: grid; grid-template-columns: minmax(0, 1fr) 15rem; gap: 1.25rem; margin-top: .6rem; }
.flow-body.noshot { grid-template-columns: minmax(0, 1fr); }
.summary { font-size: 1.02rem; }
.error { border-left: 4px solid var(--bad); background: var(--bad-bg); padding: .5rem .75rem;
  border-radius: 4px; }
.error.warn { border-left-color: var(--warn); background: var(--warn-bg); }
.secret { border-left: 4px solid var(--warn); background: var(--warn-bg); padding: .5rem .75rem;
  border-radius: 4px; margin: .8rem 0; }
.secret strong { color: var(--warn); }
.wizard li { margin: .25rem 0; }
.wizard .step { font-weight: 600; }
.wizard ul { list-style: disc; }
aside figure { margin: 0; }
aside img { display: block; width: 100%; height: 11rem; object-fit: cover; object-position: top;
  border: 1px solid var(--line); border-radius: 6px; background: var(--soft);
  color: var(--muted); font-size: .8rem; }
aside figcaption { font-size: .85rem; margin-top: .3rem; overflow-wrap: anywhere; }
aside .trace { font-size: .85rem; margin-top: .8rem; overflow-wrap: anywhere; }
footer { color: var(--muted); font-size: .85rem; text-align: center; margin-top: 2rem; }
@media (max-width: 46rem) {
  .flow-body { grid-template-columns: minmax(0, 1fr); }
  aside img { height: 9rem; }
}
@media print {
  @page { margin: 1.4cm 1.2cm; }
  body { background: #fff; font-size: 10pt; }
  main { max-width: none; padding: 0; }
  .card { border-radius: 0; padding: .5rem 0; border: 0; border-top: 1px solid #999; }
  .todo, .flow.bad, .flow.warn { border: 2px solid #999; padding: .5rem .7rem; }
  .flow { break-inside: avoid-page; }
  .todo li, tr { break-inside: avoid; }
  h2 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
  summary { cursor: auto; list-style: none; }
  /* Paper gets what a person must do, in full, and none of the technical folds. */
  details.print-open::details-content { content-visibility: visible; display: block; }
  details:not(.print-open) { display: none; }
  aside img { height: 6cm; }
  footer { text-align: left; }
}
"""


def render_html(report: dict) -> str:
    """The whole page, from bot.report.as_dict(run); optional keys: title, started_at,
    finished_at (ISO), message (refused run), and per step details trace and skipped_reason."""
    run_dir = Path(str(report.get("run_dir") or "."))
    flows = [flow for flow in report.get("flows") or [] if isinstance(flow, dict)]
    school = report.get("school")
    status = str(report.get("status") or "")
    heading = f"École n° {school}" if school not in (None, "") else "École"
    if report.get("title"):
        heading += f" — {report['title']}"
    status_fr = RUN_STATUS_FR.get(status, status or "inconnu")
    labels = report.get("labels") if isinstance(report.get("labels"), dict) else {}
    token = _LABELS.set(labels)
    try:
        return _page(report, run_dir, flows, status, heading, status_fr)
    finally:
        _LABELS.reset(token)


def _page(report: dict, run_dir: Path, flows: list, status: str, heading: str, status_fr: str) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="fr">',
        "<head>",
        '<meta charset="utf-8">',
        # Defence in depth: even if some text escaped escaping, no script or remote load runs.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src 'self' file: data:; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(heading)} — {esc(status_fr)} — rapport SACoche / ENT</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        _header(report, heading, status, status_fr, flows, run_dir),
        _todo(report, flows, run_dir),
        _overview(flows),
        *(_flow_section(number, flow, run_dir) for number, flow in enumerate(flows, start=1)),
        _counts(report.get("counts") or {}, flows),
        "<footer>Rapport écrit par le robot SACoche / ENT (sacoche-ent-bot). Les liens ouvrent les "
        "fichiers du dossier où se trouve ce rapport : gardez-les ensemble.</footer>",
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join(part for part in parts if part) + "\n"


def write_html(report: dict, path: Path) -> None:
    Path(path).write_text(render_html(report), encoding="utf-8")


# Text and values -----------------------------------------------------------------------------
def esc(value) -> str:
    """Escape for HTML text and attribute values, after masking any password the bot has read."""
    return html.escape(visible(redact(str(value))), quote=True)


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


def _label(key) -> str:
    return _LABELS.get().get("details", {}).get(str(key), str(key))


def _value(value) -> str:
    """A detail's value: scalars as text, dicts as 'key : value' lists, lists as lists (folded
    when long), lists of dicts as small tables."""
    if value is None or value == "" or value == [] or value == {}:
        return '<span class="hint">—</span>'
    if isinstance(value, (bool, int, float)):
        return esc(_number(value))
    if isinstance(value, dict):
        items = "".join(f"<li>{esc(_label(key))} : {_value(item)}</li>" for key, item in value.items())
        return f"<ul>{items}</ul>"
    if isinstance(value, (list, tuple)):
        if all(isinstance(item, dict) for item in value):
            return _dict_table(value)
        return _list(value, f"{len(value)} élément(s)")
    return esc(value)


def _dict_table(rows: list[dict]) -> str:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    head = "".join(f"<th>{esc(_label(column))}</th>" for column in columns)
    body = "".join("<tr>" + "".join(f"<td>{_value(row.get(column))}</td>" for column in columns) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _list(items, summary: str, *, print_open: bool = False) -> str:
    """A list, folded under `summary` when longer than LONG_LIST so the page stays short."""
    css = ' class="cols"' if len(items) > LONG_LIST else ""
    listing = f"<ul{css}>" + "".join(f"<li>{_value(item)}</li>" for item in items) + "</ul>"
    if len(items) <= LONG_LIST:
        return listing
    opened = ' class="print-open"' if print_open else ""
    return f"<details{opened}><summary>{esc(summary)}</summary>{listing}</details>"


def _kv_table(data: dict, css: str = "kv") -> str:
    rows = "".join(f"<tr><th scope=\"row\">{esc(_label(key))}</th><td>{_value(value)}</td></tr>"
                   for key, value in data.items())
    return f'<table class="{css}"><tbody>{rows}</tbody></table>'


def _duration(seconds) -> str:
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s".replace(".", ",")
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def _when(text) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return None


def _date_fr(moment: datetime) -> str:
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year} à {moment:%H:%M}"


def _run_date(report: dict, run_dir: Path) -> str:
    started, finished = _when(report.get("started_at")), _when(report.get("finished_at"))
    if started is None and report.get("started_at"):
        return esc(report["started_at"])   # unreadable date: shown as given rather than lost
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
            text += f" (durée {_duration((finished - started).total_seconds())})"
        except TypeError:   # one aware, one naive: the end alone
            text += f", fin le {_date_fr(finished)}"
    return esc(text)


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


def _file_link(name, run_dir: Path) -> str:
    href = _href(name, run_dir)
    shown = PurePosixPath(str(name).replace("\\", "/")).name if href else str(name)
    if href is None:
        return f"<code>{esc(shown)}</code>"
    return f'<a href="{esc(href)}"><code>{esc(shown)}</code></a>'


def _title(flow: dict) -> str:
    return str(flow.get("title") or flow.get("name") or "étape sans nom")


def _badge(status: str, text: str, big: bool = False) -> str:
    known = status if status in {*FLOW_STATUS_FR, *RUN_STATUS_FR} else "other"
    return f'<span class="badge{" big" if big else ""} s-{known}">{esc(text)}</span>'


def _details(flow: dict) -> dict:
    details = flow.get("details")
    return _scrub(details) if isinstance(details, dict) else {}


def _strings(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else []


# Page parts ----------------------------------------------------------------------------------
def _header(report: dict, heading: str, status: str, status_fr: str, flows: list, run_dir: Path) -> str:
    meta = []
    date = _run_date(report, run_dir)
    if date:
        meta.append(f"<dt>Date</dt><dd>{date}</dd>")
    if flows:
        tally: dict[str, int] = {}
        for flow in flows:
            tally[str(flow.get("status"))] = tally.get(str(flow.get("status")), 0) + 1
        done = " ; ".join(f"{FLOW_STATUS_FR.get(key, key)} : {count}" for key, count in tally.items())
        meta.append(f"<dt>Étapes</dt><dd>{len(flows)} — {esc(done)}</dd>")
    if report.get("run_dir"):
        meta.append(f"<dt>Dossier</dt><dd><code>{esc(report['run_dir'])}</code></dd>")
    return (
        '<header class="card">'
        '<p class="kicker">Rapport du robot SACoche / ENT</p>'
        f'<div class="title-row"><h1>{esc(heading)}</h1>{_badge(status, status_fr, big=True)}</div>'
        f'<dl class="meta">{"".join(meta)}</dl>'
        "</header>"
    )


def _todo(report: dict, flows: list, run_dir: Path) -> str:
    """What a person must handle, most urgent first: a failure, then people SACoche could not
    match, then the imports' remarks, skipped steps, and the password files to hand out."""
    failures, people, remarks, skipped, secrets = [], [], [], [], []
    if report.get("message"):   # a run refused before any click has only its message
        failures.append('<li class="fail"><strong>Exécution refusée avant toute action</strong><br>'
                        f'<span class="msg">{esc(report["message"])}</span></li>')
    for number, flow in enumerate(flows, start=1):
        details = _details(flow)
        status = str(flow.get("status"))
        where = f'<a href="#etape-{number}">étape {number}, « {esc(_title(flow))} »</a>'
        if status in BAD:
            failures.append(
                f'<li class="fail"><strong>{where} : {esc(FLOW_STATUS_FR[status])}</strong><br>'
                f'<span class="msg">{esc(details.get("summary") or "sans message")}</span><br>'
                f'<span class="rerun">→ {esc(_advice(details))}</span></li>')
        elif status == "skipped":
            reason = details.get("skipped_reason")
            skipped.append(f"<li><strong>Étape ignorée</strong> : {where}"
                           + (f" — {esc(reason)}" if reason else "") + "</li>")
        for group in _strings(details.get("by_hand")):
            label = str(group.get("label", "")) if isinstance(group, dict) else ""
            names = _strings(group.get("items")) if isinstance(group, dict) else []
            if names:
                people.append(f'<li><strong>{esc(label)}</strong> <span class="count">({len(names)}, '
                              f"{where})</span>"
                              + _list(names, f"Voir la liste ({len(names)})", print_open=True) + "</li>")
        notes = _strings(details.get("notes"))
        if notes:
            remarks.append(f'<li><strong>Remarques</strong> <span class="count">({where})</span>'
                           + _list(notes, f"Voir les remarques ({len(notes)})", print_open=True) + "</li>")
        files = _strings(details.get("sensitive_files"))
        if files:
            secrets.append(f"<li>{where} : " + ", ".join(_file_link(name, run_dir) for name in files) + "</li>")
    if secrets:
        secrets = ["<li><strong>Identifiants des nouveaux comptes</strong> : contient des mots de passe, "
                   f"à transmettre puis supprimer.<ul>{''.join(secrets)}</ul></li>"]
    items = failures + people + remarks + skipped + secrets
    if not items:
        return ('<section class="card todo clear" aria-labelledby="todo"><h2 id="todo">À faire à la main</h2>'
                "<p>Rien à faire à la main.</p></section>")
    return ('<section class="card todo" aria-labelledby="todo"><h2 id="todo">À faire à la main</h2>'
            f"<ul>{''.join(items)}</ul></section>")


def _overview(flows: list) -> str:
    if not flows:
        return ""
    rows = "".join(
        f'<tr><td>{number}</td><td><a href="#etape-{number}">{esc(_title(flow))}</a></td>'
        f"<td>{_badge(str(flow.get('status')), FLOW_STATUS_FR.get(str(flow.get('status')), str(flow.get('status'))))}</td>"
        f'<td class="num">{esc(_duration(flow.get("duration_s")))}</td></tr>'
        for number, flow in enumerate(flows, start=1))
    return ('<section class="card" aria-labelledby="etapes"><h2 id="etapes">Étapes</h2>'
            '<table class="overview"><thead><tr><th>n°</th><th>Étape</th><th>Statut</th>'
            f'<th class="num">Durée</th></tr></thead><tbody>{rows}</tbody></table></section>')


def _flow_section(number: int, flow: dict, run_dir: Path) -> str:
    details = _details(flow)
    status = str(flow.get("status"))
    status_fr = FLOW_STATUS_FR.get(status, status)
    body = []
    summary = details.get("summary")
    if status in BAD:
        body.append(f'<p class="error{" warn" if status == "mismatch" else ""}">'
                    f"<strong>{esc(status_fr)}</strong> — {esc(summary or 'sans message')}<br>"
                    f"{esc(_advice(details))}</p>")
    elif summary:
        body.append(f'<p class="summary">{esc(summary)}</p>')
    if details.get("skipped_reason"):
        body.append(f"<p>Raison : {esc(details['skipped_reason'])}</p>")
    if details.get("file"):
        body.append(f"<p>Fichier utilisé : {_file_link(details['file'], run_dir)}</p>")
    verified = details.get("verified")
    if isinstance(verified, dict) and verified:
        body.append(f"<h3>Vérifié en relisant le site</h3>{_kv_table(verified)}")
    elif verified not in (None, {}, [], ""):
        body.append(f"<h3>Vérifié en relisant le site</h3><p>{_value(verified)}</p>")
    notes = _strings(details.get("notes"))
    if notes:
        body.append(f"<h3>Remarques</h3>{_list(notes, f'Voir les remarques ({len(notes)})')}")
    body.append(_wizard(details.get("steps")))
    files = _strings(details.get("sensitive_files"))
    if files:
        links = "".join(f"<li>{_file_link(name, run_dir)}</li>" for name in files)
        body.append('<div class="secret"><strong>⚠ Identifiants des nouveaux comptes</strong> — '
                    f"contient des mots de passe : à transmettre puis supprimer.<ul>{links}</ul></div>")
    other = {key: value for key, value in details.items() if key not in SHOWN_KEYS}
    if other:
        body.append(f"<details><summary>Détails techniques</summary>{_kv_table(other, 'kv tech')}</details>")
    aside = _aside(number, flow, details, run_dir)
    kind = " bad" if status in ("failed", "refused") else " warn" if status == "mismatch" else ""
    return (
        f'<section class="card flow{kind}" id="etape-{number}" aria-labelledby="etape-{number}-titre">'
        f'<div class="flow-head"><span class="num">Étape {number}</span>'
        f'<h2 id="etape-{number}-titre">{esc(_title(flow))}</h2>{_badge(status, status_fr)}'
        f'<span class="duration">{esc(_duration(flow.get("duration_s")))}</span></div>'
        f'<div class="flow-body{"" if aside else " noshot"}"><div>{"".join(body)}</div>{aside}</div>'
        "</section>"
    )


def _advice(details: dict) -> str:
    """What to do about a failed step: the runner's advice, else the general one."""
    return str(details.get("what_to_do") or "Relancer la commande pour reprendre à cette étape.")


def _wizard(steps) -> str:
    steps = [step for step in _strings(steps) if isinstance(step, dict)]
    if not steps:
        return ""
    items = "".join(
        f'<li><span class="step">Étape {esc(step.get("step", "?"))}</span>'
        + (f"<ul>{''.join(f'<li>{esc(line)}</li>' for line in _strings(step.get('lines')))}</ul>"
           if _strings(step.get("lines")) else "")
        + "</li>"
        for step in steps)
    return (f'<details class="wizard"><summary>{esc(_label("steps"))} ({len(steps)} étapes)'
            f"</summary><ul>{items}</ul></details>")


def _aside(number: int, flow: dict, details: dict, run_dir: Path) -> str:
    parts = []
    shot = flow.get("screenshot")
    href = _href(shot, run_dir)
    if href:
        parts.append(
            f'<figure><a href="{esc(href)}"><img src="{esc(href)}" '
            f'alt="Capture d\'écran de l\'étape {number}"></a>'
            f'<figcaption>Capture d\'écran : <a href="{esc(href)}">{esc(PurePosixPath(str(shot)).name)}'
            "</a></figcaption></figure>")
    elif shot:
        parts.append(f"<p>Capture d'écran : <code>{esc(shot)}</code></p>")
    trace = details.get("trace")
    trace_href = _href(trace, run_dir)
    if trace:
        link = (f'<a href="{esc(trace_href)}"><code>{esc(trace)}</code></a>' if trace_href
                else f"<code>{esc(trace)}</code>")
        parts.append(f'<p class="trace">Trace Playwright : {link}<br>'
                     f"ouvrir avec : <code>playwright show-trace {esc(trace)}</code></p>")
    return f"<aside>{''.join(parts)}</aside>" if parts else ""


def _counts(counts: dict, flows: list) -> str:
    """The counts in French, one table per step that counted something (labels from the
    flows; a key without a label is shown as is)."""
    names = _LABELS.get().get("counts", {})
    per_flow = [(flow, _scrub(flow["counts"])) for flow in flows if isinstance(flow.get("counts"), dict) and flow["counts"]]
    if not per_flow and isinstance(counts, dict) and counts:
        per_flow = [({"title": "Ensemble"}, _scrub(counts))]
    if not per_flow:
        return ""
    parts = []
    for flow, values in per_flow:
        rows = [(names.get(str(key), str(key)), value, str(key) in names) for key, value in values.items()]
        parts.append(f"<h3>{esc(_title(flow))}</h3>{_count_rows(rows)}")
    return ('<section class="card" aria-labelledby="compteurs"><h2 id="compteurs">Compteurs</h2>'
            f'{"".join(parts)}</section>')


def _count_rows(entries: list) -> str:
    # Unknown keys keep their exact spelling, so that support can grep the code for them.
    rows = "".join(f'<tr><td>{esc(_capital(label) if known else label)}</td><td class="num">{_value(value)}</td></tr>'
                   for label, value, known in entries)
    return f'<table class="counts"><tbody>{rows}</tbody></table>'


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
