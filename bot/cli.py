"""Command line: sub-commands and options only; the work is done in runner, secrets and demo."""
from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
from pathlib import Path

from . import report, secrets
from .config import BotConfig, load_config
from .errors import EXIT_OK, EXIT_REFUSED, BotError, Refused

DEFAULT_CONFIG = Path("config.yaml")
CONFIG_ENV = "SACOCHE_BOT_CONFIG"

ARGPARSE_FRENCH = [
    (r"the following arguments are required: (.*)", r"arguments obligatoires manquants : \1"),
    (r"argument (\S+): invalid choice: (.*?) \(choose from (.*)\)", r"argument \1 : choix invalide \2 (possibles : \3)"),
    (r"argument (\S+): invalid int value: (.*)", r"argument \1 : nombre entier attendu, reçu \2"),
    (r"argument (\S+): invalid float value: (.*)", r"argument \1 : nombre attendu, reçu \2"),
    (r"unrecognized arguments: (.*)", r"arguments inconnus : \1"),
    (r"argument (\S+): expected one argument", r"argument \1 : une valeur est attendue"),
]


class FrenchParser(argparse.ArgumentParser):
    def error(self, message: str):
        for pattern, french in ARGPARSE_FRENCH:
            message = re.sub(pattern, french, message)
        self.print_usage(sys.stderr)
        self.exit(EXIT_REFUSED, f"Erreur d'utilisation : {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = FrenchParser(prog="python -m bot",
                          description="Robot d'intégration d'un établissement dans SACoche avec l'ENT.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=FrenchParser)

    def with_config(sub):
        sub.add_argument("--config", type=Path, default=None,
                         help=f"fichier YAML (défaut : ${CONFIG_ENV} ou ./config.yaml)")

    def with_browser(sub):
        sub.add_argument("--headed", action="store_true", help="montrer le navigateur")
        sub.add_argument("--slow-mo", type=int, default=None, metavar="MS",
                         help="ralentir chaque action de MS millisecondes")
        sub.add_argument("--json", action="store_true", help="rapport JSON sur la sortie standard")

    commands.add_parser("flows", help="lister les étapes disponibles")

    run = commands.add_parser("run", help="exécuter une étape pour une école")
    run.add_argument("flow", help="nom de l'étape (voir « flows »)")
    run.add_argument("--school", required=True, help="n° de base SACoche de l'école")
    run.add_argument("--mode", choices=["complet", "partiel"], default=None,
                     help="affichage de l'import (défaut : celui que propose le site)")
    with_config(run)
    with_browser(run)

    creds = commands.add_parser("credentials", help="gérer les mots de passe dans le trousseau")
    creds.add_argument("action", choices=["set", "status", "delete"])
    creds.add_argument("--school", required=True)
    creds.add_argument("--site", required=True, metavar="sacoche|ent|sso:IDENTIFIANT",
                       help="site du compte, ou sso:<identifiant ENT> pour un compte de vérification SSO")
    with_config(creds)

    check = commands.add_parser("check-files",
                                help="vérifier les fichiers STS-Web et SIECLE d'une école, sans navigateur")
    check.add_argument("--school", required=True, help="n° de base SACoche de l'école")
    with_config(check)
    check.add_argument("--json", action="store_true", help="résumé JSON sur la sortie standard")
    check.add_argument("--max-file-mb", type=float, default=None, metavar="MO",
                       help="taille maximale d'un fichier, décompressé (défaut : 50 Mo)")

    demo = commands.add_parser("demo", help="tout exécuter contre les simulateurs locaux")
    with_browser(demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    want_json = getattr(args, "json", False)
    try:
        if args.command == "flows":
            return list_flows()
        if args.command == "run":
            return run_flow(args)
        if args.command == "credentials":
            return credentials(args)
        if args.command == "check-files":
            return check_files(args)
        if args.command == "demo":
            from sim.demo import run_demo   # the simulators are only needed for the demo
            return run_demo(headed=args.headed, slow_mo_ms=args.slow_mo, want_json=want_json)
    except BotError as exc:
        message = secrets.redact(exc.message)
        print(f"Erreur : {message}", file=sys.stderr)
        if want_json and isinstance(exc, Refused):
            print(report.refused_json(getattr(args, "school", None), message))
        return exc.exit_code
    return EXIT_REFUSED


def config_path(args) -> Path:
    if args.config is not None:
        return args.config
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    if DEFAULT_CONFIG.exists():
        return DEFAULT_CONFIG
    raise Refused("Aucune configuration : indiquez --config FICHIER (modèle : config.example.yaml) "
                  f"ou créez ./config.yaml, ou définissez la variable {CONFIG_ENV}.")


def list_flows() -> int:
    from flows import FLOWS
    for flow in FLOWS:
        print(f"{flow.name:24} {flow.title}")
    return EXIT_OK


def run_flow(args) -> int:
    from flows import by_name
    flows = by_name()
    if args.flow not in flows:
        raise Refused(f"Étape inconnue « {args.flow} » (étapes : {', '.join(flows)})")
    config = load_config(config_path(args))
    return execute(config, args.school, [flows[args.flow]], args)


def execute(config: BotConfig, school_id: str, flows, args) -> int:
    from .runner import run_school
    say = (lambda message: print(secrets.redact(message), file=sys.stderr))
    options = {"mode": args.mode} if getattr(args, "mode", None) else {}
    run = run_school(config, school_id, flows, headed=args.headed, slow_mo_ms=args.slow_mo, say=say,
                     options=options)
    if args.json:
        print(report.to_json(run))
    else:
        print(report.to_text(run))
    return run.exit_code


def check_files(args) -> int:
    from .files import MAX_FILE_BYTES, check_school_files
    if args.max_file_mb is not None and args.max_file_mb <= 0:
        raise Refused(f"--max-file-mb : une taille positive est attendue, reçu {args.max_file_mb}")
    max_bytes = MAX_FILE_BYTES if args.max_file_mb is None else int(args.max_file_mb * 1024 * 1024)
    config = load_config(config_path(args))
    summary = check_school_files(config, args.school, max_bytes=max_bytes)
    print(summary.to_json() if args.json else summary.to_text())
    return EXIT_OK


def credentials(args) -> int:
    config = load_config(config_path(args))
    config.school(args.school)
    if args.site not in ("sacoche", "ent") and not (args.site.startswith(secrets.SSO_PREFIX) and
                                                   len(args.site) > len(secrets.SSO_PREFIX)):
        raise Refused(f"--site « {args.site} » : sacoche, ent ou sso:<identifiant ENT> attendu.")
    if args.action == "status":
        print(f"École {args.school}, site {args.site} : {secrets.password_status(config, args.school, args.site)}")
        return EXIT_OK
    if args.action == "delete":
        removed = secrets.delete_password(args.school, args.site)
        print("Mot de passe supprimé du trousseau." if removed else "Aucun mot de passe à supprimer.")
        return EXIT_OK
    if sys.stdin.isatty():
        password = getpass.getpass(f"Mot de passe {args.site} de l'école {args.school} : ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise Refused("Mot de passe vide : rien n'a été enregistré.")
    secrets.set_password(args.school, args.site, password)
    print(f"Mot de passe {args.site} de l'école {args.school} enregistré dans le trousseau "
          f"(service {secrets.SERVICE}).")
    return EXIT_OK
