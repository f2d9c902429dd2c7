"""How long checking a large school's files takes, and how much memory it needs at its peak.

    python benchmarks/bench_parse.py [--students 2000] [--teachers 120]

Generates a synthetic collège (sim.datagen) in a temporary folder, runs check_school_files on
its three exports, and prints the figures. Not a test: nothing is asserted.
"""
from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import load_config  # noqa: E402
from bot.frenchargs import FrenchParser  # noqa: E402
from schoolfiles import check_school_files, school_year  # noqa: E402
from sim.datagen import TRAPS, SchoolSpec, expected_counts, generate_school, write_school_files  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = FrenchParser(description="Mesure la vérification des fichiers d'un grand établissement.")
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--teachers", type=int, default=120)
    args = parser.parse_args()
    year = school_year(date.today())
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        data = generate_school(SchoolSpec(uai="0341234G", year=year, students=args.students, teachers=args.teachers,
                                          seed=1, traps=TRAPS, support_staff=True, substitutes=2))
        files = write_school_files(data, folder)
        generated_s = time.perf_counter() - started
        config = load_config(REPO / "config.example.yaml",
                             overrides={"schools": {"123": {"files": {k: str(v) for k, v in files.items()}}}})
        sizes = {kind: path.stat().st_size for kind, path in files.items()}

        started = time.perf_counter()
        summary = check_school_files(config, "123")
        wall_s = time.perf_counter() - started

        tracemalloc.start()
        check_school_files(config, "123")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    counts = summary.counts()
    print(f"École générée : {args.students} élèves, {counts['staff']} personnels, {counts['persons_in_file']} "
          f"responsables, en {generated_s:.2f} s")
    print("Fichiers : " + ", ".join(f"{kind} {size / 1024 / 1024:.2f} Mo" for kind, size in sizes.items()))
    print(f"check_school_files : {wall_s:.2f} s (temps réel), pic mémoire Python {peak / 1024 / 1024:.1f} Mo "
          f"(tracemalloc, mesuré à part)")
    print(f"Comptes conformes à l'attendu : {'oui' if counts == expected_counts(data) else 'NON'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
