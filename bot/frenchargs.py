"""argparse in French, for every command line of the project (the bot's, the simulators', the
file generator's): « utilisation : », « options : », « afficher cette aide et quitter », and its
usage errors translated, with exit code 2. Imports nothing of the engine but its exit codes, so
that the simulators may use it without loading the bot."""
from __future__ import annotations

import argparse
import re
import sys

from .status import ExitStatus

ARGPARSE_FRENCH = [
    (r"the following arguments are required: (.*)", r"arguments obligatoires manquants : \1"),
    (r"argument (\S+): invalid choice: (.*?) \(choose from (.*)\)", r"argument \1 : choix invalide \2 (possibles : \3)"),
    (r"argument (\S+): invalid int value: (.*)", r"argument \1 : nombre entier attendu, reçu \2"),
    (r"argument (\S+): invalid float value: (.*)", r"argument \1 : nombre attendu, reçu \2"),
    (r"argument (\S+): invalid \S+ value: (.*)", r"argument \1 : valeur invalide \2"),
    (r"unrecognized arguments: (.*)", r"arguments inconnus : \1"),
    (r"argument (\S+): expected one argument", r"argument \1 : une valeur est attendue"),
    (r"argument (\S+): expected at most one argument", r"argument \1 : une valeur au plus est attendue"),
    (r"argument (\S+): expected at least one argument", r"argument \1 : au moins une valeur est attendue"),
    (r"argument (\S+): expected (\d+) arguments?", r"argument \1 : \2 valeur(s) attendue(s)"),
    (r"argument (\S+): ignored explicit argument (.*)", r"argument \1 : valeur \2 non permise ici"),
    (r"argument (\S+): not allowed with argument (\S+)", r"argument \1 : impossible avec l'argument \2"),
    (r"ambiguous option: (\S+) could match (.*)", r"option ambiguë : \1 peut désigner \2"),
    (r"^argument (\S+): ", r"argument \1 : "),   # a type's own (French) refusal
]


def in_french(message: str) -> str:
    for pattern, french in ARGPARSE_FRENCH:
        message = re.sub(pattern, french, message)
    return message


class FrenchHelpFormatter(argparse.HelpFormatter):
    """argparse's frame in French: « utilisation : », « arguments : », « options : »."""

    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "utilisation : " if prefix is None else prefix)

    def start_section(self, heading):
        super().start_section(f"{heading} ")   # French puts a space before the colon


class FrenchParser(argparse.ArgumentParser):
    """An ArgumentParser whose help and errors are French; its sub-parsers are FrenchParsers too
    (argparse makes them of the parser's own class)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", FrenchHelpFormatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "arguments"
        self._optionals.title = "options"
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                          help="afficher cette aide et quitter")

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(ExitStatus.REFUSED, f"Erreur d'utilisation : {in_french(message)}\n")
