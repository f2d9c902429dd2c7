"""The files a run reads (the school's exports), copied into its folder with their SHA-256:
the report then says exactly what was imported, even once the originals are moved or
replaced by next year's."""
from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath
from typing import Iterable, Sequence

from .fsutil import UnsafePath, check_dir, copy_file
from .labels import Vocabulary
from .results import InputFile

INPUTS_DIR = "entrees"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def copy_inputs(run_dir: Path, inputs_by_flow: Iterable[tuple], known: Sequence[InputFile] = ()) -> list[InputFile]:
    """Each distinct file named by the flows' inputs, once, under run_dir/entrees/. A file that
    cannot be read or copied is listed without a copy rather than stopping the run: the flows
    have checked it in pre-flight, and will say themselves if it is unusable. Something planted
    where a copy goes (a link for entrees/ or for a copy) is never written through: UnsafePath. Each item of
    `inputs_by_flow` is (title, inputs) or (title, inputs, report_labels): a file's role is what
    the first flow reading it calls it, and every step that reads it is named. `known`: files
    already listed (a step of the run may hand the next ones new files: ARENA's exports, the
    ENT's); they stay first."""
    run_dir = Path(run_dir)
    listed = list(known)
    seen: dict[Path, InputFile] = {Path(item.source).resolve(): item for item in listed}
    used_names: set[str] = {PurePosixPath(item.copied).name for item in listed if item.copied.startswith(INPUTS_DIR)}
    for title, inputs, *labels in inputs_by_flow:
        words = Vocabulary(labels[0] if labels else None)
        for key, value in inputs.items():
            if not isinstance(value, Path) or not value.is_file():
                continue
            source = value.resolve()
            if source in seen:
                # One file, several steps (STS-Web: the class levels, then the teachers' import).
                if title not in seen[source].used_by:
                    seen[source].used_by.append(title)
                continue
            role = words.input(key)
            item = InputFile(role=role[:1].upper() + role[1:], source=str(value), used_by=[title])
            try:
                item.size = source.stat().st_size
                item.sha256 = sha256_of(source)
                if run_dir.resolve() in source.parents:   # produced by this run (the ENT export)
                    item.copied = source.relative_to(run_dir.resolve()).as_posix()
                    item.produced = True
                else:
                    name = _free_name(value.name, used_names)
                    target = check_dir(run_dir / INPUTS_DIR, create=True) / name
                    copy_file(source, target)
                    item.copied = f"{INPUTS_DIR}/{name}"
            except UnsafePath:
                raise
            except OSError:
                pass
            seen[source] = item
            listed.append(item)
    return listed


def _free_name(name: str, used: set[str]) -> str:
    stem, dot, suffix = name.partition(".")
    candidate, number = name, 2
    while candidate in used:
        candidate = f"{stem}-{number}{dot}{suffix}"
        number += 1
    used.add(candidate)
    return candidate
