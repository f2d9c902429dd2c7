import signal
import sys

from .cli import main


def _stop(signum, frame):
    # SIGTERM (a service manager, `kill`) ends the run like Ctrl-C: what the journal holds was
    # written as it became true.
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _stop)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\nInterrompu par l'utilisateur.", file=sys.stderr)
        sys.exit(130)
