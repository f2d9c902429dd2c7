"""Every status a step or a run can have, and every exit code of the command, each with its
French wording, defined once: the terminal, report.json, report.html and the journal all take
them from here. A finished step is worded by what it does (`Work`): a download that went well
is « téléchargé et vérifié », not « rien changé »."""
from __future__ import annotations

from enum import IntEnum, StrEnum


class ExitStatus(IntEnum):
    OK = 0
    REFUSED = 2        # usage, config, input, secret or site not ready: nothing was written
    FLOW_FAILED = 3
    MISMATCH = 4
    INTERRUPTED = 130  # Ctrl-C or SIGTERM


class Work(StrEnum):
    """What a step does on the sites, to word its result: a flow declares it (Flow.work), and an
    outcome may say it had nothing to do this time (ARENA when the files are given)."""
    WRITES = "writes"            # changes a site when something is missing
    DOWNLOADS = "downloads"      # fetches files and checks them, changes nothing
    CHECKS = "checks"            # reads a site and compares, changes nothing
    NOT_NEEDED = "not-needed"    # had nothing to do this time: no page was opened
    BY_HAND = "by-hand"          # the bot cannot do it on this site: left to a person, nothing done


class Status(StrEnum):
    """A step's status (and, for SUCCESS, a whole run's when no step went wrong)."""
    DONE = "done"              # the step changed something on a site
    UNCHANGED = "unchanged"    # everything was already as wanted: nothing was changed
    SKIPPED = "skipped"        # full-onboarding: finished earlier with the same inputs
    REFUSED = "refused"        # read the site or the inputs, could not go on, wrote nothing
    FAILED = "failed"
    MISMATCH = "mismatch"      # ran, but reading the site back does not show what was expected
    SUCCESS = "success"        # a run whose steps all finished

    @property
    def label(self) -> str:
        """How the terminal and report.html name it."""
        return _LABELS[self]

    def worded(self, work: "Work | None" = None) -> str:
        """How the terminal and report.html name a step's status, by what the step does: a
        read-only step that went well is « vérifié », not « déjà en place, rien changé »."""
        return _WORK_LABELS.get((self, work), self.label) if work else self.label

    @property
    def run_label(self) -> str:
        """How a whole run with this status is named (its worst step's, or SUCCESS)."""
        return _RUN_LABELS.get(self, self.label)

    @property
    def finished(self) -> bool:
        """The step's work is in place (a later run may skip it)."""
        return self in (Status.DONE, Status.UNCHANGED, Status.SKIPPED)

    @property
    def went_wrong(self) -> bool:
        """The run stops after such a step, and a person must look at it."""
        return self in (Status.FAILED, Status.MISMATCH, Status.REFUSED)

    @property
    def exit_status(self) -> ExitStatus:
        return {Status.FAILED: ExitStatus.FLOW_FAILED, Status.MISMATCH: ExitStatus.MISMATCH,
                Status.REFUSED: ExitStatus.REFUSED}.get(self, ExitStatus.OK)

    def advice(self, transient: bool = False, attempts: int = 1) -> str:
        """What a person should do about a step that went wrong (its cause is in its summary)."""
        if self is Status.REFUSED:
            return ("Rien n'a été écrit sur le site : corrigez la cause indiquée (dans SACoche ou dans la "
                    "configuration), puis relancez la même commande ; elle reprend à cette étape.")
        if self is Status.MISMATCH:
            return ("Le site n'a pas gardé ce que le bot a fait : vérifiez à la main la page indiquée, puis relancez "
                    "la même commande (elle reprend à cette étape).")
        if transient:
            return (f"Panne passagère du site qui a duré malgré {attempts} essai(s) : relancez la même commande plus "
                    "tard ; elle reprend à cette étape, sans rien créer en double.")
        return "Corrigez la cause indiquée, puis relancez la même commande : elle reprend à cette étape."


_LABELS = {
    Status.DONE: "fait",
    Status.UNCHANGED: "déjà en place, rien changé",
    Status.SKIPPED: "déjà fait, sauté",
    Status.REFUSED: "REFUSÉ, rien n'a été écrit",
    Status.FAILED: "ÉCHEC",
    Status.MISMATCH: "VÉRIFICATION EN ÉCHEC",
    Status.SUCCESS: "réussite",
}

_WORK_LABELS = {
    (Status.UNCHANGED, Work.DOWNLOADS): "téléchargé et vérifié",
    (Status.DONE, Work.DOWNLOADS): "téléchargé et vérifié",
    (Status.UNCHANGED, Work.CHECKS): "vérifié",
    (Status.DONE, Work.CHECKS): "vérifié",
    (Status.UNCHANGED, Work.NOT_NEEDED): "pas nécessaire",
    (Status.DONE, Work.NOT_NEEDED): "pas nécessaire",
    (Status.UNCHANGED, Work.BY_HAND): "à faire à la main",
}

_RUN_LABELS = {
    Status.SUCCESS: "réussite",
    Status.FAILED: "échec",
    Status.MISMATCH: "vérification en échec",
    Status.REFUSED: "refusé",
}

# For a report whose step has no advice of its own (read back from an older report.json).
FALLBACK_ADVICE = "Relancer la commande pour reprendre à cette étape."

# The order in which a run takes the status of its worst step.
WORST_FIRST = (Status.FAILED, Status.MISMATCH, Status.REFUSED)
