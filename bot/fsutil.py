"""Files the bot opens on this machine (school exports, its configuration): regular files only."""
from __future__ import annotations

import os
import stat
from pathlib import Path


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
        kind = ("un tube nommé (FIFO)" if stat.S_ISFIFO(mode) else "un périphérique" if stat.S_ISCHR(mode) or
                stat.S_ISBLK(mode) else "une socket" if stat.S_ISSOCK(mode) else "un fichier spécial")
        return f"c'est {kind}, pas un fichier ordinaire"
    return None
