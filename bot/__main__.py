"""`python -m bot`: the composition root. The engine (the rest of `bot/`) knows no site and no
school file; here it is given the flows of the guide, the school-file check and the demo."""
import signal
import sys

from .cli import Catalogue, main
from .errors import Refused
from .status import ExitStatus


def _check_files(config, school, max_bytes):
    from flows.sacoche.connectors import find_connector
    from schoolfiles import MAX_FILE_BYTES, check_school_files
    settings = config.school(school)
    # The ENT's export is read with the layout of the school's connector, as the run reads it.
    layout = find_connector(settings.ent_connector, settings.department).layout if settings.files.ent else None
    summary = check_school_files(config, school, max_bytes=MAX_FILE_BYTES if max_bytes is None else max_bytes,
                                 ent_layout=layout)
    if layout is None and settings.files.ent is not None:
        summary.warnings.append(f"le connecteur {settings.ent_connector} n'importe pas de fichier d'identifiants : "
                                f"l'extraction de l'ENT (schools.{school}.files.ent) n'est pas utilisée, ni vérifiée")
    return summary


def _demo(options, want_json):
    try:
        from sim.demo import run_demo
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] in ("flask", "werkzeug", "jinja2"):
            # A production install has no simulators: they come with the "sim" extra.
            raise Refused("La démonstration a besoin des simulateurs, absents de cette installation : "
                          "installez-les avec « .venv/bin/python -m pip install -e '.[sim]' ».") from None
        raise
    from flows import FLOWS
    return run_demo(FLOWS, options, want_json=want_json)


def catalogue() -> Catalogue:
    from flows import ACCOUNTS, FLOWS
    return Catalogue(flows=FLOWS, check_files=_check_files, demo=_demo, accounts=ACCOUNTS)


def _stop(signum, frame):
    # SIGTERM (a service manager, `kill`) ends the run like Ctrl-C: what the journal holds was
    # written as it became true.
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _stop)
    try:
        sys.exit(main(sys.argv[1:], catalogue()))
    except KeyboardInterrupt:
        print("\nInterrompu par l'utilisateur.", file=sys.stderr)
        sys.exit(ExitStatus.INTERRUPTED)
