"""The identification modes SACoche offers on `administrateur_etabl_connexion` (facts from the
spec: option values `<mode>~<departement>|<nom>`, texts `<departement> | <label>`, one ESUP
Montpellier entry per department of the academy). A short subset of the real list: enough for
the page to look like the real one and for the bot to have to pick the right entry."""
from __future__ import annotations

from dataclasses import dataclass

ESUP_MONTPELLIER_LABEL = "ENT Languedoc-Roussillon (académie de Montpellier)"
ESUP_CAS_SERVER = {
    "host": "www.environnementnumeriquedetravail.fr",
    "port": "443",
    "root": "cas",
    "subdomain": "www",
    "domain": "environnementnumeriquedetravail.fr",
}


@dataclass(frozen=True)
class Connector:
    mode: str            # normal | cas | shibboleth | gepi
    departement: str     # may be empty
    nom: str
    label: str
    operational: bool = True
    cas_server: dict | None = None   # fixed server settings of a referenced CAS connector
    csv_format: str = ""

    @property
    def ref(self) -> str:
        return f"{self.departement}|{self.nom}"

    @property
    def value(self) -> str:
        return f"{self.mode}~{self.ref}"

    @property
    def text(self) -> str:
        return f"{self.departement} | {self.label}" if self.departement else self.label


CONNECTORS: list[Connector] = [
    Connector("normal", "", "sacoche", "Connexion avec les identifiants enregistrés dans SACoche"),
    Connector("cas", "", "perso", "Configuration CAS manuelle", csv_format="perso"),
    *[
        Connector("cas", dep, "esup_montpellier", ESUP_MONTPELLIER_LABEL,
                  cas_server=ESUP_CAS_SERVER, csv_format="esup")
        for dep in ("11", "30", "34", "48", "66")
    ],
    # Two connectors of other ENTs with their own account-file layouts (CSV_LAYOUTS below).
    Connector("cas", "01", "kosmos_01", "ENT K-d'école (département de l'Ain)",
              cas_server={"host": "cas.colleges.ain.fr", "port": "443", "root": "",
                          "subdomain": "cas", "domain": "colleges.ain.fr"}, csv_format="kosmos"),
    *[
        Connector("cas", dep, "toutatice", "ENT Toutatice (académie de Rennes)",
                  cas_server={"host": "www.toutatice.fr", "port": "443", "root": "casshib/shib/toutatice",
                              "subdomain": "www", "domain": "toutatice.fr"}, csv_format="toutatice")
        for dep in ("22", "29", "35", "56")
    ],
    Connector("cas", "94", "cel_creteil", "ENT CEL (académie de Créteil)", operational=False,
              cas_server={"host": "cel.ac-creteil.fr", "port": "8443", "root": "",
                          "subdomain": "cel", "domain": "ac-creteil.fr"}),
    *[
        Connector("shibboleth", dep, "argos", "ENT Argos (académie de Bordeaux)")
        for dep in ("24", "33", "40", "47")
    ],
    Connector("gepi", "", "saml", "S'authentifier depuis GEPI (protocole SAML)"),
]

# The account-file layouts the simulated identifier import reads, by Connector.csv_format:
# (header lines to drop, id column, surname column, first-name column). A str column: the layout
# finds it by name in the first line (kosmos), which is then dropped.
CSV_LAYOUTS = {"esup": (2, 0, 2, 3), "toutatice": (0, 2, 0, 1), "kosmos": (1, "Identifiant ENT", "Nom", "Prénom")}

OPTGROUP_LABELS = {"normal": "Local", "cas": "Serveur CAS", "shibboleth": "Shibboleth",
                   "gepi": "GEPI"}


def csv_layout(nom: str) -> tuple | None:
    """The account-file layout of the connector named `nom`, if the simulator reads its files."""
    formats = {c.csv_format for c in CONNECTORS if c.nom == nom}
    return next((CSV_LAYOUTS[f] for f in formats if f in CSV_LAYOUTS), None)


def find(mode: str, ref: str) -> Connector | None:
    for connector in CONNECTORS:
        if connector.mode == mode and connector.ref == ref:
            return connector
    return None
