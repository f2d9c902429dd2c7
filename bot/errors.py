"""Errors that end a run, each with its exit code and a French message for the user."""
from __future__ import annotations

from .status import ExitStatus


class BotError(Exception):
    exit_code = ExitStatus.FLOW_FAILED

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Refused(BotError):
    """Refused before any browser action (bad config, bad input file, missing secret)."""
    exit_code = ExitStatus.REFUSED


class SiteNotReady(BotError):
    """A flow read the site before writing anything and found it cannot go on (a setting the
    site lacks, a choice only a person can make): refused like bad input, nothing written."""
    exit_code = ExitStatus.REFUSED


class FlowFailed(BotError):
    """A flow could not do its work on a site. `transient`: the site may well succeed if the
    flow is simply run again from its start (lost session, server error, network)."""
    exit_code = ExitStatus.FLOW_FAILED

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


class VerificationMismatch(BotError):
    """The flow ran, but reading the site back does not show what was expected."""
    exit_code = ExitStatus.MISMATCH
