"""The run's report: JSON for machines (`--json`, report.json), short French text for people."""
from __future__ import annotations

import json
from pathlib import Path

from .secrets import redact
from .text import json_visible, visible

STATUS_FR = {
    "done": "fait",
    "unchanged": "déjà en place, rien changé",
    "failed": "ÉCHEC",
    "mismatch": "VÉRIFICATION EN ÉCHEC",
    "success": "réussite",
    "refused": "refusé",
    "skipped": "déjà faite, sautée",
}


def as_dict(run) -> dict:
    return {
        "school": run.school,
        "title": run.title,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "status": run.status,
        "flows": [
            {"name": f.name, "title": f.title, "status": f.status, "duration_s": f.duration_s,
             "details": {"summary": f.summary, **f.details}, "counts": f.counts, "screenshot": f.screenshot}
            for f in run.flows
        ],
        "counts": run.counts,
        # The flows' French labels of their keys (the engine knows none of them).
        "labels": {part: {key: label for f in run.flows for key, label in f.labels.get(part, {}).items()}
                   for part in ("counts", "details")},
        "run_dir": str(run.run_dir),
    }


def to_json(run) -> str:
    return json_visible(redact(json.dumps(as_dict(run), ensure_ascii=False, indent=2)))


def write_json(run, path: Path) -> None:
    path.write_text(to_json(run) + "\n", encoding="utf-8")


def write_html(run, path: Path) -> None:
    from .report_html import write_html as write_report_html
    write_report_html(json.loads(to_json(run)), path)


def refused_json(school: str | None, message: str) -> str:
    return redact(json.dumps({"school": school, "status": "refused", "flows": [], "counts": {},
                              "message": message}, ensure_ascii=False, indent=2))


def to_text(run) -> str:
    lines = [f"École {run.school} : {STATUS_FR.get(run.status, run.status)}"]
    for f in run.flows:
        lines.append(f"  - {f.name} : {STATUS_FR.get(f.status, f.status)} ({f.duration_s:.1f} s) — {f.summary}")
    manual = by_hand(run)
    if manual:
        lines.append("À faire à la main :")
        lines += [f"  • {item}" for item in manual]
    html = Path(run.run_dir) / "report.html"
    lines.append(f"Rapport : {html if html.exists() else Path(run.run_dir) / 'report.json'}")
    return visible(redact("\n".join(lines)))


def by_hand(run) -> list[str]:
    """What a person has to do after the run, in French, from what the flows listed."""
    items = []
    for f in run.flows:
        for group in f.details.get("by_hand", []):
            names = list(group.get("items", []))
            if names:
                shown = ", ".join(str(name) for name in names[:8]) + ("…" if len(names) > 8 else "")
                items.append(f"{group.get('label', '')} ({len(names)}) : {shown}")
        if f.status in ("failed", "mismatch", "refused"):
            advice = f.details.get("what_to_do") or ("Corrigez la cause puis relancez la même commande : elle "
                                                     "reprend à cette étape.")
            items.append(f"Étape « {f.name} » en échec — {advice}")
    return items


def summary_table(outcomes) -> str:
    lines = ["", f"{'école':>8}  {'résultat':<24} {'étapes':>8}  rapport"]
    for o in outcomes:
        if o.run is None:
            lines.append(f"{o.school:>8}  {'refusé' if o.refused else 'ÉCHEC':<24} {'-':>8}  "
                         f"{(o.refused or o.failed)[:70]}")
            continue
        done = sum(1 for f in o.run.flows if f.status in ("done", "unchanged", "skipped"))
        html = Path(o.run.run_dir) / "report.html"
        lines.append(f"{o.school:>8}  {STATUS_FR.get(o.run.status, o.run.status):<24} "
                     f"{done:>3}/{len(o.run.flows):<4}  {html}")
    return visible(redact("\n".join(lines)))
