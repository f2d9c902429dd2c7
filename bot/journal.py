"""Per-school journal (under the state folder, never in the repo): the outcome of each flow, a
fingerprint of its inputs, what it verified, and the few facts a later run needs (such as where
the ENT export was saved). `full-onboarding` reads it to resume after a failure and to skip
finished flows whose inputs did not change. It never holds a secret: flows put only statuses,
counts, names of files and verified facts in it."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path

from .secrets import redact
from .status import Status


# Beyond this much unzipped data an archive is hashed as raw bytes (a zip bomb costs no time here;
# the file checks refuse it afterwards).
UNZIPPED_HASH_LIMIT = 256 * 1024 * 1024


def _file_digest(path: Path) -> bytes:
    # A zip archive counts by its members' names and contents: the same export zipped again
    # differs only in its timestamps, and must not look like a new input.
    try:
        members = hashlib.sha256(b"<zip>")
        unzipped = 0
        with zipfile.ZipFile(path) as archive:
            for info in sorted(archive.infolist(), key=lambda info: info.filename):
                members.update(info.filename.encode() + b"\0")
                with archive.open(info) as handle:
                    for block in iter(lambda: handle.read(1 << 20), b""):
                        unzipped += len(block)
                        if unzipped > UNZIPPED_HASH_LIMIT:
                            raise zipfile.BadZipFile("too large to hash unzipped")
                        members.update(block)
        return members.digest()
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError, ValueError):
        pass   # not a zip, or not one worth reading: its bytes as they are
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").digest()


def fingerprint(parts: dict) -> str:
    """A hash of a flow's inputs: file contents are hashed, other values taken as they are."""
    digest = hashlib.sha256()
    for key in sorted(parts):
        value = parts[key]
        digest.update(key.encode())
        if isinstance(value, Path):
            if value.is_file():
                digest.update(_file_digest(value))
            else:
                digest.update(b"<absent>")
        else:
            digest.update(json.dumps(value, sort_keys=True, default=str).encode())
    return digest.hexdigest()


class Journal:
    def __init__(self, state_dir: Path, school_id: str):
        self.path = Path(state_dir) / "journal" / f"{school_id}.json"
        self.school_id = school_id
        self.data = {"school": school_id, "flows": {}, "facts": {}}
        if self.path.is_file():
            try:
                self.data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                # A damaged journal only costs re-running flows, which are idempotent.
                self.data = {"school": school_id, "flows": {}, "facts": {}}

    def entry(self, flow: str) -> dict | None:
        return self.data["flows"].get(flow)

    def finished_with(self, flow: str, inputs: str) -> dict | None:
        """The journal entry when the flow finished with these very inputs, else None."""
        entry = self.entry(flow)
        if entry and entry.get("status") in (Status.DONE, Status.UNCHANGED) and entry.get("inputs") == inputs:
            return entry
        return None

    @property
    def facts(self) -> dict:
        return self.data.setdefault("facts", {})

    def record(self, flow: str, status: Status, inputs: str, summary: str, verified: dict, run_dir: Path) -> None:
        self.data["flows"][flow] = {
            "status": status.value, "inputs": inputs, "summary": summary, "verified": verified,
            "run_dir": str(run_dir), "at": datetime.now().isoformat(timespec="seconds"),
        }
        self.save()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = redact(json.dumps(self.data, ensure_ascii=False, indent=2, default=str))
        # Write then rename: a run killed mid-write must not leave half a journal.
        handle, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".journal-", suffix=".json")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())   # on disk before it replaces the old one
            os.replace(temp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        with contextlib.suppress(OSError):   # the rename itself, for a power cut
            folder = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
