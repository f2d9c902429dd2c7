"""Full onboarding figures, measured as a user's run: the bot is `python -m bot full-onboarding`
in its own process, with the command line's defaults (traces `retain-on-failure`, screenshots),
and the simulators serve from this process.

1. one school of `--students` students, every flow of the guide: per flow, the bot's time, the
   simulators' server time for the requests made during that flow, and their ratio; the bot
   process's peak RSS (its VmHWM, read while it runs), and with its browser (peak PSS);
2. a batch: one school alone, then `--schools` N schools with `--parallel N` (SACoche flows,
   `--batch-students` each), and how the batch compares with one school; `--parallel 2,N` runs
   the batch once per level given (fresh schools each time), to see how many at a time a
   machine's cores can take; `--alone 3` takes the median of three lone schools as the
   reference.

The last line is `ratio bot/server: X.XX` for the run of part 1.

    python benchmarks/bench_onboarding.py [--students 60] [--schools 3] [--batch-students 60]
                                          [--parallel 2,3] [--alone 3]

Figures only: nothing here passes or fails on a duration.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SACOCHE_FLOWS = ["sacoche-auth-mode", "sacoche-class-levels", "sacoche-import-teachers", "sacoche-import-students",
                 "sacoche-import-parents"]
UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def year() -> int:
    today = date.today()
    return today.year if today.month >= 8 else today.year - 1


# What each process of the bot's tree is, from its command line: Chromium's by their --type.
PROCESS_KINDS = [("--type=renderer", "Chromium, rendu des pages"), ("--type=gpu-process", "Chromium, GPU (logiciel)"),
                 ("--type=utility", "Chromium, services (réseau…)"), ("--type=zygote", "Chromium, services (réseau…)"),
                 ("run-driver", "pilote Playwright (node)")]


def process_kind(command_line: bytes) -> str:
    for marker, kind in PROCESS_KINDS:
        if marker.encode() in command_line:
            return kind
    return "Chromium, processus principal" if b"chrom" in command_line else "autre"


class ProcessWatch:
    """While one process runs, every 50 ms: its peak resident memory (VmHWM, which only grows,
    so the last reading is the peak, give or take its last 50 ms), its own CPU time (its
    threads, not its children); every 250 ms, the CPU time of each process below it, by kind
    (last reading of each: a process's last 250 ms may be missed; the walk through /proc costs
    this process, which serves the simulators, little); every second, the memory of the bot and
    every process below it, as the sum of their proportional set sizes (PSS: a page shared by
    several of Chromium's processes counts once in all), whose highest reading is kept. Where a
    run spends the machine."""

    def __init__(self, pid: int):
        self.pid, self.kib, self.own_cpu_s, self.tree_pss_kib = pid, 0, 0.0, 0
        self._descendants: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    @staticmethod
    def _cpu(pid: int) -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _children(self) -> dict[int, list[int]]:
        tree: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                tree.setdefault(parent, []).append(int(entry.name))
        return tree

    def _watch(self) -> None:
        ticks = 0
        while not self._stop.is_set():
            try:
                for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        self.kib = max(self.kib, int(line.split()[1]))
                self.own_cpu_s = self._cpu(self.pid)
            except (OSError, ValueError):
                return
            ticks += 1
            if ticks % 5 == 1:
                below = self._read_descendants()
                if ticks % 20 == 1:
                    self.tree_pss_kib = max(self.tree_pss_kib, sum(map(self._pss_kib, [self.pid, *below])))
            self._stop.wait(0.05)

    @staticmethod
    def _pss_kib(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    return int(line.split()[1])
        except (OSError, ValueError):
            pass   # gone meanwhile
        return 0

    def _read_descendants(self) -> list[int]:
        tree, below = self._children(), []
        waiting = list(tree.get(self.pid, []))
        while waiting:
            pid = waiting.pop()
            below.append(pid)
            waiting += tree.get(pid, [])
        for pid in below:
            try:
                if pid in self._descendants:
                    kind = self._descendants[pid][0]
                else:
                    command_line = Path(f"/proc/{pid}/cmdline").read_bytes()
                    if not command_line:
                        continue   # caught between fork and exec: its kind is known next time
                    kind = process_kind(command_line)
                self._descendants[pid] = (kind, self._cpu(pid))
            except (OSError, ValueError):
                continue
        return below

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.kib / 1024

    def cpu_by_kind(self) -> dict[str, tuple[int, float]]:
        """Kind → (processes, CPU seconds), most first."""
        kinds: dict[str, tuple[int, float]] = {}
        for kind, seconds in self._descendants.values():
            count, total = kinds.get(kind, (0, 0.0))
            kinds[kind] = (count + 1, total + seconds)
        return dict(sorted(kinds.items(), key=lambda item: -item[1][1]))


@dataclass
class CliRun:
    report: dict
    wall_s: float
    peak_rss_mb: float
    tree_pss_mb: float        # the bot and its browsers together (see ProcessWatch)
    # CPU seconds. The machine's (/proc/stat) counts everything: Chromium's processes are not
    # all reaped through the bot, so the bot's children's rusage would miss them.
    machine_busy_s: float
    bot_python_s: float       # the bot's own Python process (its threads, not its children)
    simulators_s: float       # this process meanwhile: the simulators serving the bot
    below_bot: dict           # kind → (processes, CPU seconds) of the processes the bot started

    def cores(self, seconds: float) -> float:
        return seconds / self.wall_s if self.wall_s else 0.0

    def cpu_line(self) -> str:
        return (f"processeur : {self.cores(self.machine_busy_s):.2f} cœur(s) occupé(s) sur {os.cpu_count()} "
                f"(dont le processus Python du robot {self.bot_python_s:.1f} s, les simulateurs "
                f"{self.simulators_s:.1f} s ; le reste : Chromium et le pilote Playwright)")

    def processes_line(self) -> str:
        return "processus lancés par le robot : " + ", ".join(
            f"{kind} {seconds:.1f} s ({count})" for kind, (count, seconds) in self.below_bot.items())


def machine_cpu() -> tuple[float, float]:
    """(busy, idle) seconds of all the machine's cores so far (/proc/stat)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]   # idle, iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK"), idle / os.sysconf("SC_CLK_TCK")


def run_cli(args: list[str], config: Path, env: dict) -> CliRun:
    """One `python -m bot` run: its report.json, wall time, peak RSS and CPU time."""
    before_self = resource.getrusage(resource.RUSAGE_SELF)
    busy_before, _ = machine_cpu()
    started = time.perf_counter()
    with subprocess.Popen([sys.executable, "-m", "bot", *args, "--json", "--config", str(config)], cwd=REPO, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as bot:
        watch = ProcessWatch(bot.pid)
        out, err = bot.communicate()
        rss = watch.stop()
    wall = time.perf_counter() - started
    after_self = resource.getrusage(resource.RUSAGE_SELF)
    busy_after, _ = machine_cpu()
    if bot.returncode != 0:
        raise SystemExit(f"python -m bot {' '.join(args)} : code {bot.returncode}\n{err[-2000:]}")
    served = (after_self.ru_utime - before_self.ru_utime) + (after_self.ru_stime - before_self.ru_stime)
    return CliRun(json.loads(out), wall, rss, watch.tree_pss_kib / 1024, busy_after - busy_before, watch.own_cpu_s,
                  served, watch.cpu_by_kind())


def environment(tmp: Path) -> dict:
    """A keyring file of the benchmark's own, for this process and the bot's."""
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"
    os.environ["XDG_DATA_HOME"] = str(tmp / "xdg")
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}


def write_config(path: Path, overrides: dict) -> Path:
    import yaml

    from sim.demo import EXAMPLE_CONFIG
    from bot.config import deep_merge
    data = deep_merge(yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8")), overrides)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def flow_windows(report: dict) -> list[tuple[str, float, float]]:
    return [(flow["name"], datetime.fromisoformat(flow["started_at"]).timestamp(), flow["duration_s"])
            for flow in report["flows"]]


def one_school(students: int, tmp: Path, env: dict) -> float:
    from bot.secrets import set_password
    from sim import datagen
    from sim.demo import DEMO_SCHOOL, demo_overrides
    from sim.ent.seed import DEMO_ENT_ADMIN, demo_password
    from sim.seed import sso_check_logins
    from sim.server import Simulators, busy_seconds

    data = datagen.generate_school(datagen.SchoolSpec(uai=DEMO_SCHOOL.uai, year=year(), students=students,
                                                      teachers=max(8, students // 16), seed=7, support_staff=True))
    with Simulators(tmp / "sim-one", school_data=data) as sims:
        files = datagen.write_school_files(data, tmp / "files-one")
        checkers = sso_check_logins(data)
        overrides = demo_overrides(sims, checkers, tmp / "state-one")
        # The benchmark measures the onboarding from files at hand (ARENA needs a person's code).
        overrides["schools"][str(DEMO_SCHOOL.base)]["files"] = {key: str(path) for key, path in files.items()}
        overrides["paths"]["recordings_dir"] = str(tmp / "rec-one")
        config = write_config(tmp / "one.yaml", overrides)
        school = str(DEMO_SCHOOL.base)
        set_password(school, "sacoche", DEMO_SCHOOL.sacoche_admin_password)
        set_password(school, "ent", DEMO_ENT_ADMIN[1])
        for login in checkers:
            set_password(school, f"sso:{login}", demo_password(login))
        run = run_cli(["full-onboarding", "--school", school], config, env)
        report, wall, rss = run.report, run.wall_s, run.peak_rss_mb
        timers = (sims.sacoche.timing, sims.ent.timing)
        print(f"1. Intégration complète d'une école de {students} élèves, comme la ligne de commande "
              f"(options par défaut) : {report['status']}")
        print(f"   {'étape':26} {'robot':>8} {'serveurs':>9} {'rapport':>8}")
        total_served = 0.0
        shots = 0
        for name, start, duration in flow_windows(report):
            served = busy_seconds([interval for t in timers for interval in t.intervals_between(start, start + duration)])
            total_served += served
            print(f"   {name:26} {duration:7.2f}s {served:8.2f}s {duration / served if served else 0:8.2f}")
        shots = sum(1 for flow in report["flows"] if flow.get("screenshot"))
        print(f"   total : robot {wall:.1f} s de bout en bout (lancement compris), serveurs simulés {total_served:.1f} s")
        print(f"   captures d'écran : {shots}/{len(report['flows'])} étapes")
        print(f"   mémoire du processus du robot (pic RSS) : {rss:.0f} Mo ; avec son navigateur (pic PSS) : "
              f"{run.tree_pss_mb:.0f} Mo")
        print(f"   {run.cpu_line()}")
        print(f"   {run.processes_line()}")
        return wall / total_served if total_served else 0.0


def batch(schools: int, students: int, tmp: Path, env: dict, levels: list[int] | None = None,
          alone_runs: int = 1) -> None:
    from bot.secrets import set_password
    from sim import datagen
    from sim.server import Simulators

    with Simulators(tmp / "sim-batch") as sims:
        overrides = {"sites": {"sacoche": {"url": sims.sacoche_url}, "ent": {"url": sims.ent_url}},
                     "paths": {"recordings_dir": str(tmp / "rec-batch"), "state_dir": str(tmp / "state-batch")},
                     "schools": {}}
        levels = levels or [schools]
        ids = []
        # Fresh schools: the lone runs, then one batch per level.
        for number in range(alone_runs + schools * len(levels)):
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
        config = write_config(tmp / "batch.yaml", overrides)
        only = ["--only", ",".join(SACOCHE_FLOWS)]
        lone_runs = [run_cli(["full-onboarding", "--school", school, *only], config, env) for school in ids[:alone_runs]]
        # The median lone run: one sample alone swung the batch's ratio by a third.
        alone = sorted(lone_runs, key=lambda run: run.wall_s)[len(lone_runs) // 2]
        batches = []
        for index, level in enumerate(levels):
            chosen = ids[alone_runs + index * schools: alone_runs + (index + 1) * schools]
            many_args = ["full-onboarding", *[arg for school in chosen for arg in ("--school", school)],
                         "--parallel", str(level), *only]
            batches.append((level, run_cli(many_args, config, env)))
    print(f"2. Lot de {schools} écoles de {students} élèves (mode, niveaux, imports), comme la ligne de commande :")
    walls = ", ".join(f"{run.wall_s:.1f}" for run in lone_runs)
    print(f"   une école seule : {alone.wall_s:.1f} s ({alone.report['status']})"
          + (f", médiane de {len(lone_runs)} écoles ({walls} s)" if len(lone_runs) > 1 else ""))
    for level, many in batches:
        print(f"   {schools} écoles, --parallel {level} : {many.wall_s:.1f} s — {many.wall_s / alone.wall_s:.2f} fois le "
              f"temps d'une école, pour {schools} fois plus de travail (pic RSS du robot {many.peak_rss_mb:.0f} Mo, "
              f"avec ses navigateurs {many.tree_pss_mb:.0f} Mo)")
    for label, run in (("une école", alone), *((f"{schools} écoles, --parallel {level}", many) for level, many in batches)):
        print(f"   {label}, {run.cpu_line()}")
        print(f"   {label}, {run.processes_line()}")


def parallel_levels(text: str) -> list[int]:
    try:
        levels = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"« {text} » : des nombres séparés par des virgules, par exemple 2,10") from None
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError(f"« {text} » : chaque valeur doit être au moins 1")
    return levels


def main() -> int:
    from bot.frenchargs import FrenchParser
    parser = FrenchParser(description="Chiffres de l'intégration complète contre les simulateurs.")
    parser.add_argument("--students", type=int, default=60, help="élèves de l'école de la partie 1 (défaut : 60)")
    parser.add_argument("--schools", type=int, default=3, help="écoles du lot de la partie 2 (défaut : 3)")
    parser.add_argument("--batch-students", type=int, default=60, help="élèves de chaque école du lot (défaut : 60)")
    parser.add_argument("--parallel", type=parallel_levels, default=None,
                        help="valeur(s) de --parallel pour le lot, séparées par des virgules (défaut : le nombre d'écoles)")
    parser.add_argument("--alone", type=int, default=1, choices=range(1, 10), metavar="N",
                        help="écoles passées seules avant le lot, dont la médiane sert de référence (défaut : 1)")
    parser.add_argument("--no-batch", action="store_true", help="sans la partie 2")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = environment(Path(tmp))
        ratio = one_school(args.students, Path(tmp), env)
        if not args.no_batch:
            batch(args.schools, args.batch_students, Path(tmp), env, args.parallel, args.alone)
    print(f"ratio bot/server: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
