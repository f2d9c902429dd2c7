"""Full onboarding figures, against the simulators:
1. one 2,000-student school, every flow of the guide: the bot's wall time beside the simulators'
   own server time;
2. N schools (default 10) at once with --parallel N, beside one school alone (SACoche flows,
   smaller schools): how well the batch overlaps.

    python benchmarks/bench_onboarding.py [--students 2000] [--schools 10] [--batch-students 150]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import keyring

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import load_config  # noqa: E402
from bot.runner import RunOptions, run_school, run_schools  # noqa: E402
from bot.secrets import set_password  # noqa: E402
from flows import FLOWS, by_name  # noqa: E402
from sim import datagen  # noqa: E402
from sim.demo import DEMO_SCHOOL, EXAMPLE_CONFIG, InMemoryKeyring  # noqa: E402
from sim.ent.seed import DEMO_ENT_ADMIN, demo_password  # noqa: E402
from sim.seed import sso_check_logins  # noqa: E402
from sim.server import Simulators  # noqa: E402

SACOCHE_FLOWS = ["sacoche-auth-mode", "sacoche-class-levels", "sacoche-import-teachers", "sacoche-import-students",
                 "sacoche-import-parents"]
UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def year() -> int:
    today = date.today()
    return today.year if today.month >= 8 else today.year - 1


def server_seconds(sims: Simulators) -> float:
    return sims.sacoche.timing.seconds + sims.ent.timing.seconds


def one_big_school(students: int, tmp: Path) -> None:
    data = datagen.generate_school(datagen.SchoolSpec(uai=DEMO_SCHOOL.uai, year=year(), students=students,
                                                      teachers=max(8, students // 16), seed=7, support_staff=True))
    with Simulators(tmp / "sim-big", school_data=data) as sims:
        files = datagen.write_school_files(data, tmp / "files-big")
        checkers = sso_check_logins(data)
        config = load_config(EXAMPLE_CONFIG, overrides={
            "sites": {"sacoche": {"url": sims.sacoche_url}, "ent": {"url": sims.ent_url}},
            "paths": {"recordings_dir": str(tmp / "rec-big"), "state_dir": str(tmp / "state-big")},
            "schools": {"123": {"files": {k: str(v) for k, v in files.items()},
                                "sso_check": [{"login": login} for login in checkers]}}})
        set_password("123", "sacoche", DEMO_SCHOOL.sacoche_admin_password)
        set_password("123", "ent", DEMO_ENT_ADMIN[1])
        for login in checkers:
            set_password("123", f"sso:{login}", demo_password(login))
        before = server_seconds(sims)
        started = time.perf_counter()
        run = run_school(config, "123", FLOWS, RunOptions(quiet=True))
        wall = time.perf_counter() - started
        served = server_seconds(sims) - before
    print(f"1. Intégration complète, {students} élèves : {run.status}")
    for flow in run.flows:
        print(f"   {flow.name:26} {flow.duration_s:7.1f} s  {flow.status}")
    print(f"   bot {wall:.1f} s (navigateur compris) — serveurs simulés {served:.1f} s — rapport {wall / served:.1f}")


def batch(schools: int, students: int, tmp: Path) -> None:
    with Simulators(tmp / "sim-batch") as sims:
        overrides = {"sites": {"sacoche": {"url": sims.sacoche_url}, "ent": {"url": sims.ent_url}},
                     "paths": {"recordings_dir": str(tmp / "rec-batch"), "state_dir": str(tmp / "state-batch")},
                     "schools": {}}
        ids = []
        for number in range(schools + 1):   # one alone, then the others together, all fresh
            base = 200 + number
            digits = f"{341300 + number:07d}"
            uai = digits + UAI_LETTERS[int(digits) % 23]
            sims.sacoche_store.add_school(base, f"Collège n°{base} (banc d'essai)", uai)
            sims.sacoche_store.add_user(base, "ADM", "admin.bench", f"bench-{base}", nom="ADMIN", prenom="Banc")
            data = datagen.generate_school(datagen.SchoolSpec(uai=uai, year=year(), students=students, teachers=6,
                                                              seed=base))
            files = datagen.write_school_files(data, tmp / f"files-{base}")
            overrides["schools"][str(base)] = {
                "name": f"Collège n°{base}", "uai": uai, "department": "34",
                "accounts": {"sacoche": {"login": "admin.bench"}},
                "files": {k: str(v) for k, v in files.items()}}
            set_password(str(base), "sacoche", f"bench-{base}")
            ids.append(str(base))
        config = load_config(EXAMPLE_CONFIG, overrides=overrides)
        flows = [by_name()[name] for name in SACOCHE_FLOWS]
        started = time.perf_counter()
        alone = run_schools(config, ids[:1], flows, RunOptions(quiet=True, trace=False))
        one = time.perf_counter() - started
        started = time.perf_counter()
        together = run_schools(config, ids[1:], flows, RunOptions(quiet=True, trace=False), parallel=schools)
        many = time.perf_counter() - started
    print(f"2. Lot de {schools} écoles de {students} élèves (mode, imports) :")
    print(f"   une école seule : {one:.1f} s ({alone[0].status})")
    print(f"   {schools} écoles, --parallel {schools} : {many:.1f} s "
          f"({sum(o.status == 'success' for o in together)}/{schools} réussies) — "
          f"{many / one:.1f} fois le temps d'une école, pour {schools} fois plus de travail")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--schools", type=int, default=10)
    parser.add_argument("--batch-students", type=int, default=150)
    args = parser.parse_args()
    keyring.set_keyring(InMemoryKeyring())
    with tempfile.TemporaryDirectory() as tmp:
        one_big_school(args.students, Path(tmp))
        batch(args.schools, args.batch_students, Path(tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
