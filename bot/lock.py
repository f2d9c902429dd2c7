"""One run per school at a time: an OS file lock under the state folder, held for the whole run.
Two runs on one school would both create its accounts (every parent twice); the second one is
refused before anything starts, with the first one named. The OS releases the lock of a process
that died, so a lock file left behind is simply taken over (and said so)."""
from __future__ import annotations

import fcntl
import json
import os
import sys
from datetime import datetime
from pathlib import Path

from .errors import Refused


class SchoolLock:
    def __init__(self, state_dir: Path, school_id: str):
        self.path = Path(state_dir) / "locks" / f"{school_id}.lock"
        self.school_id = school_id
        self._handle = None
        self.taken_over: dict | None = None   # what a dead run had left in the lock file

    def acquire(self) -> "SchoolLock":
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(self.path, "a+", encoding="utf-8")
        except OSError as exc:
            raise Refused(f"Verrou de l'école {self.school_id} impossible à créer ({self.path} : "
                          f"{exc.strerror or exc}) : vérifiez paths.state_dir.") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(handle)
            handle.close()
            raise Refused(f"Une autre exécution du bot travaille déjà sur l'école {self.school_id} "
                          f"({_describe(holder)}) : attendez qu'elle finisse, ou arrêtez-la, puis relancez. "
                          "Deux exécutions à la fois créeraient les comptes en double.") from None
        previous = _read(handle)
        if previous.get("pid"):
            self.taken_over = previous     # its process is gone: the OS freed the lock
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "started": datetime.now().isoformat(timespec="seconds"),
                                 "command": " ".join(sys.argv)[:300]}))
        handle.flush()
        self._handle = handle
        return self

    def release(self) -> None:
        if self._handle is not None:
            try:
                self._handle.seek(0)
                self._handle.truncate()
            except OSError:
                pass
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> "SchoolLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

    def takeover_note(self) -> str | None:
        if not self.taken_over:
            return None
        return (f"Verrou laissé par une exécution interrompue ({_describe(self.taken_over)}), processus disparu : "
                "repris.")


def _read(handle) -> dict:
    try:
        handle.seek(0)
        return json.loads(handle.read() or "{}")
    except (OSError, ValueError):
        return {}


def _describe(holder: dict) -> str:
    if not holder:
        return "processus inconnu"
    started = str(holder.get("started", "?")).replace("T", " à ")
    return f"processus {holder.get('pid', '?')}, démarré le {started}, commande « {holder.get('command', '?')} »"
