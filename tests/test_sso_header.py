"""sso-check reads who SACoche says is logged in from the page header's structure: the person,
their profile (plain, or inside the link to switch profiles) and the language link that the real
header carries for every school user. Driven in a real Chromium on markup shaped like the real
header, and end to end against the simulator."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page

from conftest import sim_state
from flows.sacoche.pages import SsoLanding

LANGUAGE = ' <a href="./index.php?page=compte_langue">[fr_FR]</a>'


@pytest.mark.parametrize("inner, user, profile", [
    ("Théo ANDRÉ [professeur]" + LANGUAGE, "Théo ANDRÉ", "professeur"),
    ("Marie-Hélène D'ALMEIDA [élève]" + LANGUAGE, "Marie-Hélène D'ALMEIDA", "élève"),
    # A name holding brackets, and a profile shown as the link to switch profiles.
    ('Jean [dit Jo] MARTIN [<a href="./index.php?page=compte_switch"><span class="top switch">directeur</span></a>]'
     + LANGUAGE, "Jean [dit Jo] MARTIN", "directeur"),
    ("Etab ADMIN [administrateur]", "Etab ADMIN", "administrateur"),   # no language link at all
])
def test_header_parts_from_the_markup(page: Page, inner, user, profile):
    page.set_content(f'<div id="top_info"><div><span class="top home">Collège <a href="#">[accueil]</a></span><br>'
                     f'<span class="top profil_professeur">{inner}</span></div></div>')
    landing = SsoLanding(page).who_is_logged_in()
    assert landing["identified"] and landing["user"] == user and landing["profile"] == profile
    assert landing["profile_type"] == "professeur"
    assert landing["language"] == ("fr_FR" if "compte_langue" in inner else "")


def test_sso_check_compares_name_and_profile_through_the_real_header(school, sims):
    # The whole guide in one run (one browser, one login per site), the SSO check last.
    result = school("full-onboarding", "--school", "123", "--json")
    assert result.code == 0, result.stdout[-3000:] + result.stderr[-3000:]
    check = result.report["flows"][-1]
    assert check["name"] == "sso-check"
    results = check["details"]["results"]
    assert {r["profile_type"] for r in results} == {"professeur", "eleve", "parent"}
    assert all(r["language"] == "fr_FR" and "[" not in r["user"] for r in results)
    # The users SACoche logged in are the ENT accounts, by their ENT id.
    by_ent = {u["id_ent"]: u for u in sim_state(sims)["schools"]["123"]["users"]}
    for r in results:
        account = by_ent[r["login"]]
        assert r["user"] == f"{account['prenom']} {account['nom']}"
