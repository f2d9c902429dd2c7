"""Files on this machine. Read: the school's exports and the configuration, regular files only.
Written: every file the bot leaves (lock, journal, reports, screenshots, traces, videos,
downloads, copies of inputs, logs) goes through this module, which never writes through
anything it did not make. A file is written under a fresh name created with O_EXCL|O_NOFOLLOW
in its folder, then renamed over its final name: a rename replaces a name, it never follows a
link nor writes into another file (a hard link planted there keeps its content). Before that,
whatever stands at the final name must be a regular file of this user's: a symbolic link, a
FIFO, a device, a folder or another user's file is refused (UnsafePath) and left as it is.
The folders the bot makes below the configured ones (recordings/<school>/<run>, state/locks,
state/journal) must be real folders of this user's, never links: the configured folders
themselves may be links (an administrator's choice), nothing below them."""
from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import Iterator

CHUNK = 1 << 20


def regular_file_problem(path: Path) -> str | None:
    """Why `path` is not a regular file the bot may open without blocking, or None. A FIFO would
    block the read forever, a device (/dev/zero) never ends."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "fichier introuvable"
    except OSError as exc:
        return f"fichier inaccessible ({exc.strerror or exc.__class__.__name__})"
    if stat.S_ISDIR(mode):
        return "c'est un dossier, pas un fichier"
    if not stat.S_ISREG(mode):
        return f"c'est {_special_kind(mode)}, pas un fichier ordinaire"
    return None


def _special_kind(mode: int) -> str:
    return ("un tube nommé (FIFO)" if stat.S_ISFIFO(mode) else "un périphérique" if stat.S_ISCHR(mode) or
            stat.S_ISBLK(mode) else "une socket" if stat.S_ISSOCK(mode) else "un fichier spécial")


class UnsafePath(OSError):
    """Something the bot did not make stands where it writes: never followed, never touched. An
    OSError, so that a write meeting one mid-run ends the step like any failed write; `message`
    is the French sentence to show."""

    def __init__(self, path: Path | str, what: str, kept: Path | None = None):
        self.path, self.what, self.kept = Path(path), what, kept
        super().__init__(errno.EEXIST, f"{what}, que le robot n'a pas créé : refusé, laissé tel quel", str(path))

    @property
    def message(self) -> str:
        kept = f" Le fichier reçu est gardé dans « {self.kept} » (lisible par ce seul utilisateur)." if self.kept else ""
        return (f"« {self.path} » est {self.what}, que le robot n'a pas créé : il n'écrit pas au travers et le "
                f"laisse tel quel.{kept} Supprimez-le s'il n'a rien à faire là, puis relancez.")

    def __str__(self) -> str:
        return self.message


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def _foreign(path: Path, found: os.stat_result, folder: bool = False) -> str | None:
    """What makes `found` (the lstat of `path`) something the bot must not use, or None."""
    mode = found.st_mode
    if stat.S_ISLNK(mode):
        try:
            return f"un lien symbolique (vers « {os.readlink(path)} »)"
        except OSError:
            return "un lien symbolique"
    if folder and not stat.S_ISDIR(mode):
        return "un fichier, pas un dossier" if stat.S_ISREG(mode) else f"{_special_kind(mode)}, pas un dossier"
    if not folder and stat.S_ISDIR(mode):
        return "un dossier"
    if not folder and not stat.S_ISREG(mode):
        return _special_kind(mode)
    if found.st_uid != os.geteuid():
        return f"{'un dossier' if folder else 'un fichier'} d'un autre utilisateur (uid {found.st_uid})"
    return None


def check_dir(path: Path | str, create: bool = False) -> Path:
    """`path` is a folder of this user's, not a link; with `create`, made (that one level) when
    missing. Raises UnsafePath, or FileNotFoundError when missing and not `create`."""
    path = Path(path)
    found = _lstat(path)
    if found is None:
        if not create:
            raise FileNotFoundError(errno.ENOENT, "dossier introuvable", str(path))
        with contextlib.suppress(FileExistsError):   # made meanwhile: checked below like any other
            os.mkdir(path)   # never follows a link standing at `path`
        found = os.lstat(path)
    if stat.S_ISREG(found.st_mode):   # nothing can be written through it: a plain failure
        raise NotADirectoryError(errno.ENOTDIR, "un fichier porte ce nom, pas un dossier", str(path))
    problem = _foreign(path, found, folder=True)
    if problem:
        raise UnsafePath(path, problem)
    return path


def make_dirs(root: Path | str, *parts: str) -> Path:
    """root/part1/part2…, each part a folder of this user's (made when missing), never a link.
    `root` is a configured folder: it may be a link, and is followed."""
    path = Path(root)
    for part in parts:
        path = check_dir(path / part, create=True)
    return path


def new_dir(path: Path | str) -> Path:
    """A folder made now by the bot (the run folder): anything already at `path` is refused."""
    path = Path(path)
    try:
        os.mkdir(path)
    except FileExistsError:
        found = _lstat(path)
        raise UnsafePath(path, (_foreign(path, found) if found else None) or "un dossier déjà présent") from None
    return path


def refuse_foreign(path: Path | str) -> bool:
    """Raises UnsafePath when something other than a regular file of this user's stands at
    `path`; returns whether a file is there."""
    path = Path(path)
    found = _lstat(path)
    if found is None:
        return False
    problem = _foreign(path, found)
    if problem:
        raise UnsafePath(path, problem)
    return True


def _new_temp(folder: Path, name: str, private: bool) -> tuple[int, Path]:
    """A file created now, under a name nobody could have prepared, in `folder`."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    stem = name[:80]   # a file name, not text a person reads: a plain cut is fine
    for _ in range(100):
        temp = folder / f".{stem}.{os.urandom(6).hex()}.tmp"
        try:
            # Without `private`, the usual rights (the umask applies), as open() gave before.
            return os.open(temp, flags, 0o600 if private else 0o666), temp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "aucun nom temporaire libre", str(folder))


def _put_in_place(temp: Path, path: Path, durable: bool) -> None:
    refuse_foreign(path)   # checked again: what stands there now is what the rename replaces
    os.replace(temp, path)
    if durable:   # the rename itself, for a power cut
        with contextlib.suppress(OSError):
            folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)


def _write_via_temp(path: Path, chunks: Iterator[bytes], private: bool, durable: bool) -> Path:
    check_dir(path.parent)
    refuse_foreign(path)
    handle, temp = _new_temp(path.parent, path.name, private)
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
            if durable:
                out.flush()
                os.fsync(out.fileno())   # on disk before it replaces the old one
        _put_in_place(temp, path, durable)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return path


def write_file(path: Path | str, data: bytes | str, *, private: bool = False, append: bool = False,
               durable: bool = False) -> Path:
    """Write `data` (text in UTF-8) as the file `path`, in a folder of this user's: a new file, or
    one the bot wrote before, replaced whole (`append`: kept, `data` added after it). Never
    through a link, into a FIFO or device, or into another user's file: UnsafePath. `private`:
    readable by this user only (passwords); `durable`: on disk when this returns."""
    path = Path(path)
    body = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    before = read_own(path) if append and refuse_foreign(path) else b""
    return _write_via_temp(path, iter((before, body)), private, durable)


def read_own(path: Path | str, limit: int | None = None) -> bytes:
    """The content of a file the bot wrote (its journal, its log), read without following a
    link nor blocking on a FIFO; at most `limit` + 1 bytes (the caller tells a file too large)."""
    path = Path(path)
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            refuse_foreign(path)
        raise
    try:
        problem = _foreign(path, os.fstat(handle))   # before any read: a folder, a FIFO, a device
        if problem:
            raise UnsafePath(path, problem)
    except BaseException:
        os.close(handle)
        raise
    with os.fdopen(handle, "rb") as source:
        return source.read() if limit is None else source.read(limit + 1)


def copy_file(source: Path | str, target: Path | str, *, private: bool = False) -> Path:
    """A copy of `source` (an input the configuration names: a link there is followed, on
    purpose) written as `target` like write_file. Only a regular file is read."""
    with open(os.open(source, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC), "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, f"{_special_kind(mode) if not stat.S_ISDIR(mode) else 'un dossier'}, "
                                        "pas un fichier ordinaire", str(source))
        return _write_via_temp(Path(target), iter(lambda: handle.read(CHUNK), b""), private, durable=False)


def place_file(source: Path | str, target: Path | str, *, private: bool = False) -> Path:
    """Move a file the browser wrote in one of the bot's private folders (private_dir) to
    `target`, like write_file: renamed when on the same disk, else copied."""
    source, target = Path(source), Path(target)
    found = os.lstat(source)
    if not stat.S_ISREG(found.st_mode):
        raise UnsafePath(source, _foreign(source, found) or _special_kind(found.st_mode))
    if private:
        os.chmod(source, 0o600)   # a regular file (checked above) in the bot's own private folder
    check_dir(target.parent)
    try:
        _put_in_place(source, target, durable=False)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        copy_file(source, target, private=private)
        os.unlink(source)
    return target


def private_dir(prefix: str, near: Path | str | None = None) -> Path:
    """A folder only this user can enter (mkdtemp: 0700, a fresh name), for what Playwright
    writes itself before the bot moves it into place. Made in `near` when it is a folder of this
    user's (the run folder: the move is then a rename), else in the system's temporary folder."""
    where = None
    if near is not None:
        with contextlib.suppress(OSError):
            where = check_dir(near)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=where))


def safe_name(name: str | None, default: str) -> str:
    """A name a site gave to a file (a download's), as one plain name in the bot's folder:
    never a path, never `.` or `..`, no control character."""
    text = "".join(c for c in str(name or "") if c.isprintable()).replace("\\", "/").rsplit("/", 1)[-1].strip()
    return text[:200] if text not in ("", ".", "..") else default


def open_lock_file(path: Path | str) -> int:
    """The lock file of a run, opened read-write without truncating it (a dead run's lock is taken
    over, and its content read first), in a folder of this user's made when missing. It must be a
    regular file of this user's with no other name: a link, a FIFO, a device or a hard link to
    another file is refused (UnsafePath) and left as it is."""
    path = Path(path)
    check_dir(path.parent, create=True)
    refuse_foreign(path)
    try:
        # 0600: it names the running command, for this user's eyes only.
        handle = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC,
                         0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:   # a link put there since the check above
            refuse_foreign(path)
        raise
    try:
        found = os.fstat(handle)
        problem = _foreign(path, found) or ("un fichier qui a aussi un autre nom (lien physique)"
                                            if found.st_nlink != 1 else None)
        if problem:
            raise UnsafePath(path, problem)
        os.set_blocking(handle, True)
    except BaseException:
        os.close(handle)
        raise
    return handle
