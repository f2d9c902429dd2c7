"""The operator's interruption (Ctrl-C, SIGTERM) as every thread of a batch sees it: Python
delivers it to the main thread only, so the workers running other schools are told through
STOP and end at their next step, or at once while they wait for a passcode tool."""
from __future__ import annotations

import threading

STOP = threading.Event()


def check() -> None:
    """Raise the interruption in this thread too once the operator has asked to stop."""
    if STOP.is_set():
        raise KeyboardInterrupt
