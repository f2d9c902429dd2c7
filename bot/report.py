"""The run's report: JSON for machines (`--json`, report.json), short French text for people."""
from __future__ import annotations

import json
from pathlib import Path

from .secrets import redact

STATUS_FR = {
    "done": "fait",
    "unchanged": "déjà en place, rien changé",
    "failed": "ÉCHEC",
    "mismatch": "VÉRIFICATION EN ÉCHEC",
    "success": "réussite",
    "refused": "refusé",
}


def as_dict(run) -> dict:
    return {
        "school": run.school,
        "status": run.status,
        "flows": [
            {"name": f.name, "status": f.status, "duration_s": f.duration_s,
             "details": {"summary": f.summary, **f.details}, "screenshot": f.screenshot}
            for f in run.flows
        ],
        "counts": run.counts,
        "run_dir": str(run.run_dir),
    }


def to_json(run) -> str:
    return redact(json.dumps(as_dict(run), ensure_ascii=False, indent=2))


def write_json(run, path: Path) -> None:
    path.write_text(to_json(run) + "\n", encoding="utf-8")


def refused_json(school: str | None, message: str) -> str:
    return redact(json.dumps({"school": school, "status": "refused", "flows": [], "counts": {},
                              "message": message}, ensure_ascii=False, indent=2))


def to_text(run) -> str:
    lines = [f"École {run.school} : {STATUS_FR.get(run.status, run.status)}"]
    for f in run.flows:
        lines.append(f"  - {f.name} : {STATUS_FR.get(f.status, f.status)} ({f.duration_s:.1f} s) — {f.summary}")
    lines.append(f"Rapport et captures : {run.run_dir}")
    return redact("\n".join(lines))
