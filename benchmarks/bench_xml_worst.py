"""How long reading the worst XML files the caps allow takes, and how much memory it needs.

    python benchmarks/bench_xml_worst.py [--cap-mb 50] [--only profond-limite,long …]

Builds each file under a temporary folder (as big as the size cap, 50 MiB by default), then reads
it with the bot's SIECLE students reader (schoolfiles.siecle.read_eleves) in a fresh Python
process, so that the peak resident memory (VmHWM, reset just before) is that file's own. Prints
wall and CPU time: on a busy machine the CPU time is the steadier figure.
Cases: deep (nested to the depth limit throughout; far past it: refused), wide (one element with
millions of children, outside or inside a student: the latter refused, and students as big as a
record may be; one element with millions of attributes, refused, and elements at that limit),
long (a real-looking file of ~50,000 students, from sim.datagen), huge nodes (a comment, a text).
Not a test: nothing is asserted, figures are printed.
"""
from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.errors import Refused  # noqa: E402
from bot.text import shorten  # noqa: E402
from bot.frenchargs import FrenchParser  # noqa: E402
from schoolfiles.siecle import read_eleves  # noqa: E402
from schoolfiles.xmlsafe import (MAX_FILE_BYTES, MAX_RECORD_ELEMENTS, MAX_XML_ATTRIBUTES,  # noqa: E402
                                 MAX_XML_DEPTH, XmlSource)
from sim.datagen import SchoolSpec, generate_school, write_eleves  # noqa: E402

HEAD = (b'<?xml version="1.0" encoding="UTF-8"?>\n<BEE_ELEVES VERSION="3.9"><PARAMETRES><UAJ>0341234G</UAJ>'
        b'<ANNEE_SCOLAIRE>2025</ANNEE_SCOLAIRE></PARAMETRES><DONNEES><ELEVES>')
STUDENT = '<ELEVE ELEVE_ID="1"><NOM_DE_FAMILLE>MARTIN</NOM_DE_FAMILLE><PRENOM>Léa</PRENOM>'.encode()
TAIL = b"</ELEVES></DONNEES></BEE_ELEVES>\n"


def filled(room: int, piece: bytes) -> bytes:
    """As many copies of `piece` as `room` bytes hold."""
    return piece * max(room // len(piece), 1)


def deep_at_limit(cap: int) -> bytes:
    # Blocks nested to exactly the limit, side by side under DONNEES (level 2): X from level 3 to 64.
    levels = MAX_XML_DEPTH - 2
    block = b"<X>" * levels + b"</X>" * levels
    return HEAD + b"</ELEVES>" + filled(cap - len(HEAD) - 200, block) + b"<ELEVES>" + STUDENT + b"</ELEVE>" + TAIL


def deep(levels: int) -> Callable[[int], bytes]:
    def build(cap: int) -> bytes:
        levels_here = min(levels, (cap - len(HEAD) - 200) // 7)
        return HEAD + STUDENT + b"</ELEVE>" + b"<X>" * levels_here + b"</X>" * levels_here + TAIL
    return build


def deep_unclosed(cap: int) -> bytes:
    # The whole cap of opening tags: 17 million levels at 50 MiB, never closed.
    return HEAD + filled(cap - len(HEAD), b"<X>")


def children_outside(cap: int) -> bytes:
    return HEAD + STUDENT + b"</ELEVE></ELEVES><Y>" + filled(cap - len(HEAD) - 300, b"<X/>") + b"</Y><ELEVES>" + TAIL


def children_in_student(cap: int) -> bytes:
    return HEAD + STUDENT + filled(cap - len(HEAD) - 300, b"<X/>") + b"</ELEVE>" + TAIL


def attributes(cap: int) -> bytes:
    count = (cap - len(HEAD) - 300) // 12
    names = b" ".join(b"a%07d=''" % i for i in range(count))
    return HEAD + STUDENT + b"<X " + names + b"/></ELEVE>" + TAIL


def attributes_at_limit(cap: int) -> bytes:
    element = b"<X " + b" ".join(b"a%d=''" % i for i in range(MAX_XML_ATTRIBUTES)) + b"/>"
    return HEAD + STUDENT + b"</ELEVE></ELEVES><Y>" + filled(cap - len(HEAD) - 300, element) + b"</Y><ELEVES>" + TAIL


def students_at_limit(cap: int) -> bytes:
    # Students each as big as a record may be: the most an accepted file keeps at once.
    student = STUDENT + b"<X/>" * (MAX_RECORD_ELEMENTS - 2) + b"</ELEVE>"
    return HEAD + filled(cap - len(HEAD) - 300, student) + TAIL


def comment(cap: int) -> bytes:
    return HEAD + STUDENT + b"</ELEVE><!--" + b" " * (cap - len(HEAD) - 300) + b"-->" + TAIL


def text_in_student(cap: int) -> bytes:
    return HEAD + STUDENT + b"<MEL>" + filled(cap - len(HEAD) - 300, b"abcdefghij\n") + b"</MEL></ELEVE>" + TAIL


def text_outside(cap: int) -> bytes:
    text = filled(cap - len(HEAD) - 300, b"abcdefghij\n")
    return HEAD + STUDENT + b"</ELEVE></ELEVES><Y>" + text + b"</Y><ELEVES>" + TAIL


def long_students(cap: int) -> bytes:
    """A generated school's students (sim.datagen, 5,000 of them) repeated, each copy with other ids,
    until the file fills the cap: the biggest real-looking export the cap allows."""
    with tempfile.TemporaryDirectory() as folder:
        data = generate_school(SchoolSpec(uai="0341234G", year=2025, students=5000, teachers=200, seed=1))
        content = write_eleves(data, Path(folder), encoding="UTF-8").read_bytes()
    sections = {}
    for tag in (b"ELEVES", b"OPTIONS", b"STRUCTURES"):
        start, end = content.index(b"<" + tag + b">") + len(tag) + 2, content.index(b"</" + tag + b">")
        sections[tag] = (start, end)
    copies = max(cap * 97 // 100 // len(content), 1)
    out, last = [], 0
    for tag, (start, end) in sections.items():
        body = content[start:end]
        out.append(content[last:start])
        out.extend(re.sub(rb'ELEVE_ID="(\d+)"', lambda m, c=copy: b'ELEVE_ID="%d"' % (int(m.group(1)) + c * 10_000_000),
                          body) for copy in range(copies))
        last = end
    out.append(content[last:])
    return b"".join(out)


CASES: dict[str, tuple[str, Callable[[int], bytes]]] = {
    "profond-limite": (f"profond : des blocs imbriqués sur {MAX_XML_DEPTH} niveaux, tout le plafond", deep_at_limit),
    "profond-200000": ("profond : 200 000 niveaux (1,4 Mo)", deep(200_000)),
    "profond-plafond": ("profond : le plafond entier de balises ouvrantes", deep_unclosed),
    "large-enfants": ("large : un élément à des millions d'enfants (hors élève)", children_outside),
    "large-eleve": ("large : un élève à des millions d'enfants", children_in_student),
    "large-eleve-limite": (f"large : des élèves de {MAX_RECORD_ELEMENTS:_} éléments chacun, tout le "
                           "plafond".replace("_", " "), students_at_limit),
    "large-attributs": ("large : un élément à des millions d'attributs", attributes),
    "large-attributs-limite": (f"large : des éléments de {MAX_XML_ATTRIBUTES} attributs chacun, tout le plafond",
                               attributes_at_limit),
    "long": ("long : des dizaines de milliers d'élèves (sim.datagen)", long_students),
    "commentaire": ("nœud énorme : un commentaire de tout le plafond", comment),
    "texte-eleve": ("nœud énorme : un texte de tout le plafond dans un élève", text_in_student),
    "texte-hors-eleve": ("nœud énorme : un texte de tout le plafond hors élève", text_outside),
}


def resident_mb(field: str) -> float | None:
    """VmRSS (now) or VmHWM (peak since the last reset) of this process, Linux only."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def read_one(path: Path) -> dict:
    """In the child process: reads `path` once, returns the outcome, the times, the memory. The
    peak is reset first (/proc/self/clear_refs), so it is the reading's own; where that cannot be
    done, ru_maxrss, which also counts the parent's memory the child was forked from."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        peak_field = "VmHWM"
    except OSError:
        peak_field = None
    before = resident_mb("VmRSS") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        source = XmlSource(path, "Fichier SIECLE des élèves")
        students = len(read_eleves(source, max_bytes=max(MAX_FILE_BYTES, path.stat().st_size)).students)
        outcome = f"lu, {students} élève(s)"
    except Refused as refused:
        outcome = "refusé : " + shorten(refused.message.split(" : ", 1)[1], 70)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak = resident_mb(peak_field) if peak_field else None
    peak = peak or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"outcome": outcome, "seconds": seconds, "cpu": cpu, "peak_mb": peak, "base_mb": before}


def main() -> int:
    parser = FrenchParser(
        description="Mesure la lecture des pires fichiers XML que les plafonds permettent.")
    parser.add_argument("--cap-mb", type=float, default=MAX_FILE_BYTES / 1024 / 1024,
                        help="taille des fichiers construits (défaut : le plafond, 50 Mio)")
    parser.add_argument("--only", default="", help="cas à mesurer, séparés par des virgules : " + ", ".join(CASES))
    parser.add_argument("--read", type=Path, help=argparse.SUPPRESS)   # child process: one file
    args = parser.parse_args()
    if args.read:
        print(json.dumps(read_one(args.read)))
        return 0
    cap = int(args.cap_mb * 1024 * 1024)
    chosen = [name for name in args.only.split(",") if name] or list(CASES)
    unknown = [name for name in chosen if name not in CASES]
    if unknown:
        parser.error(f"cas inconnus : {', '.join(unknown)}")
    print(f"Plafond {cap / 1024 / 1024:.0f} Mio, profondeur limite {MAX_XML_DEPTH} ; lecture par read_eleves dans un "
          "processus neuf ; mémoire = pic résident pendant la lecture (VmHWM), au-dessus de l'interpréteur chargé ; "
          "le temps de processeur dépend moins des autres programmes de la machine que le temps réel")
    with tempfile.TemporaryDirectory() as folder:
        for name in chosen:
            label, build = CASES[name]
            path = Path(folder) / f"{name}.xml"
            path.write_bytes(build(cap))
            size = path.stat().st_size
            done = subprocess.run([sys.executable, __file__, "--read", str(path)], capture_output=True, text=True)
            path.unlink()
            if done.returncode != 0:
                print(f"{label} : ÉCHEC du processus de lecture ({done.returncode}) {done.stderr.strip()[-300:]}")
                continue
            figures = json.loads(done.stdout)
            print(f"{label}\n    {size / 1024 / 1024:.1f} Mio, {figures['seconds']:.2f} s ({figures['cpu']:.2f} s de "
                  f"processeur), mémoire +"
                  f"{figures['peak_mb'] - figures['base_mb']:.0f} Mo (pic {figures['peak_mb']:.0f} Mo) — "
                  f"{figures['outcome']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
