"""One run per school at a time: an OS file lock under the state folder, held for the whole run.
Two runs on one school would both create its accounts (every parent twice); the second one is
refused before anything starts, with the first one named. The OS releases the lock of a process
that died, so a lock file left behind is simply taken over (and said so). A run that ends removes
its lock file while it still holds the lock; so a run that locked a file since removed tries again
on the file now at that path (else two runs could each hold a lock on a different file). The lock
file is opened without following a link and without truncating it, and must be a regular file of
this user's with no other name (bot.fsutil.open_lock_file): a link, a FIFO or a hard link planted
in its place (as root, a link to /etc/passwd) is refused before anything starts, left untouched."""
from __future__ import annotations

import fcntl
import json
import os
import sys
from datetime import datetime
from pathlib import Path

from .errors import Refused
from .fsutil import UnsafePath, open_lock_file
from .text import shorten


class SchoolLock:
    def __init__(self, state_dir: Path, school_id: str):
        self.path = Path(state_dir) / "locks" / f"{school_id}.lock"
        self.school_id = school_id
        self._handle = None
        self.taken_over: dict | None = None   # what a dead run had left in the lock file

    def acquire(self) -> "SchoolLock":
        for _ in range(ATTEMPTS):
            handle = self._open()
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read(handle)
                handle.close()
                raise Refused(f"Une autre exécution du bot travaille déjà sur l'école {self.school_id} "
                              f"({_describe(holder)}) : attendez qu'elle finisse, ou arrêtez-la, puis relancez. "
                              "Deux exécutions à la fois créeraient les comptes en double.") from None
            if _is_at_path(handle, self.path):
                break
            handle.close()   # removed by the run that held it, between our open and our lock
        else:
            raise Refused(f"Verrou de l'école {self.school_id} impossible à prendre ({self.path} sans cesse "
                          "remplacé) : une autre exécution démarre et s'arrête en boucle ; relancez.")
        previous = _read(handle)
        if previous.get("pid"):
            self.taken_over = previous     # its process is gone: the OS freed the lock
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "started": datetime.now().isoformat(timespec="seconds"),
                                 "command": shorten(" ".join(_shown_command(sys.argv)), 300)}))
        handle.flush()
        self._handle = handle
        return self

    def _open(self):
        try:
            return os.fdopen(open_lock_file(self.path), "r+", encoding="utf-8")
        except UnsafePath as exc:
            raise Refused(f"Verrou de l'école {self.school_id} refusé : {exc.message} Rien n'a été fait sur les "
                          "sites.") from None
        except OSError as exc:
            raise Refused(f"Verrou de l'école {self.school_id} impossible à créer ({self.path} : "
                          f"{exc.strerror or exc}) : vérifiez paths.state_dir.") from None

    def release(self) -> None:
        if self._handle is not None:
            try:
                self._handle.seek(0)
                self._handle.truncate()
                # Removed while still held, and only if the path is still this file: no other run
                # can hold a lock on it now, and one that opened it meanwhile will see it gone.
                if _is_at_path(self._handle, self.path):
                    self.path.unlink()
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


ATTEMPTS = 20


def _is_at_path(handle, path: Path) -> bool:
    """Whether `path` still names the file `handle` has open (a link to it does not)."""
    try:
        here, there = os.fstat(handle.fileno()), os.lstat(path)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _read(handle) -> dict:
    try:
        handle.seek(0)
        found = json.loads(handle.read(64 * 1024) or "{}")   # a lock holds a few hundred bytes
        return found if isinstance(found, dict) else {}
    except (OSError, ValueError):
        return {}


# Options whose value may hold a secret (a passcode tool's seed): never written to the lock, which
# another run reads and shows.
HIDDEN_VALUES = ("--otp-command",)


def _shown_command(argv: list[str]) -> list[str]:
    shown, hide_next = [], False
    for argument in argv:
        option = argument.split("=", 1)[0]
        if hide_next:
            shown.append("***")
        elif option in HIDDEN_VALUES and "=" in argument:
            shown.append(f"{option}=***")
        else:
            shown.append(argument)
        hide_next = argument in HIDDEN_VALUES
    return shown


def _describe(holder: dict) -> str:
    if not holder:
        return "processus inconnu"
    started = str(holder.get("started", "?")).replace("T", " à ")
    return f"processus {holder.get('pid', '?')}, démarré le {started}, commande « {holder.get('command', '?')} »"
