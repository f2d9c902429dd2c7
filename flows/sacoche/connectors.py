"""The identification modes SACoche knows (data/connectors.csv, one line per option of
`select#connexion_mode_nom`, whose value is `<mode>~<department>|<name>`), with the layout of
the ENT account file each one imports, and whether its CAS server needs a subdomain or a port
typed for the school."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from bot.errors import Refused
from schoolfiles.ent_csv import LAYOUTS, CsvLayout

TABLE = Path(__file__).with_name("data") / "connectors.csv"


@dataclass(frozen=True)
class Connector:
    mode: str            # normal | cas | shibboleth | gepi
    departement: str     # "" for the connectors of every department
    nom: str
    layout_key: str      # "" : no file import (the ENT sends ids otherwise); "-": not an ENT
    operational: bool
    variable_subdomain: bool
    variable_port: bool

    @property
    def value(self) -> str:
        return f"{self.mode}~{self.departement}|{self.nom}"

    @property
    def manual_cas(self) -> bool:
        """`cas~|perso`: the CAS server is typed in full."""
        return self.mode == "cas" and self.nom == "perso"

    @property
    def layout(self) -> CsvLayout | None:
        return LAYOUTS.get(self.layout_key) if self.layout_key not in ("", "-") else None


def _load() -> list[Connector]:
    with TABLE.open(encoding="utf-8", newline="") as handle:
        return [Connector(mode=row["mode"], departement=row["departement"], nom=row["nom"], layout_key=row["layout"],
                          operational=row["operational"] == "1", variable_subdomain=row["variable_subdomain"] == "1",
                          variable_port=row["variable_port"] == "1")
                for row in csv.DictReader(handle)]


CONNECTORS: list[Connector] = _load()


def find_connector(name: str, department: str) -> Connector:
    """The school's connector, or Refused with what was expected."""
    candidates = [c for c in CONNECTORS if c.nom == name]
    if not candidates:
        raise Refused(f"Connecteur ENT « {name} » inconnu de SACoche (clé ent_connector de l'école ; "
                      f"{len({c.nom for c in CONNECTORS})} connecteurs connus, par ex. esup_montpellier, kosmos_01, "
                      "toutatice, openent_pcn).")
    for connector in candidates:
        if connector.departement in (department, ""):
            if not connector.operational:
                raise Refused(f"Le connecteur {name} est marqué hors service par SACoche : choisissez-en un autre.")
            return connector
    departments = ", ".join(c.departement for c in candidates)
    raise Refused(f"Le connecteur {name} n'existe pas pour le département {department} "
                  f"(départements possibles : {departments}) : clé department de l'école")


def connector_option(name: str, department: str) -> str:
    """The option value to select for a school."""
    return find_connector(name, department).value
