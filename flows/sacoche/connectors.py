"""ENT connectors SACoche knows, as far as the bot needs them: the option of
`select#connexion_mode_nom` is `<mode>~<department>|<name>`, listed once per department the
connector serves."""
from __future__ import annotations

from bot.errors import Refused

CONNECTORS = {
    # Montpellier academy (ESUP Portail), one entry per department of the academy.
    "esup_montpellier": {"mode": "cas", "departments": ("11", "30", "34", "48", "66")},
}


def connector_option(connector: str, department: str) -> str:
    """The option value to select for a school, or Refused with what was expected."""
    known = CONNECTORS.get(connector)
    if known is None:
        raise Refused(f"Connecteur ENT « {connector} » inconnu du robot (connus : "
                      f"{', '.join(CONNECTORS)}) : clé ent_connector de l'école")
    if department not in known["departments"]:
        raise Refused(f"Le connecteur {connector} n'existe pas pour le département {department} "
                      f"(départements possibles : {', '.join(known['departments'])}) : clé department de l'école")
    return f"{known['mode']}~{department}|{connector}"
