"""The SACoche releases the bot was verified on, with the date of each check: another release
is not refused (pre-flight warns), since its pages may well be the same; the landmarks say."""
from __future__ import annotations

# release (as the public page shows it) → when and against what it was checked
VERIFIED = {
    "2017-09-19": "vérifiée le 2026-12-06 (instantané public AGPL, école neuve : onboarding complet, homonymes départagés)",
}


def version_note(version: str | None) -> str:
    if not version:
        return "version non affichée par la page d'accueil : attention, le robot n'a pu la comparer à aucune"
    if version in VERIFIED:
        return VERIFIED[version]
    known = ", ".join(sorted(VERIFIED))
    return (f"attention : version jamais vérifiée avec le robot (vérifiées : {known}) ; les repères ci-dessus "
            "disent si ses pages sont celles que le robot connaît")
