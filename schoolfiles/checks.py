"""Checks a school's export files before any browser action, the way the user import would judge
them (import-files.md §1–4, §6), and sums up what it will find. Every refusal is a Refused with a
French message saying what was found and what was expected."""
from __future__ import annotations

import json
import re
import threading
from collections import Counter, OrderedDict
from datetime import date
from pathlib import Path
from typing import Callable

from pydantic import BaseModel

from bot.config import BotConfig
from bot.errors import Refused
from bot.fsutil import regular_file_problem
from . import kinds
from .ent_csv import CsvLayout, read_ent_csv
from .models import ElevesFile, ResponsablesFile, StsFile
from .staff import KEPT_FUNCTIONS, STAFF_FUNCTIONS
from .siecle import read_eleves, read_responsables
from .sniff import not_an_export, sniff
from .sts import read_sts
from .xmlsafe import MAX_FILE_BYTES, XmlSource, check_plain_file, open_zip_member

BASCULE_MONTH = 8      # the month a new school year starts in the files (the import's default)

# The ENT's profiles (its export's words), as a person says them.
ENT_PROFILE_WORDS = {"Eleve": ("élève", "élèves"), "Enseignant": ("enseignant", "enseignants"),
                     "Parent": ("parent", "parents"), "Personnel": ("personnel", "personnels"),
                     "Direction": ("personnel de direction", "personnels de direction")}
KIND_TITLES = {kinds.STS: "STS-Web (personnels)", kinds.ELEVES: "SIECLE élèves", kinds.RESPONSABLES: "SIECLE responsables"}

# The words of FilesSummary.counts()'s keys (and of the staff functions' codes within
# staff_by_profile), for a flow that reports those counts (bot.labels: a flow's details labels).
COUNT_LABELS = {
    "staff": "personnels gardés (STS-Web)",
    "staff_by_profile": "personnels gardés, par fonction",
    "staff_ignored": "personnes ignorées (fonction que SACoche n'importe pas)",
    "substitutes": "suppléants",
    "classes": "classes (STS-Web)",
    "groups": "groupes (STS-Web)",
    "students_in_file": "élèves dans le fichier",
    "students_found": "élèves présents (non sortis)",
    "students_imported": "élèves importés (avec une classe)",
    "students_without_class": "élèves sans classe (ignorés)",
    "students_left": "élèves sortis (DATE_SORTIE), non comptés",
    "student_classes": "classes des élèves",
    "student_groups": "groupes des élèves",
    "persons_in_file": "personnes dans le fichier des responsables",
    "parents": "responsables légaux gardés",
    "links": "liens de responsabilité",
    "addresses": "adresses",
    "parents_with_address": "responsables gardés ayant une adresse",
    **{code: function.plural for code, function in STAFF_FUNCTIONS.items()},
}


def school_year(today: date, bascule_month: int = BASCULE_MONTH) -> int:
    """The year files must carry: 2026 from August 2026 to July 2027 (named after its first year)."""
    return today.year if today.month >= bascule_month else today.year - 1


def plural(count: int, singular: str, several: str) -> str:
    return f"{count} {singular if count <= 1 else several}"


class FilesSummary(BaseModel):
    """What was read from a school's files and what the import should find in them."""
    school_id: str
    uai: str
    year: int                               # school year expected in the files
    today: date
    sts: StsFile | None = None
    eleves: ElevesFile | None = None
    responsables: ResponsablesFile | None = None
    not_configured: list[str] = []          # kinds with no path in the configuration
    warnings: list[str] = []
    ent: dict | None = None                 # the ENT's account export (files.ent), when checked

    def counts(self) -> dict:
        """Flat counts (same keys as sim.datagen.expected_counts), for the files that were read."""
        counts: dict = {}
        if self.sts:
            counts.update(self.sts.counts())
        if self.eleves:
            counts.update(self.eleves.counts())
        if self.responsables:
            counts.update(self.responsables.counts(self.eleves.imported_ids if self.eleves else None))
        if self.ent:
            counts["ent_accounts"] = self.ent["accounts"]
        return counts

    def files(self) -> dict[str, dict]:
        files = {kind: read.source.model_dump() for kind, read in
                 ((kinds.STS, self.sts), (kinds.ELEVES, self.eleves), (kinds.RESPONSABLES, self.responsables)) if read}
        if self.ent:
            files["ent"] = {"path": self.ent["path"], "encoding": self.ent["encoding"]}
        return files

    def to_json(self) -> str:
        """Counts and file facts only: names of people never leave the machine through it."""
        return json.dumps({"school": self.school_id, "status": "checked", "uai": self.uai, "year": self.year,
                           "files": self.files(), "not_configured": self.not_configured,
                           "counts": self.counts(), "warnings": self.warnings}, ensure_ascii=False, indent=2)

    def to_text(self) -> str:
        counts = self.counts()
        lines = [f"Fichiers de l'école {self.school_id} (UAI {self.uai}) : conformes pour l'année scolaire "
                 f"{self.year}-{self.year + 1}."]
        if self.sts:
            by_profile = counts["staff_by_profile"]
            profiles = ", ".join(plural(by_profile[code], STAFF_FUNCTIONS[code].singular, STAFF_FUNCTIONS[code].plural) for code in KEPT_FUNCTIONS
                                 if code in by_profile)
            substitutes = (f" (dont {plural(counts['substitutes'], 'suppléant', 'suppléants')})"
                           if counts["substitutes"] else "")
            line = (f"  - {KIND_TITLES[kinds.STS]} « {self._where(self.sts)} » : {profiles}{substitutes} ; "
                    f"{plural(counts['classes'], 'classe', 'classes')}, {plural(counts['groups'], 'groupe', 'groupes')}")
            if counts["staff_ignored"]:
                functions = sorted({p.fonction for p in self.sts.people if not p.kept})
                line += (f" ; {plural(counts['staff_ignored'], 'personne ignorée', 'personnes ignorées')} "
                         f"(fonction {', '.join(functions)})")
            lines.append(line + ".")
        if self.eleves:
            lines.append(
                f"  - {KIND_TITLES[kinds.ELEVES]} « {self._where(self.eleves)} » : "
                f"{plural(counts['students_found'], 'élève trouvé', 'élèves trouvés')}, dont "
                f"{plural(counts['students_imported'], 'importé (avec classe)', 'importés (avec classe)')} et "
                f"{plural(counts['students_without_class'], 'ignoré (sans classe)', 'ignorés (sans classe)')} ; "
                f"{plural(counts['students_left'], 'élève sorti (DATE_SORTIE) non compté', 'élèves sortis (DATE_SORTIE) non comptés')} ; "
                f"{plural(counts['student_classes'], 'classe', 'classes')}, "
                f"{plural(counts['student_groups'], 'groupe', 'groupes')}.")
        if self.responsables:
            basis = "liés à un élève importé" if self.eleves else "liés à un élève (fichier des élèves non lu)"
            lines.append(
                f"  - {KIND_TITLES[kinds.RESPONSABLES]} « {self._where(self.responsables)} » : "
                f"{plural(counts['parents'], 'responsable légal gardé', 'responsables légaux gardés')} sur "
                f"{plural(counts['persons_in_file'], 'personne', 'personnes')} ({basis}), "
                f"{plural(counts['links'], 'lien de responsabilité', 'liens de responsabilité')}, "
                f"{plural(counts['addresses'], 'adresse', 'adresses')} dans le fichier.")
        if self.ent:
            profiles = ", ".join(plural(count, *ENT_PROFILE_WORDS.get(profile, (profile, profile)))
                                 for profile, count in self.ent["by_profile"].items())
            lines.append(f"  - Extraction CSV des comptes de l'ENT « {self.ent['path']} » : "
                         f"{plural(self.ent['accounts'], 'compte', 'comptes')}" + (f" ({profiles})" if profiles else "")
                         + ".")
        for kind in self.not_configured:
            lines.append(f"  - {KIND_TITLES[kind]} : non configuré (clé schools.{self.school_id}.files.{kind}), non vérifié.")
        lines.extend(f"Attention : {warning}" for warning in self.warnings)
        return "\n".join(lines)

    @staticmethod
    def _where(read) -> str:
        return read.source.path + (f" › {read.source.member}" if read.source.member else "")


def _label(kind: str, school_id: str) -> str:
    return f"{kinds.LABELS[kind][0].upper()}{kinds.LABELS[kind][1:]} (schools.{school_id}.files.{kind})"


def _zip_entry(kind: str, archive_name: str, uai: str, year: int) -> tuple[str, str | None, Callable[[list[str]], str | None]]:
    """The entry the import looks for in a zipped export, a warning for a variant, and a hint to
    give when it is missing (import-files.md §1.1)."""
    if kind == kinds.STS:
        wanted = f"sts_emp_{uai}_{year}.xml"

        def other_sts(names: list[str]) -> str | None:
            for name in names:
                match = re.fullmatch(r"sts_emp_(.+)_(.+)\.xml", name)
                if match:
                    other_uai, other_year = match.groups()
                    differences = ([f"de l'établissement {other_uai} et non {uai}"] if other_uai != uai else []) + \
                                  ([f"de l'année scolaire {other_year} et non {year}"] if other_year != str(year) else [])
                    return f"« {name} » est un export STS-Web {' et '.join(differences) or 'au nom inattendu'}"
            return None
        return wanted, None, other_sts
    normal, variant = {kinds.ELEVES: ("ElevesSansAdresses", "ElevesAvecAdresses"),
                       kinds.RESPONSABLES: ("ResponsablesAvecAdresses", "ResponsablesSansAdresses")}[kind]
    if archive_name.find(variant) > 0:
        warning = ("fichier des élèves avec adresses fourni : accepté, les adresses des élèves ne sont pas lues"
                   if kind == kinds.ELEVES else
                   "fichier des responsables sans adresses fourni : les adresses des parents ne seront pas trouvées")
        return f"{variant}.xml", warning, lambda names: None

    def variant_inside(names: list[str]) -> str | None:
        if f"{variant}.xml" in names:
            return (f"« {variant}.xml » n'est cherché que si le nom de l'archive contient « {variant} » après "
                    f"son début (ex. ExportXML_{variant}.zip) : renommez l'archive")
        return None
    return f"{normal}.xml", None, variant_inside


def _check_identity(source: XmlSource, read, kind: str, uai: str, year: int, school_id: str, today: date) -> None:
    uai_where = "PARAMETRES/UAJ/@CODE" if kind == kinds.STS else "PARAMETRES/UAJ"
    year_where = "PARAMETRES/ANNEE_SCOLAIRE/@ANNEE" if kind == kinds.STS else "PARAMETRES/ANNEE_SCOLAIRE"
    if not read.uai:
        raise source.refuse(f"ne comporte pas de n°UAI ({uai_where} absent ou vide) ; attendu « {uai} »")
    if read.uai != uai:
        hint = (" — la comparaison est exacte : minuscules ou espaces en trop"
                if read.uai.strip().upper() == uai else "")
        raise source.refuse(f"est issu de l'établissement « {read.uai} » et non « {uai} » (n°UAI de l'école "
                            f"{school_id} dans la configuration){hint}")
    if not read.year:
        raise source.refuse(f"ne comporte pas d'année scolaire ({year_where} absent ou vide) ; attendu « {year} »")
    if read.year != str(year):
        hint = ""
        if read.year.strip() == str(year):
            hint = " — espaces en trop : l'année doit être exactement les 4 chiffres"
        elif read.year.strip().startswith(str(year)):
            hint = " — seule l'année de début est attendue, en 4 chiffres"
        raise source.refuse(f"correspond à l'année scolaire « {read.year} » et non {year} (année attendue le "
                            f"{today:%d/%m/%Y} : {year}-{year + 1}, les fichiers changent d'année en août){hint}")


# Files already read and accepted, by what identifies their content and the checks made: a run
# reads each export for several purposes (pre-flight, expected people, class levels…), and a
# 2,000-student school's files took seconds each time. A file changed since (size, time of
# change, inode) is read again; a refusal is never kept (the next reading says it again).
_ACCEPTED: OrderedDict[tuple, tuple] = OrderedDict()
_ACCEPTED_KEPT = 8
_ACCEPTED_LOCK = threading.Lock()


def read_school_file(kind: str, path: Path, *, uai: str, year: int, school_id: str, today: date,
                     max_bytes: int = MAX_FILE_BYTES) -> tuple[StsFile | ElevesFile | ResponsablesFile, list[str]]:
    """Reads one export (.xml, or its .zip) and refuses it as the import would, or earlier.
    A file read and accepted before with the same checks, unchanged since, is not read again."""
    try:
        stat = Path(path).stat()
        key = (kind, str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino,
               stat.st_dev, uai, year, school_id, today, max_bytes)
    except OSError:
        key = None   # the reading below says why, in French
    with _ACCEPTED_LOCK:
        if key is not None and key in _ACCEPTED:
            _ACCEPTED.move_to_end(key)
            read, warnings = _ACCEPTED[key]
            return read, list(warnings)
    read, warnings = _read_school_file(kind, path, uai=uai, year=year, school_id=school_id, today=today,
                                       max_bytes=max_bytes)
    if key is not None:
        with _ACCEPTED_LOCK:
            _ACCEPTED[key] = (read, list(warnings))
            while len(_ACCEPTED) > _ACCEPTED_KEPT:
                _ACCEPTED.popitem(last=False)
    return read, warnings


def _read_school_file(kind: str, path: Path, *, uai: str, year: int, school_id: str, today: date,
                      max_bytes: int) -> tuple[StsFile | ElevesFile | ResponsablesFile, list[str]]:
    label = _label(kind, school_id)
    path = Path(path)
    warnings: list[str] = []
    # What the file is, whatever its name, before judging it as this export (a regular file
    # only: check_plain_file says why another is refused).
    if regular_file_problem(path) is None:
        problem = not_an_export(kind, sniff(path))
        if problem:
            raise Refused(f"{label} « {path} » : {problem}")
    if check_plain_file(path, label, max_bytes) == "zip":
        wanted, warning, hint = _zip_entry(kind, path.name, uai, year)
        source = open_zip_member(path, wanted, label, max_bytes, hint)
        if warning:
            warnings.append(f"{source.where()} : {warning}")
    else:
        source = XmlSource(path=path, label=label)
    reader = {kinds.STS: read_sts, kinds.ELEVES: read_eleves, kinds.RESPONSABLES: read_responsables}[kind]
    read = reader(source, max_bytes=max_bytes)
    if kind == kinds.STS and read.application_source:
        raise source.refuse(f"provient d'un logiciel privé d'emploi du temps (PARAMETRES/APPLICATION_SOURCE « "
                            f"{read.application_source} ») et non de STS-Web : exportez le fichier depuis STS-Web")
    _check_identity(source, read, kind, uai, year, school_id, today)
    _check_unique_ids(source, read, kind)
    if kind == kinds.STS and not read.teachers:
        ignored = sorted({p.fonction for p in read.people})
        found = f" ({plural(len(read.people), 'personne', 'personnes')} de fonction {', '.join(ignored)})" if ignored else ""
        raise source.refuse(f"aucun personnel enseignant ou de direction trouvé{found} ; attendu : des "
                            f"DONNEES/INDIVIDUS/INDIVIDU de FONCTION {', '.join(KEPT_FUNCTIONS)}")
    if kind == kinds.ELEVES and not any(not s.left for s in read.students):
        found = (f"les {len(read.students)} élèves du fichier sont tous sortis (DATE_SORTIE)" if read.students
                 else "aucun élève trouvé (DONNEES/ELEVES/ELEVE absent)")
        raise source.refuse(f"{found} ; attendu : au moins un élève présent")
    if kind == kinds.RESPONSABLES:
        if not read.parents:
            raise source.refuse("aucun responsable trouvé (DONNEES/PERSONNES/PERSONNE absent) ; attendu : au moins "
                                "un responsable légal")
        if not any(link.resp_legal != 0 for link in read.links):
            raise source.refuse(f"aucun lien de responsabilité légale (RESPONSABLE_ELEVE avec RESP_LEGAL 1 ou 2) "
                                f"parmi {plural(len(read.links), 'lien', 'liens')} ; attendu : au moins un")
    return read, warnings


ID_FIELDS = {kinds.STS: ("people", "sts_id", "INDIVIDU ID"), kinds.ELEVES: ("students", "eleve_id", "ELEVE_ID"),
             kinds.RESPONSABLES: ("parents", "personne_id", "PERSONNE_ID")}


def _check_unique_ids(source: XmlSource, read, kind: str) -> None:
    """SACoche matches people by these ids: an export never repeats one, a file that does was
    edited or merged by hand, and its import would update one account twice or create two."""
    items, field, name = ID_FIELDS[kind]
    counts = Counter(getattr(item, field) for item in getattr(read, items))
    twice = sorted(identifier for identifier, count in counts.items() if count > 1)
    if twice:
        shown = ", ".join(str(i) for i in twice[:5]) + ("…" if len(twice) > 5 else "")
        raise source.refuse(f"{plural(len(twice), 'identifiant', 'identifiants')} {name} en double ({shown}) ; "
                            "un export STS-Web / SIECLE n'en contient jamais : fichier modifié ou assemblé à la "
                            "main, à exporter de nouveau")


def check_school_files(config: BotConfig, school_id: str, today: date | None = None,
                       only: set[str] | None = None, *, max_bytes: int = MAX_FILE_BYTES,
                       ent_layout: CsvLayout | None = None) -> FilesSummary:
    """Reads and checks the school's configured export files (`schools.<id>.files`).

    `only=None`: every configured file; a file without a path is skipped and listed in
    `not_configured`. `only={"eleves", …}`: those files are required (Refused if not configured);
    when the parents file is required, the students file is also read if configured, since the
    import only keeps parents of imported students. `ent_layout` (with `only=None`): the ENT's
    account export (`files.ent`), if configured, is also checked, read with that layout as the
    run will read it."""
    school = config.school(school_id)
    ent_path = school.files.ent if only is None and ent_layout is not None else None
    today = today or date.today()
    year = school_year(today)
    paths = {kind: getattr(school.files, kind) for kind in kinds.SCHOOL_FILE_KINDS}
    unknown = set(only or ()) - set(kinds.SCHOOL_FILE_KINDS)
    if unknown:
        raise ValueError(f"unknown file kinds: {sorted(unknown)}")
    if only is not None:
        missing = [kind for kind in kinds.SCHOOL_FILE_KINDS if kind in only and paths[kind] is None]
        if missing:
            keys = ", ".join(f"schools.{school_id}.files.{kind} ({kinds.LABELS[kind]})" for kind in missing)
            raise Refused(f"{config.source or 'configuration'} : fichier nécessaire non configuré : {keys}")
        wanted = set(only) | ({kinds.ELEVES} if kinds.RESPONSABLES in only and paths[kinds.ELEVES] else set())
    else:
        wanted = {kind for kind, path in paths.items() if path is not None}
        if not wanted and ent_path is None:
            raise Refused(f"{config.source or 'configuration'} : aucun fichier à vérifier pour l'école {school_id} : "
                          f"indiquez schools.{school_id}.files.sts, .eleves ou .responsables")
    summary = FilesSummary(school_id=school_id, uai=school.uai, year=year, today=today,
                           not_configured=[k for k in kinds.SCHOOL_FILE_KINDS if paths[k] is None])
    for kind in kinds.SCHOOL_FILE_KINDS:
        if kind in wanted:
            read, warnings = read_school_file(kind, paths[kind], uai=school.uai, year=year, school_id=school_id,
                                              today=today, max_bytes=max_bytes)
            setattr(summary, kind, read)
            summary.warnings.extend(warnings)
    if ent_path is not None:
        export = read_ent_csv(ent_path, layout=ent_layout)
        summary.ent = {"path": str(ent_path), "encoding": export.encoding, "accounts": len(export.accounts),
                       "by_profile": export.by_profile}
    if summary.eleves and summary.responsables:
        _check_parents_match_students(summary.eleves, summary.responsables, school_id)
    if summary.responsables:
        twice = same_rank_students(summary.eleves, summary.responsables)
        if twice:
            summary.warnings.append(f"{plural(len(twice), 'élève a', 'élèves ont')} deux responsables légaux du même "
                                    f"rang (RESP_LEGAL) : {', '.join(twice)} ; SACoche réécrit leurs liens à chaque "
                                    "import des parents (le bot le signale sans le compter comme un changement)")
    return summary


def same_rank_students(eleves: ElevesFile | None, responsables: ResponsablesFile) -> list[str]:
    """Imported students (all linked ones without the students file) with two legal responsables
    of one rank: the parents' import compares links rank by rank, so it rewrites theirs each time."""
    ranks: dict[int, Counter] = {}
    for link in responsables.kept_links(eleves.imported_ids if eleves else None):
        ranks.setdefault(link.eleve_id, Counter())[link.resp_legal] += 1
    twice = {eleve_id for eleve_id, counter in ranks.items() if max(counter.values()) > 1}
    if eleves is None:
        return [f"élève n°{eleve_id}" for eleve_id in sorted(twice)]
    return [f"{s.nom} {s.prenom} ({s.division})" for s in eleves.students if s.eleve_id in twice]


def _check_parents_match_students(eleves: ElevesFile, responsables: ResponsablesFile, school_id: str) -> None:
    if responsables.kept_links(eleves.imported_ids):
        return
    any_student = {s.eleve_id for s in eleves.students}
    linked_anyhow = sum(1 for link in responsables.links if link.eleve_id in any_student)
    detail = (f"{linked_anyhow} liens visent des élèves sortis, sans classe, ou de simples contacts (RESP_LEGAL 0)"
              if linked_anyhow else "aucun ELEVE_ID du fichier des responsables n'existe dans le fichier des élèves")
    raise Refused(f"{_label(kinds.RESPONSABLES, school_id)} « {responsables.source.path} » : aucun responsable légal "
                  f"n'est lié à un élève importé du {kinds.LABELS[kinds.ELEVES]} « {eleves.source.path} » "
                  f"({detail}) ; les deux fichiers doivent venir de la même base SIECLE, de la même année")
