"""The school's export files are read and checked before any browser action: what the bot reads
equals what the generator says the import gives, and every bad input is refused (exit 2) with a
precise French message, in process and through `python -m bot check-files`. No browser here."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable

import pytest
import yaml

from bot.config import load_config
from bot.errors import Refused
from schoolfiles import FilesSummary, check_school_files, school_year
from sim.datagen import (SchoolSpec, TRAPS, expected_counts, generate_school, write_eleves, write_responsables,
                         write_school_files, write_sts, write_zip)

REPO = Path(__file__).resolve().parents[1]
UAI = "0341234G"             # school 123 of config.example.yaml
OTHER_UAI = "0341235H"
YEAR = school_year(date.today())   # the CLI runs with today's date


def config_for(files: dict[str, Path]):
    overrides = {"schools": {"123": {"files": {kind: str(path) for kind, path in files.items()}}}}
    return load_config(REPO / "config.example.yaml", overrides=overrides)


def school(tmp_path: Path, name: str = "school", year: int = YEAR, **spec) -> tuple:
    data = generate_school(SchoolSpec(uai=spec.pop("uai", UAI), year=year, **spec))
    return data, write_school_files(data, tmp_path / name)


def check(files: dict[str, Path], **kwargs) -> FilesSummary:
    return check_school_files(config_for(files), "123", **kwargs)


# -- what is read equals what the import should give ------------------------------------------------

TRAP_SETS = [frozenset(), *(frozenset({trap}) for trap in sorted(TRAPS)), TRAPS]


@pytest.mark.parametrize("traps", TRAP_SETS, ids=lambda traps: "+".join(sorted(traps)) or "default")
def test_counts_equal_expected_for_default_and_trap_laden_schools(tmp_path, traps):
    data, files = school(tmp_path, traps=traps, seed=3)
    summary = check(files)
    assert summary.counts() == expected_counts(data)
    assert summary.not_configured == []
    # The only warning a trap gives: the student whose two responsables share a rank, by name.
    if "same_rank_parents" in traps:
        assert len(summary.warnings) == 1 and "même rang (RESP_LEGAL)" in summary.warnings[0]
    else:
        assert summary.warnings == []


def test_default_school_counts_match_the_observed_real_run_shape(tmp_path):
    data, files = school(tmp_path)
    counts = check(files).counts()
    assert counts["staff_by_profile"] == {"DIR": 1, "ENS": 8}
    assert counts["students_imported"] == counts["students_found"] == 40
    assert counts["classes"] == counts["student_classes"] == 4
    assert counts["parents"] > 40 and counts["links"] >= counts["parents"]


def test_every_trap_together_with_support_staff_and_substitutes(tmp_path):
    data, files = school(tmp_path, traps=TRAPS, support_staff=True, substitutes=2, students=120, teachers=14)
    counts = check(files).counts()
    assert counts == expected_counts(data)
    assert counts["staff_by_profile"] == {"DIR": 1, "DOC": 1, "EDU": 1, "ENS": 16}
    assert counts["staff_ignored"] == 1 and counts["substitutes"] == 2
    assert counts["students_left"] == 1 and counts["students_without_class"] == 1


def test_traps_are_read_as_the_import_would(tmp_path):
    data, files = school(tmp_path, traps=TRAPS)
    summary = check(files)
    students = {(s.nom, s.prenom): s for s in summary.eleves.students}
    # Accents and compound names survive ISO-8859-1, the character it lacks too (a reference).
    for name in [("LE GOFF", "Éloïse"), ("D'ALMEIDA", "Jean-Marc"), ("NGUYEN-VAN", "Anaïs"), ("LEFÈVRE", "Noël")]:
        assert name in students
    assert any("Cœur" in line for a in summary.responsables.addresses for line in a.lines)
    assert summary.sts.source.declared_encoding == "ISO-8859-1"
    homonyms = [s for s in summary.eleves.students if (s.nom, s.prenom) == ("FAURE", "Juliette")]
    assert len(homonyms) == 2 and homonyms[0].division != homonyms[1].division
    teacher_names = {(t.nom, t.prenom) for t in summary.sts.teachers}
    assert ("BONNET", "Stephane") in teacher_names
    assert ("BONNET", "Stephane") in {(p.nom, p.prenom) for p in summary.responsables.parents}
    left = [s for s in summary.eleves.students if s.left]
    assert len(left) == 1 and left[0].division is None      # his STRUCTURES are ignored
    assert [s for s in summary.eleves.students if not s.left and s.division is None]
    imported = summary.eleves.imported_ids
    children: dict[int, set[int]] = {}
    for link in summary.responsables.kept_links(imported):
        children.setdefault(link.personne_id, set()).add(link.eleve_id)
    assert max(len(ids) for ids in children.values()) >= 3
    assert "AS_SPORT" in {g.code for g in summary.sts.groups}


def test_utf8_files_give_the_same_counts(tmp_path):
    data = generate_school(SchoolSpec(uai=UAI, year=YEAR, traps=TRAPS))
    files = write_school_files(data, tmp_path, encoding="UTF-8")
    summary = check(files)
    assert summary.counts() == expected_counts(data)
    assert summary.eleves.source.declared_encoding == "UTF-8"


def test_zipped_exports_are_read_from_the_archive_root(tmp_path):
    data, files = school(tmp_path, traps=TRAPS)
    zips = {"sts": write_zip(files["sts"], tmp_path / f"sts_emp_{UAI}_{YEAR}.zip"),
            "eleves": write_zip(files["eleves"], tmp_path / "ExportXML_ElevesSansAdresses.zip"),
            "responsables": write_zip(files["responsables"], tmp_path / "ResponsablesAvecAdresses.zip")}
    summary = check(zips)
    assert summary.counts() == expected_counts(data)
    assert summary.eleves.source.member == "ElevesSansAdresses.xml"


def test_zip_variants_are_chosen_by_the_archive_name_and_warned_about(tmp_path):
    data, files = school(tmp_path)
    eleves = write_zip(files["eleves"], tmp_path / "ExportXML_ElevesAvecAdresses.zip", "ElevesAvecAdresses.xml")
    parents = write_zip(files["responsables"], tmp_path / "Export_ResponsablesSansAdresses.zip",
                        "ResponsablesSansAdresses.xml")
    summary = check({"eleves": eleves, "responsables": parents})
    assert summary.counts()["students_imported"] == 40
    assert any("avec adresses" in w for w in summary.warnings)
    assert any("les adresses des parents ne seront pas trouvées" in w for w in summary.warnings)


def test_a_big_school_is_read_exactly(tmp_path):
    data, files = school(tmp_path, students=2000, teachers=120, traps=TRAPS, seed=1, support_staff=True)
    assert check(files).counts() == expected_counts(data)


def test_files_not_configured_are_skipped_unless_required(tmp_path):
    data, files = school(tmp_path)
    summary = check({"eleves": files["eleves"]})
    assert summary.not_configured == ["sts", "responsables"] and summary.sts is None
    assert "non configuré (clé schools.123.files.sts)" in summary.to_text()
    with pytest.raises(Refused, match=r"fichier nécessaire non configuré : schools\.123\.files\.sts"):
        check({"eleves": files["eleves"]}, only={"sts"})
    with pytest.raises(Refused, match="aucun fichier à vérifier pour l'école 123"):
        check({})


def test_parents_alone_are_counted_on_every_legal_link_and_with_students_on_imported_ones(tmp_path):
    data, files = school(tmp_path, traps=frozenset({"student_left", "student_without_class"}))
    alone = check({"responsables": files["responsables"]}).counts()
    assert alone["links"] == sum(1 for link in data.links if link.resp_legal)
    # A required parents file brings the students file along, when configured.
    both = check(files, only={"responsables"})
    assert both.eleves is not None and both.counts()["links"] == expected_counts(data)["links"] < alone["links"]


@pytest.mark.parametrize("today, year", [(date(2026, 7, 31), 2025), (date(2026, 8, 1), 2026),
                                         (date(2026, 11, 28), 2026), (date(2027, 1, 5), 2026)])
def test_school_year_changes_in_august(today, year):
    assert school_year(today) == year


def test_year_is_checked_against_the_injected_today(tmp_path):
    data, files = school(tmp_path, year=2026)
    assert check(files, today=date(2026, 11, 28)).year == 2026
    with pytest.raises(Refused, match=r"année scolaire « 2026 » et non 2025 \(année attendue le 31/07/2026"):
        check(files, today=date(2026, 7, 31))


def test_summary_text_and_json_are_french_and_hold_no_names(tmp_path):
    data, files = school(tmp_path, traps=TRAPS)
    summary = check(files)
    text = summary.to_text()
    assert "conformes pour l'année scolaire" in text and "élèves trouvés" in text and "responsables légaux" in text
    payload = json.loads(summary.to_json())
    assert payload["counts"] == expected_counts(data)
    for student in data.students[:5]:
        assert student.nom not in summary.to_json() and student.nom not in text


def test_generator_is_deterministic(tmp_path):
    spec = SchoolSpec(uai=UAI, year=YEAR, traps=TRAPS, seed=7)
    first = write_school_files(generate_school(spec), tmp_path / "a")
    second = write_school_files(generate_school(spec), tmp_path / "b")
    assert all(first[kind].read_bytes() == second[kind].read_bytes() for kind in first)


def test_generator_names_the_sts_file_like_the_real_export(tmp_path):
    data = generate_school(SchoolSpec(uai=UAI, year=2026))
    assert write_sts(data, tmp_path).name == f"sts_emp_{UAI}_2026.xml"
    assert write_eleves(data, tmp_path).name == "ElevesSansAdresses.xml"
    assert write_responsables(data, tmp_path).name == "ResponsablesAvecAdresses.xml"
    head = (tmp_path / f"sts_emp_{UAI}_2026.xml").read_bytes()[:200]
    assert head.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    assert b'<UAJ CODE="0341234G"' in head and b'<ANNEE_SCOLAIRE ANNEE="2026"' in head


def test_generator_cli_writes_the_files_and_says_so(tmp_path):
    done = subprocess.run([sys.executable, "-m", "sim.datagen", "--out", str(tmp_path), "--uai", UAI, "--year", "2026",
                           "--students", "60", "--teachers", "9", "--seed", "1", "--traps", "homonyms,accents", "--zip"],
                          capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"sts_emp_{UAI}_2026.xml" in done.stdout and "students_imported=60" in done.stdout
    assert (tmp_path / "ExportXML_ElevesSansAdresses.zip").exists()
    bad = subprocess.run([sys.executable, "-m", "sim.datagen", "--out", str(tmp_path), "--year", "2026",
                          "--traps", "pas_un_piege"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert bad.returncode == 2 and "pièges inconnus : pas_un_piege" in bad.stderr


# -- bad inputs ------------------------------------------------------------------------------------

def replace_in(path: Path, old: bytes, new: bytes, count: int = 1) -> Path:
    content = path.read_bytes()
    assert old in content, old
    path.write_bytes(content.replace(old, new, count))
    return path


def zip_with(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(zipfile.ZipInfo(name), content, compress_type=zipfile.ZIP_DEFLATED)
    return path


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE BEE_ELEVES [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<BEE_ELEVES><PARAMETRES><UAJ>&lol9;</UAJ></PARAMETRES></BEE_ELEVES>
"""
EXTERNAL_ENTITY = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE BEE_ELEVES [ <!ENTITY secret SYSTEM "file:///etc/passwd"> ]>
<BEE_ELEVES><PARAMETRES><UAJ>&secret;</UAJ></PARAMETRES></BEE_ELEVES>
"""


@dataclass
class BadInput:
    name: str
    make: Callable[[Path], dict[str, Path]]     # builds the files under a folder → the `files:` config
    message: str                                # expected in the refusal; {year}, {previous} are filled in
    max_mb: float | None = None


def only(kind: str, **spec):
    def make(folder: Path) -> dict[str, Path]:
        return {kind: school(folder, **spec)[1][kind]}
    return make


def with_file(kind: str, build: Callable[[Path, dict[str, Path]], Path], **spec):
    """The good files of a school, with `kind` replaced by what `build(folder, good_files)` gives."""
    def make(folder: Path) -> dict[str, Path]:
        files = dict(school(folder, **spec)[1])
        files[kind] = build(folder, files)
        return files
    return make


def raw(name: str, content: bytes):
    def build(folder: Path, files: dict[str, Path]) -> Path:
        (folder / name).write_bytes(content)
        return folder / name
    return build


def truncated(folder: Path, files: dict[str, Path]) -> Path:
    content = files["eleves"].read_bytes()
    (folder / "ElevesSansAdresses_coupe.xml").write_bytes(content[: len(content) // 2])
    return folder / "ElevesSansAdresses_coupe.xml"


def declared_utf8_latin1_bytes(folder: Path, files: dict[str, Path]) -> Path:
    return replace_in(files["eleves"], b'encoding="ISO-8859-1"', b'encoding="UTF-8"')


def declared_latin1_utf8_bytes(folder: Path, files: dict[str, Path]) -> Path:
    data = generate_school(SchoolSpec(uai=UAI, year=YEAR, traps=frozenset({"accents"})))
    path = write_eleves(data, folder / "ElevesSansAdresses_utf8.xml", encoding="UTF-8")
    return replace_in(path, b'encoding="UTF-8"', b'encoding="ISO-8859-1"')


def application_source(folder: Path, files: dict[str, Path]) -> Path:
    return replace_in(files["sts"], b"<PARAMETRES>", b"<PARAMETRES>\n    <APPLICATION_SOURCE>EDT 2026</APPLICATION_SOURCE>")


def lower_case_uai(folder: Path, files: dict[str, Path]) -> Path:
    return replace_in(files["eleves"], b"<UAJ>0341234G</UAJ>", b"<UAJ>0341234g</UAJ>")


def zipped(entry: str, archive_name: str = "ExportXML_ElevesSansAdresses.zip"):
    def build(folder: Path, files: dict[str, Path]) -> Path:
        return zip_with(folder / archive_name, {entry: files["eleves"].read_bytes()})
    return build


def truncated_zip(folder: Path, files: dict[str, Path]) -> Path:
    path = write_zip(files["eleves"], folder / "ExportXML_ElevesSansAdresses.zip")
    path.write_bytes(path.read_bytes()[:300])
    return path


def sts_zip_of_last_year(folder: Path, files: dict[str, Path]) -> Path:
    return zip_with(folder / "sts_emp.zip", {f"sts_emp_{UAI}_{YEAR - 1}.xml": files["sts"].read_bytes()})


def oversized_member(folder: Path, files: dict[str, Path]) -> Path:
    # Compresses to a few kilobytes, decompresses to a megabyte: the cap holds on the member.
    padding = b"<!--" + b" " * (1024 * 1024) + b"-->"
    return zip_with(folder / "ExportXML_ElevesSansAdresses.zip",
                    {"ElevesSansAdresses.xml": files["eleves"].read_bytes() + padding})


def corrupted_zip(folder: Path, files: dict[str, Path]) -> Path:
    path = write_zip(files["eleves"], folder / "ExportXML_ElevesSansAdresses.zip")
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0xFF          # inside the compressed data
    path.write_bytes(bytes(content))
    return path


def parents_of_another_school(folder: Path, files: dict[str, Path]) -> Path:
    other = generate_school(SchoolSpec(uai=UAI, year=YEAR, seed=99))
    return write_responsables(other, folder / "autre")


def no_teacher(folder: Path, files: dict[str, Path]) -> Path:
    content = files["sts"].read_bytes()
    start, end = content.index(b"<INDIVIDUS>"), content.index(b"</INDIVIDUS>") + len(b"</INDIVIDUS>")
    (folder / "sts_vide.xml").write_bytes(content[:start] + b"<INDIVIDUS/>" + content[end:])
    return folder / "sts_vide.xml"


def duplicated(first: bytes, end: bytes, kind: str, name: str):
    """The file with its first `first`…`end` element copied once more right after itself."""
    def build(folder: Path, files: dict[str, Path]) -> Path:
        content = files[kind].read_bytes()
        start = content.index(first)
        stop = content.index(end, start) + len(end)
        (folder / name).write_bytes(content[:stop] + content[start:stop] + content[stop:])
        return folder / name
    return build


ENT_EXPORT = ("Extraction des comptes ENT\r\nuid;profil;nom;prenom;classe\r\nabernard1;Eleve;BERNARD;Léa;3A\r\n"
              "cmartin1;Enseignant;MARTIN;Claire;\r\nsbernard1;Parent;BERNARD;Sophie;\r\n").encode("cp1252")
WEB_PAGE = b"<!DOCTYPE html>\n<html><head><title>Session expir\xc3\xa9e</title></head><body></body></html>\n"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"


def spreadsheet(name: str):
    def build(folder: Path, files: dict[str, Path]) -> Path:
        return zip_with(folder / name, {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
    return build


def zip_of(kind: str, name: str):
    def build(folder: Path, files: dict[str, Path]) -> Path:
        return write_zip(files[kind], folder / name)
    return build


BAD_INPUTS = [
    BadInput("student_id_twice", with_file("eleves", duplicated(b"<ELEVE ", b"</ELEVE>", "eleves", "eleves_double.xml")),
             "identifiant ELEVE_ID en double ("),
    BadInput("staff_id_twice", with_file("sts", duplicated(b"<INDIVIDU ", b"</INDIVIDU>", "sts", "sts_double.xml")),
             "identifiant INDIVIDU ID en double ("),
    BadInput("parent_id_twice", with_file("responsables", duplicated(b"<PERSONNE ", b"</PERSONNE>", "responsables",
                                                                     "resp_double.xml")),
             "identifiant PERSONNE_ID en double ("),
    BadInput("wrong_uai", only("eleves", uai=OTHER_UAI),
             "est issu de l'établissement « 0341235H » et non « 0341234G » (n°UAI de l'école 123"),
    BadInput("lower_case_uai", with_file("eleves", lower_case_uai),
             "est issu de l'établissement « 0341234g » et non « 0341234G » (n°UAI de l'école 123 dans la configuration)"
             " — la comparaison est exacte : minuscules ou espaces en trop"),
    BadInput("wrong_year", only("responsables", year=YEAR - 1),
             "correspond à l'année scolaire « {previous} » et non {year} (année attendue le"),
    BadInput("students_file_as_teachers_file", with_file("sts", lambda folder, files: files["eleves"]),
             "Fichier STS-Web des personnels (schools.123.files.sts) « {folder}/school/ElevesSansAdresses.xml » : "
             "c'est un fichier SIECLE des élèves (racine BEE_ELEVES) et non un fichier STS-Web des personnels"),
    BadInput("parents_file_as_students_file", with_file("eleves", lambda folder, files: files["responsables"]),
             "c'est un fichier SIECLE des responsables (racine BEE_RESPONSABLES) et non un fichier SIECLE "
             "des élèves ; attendu : l'export SIECLE ElevesSansAdresses.xml"),
    BadInput("teachers_file_as_parents_file", with_file("responsables", lambda folder, files: files["sts"]),
             "c'est un fichier STS-Web des personnels (racine STS_EDT) et non un fichier SIECLE des responsables"),
    # A file of another kind is named for what it is, whatever its name.
    BadInput("ent_export_as_teachers_file", with_file("sts", raw("extraction_comptes.csv", ENT_EXPORT)),
             "Fichier STS-Web des personnels (schools.123.files.sts) « {folder}/extraction_comptes.csv » : c'est une "
             "extraction CSV des comptes de l'ENT et non un fichier STS-Web des personnels ; attendu : l'export "
             "STS-Web sts_emp_<UAI>_<ANNÉE>.xml"),
    BadInput("ent_export_named_xml_as_students_file", with_file("eleves", raw("ElevesSansAdresses.xml", ENT_EXPORT)),
             "c'est une extraction CSV des comptes de l'ENT et non un fichier SIECLE des élèves"),
    BadInput("students_zip_as_parents_file", with_file("responsables", zip_of("eleves", "ExportXML_ElevesSansAdresses.zip")),
             "c'est une archive ZIP d'un fichier SIECLE des élèves (« ElevesSansAdresses.xml ») et non un fichier "
             "SIECLE des responsables"),
    BadInput("web_page_as_students_file", with_file("eleves", raw("ElevesSansAdresses.xml", WEB_PAGE)),
             "c'est une page web (HTML) et non un fichier SIECLE des élèves"),
    BadInput("spreadsheet_as_parents_file", with_file("responsables", spreadsheet("ResponsablesAvecAdresses.xlsx")),
             "c'est un classeur Excel (.xlsx) et non un fichier SIECLE des responsables"),
    BadInput("pdf_as_teachers_file", with_file("sts", raw("sts_emp_0341234G.xml", PDF)),
             "c'est un document PDF et non un fichier STS-Web des personnels"),
    BadInput("unknown_root", with_file("eleves", raw("export.xml", b"<?xml version='1.0'?><EXPORT><DONNEES/></EXPORT>")),
             "contenu qui ne ressemble à aucun export STS/SIECLE connu (racine EXPORT, sections DONNEES"),
    BadInput("malformed_xml", with_file("eleves", truncated),
             "« {folder}/ElevesSansAdresses_coupe.xml » : n'est pas un XML valide (ligne"),
    BadInput("empty_file", with_file("eleves", raw("ElevesSansAdresses.xml", b"")), ": fichier vide (0 octet)"),
    BadInput("missing_file", with_file("eleves", lambda folder, files: folder / "absent.xml"),
             "« {folder}/absent.xml » : fichier introuvable"),
    BadInput("wrong_extension", with_file("eleves", raw("eleves.csv", b"nom;prenom\n")),
             "extension « .csv » : .xml ou .zip attendu"),
    BadInput("zip_without_member", with_file("eleves", zipped("autre.xml")),
             "fichier « ElevesSansAdresses.xml » non trouvé à la racine de l'archive ZIP (contenu : « autre.xml »)"),
    BadInput("zip_member_in_sub_folder", with_file("eleves", zipped("export/ElevesSansAdresses.xml")),
             "« ElevesSansAdresses.xml » se trouve dans le dossier « export/ » de l'archive et non à sa racine"),
    BadInput("zip_slip", with_file("eleves", zipped("../../ElevesSansAdresses.xml")),
             "l'archive contient un chemin dangereux « ../../ElevesSansAdresses.xml »"),
    BadInput("zip_variant_not_recognised", with_file("eleves", zipped("ElevesAvecAdresses.xml", "ElevesAvecAdresses.zip")),
             "(contenu : « ElevesAvecAdresses.xml ») ; « ElevesAvecAdresses.xml » n'est cherché que si le nom de "
             "l'archive contient « ElevesAvecAdresses » après son début"),
    BadInput("truncated_zip", with_file("eleves", truncated_zip),
             "archive ZIP illisible ou tronquée (fin d'archive introuvable : fichier tronqué, ou qui n'est pas un ZIP)"),
    BadInput("corrupted_zip", with_file("eleves", corrupted_zip), "archive ZIP endommagée"),
    BadInput("sts_zip_of_last_year", with_file("sts", sts_zip_of_last_year),
             "fichier « sts_emp_0341234G_{year}.xml » non trouvé à la racine de l'archive ZIP (contenu : "
             "« sts_emp_0341234G_{previous}.xml ») ; « sts_emp_0341234G_{previous}.xml » est un export STS-Web de "
             "l'année scolaire {previous} et non {year}"),
    BadInput("billion_laughs", with_file("eleves", raw("bombe.xml", BILLION_LAUGHS)),
             "déclare des entités XML (<!ENTITY …>) : risque de « bombe » d'expansion"),
    BadInput("external_entity", with_file("eleves", raw("externe.xml", EXTERNAL_ENTITY)),
             "déclare une entité externe (SYSTEM \"file:///etc/passwd\")"),
    BadInput("external_dtd", with_file("eleves", raw("dtd.xml", b'<?xml version="1.0"?>\n<!DOCTYPE BEE_ELEVES SYSTEM '
                                                    b'"http://example.org/bee.dtd">\n<BEE_ELEVES/>\n')),
             "fait référence à une DTD extérieure (« http://example.org/bee.dtd »)"),
    BadInput("utf8_declared_latin1_bytes", with_file("eleves", declared_utf8_latin1_bytes, traps=frozenset({"accents"})),
             "déclare l'encodage UTF-8 mais ses octets n'en sont pas (octet 0x"),
    BadInput("latin1_declared_utf8_bytes", with_file("eleves", declared_latin1_utf8_bytes),
             "déclare l'encodage ISO-8859-1 mais ses octets sont de l'UTF-8"),
    BadInput("sts_with_application_source", with_file("sts", application_source),
             "provient d'un logiciel privé d'emploi du temps (PARAMETRES/APPLICATION_SOURCE « EDT 2026 »)"),
    BadInput("binary_garbage", with_file("eleves", raw("ElevesSansAdresses.xml", bytes(range(256)) * 8)),
             "n'est pas un XML valide : contenu binaire"),
    BadInput("file_over_size_cap", only("eleves"), "au-delà du plafond de 20,0 ko", max_mb=20 / 1024),
    BadInput("zip_member_over_size_cap", with_file("eleves", oversized_member),
             "« ElevesSansAdresses.xml » fait 1,0 Mo une fois décompressé, au-delà du plafond de 512,0 ko", max_mb=0.5),
    BadInput("no_student", only("eleves", students=0), "aucun élève trouvé (DONNEES/ELEVES/ELEVE absent)"),
    BadInput("no_teacher", with_file("sts", no_teacher), "aucun personnel enseignant ou de direction trouvé"),
    BadInput("parents_of_another_school", with_file("responsables", parents_of_another_school),
             "aucun responsable légal n'est lié à un élève importé du fichier SIECLE des élèves"),
]


def expected_message(case: BadInput, folder: Path) -> str:
    return case.message.format(year=YEAR, previous=YEAR - 1, folder=folder)


def test_there_are_enough_bad_inputs():
    assert len(BAD_INPUTS) >= 14


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[case.name for case in BAD_INPUTS])
def test_bad_input_is_refused_with_a_precise_french_message(tmp_path, case):
    files = case.make(tmp_path)
    max_bytes = int(case.max_mb * 1024 * 1024) if case.max_mb else None
    with pytest.raises(Refused) as refused:
        check(files, **({"max_bytes": max_bytes} if max_bytes else {}))
    assert expected_message(case, tmp_path) in refused.value.message


# -- the same through the command line ---------------------------------------------------------------

def check_files_cli(tmp_path: Path, files: dict[str, Path], *args: str) -> subprocess.CompletedProcess:
    data = yaml.safe_load((REPO / "config.example.yaml").read_text(encoding="utf-8"))
    data["schools"]["123"]["files"] = {kind: str(path) for kind, path in files.items()}
    data["paths"] = {"state_dir": str(tmp_path / "state"), "recordings_dir": str(tmp_path / "recordings")}
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "bot", "check-files", "--school", "123", "--config", str(config),
                           *args], capture_output=True, text=True, cwd=REPO, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[case.name for case in BAD_INPUTS])
def test_bad_input_is_refused_by_the_cli_with_exit_2(tmp_path, case):
    files = case.make(tmp_path)
    args = ("--max-file-mb", str(case.max_mb)) if case.max_mb else ()
    done = check_files_cli(tmp_path, files, *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert expected_message(case, tmp_path) in done.stderr
    assert done.stderr.startswith("Erreur : ") and done.stdout == ""


def test_cli_prints_the_french_summary_or_json(tmp_path):
    data, files = school(tmp_path, traps=TRAPS)
    done = check_files_cli(tmp_path, files)
    assert done.returncode == 0, done.stderr
    assert f"Fichiers de l'école 123 (UAI {UAI}) : conformes pour l'année scolaire {YEAR}-{YEAR + 1}." in done.stdout
    done = check_files_cli(tmp_path, files, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["counts"] == expected_counts(data)


def test_cli_refusal_in_json_mode_is_machine_readable(tmp_path):
    files = only("eleves", uai=OTHER_UAI)(tmp_path)
    done = check_files_cli(tmp_path, files, "--json")
    assert done.returncode == 2
    report = json.loads(done.stdout)
    assert report["status"] == "refused" and "0341235H" in report["message"]


def test_cli_refuses_a_nonsense_size_cap(tmp_path):
    done = check_files_cli(tmp_path, {}, "--max-file-mb", "0")
    assert done.returncode == 2 and "--max-file-mb : une taille positive est attendue" in done.stderr


def test_a_file_accepted_once_is_not_read_again_until_it_changes(tmp_path, monkeypatch):
    """A run reads each export for several purposes: the second reading of an unchanged file
    is the first one's result; a changed file, or one refused, is read again."""
    import schoolfiles.checks as checks
    _, files = school(tmp_path, students=30)
    readings = []
    real = checks.read_eleves
    monkeypatch.setattr(checks, "read_eleves", lambda *a, **k: readings.append(1) or real(*a, **k))
    first = check(files, only={"eleves"})
    again = check(files, only={"eleves"})
    assert len(readings) == 1 and again.eleves is first.eleves
    files["eleves"].write_bytes(files["eleves"].read_bytes().replace(b"</ELEVE>", b"</ELEVE>\n", 1))
    changed = check(files, only={"eleves"})
    assert len(readings) == 2 and changed.eleves is not first.eleves
    os.utime(files["eleves"], ns=(1, 1))   # the same content with another date: read again too
    check(files, only={"eleves"})
    assert len(readings) == 3
    overrides = {"schools": {"123": {"uai": OTHER_UAI, "files": {kind: str(path) for kind, path in files.items()}}}}
    other = load_config(REPO / "config.example.yaml", overrides=overrides)
    for attempt in (1, 2):   # the same file checked against another school: refused, each time
        with pytest.raises(Refused):
            check_school_files(other, "123", only={"eleves"})
        assert len(readings) == 3 + attempt


# -- the ENT's account export (files.ent): checked by check-files as the run checks it ---------------

def bot_cli(tmp_path: Path, files: dict[str, Path], *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    data = yaml.safe_load((REPO / "config.example.yaml").read_text(encoding="utf-8"))
    data["schools"]["123"]["files"] = {kind: str(path) for kind, path in files.items()}
    data["paths"] = {"state_dir": str(tmp_path / "state"), "recordings_dir": str(tmp_path / "recordings")}
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "bot", *args, "--config", str(config)], capture_output=True,
                          text=True, cwd=REPO, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})})


ENT_SLOT_CASES = {
    "teachers_xml": (lambda folder, files: files["sts"],
                     "c'est un fichier STS-Web des personnels (racine STS_EDT) et non une extraction CSV des comptes "
                     "de l'ENT"),
    "parents_xml": (lambda folder, files: files["responsables"],
                    "c'est un fichier SIECLE des responsables (racine BEE_RESPONSABLES) et non une extraction CSV"),
    "students_zip": (zip_of("eleves", "ExportXML_ElevesSansAdresses.zip"),
                     "c'est une archive ZIP d'un fichier SIECLE des élèves (« ElevesSansAdresses.xml ») et non une "
                     "extraction CSV des comptes de l'ENT"),
    "spreadsheet": (spreadsheet("extraction_comptes.xlsx"), "c'est un classeur Excel (.xlsx) et non une extraction CSV"),
    "web_page": (raw("extraction_comptes.csv", WEB_PAGE), "c'est une page web (HTML) et non une extraction CSV"),
    "comma_separated": (raw("extraction_comptes.csv", ENT_EXPORT.replace(b";", b",")),
                        "séparateur « , » le plus fréquent, « ; » attendu"),
}


@pytest.mark.parametrize("case", list(ENT_SLOT_CASES))
def test_check_files_refuses_a_bad_ent_export_as_the_run_does(tmp_path, case):
    build, expected = ENT_SLOT_CASES[case]
    _, files = school(tmp_path)
    ent = build(tmp_path, files)
    checked = bot_cli(tmp_path, {"ent": ent}, "check-files", "--school", "123")
    assert checked.returncode == 2, checked.stdout + checked.stderr
    assert f"Extraction CSV de l'ENT « {ent} » : {expected}" in checked.stderr
    # The run refuses the very same file with the very same words, before any browser.
    run = bot_cli(tmp_path, {"ent": ent}, "run", "sacoche-ent-ids", "--school", "123",
                  env={"SACOCHE_123_PASSWORD": "not-used"})
    assert run.returncode == 2, run.stdout + run.stderr
    assert f"Extraction CSV de l'ENT « {ent} » : {expected}" in run.stderr
    assert "Traceback" not in checked.stderr + run.stderr


def test_check_files_reads_a_good_ent_export_and_counts_its_accounts(tmp_path):
    _, files = school(tmp_path)
    (tmp_path / "extraction_comptes.csv").write_bytes(ENT_EXPORT)
    files["ent"] = tmp_path / "extraction_comptes.csv"
    done = bot_cli(tmp_path, files, "check-files", "--school", "123")
    assert done.returncode == 0, done.stderr
    assert (f"  - Extraction CSV des comptes de l'ENT « {files['ent']} » : 3 comptes (1 élève, 1 enseignant, "
            "1 parent).") in done.stdout
    report = json.loads(bot_cli(tmp_path, files, "check-files", "--school", "123", "--json").stdout)
    assert report["files"]["ent"]["path"] == str(files["ent"]) and report["counts"]["ent_accounts"] == 3


def test_a_prolog_of_many_comments_is_recognised_at_once():
    """The kind of a file is read from its first bytes by patterns whose prolog items are atomic:
    with 40 comments before the root, the old patterns backtracked for hours. Run in a process of
    its own, so that a regression ends in a clear failure, not a hung suite."""
    import subprocess
    import sys
    script = ("from schoolfiles import sniff\n"
              "print(sniff._markup(\"<?xml version='1.0'?>\" + '<!-- c -->' * 40 + '<STS_EDT>').kind,"
              " sniff._markup('<!DOCTYPE x ' + '[]' * 40).kind, sniff._markup('<!-- a -->' * 40 + '<!DOCTYPE html>').kind)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30, cwd=REPO)
    assert done.stdout.split() == ["sts", "xml", "other"], done.stderr
