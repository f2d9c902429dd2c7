"""What an import should leave in SACoche, read from the school's files before any click: the
people SACoche keeps (its rules, see schoolfiles), keyed by their SIECLE/STS id, which SACoche shows
in the "Id Sconet" column of its user pages."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from schoolfiles.checks import check_school_files
from schoolfiles.checks import same_rank_students as files_same_rank
from bot.flow import RunContext


@dataclass
class ExpectedPeople:
    path: Path
    people: dict[int, str]      # SIECLE/STS id → "NOM Prénom" as in the file
    counts: dict


def expected_people(ctx: RunContext, file_key: str) -> ExpectedPeople:
    summary = check_school_files(ctx.config, ctx.school_id, only={file_key})
    path = Path(getattr(ctx.school.files, file_key))
    if file_key == "sts":
        people = {t.sts_id: f"{t.nom} {t.prenom}" for t in summary.sts.teachers}
    elif file_key == "eleves":
        people = {s.eleve_id: f"{s.nom} {s.prenom}" for s in summary.eleves.students if s.imported}
    else:
        imported = summary.eleves.imported_ids if summary.eleves else None
        kept = {link.personne_id for link in summary.responsables.kept_links(imported)}
        people = {p.personne_id: f"{p.nom} {p.prenom}" for p in summary.responsables.parents if p.personne_id in kept}
    return ExpectedPeople(path=path, people=people, counts=summary.counts())


def same_rank_students(ctx: RunContext) -> list[str]:
    """Imported students whose two legal responsables share one rank (see schoolfiles.checks)."""
    summary = check_school_files(ctx.config, ctx.school_id, only={"responsables"})
    return files_same_rank(summary.eleves, summary.responsables)
