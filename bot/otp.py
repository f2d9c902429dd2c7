"""One-time passcodes, typed by a person and never stored: asked on the terminal (no echo), got
from the operator's own tool (--otp-command), or typed by the operator in the browser (--headed).
A code is held in a Secret as soon as it is read, so every text leaving the bot is scrubbed of it.
Prompts of a batch come one school at a time."""
from __future__ import annotations

import getpass
import os
import shlex
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import Callable

from .errors import FlowFailed, Refused
from .secrets import Secret

_prompt_lock = threading.Lock()   # parallel schools: one prompt on the terminal at a time
COMMAND_TIMEOUT_S = 60


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
        """Before any click: a run that will need a passcode has a way to get one."""
        if self.command is not None:
            if not shlex.split(self.command):
                raise Refused("--otp-command : commande vide.")
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
        try:
            done = subprocess.run(shlex.split(self.command), capture_output=True, text=True,
                                  timeout=COMMAND_TIMEOUT_S, env=dict(os.environ), stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise FlowFailed("--otp-command : commande introuvable.") from None
        except subprocess.TimeoutExpired:
            raise FlowFailed(f"--otp-command : pas de réponse en {COMMAND_TIMEOUT_S} s.") from None
        lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
        if done.returncode != 0 or not lines:
            # Its output is never shown: it may hold the code.
            raise FlowFailed(f"--otp-command a échoué (code de sortie {done.returncode}"
                             f"{', aucune sortie' if not lines else ''}).")
        return Secret(lines[-1])
