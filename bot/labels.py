"""The words a person reads for what the bot keeps under keys — in report.html, the terminal and
report.json's human fields — each defined once.

Who defines which words:
- the engine's own keys (a step's check, its remarks, its trace, a page of a site that changed…)
  and the wording of dates and of a step skipped by a re-run: here;
- each flow's keys: the flow declares them once, in its `report_labels` (Flow.report_labels),
  the only way a flow gives words to the reports; the engine knows no site nor file word;
- statuses, worded by what the step does (writes, downloads, checks): bot.status.

A key is looked up in its own step's labels first, then in the engine's, never in another
step's: two steps may give one key two meanings (`mode` is SACoche's identification mode for one
and the import wizard's display mode for another; `file` an import's file or the ENT's export).

A flow's `report_labels`, every part optional:
    counts:     {key: label}    its counters
    details:    {key: label}    any key of its details, at any depth (its `verified`, the columns of
                                its by-hand lists, the figures of its forecast…); a label None keeps
                                the key in report.json for programs and never shows it to a person
    inputs:     {key: label}    the keys of Flow.inputs() that name files (« Fichiers utilisés »)
    data_keyed: [key, …]        mappings whose keys are data shown as they are (class names, the
                                ENT's own profile names), not keys to word
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

PARTS = ("counts", "details", "inputs", "data_keyed")

# The keys the engine itself puts in a step's details (bot.runner, bot.landmarks).
ENGINE_DETAILS: dict[str, str | None] = {
    "summary": "Résultat",
    "verified": "Vérifié en relisant le site",
    "verified_files": "Vérifié en relisant les fichiers téléchargés",   # a step that downloads
    "verified_then": "Vérifié alors en relisant le site",              # a step skipped by a re-run
    "notes": "Remarques",
    "steps": "Messages du site, étape par étape",
    "sensitive_files": "Fichiers contenant des mots de passe",
    "trace": "Trace Playwright",
    "file": "Fichier utilisé",
    "by_hand": "À faire à la main",
    "what_to_do": "Que faire",
    "skipped_reason": "Pourquoi l'étape est sautée",
    "done_at": "Faite le",
    "done_summary": "Résultat de cette exécution-là",
    "done_in": "Dossier de cette exécution-là",
    "forecast": "Prévision",
    "files_kept": "Fichiers gardés pour le support",
    # A page that no longer has what the bot knows (bot.landmarks.SiteChanged.as_dict).
    "site_changed": "Page du site qui a changé",
    "site": "Site",
    "page": "Page",
    "missing": "Éléments introuvables",
    "version": "Version du site",
    "hints": "Libellés adaptables dans la configuration",
}
DEFAULT_INPUT = "fichier lu"
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
          "octobre", "novembre", "décembre")


def check_report_labels(labels: Mapping[str, Any], owner: str) -> None:
    """A flow's report_labels has only the known parts (a typo would silently show raw keys)."""
    unknown = set(labels) - set(PARTS)
    if unknown:
        raise ValueError(f"{owner}: report_labels has unknown part(s) {sorted(unknown)}; parts are {PARTS}")


class Vocabulary:
    """One step's words: its own labels, then the engine's. A key that has neither is shown as it
    is (nothing is lost) and noted in `unlabelled`, which the tests require empty."""

    def __init__(self, own: Mapping[str, Any] | None = None):
        own = own or {}
        self.counts: dict[str, str] = dict(own.get("counts") or {})
        self.details: dict[str, str | None] = {**ENGINE_DETAILS, **(own.get("details") or {})}
        self.inputs: dict[str, str] = dict(own.get("inputs") or {})
        self.data_keyed: frozenset[str] = frozenset(own.get("data_keyed") or ())
        self.unlabelled: set[str] = set()

    def detail(self, key: Any) -> str:
        key = str(key)
        label = self.details.get(key, key)
        if key not in self.details:
            self.unlabelled.add(key)
        return label if label is not None else key

    def shown(self, key: Any) -> bool:
        """False for a key the flow keeps for programs only (label None)."""
        return self.details.get(str(key), "") is not None

    def count(self, key: Any) -> str:
        key = str(key)
        if key not in self.counts:
            self.unlabelled.add(key)
        return self.counts.get(key, key)

    def input(self, key: Any) -> str:
        return self.inputs.get(str(key), DEFAULT_INPUT)

    def keyed_by_data(self, key: Any) -> bool:
        return str(key) in self.data_keyed


# Dates and a step a re-run skips -----------------------------------------------------------------
def when(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def date_fr(moment: datetime | str) -> str:
    """« 7 décembre 2026 à 22:25 »; an unreadable date is given as it is rather than lost."""
    if not isinstance(moment, datetime):
        read = when(moment)
        if read is None:
            return str(moment or "")
        moment = read
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year} à {moment:%H:%M}"


UNCHANGED_SINCE = "entrées inchangées depuis"


def skipped_summary(done_at: str, why: str = UNCHANGED_SINCE) -> str:
    """A step a re-run skips says when it was done and that nothing it depends on changed since;
    what it did then is kept apart (done_summary), never told as if it had just happened."""
    return f"Fait le {date_fr(done_at)} ; {why} : étape sautée (--force pour la refaire)."
