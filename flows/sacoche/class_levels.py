"""A step the paper guide forgets but a new school needs: choosing the school's class levels in
SACoche ("Paramétrages établissement > Niveaux") before the first import. A school the webmaster
has just created has none, and every new class would then stop the import at its step 31.

From the school's STS-Web and SIECLE files it works out the level of each class (see levels.py),
adds exactly the levels SACoche lacks, never removes one, and verifies by reloading the page."""
from __future__ import annotations

from bot.errors import Refused, SiteNotReady, VerificationMismatch
from schoolfiles.checks import check_school_files
from bot.flow import Outcome, RunContext, Status

from ..arena.exports import files_await_arena
from .common import SacocheFlow, sacoche_site
from .levels import LevelPlan, compact, official_levels, plan_levels
from .pages import LevelsPage
from .site_check import LEVELS


def school_level_plan(ctx: RunContext) -> LevelPlan:
    """The plan of this run (the files are read once), from the STS-Web and SIECLE files that
    are configured."""
    return ctx.once(_plan_from_files)


def _plan_from_files(ctx: RunContext) -> LevelPlan:
    files = ctx.school.files
    wanted = {kind for kind in ("sts", "eleves") if getattr(files, kind) is not None}
    if not wanted:
        raise Refused(f"Niveaux de classe : ni schools.{ctx.school_id}.files.sts ni .eleves n'est configuré ; "
                      "le bot ne peut pas savoir quels niveaux les classes demandent.")
    summary = check_school_files(ctx.config, ctx.school_id, only=wanted)
    return plan_levels(summary.sts, summary.eleves)


class SacocheClassLevels(SacocheFlow):
    # Retry-safe: choosing a level already chosen changes nothing (and the bot skips those
    # SACoche marks as chosen); nothing is ever removed.
    name = "sacoche-class-levels"
    title = "SACoche : niveaux de classe de l'établissement"
    site_pages = {"sacoche": (LEVELS,)}
    report_labels = {"counts": {"levels_added": "niveaux ajoutés"},
                     "details": {"added": "Niveaux ajoutés", "already": "Niveaux déjà choisis",
                                 "classes": "Niveau de chaque classe",
                                 "levels_chosen": "niveaux choisis dans SACoche"},
                     "data_keyed": ("classes",),   # class names, as the files write them
                     "inputs": {"sts": "export STS-Web", "eleves": "export SIECLE des élèves"}}

    def inputs(self, ctx: RunContext) -> dict:
        return {"sts": ctx.school.files.sts, "eleves": ctx.school.files.eleves}

    def preflight(self, ctx: RunContext) -> None:
        if files_await_arena(ctx, self.name, {"sts", "eleves"}, any_of=True):
            return   # planned from ARENA's downloads, checked as soon as they arrive
        school_level_plan(ctx)

    def run(self, ctx: RunContext) -> Outcome:
        plan = school_level_plan(ctx)
        page = LevelsPage(sacoche_site(ctx))
        ctx.step("ouverture de la page Niveaux de SACoche")
        page.open(ctx.login("sacoche"), ctx.password("sacoche"))
        chosen = page.chosen()
        # A class whose level the bot cannot tell is fine when a chosen level starts its code
        # (the teachers' import will pick it). One with students blocks: they would be left
        # without a class, so nothing is written and a person decides. One without any student
        # (a structure only STS-Web lists) is only reported: the imports leave it for a person.
        undetermined = [c for c in plan.undetermined()
                        if not any(ref and compact(c.code).startswith(ref) for ref, _ in chosen.values())]
        unknown = [c for c in undetermined if c.students]
        empty = [f"{c.code} ({c.why}) : aucun élève dans le fichier SIECLE, niveau à choisir à la main s'il le faut"
                 for c in undetermined if not c.students]
        if unknown:
            listed = " ; ".join(f"{c.code} ({c.why})" for c in unknown[:10]) + (" ; …" if len(unknown) > 10 else "")
            raise SiteNotReady(f"Le bot ne sait pas quel niveau SACoche donner à {len(unknown)} classe(s) : {listed}. "
                          "Choisissez leur niveau à la main dans SACoche (Paramétrages établissement > Niveaux), "
                          "puis relancez : rien n'a été modifié.")
        missing = [level for level in plan.needed() if level.id not in chosen]
        classes = {c.code: f"{c.level.name} — {c.why}" for c in plan.classes.values() if c.level}
        already = [f"{name} ({ref})" for ref, name in chosen.values()]
        details = {"already": already, "classes": classes}
        if empty:
            details["by_hand"] = [{"label": "Classes sans niveau connu du bot ni élève", "items": empty}]
        if not missing:
            return Outcome(Status.UNCHANGED, f"Les {len(plan.needed())} niveau(x) que demandent les classes sont déjà choisis "
                                      "dans SACoche : rien à changer.", details=details, counts={"levels_added": 0})
        added = []
        for level in missing:
            ctx.step(f"ajout du niveau « {level.name} » ({level.ref})", target=page.page.locator("#zone_partage"))
            page.add(level.id, level.family)
            added.append(f"{level.name} ({level.ref})")
        return Outcome(Status.DONE, f"{len(added)} niveau(x) de classe ajouté(s) dans SACoche : {', '.join(added)}.",
                       details={"added": added, **details}, counts={"levels_added": len(added)})

    def verify(self, ctx: RunContext, outcome: Outcome) -> dict:
        plan = school_level_plan(ctx)
        page = LevelsPage(sacoche_site(ctx))
        page.open(ctx.login("sacoche"), ctx.password("sacoche"))
        chosen = page.chosen()
        absent = [level for level in plan.needed() if level.id not in chosen]
        if absent:
            raise VerificationMismatch("Après rechargement, SACoche ne liste pas ces niveaux comme choisis : "
                                       + ", ".join(f"{level.name} ({level.ref})" for level in absent))
        table = official_levels()
        return {"levels_chosen": [f"{name} ({ref})" + ("" if level_id in table else " — hors table du bot")
                                    for level_id, (ref, name) in chosen.items()]}
