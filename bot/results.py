"""What a step and a run produced, as typed models: a flow returns an `Outcome`, the runner
makes it a `FlowResult`, and a `RunReport` holds a school's run. report.json is this model
serialised, and report.html is rendered from it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .status import WORST_FIRST, ExitStatus, Status, Work


@dataclass
class Outcome:
    """What a flow's `run` returns. `data` is what its `verify` needs (never serialised)."""
    status: Status
    summary: str                                   # one French sentence for the operator
    details: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    data: Any = None
    work: Work | None = None   # what it did this time, when not what the flow usually does (Flow.work)

    def __post_init__(self):
        self.status = Status(self.status)
        if self.status not in (Status.DONE, Status.UNCHANGED):
            raise ValueError(f"a flow's outcome is done or unchanged, not {self.status}")


class Forecast(list):
    """What Flow.forecast may return: its French lines (a list of them, as before), and the
    figures behind them, {key: number}, worded by the flow's details labels, for the report's
    « Prévisions » box."""

    def __init__(self, lines=(), figures: dict[str, int] | None = None):
        super().__init__(lines)
        self.figures = dict(figures or {})


class InputFile(BaseModel):
    """A school file a run used, copied into its folder (the original may be gone later)."""
    role: str                 # French: what it is ("Export STS-Web", …)
    source: str               # where it was read
    copied: str = ""          # its copy, relative to the run folder ("" when it could not be copied)
    sha256: str = ""
    size: int = 0
    produced: bool = False    # made by a step of this run (a download): already in the run folder
    used_by: list[str] = Field(default_factory=list)   # the titles of the steps that read it


class FlowResult(BaseModel):
    model_config = ConfigDict(validate_assignment=False)

    name: str
    title: str = ""
    status: Status
    summary: str = ""
    duration_s: float = 0.0
    details: dict[str, Any] = Field(default_factory=dict)
    counts: dict[str, Any] = Field(default_factory=dict)
    screenshot: str | None = None
    screenshot_missing: str = ""   # why there is no screenshot, in French
    started_at: str = ""           # ISO time, to the millisecond (benchmarks line the servers' time up with it)
    labels: dict[str, Any] = Field(default_factory=dict, exclude=True)   # the flow's report_labels (bot.labels)
    work: Work | None = None       # what the step does, to word its status

    @property
    def shown_title(self) -> str:
        return self.title or self.name or "étape sans nom"

    @property
    def status_label(self) -> str:
        """Its status as a person reads it, by what the step does (« téléchargé et vérifié »)."""
        return self.status.worded(self.work)


class RunReport(BaseModel):
    school: str
    run_dir: Path
    title: str = ""
    flows: list[FlowResult] = Field(default_factory=list)
    started_at: str = Field(default_factory=lambda: datetime.now().isoformat(timespec="seconds"))
    finished_at: str = ""
    message: str = ""                                  # a run refused before any step
    inputs: list[InputFile] = Field(default_factory=list)
    write_failures: list[str] = Field(default_factory=list)   # what could not be written on this machine
    # The school's journal, when it was not taken as it was (set aside, of another school…): French.
    journal_notes: list[str] = Field(default_factory=list)
    # What the flows expected before any write, read on the sites: {"title": step, "lines": [...]}.
    forecasts: list[dict[str, Any]] = Field(default_factory=list)
    # Each site's pages, checked before any write: see bot.site_check.SiteReport.as_dict.
    sites: list[dict[str, Any]] = Field(default_factory=list)
    extra_labels: dict[str, dict[str, Any]] = Field(default_factory=dict)   # labels read back from an older report.json
    given_status: Status | None = None                 # the status a report.json says, when read back

    @property
    def status(self) -> Status:
        if self.given_status is not None and not self.flows:
            return self.given_status
        for status in WORST_FIRST:
            if any(f.status == status for f in self.flows):
                return status
        if self.message:
            return Status.REFUSED
        return Status.SUCCESS

    @property
    def exit_code(self) -> ExitStatus:
        code = self.status.exit_status
        return ExitStatus.FLOW_FAILED if self.write_failures and code == ExitStatus.OK else code

    @property
    def counts(self) -> dict[str, Any]:
        total: dict[str, Any] = {}
        for result in self.flows:
            for key, value in result.counts.items():
                total[key] = total.get(key, 0) + value if isinstance(value, (int, float)) else value
        return total

    @property
    def labels(self) -> dict[str, dict[str, str]]:
        """All the flows' labels of their counts and details in one table, as report.json gave
        them before each step carried its own (two steps' same key: the later one's word)."""
        merged: dict[str, dict[str, str]] = {part: dict(self.extra_labels.get(part, {})) for part in ("counts", "details")}
        for result in self.flows:
            for part in merged:
                merged[part].update({key: label for key, label in (result.labels.get(part) or {}).items()
                                     if label is not None})
        return merged

    def labels_of(self, flow: FlowResult) -> dict[str, Any]:
        """One step's own labels; a step read back from an older report.json has only the merged ones."""
        return flow.labels or self.extra_labels

    @property
    def duration_s(self) -> float | None:
        try:
            started = datetime.fromisoformat(self.started_at)
            finished = datetime.fromisoformat(self.finished_at)
            return max(0.0, (finished - started).total_seconds())
        except (TypeError, ValueError):
            return None

    # report.json -------------------------------------------------------------------------
    def to_json_dict(self) -> dict[str, Any]:
        """report.json's shape: each step's summary sits in its details, next to what it checked."""
        return {
            "school": self.school,
            "title": self.title,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "duration_s": self.duration_s,
            "status": self.status.value,
            "status_label": self.status.run_label,
            **({"message": self.message} if self.message else {}),
            **({"journal_notes": self.journal_notes} if self.journal_notes else {}),
            "flows": [{"name": f.name, "title": f.title, "status": f.status.value, "status_label": f.status_label,
                       **({"work": f.work.value} if f.work else {}), "duration_s": f.duration_s,
                       "details": {"summary": f.summary, **f.details}, "counts": f.counts, "screenshot": f.screenshot,
                       **({"screenshot_missing": f.screenshot_missing} if f.screenshot_missing else {}),
                       "started_at": f.started_at, **({"labels": f.labels} if f.labels else {})}
                      for f in self.flows],
            "counts": self.counts,
            "labels": self.labels,
            "inputs": [item.model_dump() for item in self.inputs],
            **({"forecasts": self.forecasts} if self.forecasts else {}),
            **({"sites": self.sites} if self.sites else {}),
            "run_dir": str(self.run_dir),
        }

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> "RunReport":
        """A report.json read back (to render it again, or in tests)."""
        flows = []
        for flow in data.get("flows") or []:
            details = dict(flow.get("details") or {})
            flows.append(FlowResult(name=str(flow.get("name") or ""), title=str(flow.get("title") or ""),
                                    status=Status(flow.get("status")), summary=str(details.pop("summary", "") or ""),
                                    duration_s=float(flow.get("duration_s") or 0.0), details=details,
                                    counts=dict(flow.get("counts") or {}), screenshot=flow.get("screenshot"),
                                    screenshot_missing=str(flow.get("screenshot_missing") or ""),
                                    started_at=str(flow.get("started_at") or ""),
                                    labels=dict(flow.get("labels") or {}),
                                    work=Work(flow["work"]) if flow.get("work") in set(Work) else None))
        status = data.get("status")
        return cls(school=str(data.get("school") or ""), run_dir=Path(str(data.get("run_dir") or ".")),
                   title=str(data.get("title") or ""), flows=flows, started_at=str(data.get("started_at") or ""),
                   finished_at=str(data.get("finished_at") or ""), message=str(data.get("message") or ""),
                   journal_notes=[str(note) for note in data.get("journal_notes") or []],
                   inputs=[InputFile.model_validate(item) for item in data.get("inputs") or []],
                   forecasts=[dict(item) for item in data.get("forecasts") or [] if isinstance(item, dict)],
                   sites=[dict(item) for item in data.get("sites") or [] if isinstance(item, dict)],
                   extra_labels=dict(data.get("labels") or {}),
                   given_status=Status(status) if status else None)
