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
    # Two connectors of other ENTs with their own account-file layouts (see ent_ids.CSV_FORMATS).
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

OPTGROUP_LABELS = {"normal": "Local", "cas": "Serveur CAS", "shibboleth": "Shibboleth",
                   "gepi": "GEPI"}


def find(mode: str, ref: str) -> Connector | None:
    for connector in CONNECTORS:
        if connector.mode == mode and connector.ref == ref:
            return connector
    return None
