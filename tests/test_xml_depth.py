"""Deeply nested or very wide XML. A real STS-Web/SIECLE export nests about 10 levels; a 1.4 MB
file nested 200,000 levels deep used to take minutes (a path tuple built at every element): it is
refused at once, in French, before any site is touched, as are an element with hundreds of
attributes and a record of more than 100,000 elements. What stays allowed is read with work that
grows linearly. No timing is asserted: the linearity checks count work; the figures are printed
by benchmarks/bench_xml_worst.py."""
from __future__ import annotations

import builtins
import os
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.errors import Refused
from conftest import ent_state, sim_state
from schoolfiles import school_year, xmlsafe
from schoolfiles.siecle import read_eleves, read_responsables
from schoolfiles.sts import read_sts
from schoolfiles.xmlsafe import MAX_XML_DEPTH, XmlSource
from sim.datagen import SchoolSpec, generate_school, write_school_files

REPO = Path(__file__).resolve().parents[1]
UAI = "0341234G"             # school 123 of config.example.yaml
READERS = {"sts": read_sts, "eleves": read_eleves, "responsables": read_responsables}
TOO_DEEP = f"est imbriqué sur plus de {MAX_XML_DEPTH} niveaux"


@pytest.fixture(scope="module")
def good_files(tmp_path_factory) -> dict[str, Path]:
    data = generate_school(SchoolSpec(uai=UAI, year=school_year(date.today()), students=30, seed=5))
    return write_school_files(data, tmp_path_factory.mktemp("good"))


def nested(content: bytes, levels: int, before: bytes = b"</DONNEES>") -> bytes:
    """`content` with `levels` elements nested in one another just before `before`."""
    assert before in content
    return content.replace(before, b"<X>" * levels + b"</X>" * levels + before, 1)


def write(folder: Path, name: str, content: bytes) -> Path:
    (folder / name).write_bytes(content)
    return folder / name


def element_count(content: bytes) -> int:
    """Elements of a generated export: every tag opened (it has no comment, CDATA nor DTD)."""
    return content.count(b"<") - content.count(b"</") - content.count(b"<?") - content.count(b"<!")


def read(kind: str, path: Path):
    return READERS[kind](XmlSource(path, "Fichier de test"))


# -- the limit -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(READERS))
def test_each_export_nested_just_past_the_limit_is_refused_naming_the_level(tmp_path, good_files, kind):
    # Root at level 1, DONNEES at 2: the X elements start at level 3.
    path = write(tmp_path, f"{kind}.xml", nested(good_files[kind].read_bytes(), MAX_XML_DEPTH - 1))
    with pytest.raises(Refused) as refused:
        read(kind, path)
    message = refused.value.message
    assert f"« {path} » : {TOO_DEEP} (élément « X » au niveau {MAX_XML_DEPTH + 1}, ligne " in message
    assert message.endswith("ce n'est pas un export STS-Web/SIECLE (les vrais en ont une dizaine) ; rien n'a été "
                            "fait sur les sites")


@pytest.mark.parametrize("kind", list(READERS))
def test_each_export_nested_exactly_to_the_limit_is_read_as_before(tmp_path, good_files, kind):
    expected = read(kind, good_files[kind])
    path = write(tmp_path, f"{kind}.xml", nested(good_files[kind].read_bytes(), MAX_XML_DEPTH - 2))
    got = read(kind, path)
    assert got.model_dump(exclude={"source"}) == expected.model_dump(exclude={"source"})


def test_nesting_inside_a_student_counts_the_same_and_keeps_the_student(tmp_path, good_files):
    content = good_files["eleves"].read_bytes()
    # The first ELEVE is at level 4 (BEE_ELEVES/DONNEES/ELEVES/ELEVE): its children start at 5.
    first_end = content.index(b"</ELEVE>")
    at_limit = content[:first_end] + b"<X>" * (MAX_XML_DEPTH - 4) + b"</X>" * (MAX_XML_DEPTH - 4) + content[first_end:]
    expected = read("eleves", good_files["eleves"]).students
    assert read("eleves", write(tmp_path, "limite.xml", at_limit)).students == expected
    past = content[:first_end] + b"<X>" * (MAX_XML_DEPTH - 3) + b"</X>" * (MAX_XML_DEPTH - 3) + content[first_end:]
    with pytest.raises(Refused, match=f"{TOO_DEEP} \\(élément « X » au niveau {MAX_XML_DEPTH + 1}"):
        read("eleves", write(tmp_path, "trop.xml", past))


def test_a_zipped_deep_export_is_refused_the_same_way(tmp_path, good_files):
    archive = tmp_path / "ExportXML_ElevesSansAdresses.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as out:
        out.writestr("ElevesSansAdresses.xml", nested(good_files["eleves"].read_bytes(), 200_000))
    source = xmlsafe.open_zip_member(archive, "ElevesSansAdresses.xml", "Fichier de test")
    with pytest.raises(Refused, match=f"membre « ElevesSansAdresses.xml » de l'archive\\) : {TOO_DEEP}"):
        read_eleves(source)


class CountingTreeBuilder(xmlsafe.TreeBuilder):
    started = 0

    def start(self, tag, attrs):
        CountingTreeBuilder.started += 1
        return super().start(tag, attrs)


def test_parsing_stops_at_the_first_element_past_the_limit(tmp_path, good_files, monkeypatch):
    """The parser builds every element of the piece it is given (64 KiB, up to 8 MiB after a long
    token) before scan() sees the first: the depth is checked inside it, so a too-deep file stops
    at its 65th level instead."""
    monkeypatch.setattr(xmlsafe, "TreeBuilder", CountingTreeBuilder)
    CountingTreeBuilder.started = 0
    content = good_files["eleves"].read_bytes()
    elements_before = element_count(content)
    path = write(tmp_path, "profond.xml", nested(content, 200_000))
    with pytest.raises(Refused, match=TOO_DEEP):
        read("eleves", path)
    assert 0 < CountingTreeBuilder.started <= elements_before + MAX_XML_DEPTH


# -- width: attributes of one element, elements of one record ---------------------------------------

def test_an_element_with_too_many_attributes_is_refused(tmp_path, good_files):
    content = good_files["eleves"].read_bytes()

    def with_attributes(count: int) -> bytes:
        names = b" ".join(b'a%d="1"' % n for n in range(count))
        return content.replace(b"</DONNEES>", b"<X " + names + b"/></DONNEES>", 1)

    assert read("eleves", write(tmp_path, "ok.xml", with_attributes(xmlsafe.MAX_XML_ATTRIBUTES))).students
    with pytest.raises(Refused) as refused:
        read("eleves", write(tmp_path, "trop.xml", with_attributes(xmlsafe.MAX_XML_ATTRIBUTES + 1)))
    assert (f"a un élément « X » de plus de {xmlsafe.MAX_XML_ATTRIBUTES} attributs, ligne "
            in refused.value.message)
    assert refused.value.message.endswith("ce n'est pas un export STS-Web/SIECLE (les vrais en ont au plus "
                                          "quelques-uns) ; rien n'a été fait sur les sites")


def test_a_record_holding_too_many_elements_is_refused(tmp_path, good_files):
    # A record is kept whole until its end: millions of children would all be in memory at once.
    content = good_files["eleves"].read_bytes()
    end = content.index(b"</ELEVE>")

    def student_with(children: int) -> bytes:
        return content[:end] + b"<X/>" * children + content[end:]

    kept = element_count(content[content.index(b"<ELEVE "):end]) - 1     # the student's own children
    at_limit = read("eleves", write(tmp_path, "ok.xml", student_with(xmlsafe.MAX_RECORD_ELEMENTS - kept)))
    assert at_limit.students == read("eleves", good_files["eleves"]).students
    with pytest.raises(Refused) as refused:
        read("eleves", write(tmp_path, "trop.xml", student_with(xmlsafe.MAX_RECORD_ELEMENTS - kept + 1)))
    assert ("a un élément « DONNEES/ELEVES/ELEVE » qui contient plus de 100 000 éléments : ce n'est pas un export "
            "STS-Web/SIECLE (les vrais en ont au plus quelques centaines)") in refused.value.message


# -- through the command line, and before any site is touched --------------------------------------

def check_files_cli(tmp_path: Path, files: dict[str, Path]) -> subprocess.CompletedProcess:
    data = yaml.safe_load((REPO / "config.example.yaml").read_text(encoding="utf-8"))
    data["schools"]["123"]["files"] = {kind: str(path) for kind, path in files.items()}
    data["paths"] = {"state_dir": str(tmp_path / "state"), "recordings_dir": str(tmp_path / "recordings")}
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    # The old reading of this file gave no answer within 60 s; the timeout is a hang guard only.
    return subprocess.run([sys.executable, "-m", "bot", "check-files", "--school", "123", "--config", str(config)],
                          capture_output=True, text=True, cwd=REPO, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


def test_a_students_file_nested_200000_levels_deep_is_refused_by_check_files(tmp_path, good_files):
    deep = write(tmp_path, "ElevesSansAdresses.xml", nested(good_files["eleves"].read_bytes(), 200_000))
    assert deep.stat().st_size > 1_400_000
    done = check_files_cli(tmp_path, {**good_files, "eleves": deep})
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == "" and done.stderr.startswith("Erreur : ") and "Traceback" not in done.stderr
    assert (f"Fichier SIECLE des élèves (schools.123.files.eleves) « {deep} » : {TOO_DEEP} (élément « X » au "
            f"niveau {MAX_XML_DEPTH + 1}, ligne ") in done.stderr
    assert "ce n'est pas un export STS-Web/SIECLE (les vrais en ont une dizaine)" in done.stderr


def test_a_deep_students_file_stops_the_import_before_any_request(school, sims, tmp_path):
    files = school.config_data["schools"]["123"]["files"]
    deep = write(tmp_path, "ElevesSansAdresses.xml", nested(Path(files["eleves"]).read_bytes(), 200_000))
    files["eleves"] = str(deep)
    school.write_config()
    result = school("run", "sacoche-import-students", "--school", "123")
    assert result.code == 2, result.stderr
    assert TOO_DEEP in result.stderr and "Traceback" not in result.stderr
    assert sim_state(sims)["requests"] == 0 and ent_state(sims)["requests"] == 0


# -- linear work, counted (not timed) --------------------------------------------------------------

class CountingRecords(dict):
    """The record paths given to scan, counting the path items each lookup has to compare."""

    def __init__(self, records):
        super().__init__(records)
        self.items_compared = 0

    def __contains__(self, key):
        self.items_compared += len(key)
        return super().__contains__(key)

    def __getitem__(self, key):
        self.items_compared += len(key)
        return super().__getitem__(key)


def path_work(path: Path, monkeypatch) -> tuple[int, int]:
    """Path items scan builds into tuples and compares with the record paths, and the number of
    elements of the file, for an unlimited depth (so that the walk itself is measured)."""
    built = 0

    def counting_tuple(items=()):
        nonlocal built
        made = builtins.tuple(items)
        built += len(made)
        return made

    records = CountingRecords({("PARAMETRES",): lambda e: None, ("DONNEES", "ELEVES", "ELEVE"): lambda e: None})
    with monkeypatch.context() as patch:
        patch.setattr(xmlsafe, "tuple", counting_tuple, raising=False)     # found before the built-in
        xmlsafe.scan(XmlSource(path, "Fichier de test"), records, max_depth=None)
    return built + records.items_compared, element_count(path.read_bytes())


def test_path_work_per_element_does_not_grow_with_depth(tmp_path, good_files, monkeypatch):
    # The old scan built a tuple of the whole path at each element: 2,000 levels cost 2 million
    # items, 4,000 levels 8 million (x4). Now the path is looked at only up to the longest record
    # path (3 items): a bounded amount per element, whatever the depth.
    content = good_files["eleves"].read_bytes()
    small, small_elements = path_work(write(tmp_path, "d2000.xml", nested(content, 2000)), monkeypatch)
    large, large_elements = path_work(write(tmp_path, "d4000.xml", nested(content, 4000)), monkeypatch)
    assert large < 3 * small
    for work, elements in ((small, small_elements), (large, large_elements)):
        assert work <= 8 * elements     # a section path (<= 2 items), a record path built and compared (<= 3 each)


def test_dropping_read_siblings_costs_a_bounded_amount_per_element(tmp_path, good_files, monkeypatch):
    # The children of one element arrive a piece at a time (16,000 in 64 KiB, 2 million in the 8 MiB
    # after a long token): removing each child as it ends shifted all those after it, quadratic.
    # Read children are now dropped in batches, each when it is half the list: the list lengths
    # handled add up to at most twice the children.
    shifted = 0
    real_forget = xmlsafe._forget

    def counting_forget(parent, count):
        nonlocal shifted
        shifted += len(parent)
        real_forget(parent, count)

    monkeypatch.setattr(xmlsafe, "_forget", counting_forget)
    content = good_files["eleves"].read_bytes()
    for children in (20_000, 40_000):
        shifted = 0
        wide = content.replace(b"</DONNEES>", b"<X/>" * children + b"</DONNEES>", 1)
        assert read("eleves", write(tmp_path, f"w{children}.xml", wide)).students
        assert children <= shifted <= 2 * children + content.count(b"<")


def fed_pieces(path: Path, monkeypatch) -> tuple[list[int], int]:
    """The size of each piece given to the parser, and the bytes expat scans again: at each piece,
    what it was given since the parser last gave an event (the unfinished token it starts over)."""
    pieces: list[int] = []
    rescanned = pending = 0
    real_read = xmlsafe._GuardedReader.read

    def read(self, size=-1):
        nonlocal rescanned, pending
        if self.progress:
            pending = 0
        rescanned += pending
        chunk = real_read(self, size)
        pieces.append(len(chunk))
        pending += len(chunk)
        return chunk

    with monkeypatch.context() as patch:
        patch.setattr(xmlsafe._GuardedReader, "read", read)
        read_eleves(XmlSource(path, "Fichier de test"))
    return pieces, rescanned


def test_pieces_stay_small_among_elements_and_grow_inside_a_long_token(tmp_path, good_files, monkeypatch):
    content = good_files["eleves"].read_bytes()
    # 400 KB of tiny elements: every piece is the first size, so the parser never holds more than
    # 64 KiB worth of elements (in 8 MiB pieces: 2 million elements, 400 MB).
    wide = write(tmp_path, "large.xml", content.replace(b"</DONNEES>", b"<X/>" * 100_000 + b"</DONNEES>", 1))
    pieces, _ = fed_pieces(wide, monkeypatch)
    assert max(pieces) == xmlsafe.FIRST_READ_BYTES
    # A 6 MB comment, where expat starts over at each piece: pieces double, so what it scans again
    # adds up to less than twice the comment (in 64 KiB pieces: 280 MB, quadratic).
    size = 6_000_000
    long_comment = write(tmp_path, "commentaire.xml",
                         content.replace(b"</DONNEES>", b"<!--" + b" " * size + b"--></DONNEES>", 1))
    pieces, rescanned = fed_pieces(long_comment, monkeypatch)
    assert max(pieces) > 1024 * 1024 and len(pieces) < 20
    assert rescanned < 2 * size
