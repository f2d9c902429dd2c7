"""`administrateur_etabl_niveau` ("Niveaux") of the simulated SACoche: the school's chosen
official levels, the search by family, and the AJAX call that adds one. Like SACoche, adding
does not check whether the level is already chosen."""
from __future__ import annotations

from markupsafe import escape

from .levels import SCHOOL_LEVEL_MIN_ID, families, in_family, nomenclature

FAMILY_GROUPS = ((1, "Niveaux usuels"), (2, "Niveaux particuliers"), (3, "Niveaux classes"))
MSG_BAD_DATA = "Erreur avec les données transmises !"


def page_data(store, base: int) -> dict:
    chosen = store.levels(base)
    by_category: dict[int, list] = {}
    for family in sorted(families().values(), key=lambda f: (f.order, f.id)):
        by_category.setdefault(family.category, []).append(family)
    return {
        "zones": [("zone_partage", "Niveaux partagés (officiels)", chosen),
                  ("zone_perso", "Niveaux spécifiques (établissement)", [])],
        "family_groups": [(label, by_category.get(category, [])) for category, label in FAMILY_GROUPS],
        "max_shared_id": SCHOOL_LEVEL_MIN_ID - 1,
    }


def ajax(store, base: int, form) -> tuple[bool, str | None]:
    action = form.get("f_action", "")
    if action == "recherche_niveau_famille" and form.get("f_famille", "").isdigit():
        chosen = {level.id for level in store.levels(base)}
        items = []
        for level in in_family(int(form["f_famille"])):
            css, title = ("ajouter_non", "Niveau déjà choisi.") if level.id in chosen else ("ajouter", "Ajouter ce niveau.")
            items.append(f'<li>{escape(f"{level.name} ({level.ref})")}<q id="add_{level.id}" class="{css}" '
                         f'title="{title}"></q></li>')
        return True, "".join(items)
    if action == "ajouter_partage" and form.get("f_id", "").isdigit() and int(form["f_id"]) in nomenclature():
        store.activate_level(base, int(form["f_id"]))
        return True, None
    return False, MSG_BAD_DATA
