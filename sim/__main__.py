"""`python -m sim`: start both simulators on loopback, write the demo school's files, and print
what to type to run the bot against them."""
from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

from bot.frenchargs import FrenchParser

from . import datagen
from .arena.app import DEMO_ARENA
from .ent.seed import DEMO_ENT_ADMIN, demo_password
from .seed import DEMO_SCHOOLS, sso_check_logins
from .server import Simulators


def main() -> int:
    parser = FrenchParser(prog="python -m sim", description="Simulateurs locaux de SACoche, de l'ENT et d'ARENA.")
    parser.add_argument("--host", default="127.0.0.1", metavar="ADRESSE", help="adresse d'écoute (boucle locale)")
    parser.add_argument("--sacoche-port", type=int, default=8801, metavar="PORT", help="port de SACoche (défaut : 8801)")
    parser.add_argument("--ent-port", type=int, default=8802, metavar="PORT", help="port de l'ENT (défaut : 8802)")
    parser.add_argument("--arena-port", type=int, default=8803, metavar="PORT", help="port d'ARENA (défaut : 8803)")
    parser.add_argument("--state", type=Path, default=Path("state/sim"), metavar="DOSSIER",
                        help="dossier de l'état SQLite (défaut : state/sim)")
    parser.add_argument("--reset", action="store_true", help="repartir d'un état neuf")
    parser.add_argument("--sacoche-faults", metavar="JSON", default=None,
                        help='pannes à simuler côté SACoche, ex. \'{"delay": [{"page": "administrateur_fichier_user", '
                             '"times": 100, "seconds": 2}]}\' (voir POST /_sim/faults)')
    parser.add_argument("--ent-faults", metavar="JSON", default=None,
                        help="pannes à simuler côté ENT, ex. '{\"ticket_ttl_s\": 0}'")
    args = parser.parse_args()
    if not args.host.startswith("127.") and args.host not in ("localhost", "::1"):
        parser.error("les simulateurs n'écoutent que sur la boucle locale (127.0.0.0/8)")
    if args.reset and args.state.exists():
        shutil.rmtree(args.state)
    faults = {}
    for name, text in (("sacoche", args.sacoche_faults), ("ent", args.ent_faults)):
        try:
            faults[name] = json.loads(text) if text else {}
        except ValueError as exc:
            parser.error(f"--{name}-faults : JSON invalide ({exc})")
    sims = Simulators(args.state, host=args.host, sacoche_port=args.sacoche_port, ent_port=args.ent_port,
                      arena_port=args.arena_port, quiet=False).start()
    for name, served in (("sacoche", sims.sacoche), ("ent", sims.ent)):
        if faults[name]:
            with served.app.test_client() as client:   # each simulator checks its fault set itself
                answer = client.post("/_sim/faults", json=faults[name])
            if answer.status_code != 200:
                sims.stop()
                parser.error(f"--{name}-faults refusé : {answer.get_json().get('error')}")
    files = datagen.write_school_files(sims.school_data, args.state / "fichiers")
    school = DEMO_SCHOOLS[0]
    print(f"SACoche simulé : {sims.sacoche_url}   (école {school.base}, administrateur {school.sacoche_admin_login} / "
          f"{school.sacoche_admin_password})", flush=True)
    print(f"ENT simulé     : {sims.ent_url}   (administrateur {DEMO_ENT_ADMIN[0]} / {DEMO_ENT_ADMIN[1]} ; "
          f"tout autre compte : mot de passe « ent-<identifiant> »)", flush=True)
    print(f"ARENA simulé   : {sims.arena_url}   (compte {DEMO_ARENA[0]}, mot de passe {DEMO_ARENA[1]} suivi du code "
          "qu'affiche « python -m sim.arena.otp »)", flush=True)
    print(f"Fichiers STS-Web / SIECLE de l'école : {files['sts'].parent.resolve()}", flush=True)
    logins = sso_check_logins(sims.school_data)
    print(f"Comptes ENT pour la vérification SSO : {', '.join(logins)} "
          f"(mots de passe {', '.join(demo_password(login) for login in logins)})", flush=True)
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
