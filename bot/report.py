"""The run's report: report.json (the typed RunReport serialised), report.html (rendered from
it, see report_html) and the short French text shown in the terminal."""
from __future__ import annotations

import json
from pathlib import Path

from .fsutil import write_file
from .results import RunReport
from .secrets import redact, redacted_json
from .status import FALLBACK_ADVICE, Status
from .text import json_visible, shorten, visible


def as_dict(run: RunReport) -> dict:
    return run.to_json_dict()


def to_json(run: RunReport) -> str:
    return json_visible(redacted_json(as_dict(run), ensure_ascii=False, indent=2, default=str))


def write_json(run: RunReport, path: Path) -> None:
    write_file(path, to_json(run) + "\n")   # never through a link planted in the run folder


def write_html(run: RunReport, path: Path) -> None:
    from .report_html import write_html as write_report_html
    write_report_html(run, path)


def refused_json(school: str | None, message: str) -> str:
    return redacted_json({"school": school, "status": Status.REFUSED.value, "flows": [], "counts": {},
                          "message": message}, ensure_ascii=False, indent=2)


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s".replace(".", ",")
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def to_text(run: RunReport) -> str:
    total = duration_text(run.duration_s)
    lines = [f"École {run.school} : {run.status.run_label}" + (f" (durée totale {total})" if total else "")]
    for f in run.flows:
        lines.append(f"  - {f.name} : {f.status_label} ({duration_text(f.duration_s)}) — {f.summary}")
    manual = by_hand(run)
    if manual:
        lines.append("À faire à la main :")
        lines += [f"  • {item}" for item in manual]
    written = [path for path in (Path(run.run_dir) / "report.html", Path(run.run_dir) / "report.json") if _written(path)]
    lines.append(f"Rapport : {written[0]}" if written else
                 f"Rapport : aucun n'a pu être écrit dans {run.run_dir} (cause ci-dessus) ; ce résumé en tient lieu.")
    return visible(redact("\n".join(lines)))


def _written(path: Path) -> bool:
    """A report the bot wrote: a regular file, not a link someone put in its place."""
    return path.is_file() and not path.is_symlink()


def item_text(item) -> str:
    """One entry of a by-hand list: a name, or a person's columns (name first)."""
    if isinstance(item, dict):
        values = [str(value) for value in item.values() if value not in (None, "")]
        return f"{values[0]} ({', '.join(values[1:])})" if len(values) > 1 else "".join(values)
    return str(item)


def by_hand(run: RunReport) -> list[str]:
    """What a person has to do after the run, in French, from what the flows listed."""
    items = []
    for f in run.flows:
        for group in f.details.get("by_hand", []):
            names = list(group.get("items", []))
            if names:
                shown = ", ".join(item_text(name) for name in names[:8]) + ("…" if len(names) > 8 else "")
                items.append(f"{group.get('label', '')} ({len(names)}) : {shown}")
        if f.status.went_wrong:
            advice = f.details.get("what_to_do") or FALLBACK_ADVICE
            items.append(f"« {f.title or f.name} » : {f.status.label} — {advice}")
    return items


def summary_table(outcomes) -> str:
    lines = ["", f"{'école':>8}  {'résultat':<24} {'étapes':>8}  rapport"]
    for o in outcomes:
        if o.run is None:
            lines.append(f"{o.school:>8}  {o.status.run_label if o.refused else Status.FAILED.label:<24} {'-':>8}  "
                         f"{shorten(o.refused or o.failed, 70)}")
            continue
        done = sum(1 for f in o.run.flows if f.status.finished)
        html = Path(o.run.run_dir) / "report.html"
        lines.append(f"{o.school:>8}  {o.run.status.run_label:<24} "
                     f"{done:>3}/{len(o.run.flows):<4}  {html}")
    return visible(redact("\n".join(lines)))
