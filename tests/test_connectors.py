"""A school on another ENT than Montpellier's: SACoche's identification mode is set to that
ENT's connector, and its account file, in that connector's own layout, gives the ENT ids.
The ENT-side steps, whose pages the bot does not know for that ENT, are left to a person."""
from __future__ import annotations

import csv

import pytest

from conftest import configure_school, ent_state, sim_state
from test_ent_flows import expected_ent_ids
from flows.sacoche.connectors import CONNECTORS, find_connector
from schoolfiles.ent_csv import LAYOUTS
from sim.ent.seed import ent_accounts

# connector, department, how its ENT writes the account file (header rows, then one per account)
LAYOUTS_BY_CONNECTOR = {
    # kosmos: a header row whose cells name the columns, in any order
    "kosmos_01": ("01", lambda a: [a.classe, a.prenom, "x", a.nom, a.ent_id], ["Classe", "Prénom", "Profil", "Nom",
                                                                               "Identifiant ENT"]),
    # toutatice: no header, surname, first name, then the ENT id
    "toutatice": ("22", lambda a: [a.nom, a.prenom, a.ent_id, a.profile], None),
}


def write_export(path, accounts, row_of, header) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        if header:
            writer.writerow(header)
        for account in accounts:
            writer.writerow(row_of(account))


@pytest.mark.parametrize("connector", sorted(LAYOUTS_BY_CONNECTOR))
def test_another_connector_sets_the_mode_and_imports_the_ids_of_its_layout(sims, bot, tmp_path, connector):
    department, row_of, header = LAYOUTS_BY_CONNECTOR[connector]
    configure_school(bot, sims, tmp_path / "files")
    accounts = ent_accounts(sims.school_data)
    export = tmp_path / f"export_{connector}.csv"
    write_export(export, accounts, row_of, header)
    school = bot.config_data["schools"]["123"]
    school.update({"ent_connector": connector, "department": department})
    school["files"]["ent"] = str(export)
    bot.write_config()
    ent_requests = ent_state(sims)["requests"]

    result = bot("full-onboarding", "--school", "123", "--json")
    assert result.code == 0, result.stderr + result.stdout[-2000:]
    flows = {flow["name"]: flow for flow in result.report["flows"]}

    # SACoche: the connector's option saved, and the ids of its file given to the users.
    state = sim_state(sims)["schools"]["123"]
    assert state["params"]["connexion_nom"] == connector
    assert state["params"]["connexion_departement"] == department
    users = [u for u in state["users"] if u["profil"] != "ADM"]
    given = {u["id_ent"] for u in users if u["id_ent"]}
    assert flows["sacoche-ent-ids"]["counts"]["ent_ids_set"] == len(given) > 0
    # Each person matched by name got exactly the id the ENT file gives them (homonyms aside).
    key = {"ELV": "eleve", "TUT": "personne"}
    by_source = {f"{key.get(u['profil'], 'sts')}:{u['sconet_id']}": u for u in users}
    wanted = expected_ent_ids(sims.school_data)
    assert {source: by_source[source]["id_ent"] for source in wanted} == wanted
    assert "ENT Languedoc" not in flows["sacoche-auth-mode"]["details"]["summary"]

    # The ENT: not one request (its pages are not those the bot knows), steps listed for a person.
    assert ent_state(sims)["requests"] == ent_requests   # /_sim/ reads are not counted
    for name in ("ent-accounts-export", "ent-sacoche-link", "sso-check"):
        flow = flows[name]
        assert flow["status"] == "unchanged", flow
        steps = [item for group in flow["details"]["by_hand"] for item in group["items"]]
        assert steps and "à faire à la main" in flow["details"]["by_hand"][0]["label"]
    assert any("base=123" in item for group in flows["ent-sacoche-link"]["details"]["by_hand"]
               for item in group["items"])


def test_every_connector_of_sacoche_is_known_with_its_layout():
    # 158 options in SACoche's list: normal, gepi, and 156 ENT connectors (5 without a file import).
    assert len(CONNECTORS) == 158
    ents = [c for c in CONNECTORS if c.mode in ("cas", "shibboleth")]
    assert len(ents) == 156
    assert sum(1 for c in ents if c.layout is None) == 5
    assert {c.layout_key for c in ents if c.layout} <= set(LAYOUTS)
    assert find_connector("esup_montpellier", "34").value == "cas~34|esup_montpellier"
    assert find_connector("toutatice", "35").layout.key == "toutatice"
    assert find_connector("perso", "34").manual_cas


def test_a_connector_needing_a_cas_subdomain_is_refused_without_it(sims, bot, tmp_path):
    configure_school(bot, sims, tmp_path / "files")
    school = bot.config_data["schools"]["123"]
    school.update({"ent_connector": "cel_creteil", "department": "94"})
    bot.write_config()
    result = bot("run", "sacoche-auth-mode", "--school", "123")
    assert result.code == 2
    assert "cas_server.subdomain" in result.stderr
    assert sim_state(sims)["schools"]["123"]["params"]["connexion_mode"] == "normal"
