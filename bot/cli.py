"""Command line: the sub-commands, their options, and a handler each (`set_defaults(handler=…)`).
It knows no site and no school file: the composition root (bot/__main__.py) gives it the flows,
the school-file check and the demo in a `Catalogue`, and an `Environment` for its streams."""
from __future__ import annotations

import argparse
import getpass
import json
import sys
from importlib import metadata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Mapping, Sequence, TextIO

from . import report, secrets
from .config import BotConfig, load_config
from .errors import BotError, Refused
from .flow import Flow, RunOptions, Tracing
from .frenchargs import FrenchParser
from .status import ExitStatus
from .text import json_visible, visible

DEFAULT_CONFIG = Path("config.yaml")
CONFIG_ENV = "SACOCHE_BOT_CONFIG"


@dataclass
class Environment:
    """What a command reads and writes outside its arguments; tests build one directly."""
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    environ: Mapping[str, str] = field(default_factory=lambda: __import__("os").environ)
    cwd: Path = field(default_factory=Path.cwd)
    now: Callable[[], datetime] = datetime.now

    def out(self, text: str) -> None:
        print(text, file=self.stdout)

    def err(self, text: str) -> None:
        print(text, file=self.stderr)

    @property
    def interactive(self) -> bool:
        return bool(getattr(self.stdin, "isatty", lambda: False)())


@dataclass
class Catalogue:
    """What the composition root plugs into the engine's command line."""
    flows: Sequence[Flow]
    # check-files: (config, school, max bytes or None for the default) → a summary with
    # to_text() and to_json()
    check_files: Callable[[BotConfig, str, int | None], object]
    demo: Callable[[RunOptions, bool], int] | None = None   # (options, want_json) → exit code
    # The sites whose passwords the bot keeps, each with whose account it is (French), for the
    # help of `credentials` and `check-site`; the engine names none itself.
    accounts: Mapping[str, str] = field(default_factory=dict)

    def by_name(self) -> dict[str, Flow]:
        return {flow.name: flow for flow in self.flows}


PACKAGE = "sacoche-ent-bot"


def version_text() -> str:
    try:
        return f"{PACKAGE} {metadata.version(PACKAGE)}"
    except metadata.PackageNotFoundError:
        return f"{PACKAGE} (version inconnue : paquet non installé, lancé depuis ses sources)"


def build_parser(catalogue: Catalogue | None = None) -> argparse.ArgumentParser:
    parser = FrenchParser(prog="python -m bot",
                          description="Robot d'intégration d'un établissement dans SACoche avec l'ENT.")
    parser.add_argument("--version", action="version", version=version_text(),
                        help="afficher la version du robot et quitter")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMANDE",
                                     title="commandes")
    accounts = dict(catalogue.accounts) if catalogue else {}
    sites = ", ".join(accounts)
    accounts_help = "".join(f"{site} ({whose}), " for site, whose in accounts.items())

    def with_config(sub):
        sub.add_argument("--config", type=Path, default=None, metavar="FICHIER",
                         help=f"fichier YAML (défaut : ${CONFIG_ENV} ou ./config.yaml)")

    def with_browser(sub):
        sub.add_argument("--headed", action="store_true", help="montrer le navigateur (bandeau d'étape dans la page)")
        sub.add_argument("--slow-mo", type=int, default=None, metavar="MS",
                         help="ralentir chaque action de MS millisecondes")
        sub.add_argument("--step", nargs="?", const="flow", choices=["flow", "fine"], default=None,
                         help="attendre Entrée avant chaque étape (--step=fine : avant chaque étape de l'assistant)")
        sub.add_argument("--video", action="store_true", help="filmer la session (hors connexions)")
        sub.add_argument("--tracing", choices=[t.value for t in Tracing], default=Tracing.RETAIN_ON_FAILURE.value,
                         help="trace Playwright de chaque étape : on (toujours), off (jamais), retain-on-failure "
                              "(gardée seulement pour une étape en échec ; défaut)")
        sub.add_argument("--no-trace", action="store_const", dest="tracing", const=Tracing.OFF.value,
                         help="comme --tracing off")
        sub.add_argument("--mode", choices=["complet", "partiel"], default=None,
                         help="affichage des imports (défaut : celui que propose SACoche)")
        sub.add_argument("--json", action="store_true", help="rapport JSON sur la sortie standard")
        sub.add_argument("--quiet", action="store_true", help="n'afficher que le résultat")
        sub.add_argument("--otp-command", default=None, metavar="COMMANDE",
                         help="commande qui affiche un passcode à usage unique, au lieu de le demander")

    commands.add_parser("flows", help="lister les étapes disponibles").set_defaults(handler=list_flows)

    run = commands.add_parser("run", help="exécuter une étape pour une école (toujours, même déjà faite)")
    run.add_argument("flow", metavar="ÉTAPE", help="nom de l'étape (voir « flows »)")
    run.add_argument("--school", required=True, metavar="N", help="n° de base SACoche de l'école")
    with_config(run)
    with_browser(run)
    run.set_defaults(handler=run_flow)

    full = commands.add_parser("full-onboarding", help="tout le guide pour une ou plusieurs écoles, avec reprise")
    full.add_argument("--school", action="append", default=[], metavar="N", help="n° de base SACoche (répétable)")
    full.add_argument("--all", action="store_true", help="toutes les écoles de la configuration")
    full.add_argument("--from", dest="from_flow", metavar="ÉTAPE", help="commencer à cette étape")
    full.add_argument("--only", metavar="ÉTAPE[,ÉTAPE]", help="seulement ces étapes")
    full.add_argument("--force", action="store_true", help="refaire aussi les étapes déjà faites")
    full.add_argument("--parallel", type=int, default=1, metavar="N", help="écoles traitées en même temps")
    with_config(full)
    with_browser(full)
    full.set_defaults(handler=full_onboarding)

    creds = commands.add_parser("credentials", help="gérer les mots de passe dans le trousseau",
                                description="Enregistrer, vérifier ou supprimer le mot de passe d'un compte de "
                                            "l'école dans le trousseau de clés du système.")
    creds.add_argument("action", choices=["set", "status", "delete"],
                       help="set : enregistrer (lu sur l'entrée standard, ou demandé au clavier) ; status : dire "
                            "d'où il serait lu, sans le montrer ; delete : le supprimer du trousseau")
    creds.add_argument("--school", required=True, metavar="N", help="n° de base SACoche de l'école")
    creds.add_argument("--site", required=True, metavar="SITE",
                       help=f"le compte : {accounts_help}ou {secrets.SSO_PREFIX}<identifiant ENT> (un compte ENT de "
                            "vérification SSO, listé sous schools.N.sso_check)")
    creds.add_argument(secrets.ALLOW_PLAINTEXT_FLAG, dest="allow_plaintext_keyring", action="store_true",
                       help="set : accepter un trousseau qui garde le mot de passe en clair dans un fichier (le seul "
                            "disponible sans session graphique) ; sans cette option, il est refusé")
    with_config(creds)
    creds.set_defaults(handler=credentials)

    check = commands.add_parser("check-files",
                                help="vérifier les fichiers STS-Web et SIECLE d'une école, sans navigateur "
                                     "(avec --prevision : aussi ce que les étapes feraient, lu sur les sites)")
    check.add_argument("--school", required=True, metavar="N", help="n° de base SACoche de l'école")
    with_config(check)
    check.add_argument("--json", action="store_true", help="résumé JSON sur la sortie standard")
    check.add_argument("--max-file-mb", type=float, default=None, metavar="MO",
                       help="taille maximale d'un fichier, décompressé (défaut : 50 Mo)")
    check.add_argument("--prevision", action="store_true",
                       help="se connecter aux sites, sans rien y écrire, pour afficher ce que chaque étape "
                            "prévoit d'y faire")
    check.set_defaults(handler=check_files)

    site = commands.add_parser("check-site",
                               help="visiter les sites d'une école sans rien y écrire, et vérifier que chaque page "
                                    "a les éléments dont le robot a besoin (code 4 sinon)")
    site.add_argument("--school", required=True, metavar="N", help="n° de base SACoche de l'école")
    site.add_argument("--site", default=None, metavar="SITE",
                      help=f"seulement ce site ({sites})" if sites else "seulement ce site")
    with_config(site)
    site.add_argument("--headed", action="store_true", help="montrer le navigateur")
    site.add_argument("--slow-mo", type=int, default=None, metavar="MS", help="ralentir chaque action de MS millisecondes")
    site.add_argument("--otp-command", default=None, metavar="COMMANDE",
                      help="commande qui affiche un passcode à usage unique (ARENA), au lieu de le demander")
    site.add_argument("--json", action="store_true", help="résultat JSON sur la sortie standard")
    site.set_defaults(handler=check_site)

    demo = commands.add_parser("demo", help="tout exécuter contre les simulateurs locaux")
    with_browser(demo)
    demo.set_defaults(handler=run_demo)
    return parser


def main(argv: Sequence[str] | None, catalogue: Catalogue, env: Environment | None = None) -> int:
    env = env or Environment()
    args = build_parser(catalogue).parse_args(argv)
    want_json = getattr(args, "json", False)
    try:
        return int(args.handler(args, catalogue, env))
    except BotError as exc:
        message = secrets.redact(exc.message)
        env.err(f"Erreur : {message}")
        if want_json and isinstance(exc, Refused):
            env.out(report.refused_json(getattr(args, "school", None), message))
        return int(exc.exit_code)


def config_path(args, env: Environment) -> Path:
    if args.config is not None:
        return args.config
    if env.environ.get(CONFIG_ENV):
        return Path(env.environ[CONFIG_ENV])
    if (env.cwd / DEFAULT_CONFIG).exists():
        return env.cwd / DEFAULT_CONFIG
    raise Refused("Aucune configuration : indiquez --config FICHIER (modèle : config.example.yaml) "
                  f"ou créez ./config.yaml, ou définissez la variable {CONFIG_ENV}.")


def list_flows(args, catalogue: Catalogue, env: Environment) -> ExitStatus:
    for flow in catalogue.flows:
        env.out(f"{flow.name:24} {flow.title}")
    return ExitStatus.OK


def run_options(args, skip_finished: bool) -> RunOptions:
    return RunOptions(headed=args.headed, slow_mo_ms=args.slow_mo, mode=args.mode, step_mode=args.step,
                      video=args.video, tracing=Tracing(args.tracing), quiet=args.quiet,
                      skip_finished=skip_finished, force=getattr(args, "force", False),
                      otp_command=args.otp_command)


def run_demo(args, catalogue: Catalogue, env: Environment) -> int:
    if catalogue.demo is None:
        raise Refused("La démonstration n'est pas disponible dans cette installation.")
    return catalogue.demo(run_options(args, skip_finished=False), args.json)


def run_flow(args, catalogue: Catalogue, env: Environment) -> ExitStatus:
    flows = catalogue.by_name()
    if args.flow not in flows:
        raise Refused(f"Étape inconnue « {args.flow} » (étapes : {', '.join(flows)})")
    config = load_config(config_path(args, env))
    return execute(config, [args.school], [flows[args.flow]], args, env, skip_finished=False)


def choose_flows(args, catalogue: Catalogue) -> list[Flow]:
    names = [flow.name for flow in catalogue.flows]
    chosen = list(catalogue.flows)
    if args.only:
        wanted = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = [name for name in wanted if name not in names]
        if unknown:
            raise Refused(f"--only : étape(s) inconnue(s) {', '.join(unknown)} (étapes : {', '.join(names)})")
        chosen = [flow for flow in catalogue.flows if flow.name in wanted]   # always in the guide's order
    if args.from_flow:
        if args.from_flow not in names:
            raise Refused(f"--from : étape inconnue « {args.from_flow} » (étapes : {', '.join(names)})")
        chosen = [flow for flow in chosen if names.index(flow.name) >= names.index(args.from_flow)]
    if not chosen:
        raise Refused("Aucune étape à exécuter avec ces --only / --from.")
    return chosen


def full_onboarding(args, catalogue: Catalogue, env: Environment) -> ExitStatus:
    config = load_config(config_path(args, env))
    if args.all:
        schools = sorted(config.schools, key=int)
    else:
        twice = sorted({school for school in args.school if args.school.count(school) > 1})
        if twice:
            # Two runs of one school at once would create its accounts twice.
            raise Refused(f"École(s) nommée(s) deux fois dans --school : {', '.join(twice)} ; chaque école une "
                          "seule fois.")
        schools = list(args.school)
    if not schools:
        raise Refused("Indiquez --school N (répétable) ou --all.")
    for school in schools:
        config.school(school)
    if args.parallel < 1:
        raise Refused("--parallel : un nombre d'écoles positif est attendu.")
    return execute(config, schools, choose_flows(args, catalogue), args, env, skip_finished=True)


def execute(config: BotConfig, schools: list[str], flows: Sequence[Flow], args, env: Environment,
            skip_finished: bool) -> ExitStatus:
    from .runner import run_schools
    options = run_options(args, skip_finished)
    outcomes = run_schools(config, schools, flows, options, parallel=getattr(args, "parallel", 1))
    if len(outcomes) == 1 and outcomes[0].run is None and outcomes[0].refused:
        raise Refused(outcomes[0].refused)
    if args.json:
        reports = [report.as_dict(o.run) if o.run else {"school": o.school, "status": o.status.value,
                                                             "message": o.refused or o.failed, "flows": [],
                                                             "counts": {}}
                   for o in outcomes]
        env.out(json_visible(secrets.redacted_json(reports[0] if len(reports) == 1 else reports,
                                                   ensure_ascii=False, indent=2, default=str)))
    else:
        for outcome in outcomes:
            env.out(report.to_text(outcome.run) if outcome.run else
                    f"École {outcome.school} : {outcome.status.run_label} — {outcome.refused or outcome.failed}")
        if len(outcomes) > 1:
            env.out(report.summary_table(outcomes))
    return max(outcome.exit_code for outcome in outcomes)


def check_files(args, catalogue: Catalogue, env: Environment) -> ExitStatus:
    if args.max_file_mb is not None and args.max_file_mb <= 0:
        raise Refused(f"--max-file-mb : une taille positive est attendue, reçu {args.max_file_mb}")
    max_bytes = None if args.max_file_mb is None else int(args.max_file_mb * 1024 * 1024)
    config = load_config(config_path(args, env))
    summary = catalogue.check_files(config, args.school, max_bytes)
    if not args.prevision:
        env.out(summary.to_json() if args.json else summary.to_text())
        return ExitStatus.OK
    if not args.json:
        env.out(summary.to_text())
    forecasts = foresee(config, args.school, catalogue)
    if args.json:
        env.out(json_visible(secrets.redacted_json(
            {"files": json.loads(summary.to_json()), "forecasts": forecasts}, ensure_ascii=False, indent=2)))
    else:
        env.out(forecast_text(forecasts))
    return ExitStatus.FLOW_FAILED if any(f.get("impossible") for f in forecasts) else ExitStatus.OK


def foresee(config: BotConfig, school: str, catalogue: Catalogue) -> list[dict]:
    """Each flow's forecast for this school, read on the sites with nothing written: the
    journal, the sites and the school's files stay as they were."""
    from .runner import run_school
    foreseeing = [flow for flow in catalogue.flows if type(flow).forecast is not Flow.forecast]
    if not foreseeing:
        return []
    run = run_school(config, school, foreseeing, RunOptions(forecast_only=True, quiet=True))
    return run.forecasts


def forecast_text(forecasts: list[dict]) -> str:
    if not forecasts:
        return "Prévision : aucune étape n'a rien à prévoir pour cette école."
    lines = []
    for forecast in forecasts:
        lines.append(f"Prévision — {forecast['title']} :")
        lines += [f"    {line}" for line in forecast["lines"]]
    return visible(secrets.redact("\n".join(lines)))


def check_site(args, catalogue: Catalogue, env: Environment) -> ExitStatus:
    from .runner import check_sites
    from .site_check import exit_status, summary, table
    config = load_config(config_path(args, env))
    options = RunOptions(headed=args.headed, slow_mo_ms=args.slow_mo, otp_command=args.otp_command,
                         quiet=args.json)
    reports = check_sites(config, args.school, catalogue.flows, options, only=args.site)
    if args.json:
        env.out(json_visible(secrets.redacted_json({"school": args.school, "ok": all(r.ok for r in reports),
                                                    "sites": [r.as_dict() for r in reports]},
                                                   ensure_ascii=False, indent=2)))
    else:
        env.out(visible(secrets.redact(table(reports) + "\n" + summary(reports))))
    return exit_status(reports)


def credentials(args, catalogue: Catalogue, env: Environment) -> ExitStatus:
    config = load_config(config_path(args, env))
    config.school(args.school)
    # The sites are those the config declares; the engine names none of them.
    if args.site not in config.sites and not (args.site.startswith(secrets.SSO_PREFIX) and
                                              len(args.site) > len(secrets.SSO_PREFIX)):
        raise Refused(f"--site « {args.site} » : {', '.join(sorted(config.sites))} ou "
                      f"{secrets.SSO_PREFIX}<identifiant ENT> attendu.")
    if args.action == "status":
        env.out(f"École {args.school}, site {args.site} : {secrets.password_status(config, args.school, args.site)}")
        return ExitStatus.OK
    if args.action == "delete":
        removed = secrets.delete_password(args.school, args.site)
        env.out("Mot de passe supprimé du trousseau." if removed else "Aucun mot de passe à supprimer.")
        return ExitStatus.OK
    if env.interactive:
        # A keyring that would keep it in clear is said before the password is typed.
        secrets.check_keyring_for_storing(args.school, args.site, args.allow_plaintext_keyring)
        password = getpass.getpass(f"Mot de passe {args.site} de l'école {args.school} : ")
    else:
        password = env.stdin.readline().rstrip("\r\n")
    if not password:
        raise Refused("Mot de passe vide : rien n'a été enregistré.")
    where = secrets.set_password(args.school, args.site, password, allow_plaintext=args.allow_plaintext_keyring)
    env.out(f"Mot de passe {args.site} de l'école {args.school} enregistré {where}.")
    return ExitStatus.OK
