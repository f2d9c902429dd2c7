"""`python -m sim`: start the simulators on loopback and print their URLs."""
from __future__ import annotations

import argparse
import shutil
import threading
from pathlib import Path

from .server import Simulators


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m sim", description="Simulateurs locaux de SACoche et de l'ENT.")
    parser.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (boucle locale)")
    parser.add_argument("--sacoche-port", type=int, default=8801)
    parser.add_argument("--state", type=Path, default=Path("state/sim"), help="dossier de l'état SQLite")
    parser.add_argument("--reset", action="store_true", help="repartir d'un état neuf")
    args = parser.parse_args()
    if not args.host.startswith("127.") and args.host not in ("localhost", "::1"):
        parser.error("les simulateurs n'écoutent que sur la boucle locale (127.0.0.0/8)")
    if args.reset and args.state.exists():
        shutil.rmtree(args.state)
    sims = Simulators(args.state, host=args.host, sacoche_port=args.sacoche_port,
                      quiet=False).start()
    print(f"SACoche simulé : {sims.sacoche_url}", flush=True)
    print(f"État : {args.state.resolve()}  (Ctrl-C pour arrêter)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sims.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
