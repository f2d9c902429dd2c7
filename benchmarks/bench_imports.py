"""Times the three SACoche imports of a generated 2,000-student school against the simulator and
prints the bot's wall time beside the simulator's own server time (the ratio is the figure: how
much the browser and the bot add to what the site itself costs).

    python benchmarks/bench_imports.py [--students 2000] [--teachers 120]
"""
from __future__ import annotations

import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import keyring

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import load_config  # noqa: E402
from bot.flow import Tracing  # noqa: E402
from bot.frenchargs import FrenchParser  # noqa: E402
from bot.runner import RunOptions, run_school  # noqa: E402
from bot.secrets import set_password  # noqa: E402
from flows import by_name  # noqa: E402
from sim import datagen  # noqa: E402
from sim.demo import DEMO_SCHOOL, EXAMPLE_CONFIG, InMemoryKeyring  # noqa: E402
from sim.server import Simulators  # noqa: E402

# The class levels first: the simulated school starts, like a real new one, without any.
IMPORTS = ["sacoche-class-levels", "sacoche-import-teachers", "sacoche-import-students", "sacoche-import-parents"]


def main() -> int:
    parser = FrenchParser(description="Mesure les imports d'un grand établissement contre les simulateurs.")
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--teachers", type=int, default=120)
    args = parser.parse_args()
    today = date.today()
    year = today.year if today.month >= 8 else today.year - 1
    flows = by_name()
    with tempfile.TemporaryDirectory() as tmp, Simulators(Path(tmp) / "sim") as sims:
        data = datagen.generate_school(datagen.SchoolSpec(uai=DEMO_SCHOOL.uai, year=year, students=args.students,
                                                          teachers=args.teachers, seed=2000, support_staff=True))
        files = datagen.write_school_files(data, Path(tmp) / "files")
        config = load_config(EXAMPLE_CONFIG, overrides={
            "sites": {"sacoche": {"url": sims.sacoche_url}},
            "paths": {"recordings_dir": str(Path(tmp) / "recordings"), "state_dir": str(Path(tmp) / "state")},
            "schools": {str(DEMO_SCHOOL.base): {"files": {k: str(v) for k, v in files.items()}}}})
        keyring.set_keyring(InMemoryKeyring())
        set_password(str(DEMO_SCHOOL.base), "sacoche", DEMO_SCHOOL.sacoche_admin_password)
        print(f"École générée : {args.students} élèves, {args.teachers} enseignants "
              f"({sum(len(p.read_bytes()) for p in files.values()) / 1e6:.1f} Mo de XML)")
        print(f"{'étape':28} {'bot (s)':>8} {'étape (s)':>9} {'serveur (s)':>11} {'requêtes':>9} {'ratio':>6}")
        total_bot = total_server = 0.0
        for name in IMPORTS:
            served_before, requests_before = sims.sacoche.timing.seconds, sims.sacoche.timing.requests
            started = time.perf_counter()
            run = run_school(config, str(DEMO_SCHOOL.base), [flows[name]], RunOptions(quiet=True, tracing=Tracing.OFF))
            wall = time.perf_counter() - started
            served = sims.sacoche.timing.seconds - served_before
            requests = sims.sacoche.timing.requests - requests_before
            status = run.flows[0].status
            print(f"{name:28} {wall:8.1f} {run.flows[0].duration_s:9.1f} {served:11.2f} {requests:9d} "
                  f"{wall / served if served else float('nan'):6.1f}  {status}")
            total_bot += wall
            total_server += served
        print(f"{'total':28} {total_bot:8.1f} {'':9} {total_server:11.2f} {'':9} {total_bot / total_server:6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
