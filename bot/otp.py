"""One-time passcodes, typed by a person and never stored: asked on the terminal (no echo), got
from the operator's own tool (--otp-command), or typed by the operator in the browser (--headed).
A code is held in a Secret as soon as it is read, so every text leaving the bot is scrubbed of it.
Prompts of a batch come one school at a time."""
from __future__ import annotations

import contextlib
import getpass
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .errors import FlowFailed, Refused
from .interrupt import STOP
from .secrets import Secret, redact

_prompt_lock = threading.Lock()   # parallel schools: one prompt on the terminal at a time
COMMAND_TIMEOUT_S = 60
# Once the tool has exited, how long what it left behind may keep its output open (a code a
# background child still writes), and how long SIGTERM is given before SIGKILL.
LEFTOVER_GRACE_S = 2
TERM_GRACE_S = 2
# How often the wait for the tool looks at the operator's interruption (a batch's worker thread).
STOP_CHECK_S = 0.1
NOTHING_DONE = "Rien n'a été fait sur les sites."
NOTHING_WRITTEN = "Connexion abandonnée ; rien n'a été écrit sur les sites."


@dataclass
class OtpSource:
    command: str | None = None                      # --otp-command
    interactive: bool = False                       # a terminal the operator types on
    headed: bool = False                            # the operator sees the browser
    ask: Callable[[str], str] = getpass.getpass      # how the terminal is asked (tests replace it)

    @classmethod
    def for_this_process(cls, command: str | None, headed: bool) -> "OtpSource":
        return cls(command=command, interactive=sys.stdin.isatty(), headed=headed)

    def check_usable(self, what: str) -> None:
        """Before any click: a run that will need a passcode has a way to get one. The tool is
        only run at the login: here its command line and its program are checked, not run (it
        could ask for a push or spend a code)."""
        if self.command is not None:
            argv = _parse(self.command, NOTHING_DONE)
            problem = _why_not_runnable(argv[0], tool_environment())
            if problem:
                raise Refused(f"--otp-command : {problem} {NOTHING_DONE}")
            return
        if not (self.interactive or self.headed):
            raise Refused(f"{what} demande un passcode à usage unique, et personne ne peut le taper ici (pas de "
                          "terminal) : lancez le robot dans un terminal, avec --headed pour le taper dans le "
                          "navigateur, ou donnez --otp-command COMMANDE. Rien n'a été fait sur les sites.")

    @property
    def typed_in_browser(self) -> bool:
        """No command and no terminal: the operator types the code in the browser itself."""
        return self.command is None and not self.interactive and self.headed

    def code(self, prompt: str) -> Secret:
        if self.command is not None:
            return self._from_command()
        with _prompt_lock:
            value = self.ask(prompt).strip()
        if not value:
            raise FlowFailed("Aucun passcode saisi : connexion abandonnée.")
        return Secret(value)

    def _from_command(self) -> Secret:
        argv = _parse(self.command, NOTHING_WRITTEN)
        env = tool_environment()
        try:
            returncode, output = run_tool(argv, COMMAND_TIMEOUT_S, env)
        except OSError as exc:
            # Checked at pre-flight; the file may have changed since.
            problem = _why_not_runnable(argv[0], env) or f"impossible de lancer « {argv[0]} » ({exc.strerror or exc})."
            raise Refused(f"--otp-command : {problem} {NOTHING_WRITTEN}") from None
        except subprocess.TimeoutExpired:
            raise FlowFailed(f"--otp-command : pas de réponse en {COMMAND_TIMEOUT_S} s (le programme et ce qu'il "
                             "avait lancé ont été arrêtés).") from None
        lines = [line.strip() for line in output.splitlines() if line.strip()]
        if returncode != 0 or not lines:
            # Its output is never shown: it may hold the code.
            raise FlowFailed(f"--otp-command a échoué (code de sortie {returncode}"
                             f"{', aucune sortie' if not lines else ''}) ; sa sortie n'est pas montrée (elle peut "
                             "contenir le code) : lancez la commande vous-même pour voir.")
        return Secret(lines[-1])


def _parse(command: str, outcome: str) -> list[str]:
    try:
        argv = shlex.split(command)
    except ValueError:
        # The command is not echoed: it may hold a TOTP seed.
        raise Refused("--otp-command : guillemet ou apostrophe non fermé (ou « \\ » final) dans la commande ; "
                      "donnez-la entière entre apostrophes, par ex. « --otp-command 'sh /chemin/otp.sh' ». "
                      f"{outcome}") from None
    if not argv:
        raise Refused(f"--otp-command : commande vide. {outcome}")
    return argv


def tool_environment() -> dict[str, str]:
    """The bot's environment without any variable holding a secret the bot knows: the
    passwords of `password_env` are already taken out (take_environment_passwords); this also
    covers any other copy of them."""
    return {name: value for name, value in os.environ.items() if redact(value) == value}


def _why_not_runnable(program: str, env: dict[str, str]) -> str | None:
    """Why exec would refuse `program` (looked up in the PATH as subprocess does), in French;
    None when it looks runnable."""
    if "/" in program:
        candidates = [Path(program)]
    else:
        candidates = [Path(folder) / program for folder in os.get_exec_path(env)]
    first_problem = None
    for path in candidates:
        found = "" if path == Path(program) else f" (trouvé : {path})"
        if path.is_dir():
            first_problem = first_problem or f"« {program} »{found} est un dossier, pas un programme."
        elif path.exists():
            if os.access(path, os.X_OK):
                return _why_not_launchable(program, path)
            first_problem = first_problem or (
                f"le programme « {program} »{found} n'est pas exécutable (droits) : chmod +x {shlex.quote(str(path))}, "
                f"ou « --otp-command {_sh(path)} » pour un script shell.")
    if first_problem:
        return first_problem
    where = "ce chemin n'existe pas" if "/" in program else "absent de tous les dossiers du PATH"
    if "/" not in program and Path(program).is_file():
        # Unlike a shell's prompt, exec does not look in the current folder.
        where += f" ; pour celui du dossier courant, écrivez « ./{program} »"
    return f"le programme « {program} » est introuvable ({where})."


def _sh(path: Path) -> str:
    """The command line that runs a script through sh, quoted for the operator's shell."""
    return shlex.quote(f"sh {shlex.quote(str(path))}")


def _why_not_launchable(program: str, path: Path) -> str | None:
    """An executable file the kernel would still refuse: neither a binary nor a script whose
    first line (#!) names an interpreter that exists."""
    try:
        with path.open("rb") as file:
            head = file.readline(256)
    except OSError:
        return None   # executable but unreadable: a binary may still run; exec will tell
    if head.startswith(b"\x7fELF") or _other_formats_known():
        return None
    if not head.startswith(b"#!"):
        return (f"« {program} » n'est pas un programme que ce système sait lancer (ni binaire, ni script dont la "
                f"première ligne commence par « #! ») : ajoutez-lui une première ligne « #!/bin/sh » (ou celle de "
                f"son interpréteur), ou « --otp-command {_sh(path)} ».")
    # The kernel ends the interpreter's name at a space, a tab or the newline (not at a "\r").
    name = head[2:].split(b"\n")[0].lstrip(b" \t").replace(b"\t", b" ").split(b" ")[0]
    interpreter = name.decode(errors="replace")
    if interpreter.endswith("\r"):
        return (f"la première ligne de « {program} » finit par une fin de ligne Windows (CRLF) : son interpréteur "
                f"« {interpreter[:-1]} » n'est pas trouvé ; convertissez-le (par ex. « dos2unix {path} »).")
    if not interpreter or not os.access(interpreter, os.X_OK) or os.path.isdir(interpreter):
        return (f"l'interpréteur « {interpreter} » que nomme la première ligne (#!) de « {program} » est introuvable "
                "ou n'est pas exécutable.")
    return None


def _other_formats_known() -> bool:
    """binfmt_misc may teach the kernel other formats (qemu, Wine…): then only exec can tell."""
    with contextlib.suppress(OSError):
        return any(entry.name not in ("register", "status") for entry in Path("/proc/sys/fs/binfmt_misc").iterdir())
    return False


def run_tool(argv: list[str], timeout_s: float, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run the tool in its own session and return its exit code and output. Whatever happens
    (its answer, a timeout, Ctrl-C, SIGTERM, an error) its whole process group is ended, so
    nothing it started outlives it; stderr is dropped (never shown). Raises TimeoutExpired."""
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               env=env, start_new_session=True)
    chunks: list[bytes] = []
    # A thread reads the output, so that the tool's own exit is seen even if a child it left
    # keeps the pipe open.
    reader = threading.Thread(target=_read_all, args=(process.stdout, chunks), daemon=True)
    try:
        reader.start()
        _wait_unless_stopped(process, timeout_s)
        reader.join(LEFTOVER_GRACE_S)
    finally:
        end_session(process)
        if reader.ident is not None:
            reader.join(LEFTOVER_GRACE_S)   # the group is gone: its end of the pipe is closed
        if not reader.is_alive():
            process.stdout.close()
    return process.returncode, b"".join(chunks).decode(errors="replace")


def _wait_unless_stopped(process: subprocess.Popen, timeout_s: float) -> None:
    """Wait for the tool's exit, at most `timeout_s`; in a batch's worker thread, which Ctrl-C
    does not reach, the operator's interruption (bot.interrupt.STOP) ends the wait at once."""
    deadline = time.monotonic() + timeout_s
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise subprocess.TimeoutExpired(process.args, timeout_s)
        if STOP.wait(timeout=min(left, STOP_CHECK_S)):
            raise KeyboardInterrupt
        if process.poll() is not None:
            return


def _read_all(stream, chunks: list[bytes]) -> None:
    with contextlib.suppress(OSError, ValueError):
        while chunk := stream.read1(4096):
            chunks.append(chunk)


def end_session(process: subprocess.Popen, grace_s: float = TERM_GRACE_S) -> None:
    """SIGTERM to the tool's process group (its session: start_new_session), then SIGKILL
    after at most `grace_s`. Processes that left the session (daemons calling setsid) are out
    of reach."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        process.poll()
        return   # nothing left of the group
    except PermissionError:
        pass     # a member changed user (setuid): SIGKILL is tried all the same
    try:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace_s)
    finally:
        # The leader's exit says nothing of its children: the group is always killed.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace_s)
