"""The students' and parents' lists, read from the answer SACoche gives to the page's own filter
form (no layout of thousands of rows), must give exactly the rows a person sees in Chromium once
the form is sent. Checked on the simulator after real imports, against the rendered page."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page

from bot.errors import FlowFailed
from bot.secrets import Secret
from conftest import DEMO, log_in, post_json
from flows.sacoche.pages import ROWS_OF_TABLE, SacocheSite, UserListPage

IMPORTS = "sacoche-auth-mode,sacoche-class-levels,sacoche-import-teachers,sacoche-import-students,sacoche-import-parents"


def rendered_rows(page: Page, sacoche_url: str, page_name: str) -> list[dict]:
    page.goto(f"{sacoche_url}index.php?page={page_name}&section=gestion")
    with page.expect_navigation():
        if page_name == "administrateur_eleve":
            page.select_option("#f_groupes", "d2")   # Tout l'établissement
        else:
            page.click("#actualiser")
    return page.locator("table#table_action").evaluate(ROWS_OF_TABLE)


def test_posted_lists_give_the_rows_chromium_shows(page: Page, sims, school):
    result = school("full-onboarding", "--school", "123", "--only", IMPORTS, "--json")
    assert result.code == 0, result.stderr[-2000:]
    log_in(page, sims.sacoche_url, mode_normal=True)   # the school now logs in through its ENT
    lists = UserListPage(SacocheSite(page, sims.sacoche_url, "123"))
    for page_name, profile in (("administrateur_eleve", "ELV"), ("administrateur_parent", "TUT")):
        wanted = rendered_rows(page, sims.sacoche_url, page_name)
        users = [u for u in sims.sacoche_store.snapshot()["schools"]["123"]["users"]
                 if u["profil"] == profile and not u["sortie"]]
        assert len(wanted) == len(users) > 20
        got = lists.rows(page_name, DEMO.sacoche_admin_login, Secret(DEMO.sacoche_admin_password))
        assert got == wanted


@pytest.mark.parametrize("fault", ["expire_session", "http_500"])
def test_a_list_answer_without_the_list_is_a_passing_failure(page: Page, sims, fault):
    """The session lost between opening the page and posting its form, or a server error: the
    flow fails as a passing fault (it is run again), it never reads an empty list as the truth."""
    log_in(page, sims.sacoche_url)
    post_json(sims.sacoche_url + "_sim/faults",
              {fault: [{"page": "administrateur_eleve", "method": "POST", "form": {"f_groupes": "d2"}}]})
    lists = UserListPage(SacocheSite(page, sims.sacoche_url, "123"))
    with pytest.raises(FlowFailed) as failed:
        lists.rows("administrateur_eleve", DEMO.sacoche_admin_login, Secret(DEMO.sacoche_admin_password))
    assert failed.value.transient and "administrateur_eleve" in failed.value.message


def test_a_list_that_never_comes_ends_the_wait_as_a_passing_failure(page: Page, sims):
    """SACoche slower than the navigation timeout to answer a list: the reading gives up then
    (a page read without being shown has no timeout of its own), as a passing fault."""
    log_in(page, sims.sacoche_url)
    post_json(sims.sacoche_url + "_sim/faults",
              {"delay": [{"page": "administrateur_eleve", "method": "POST", "form": {"f_groupes": "d2"}, "seconds": 3}]})
    lists = UserListPage(SacocheSite(page, sims.sacoche_url, "123", page_timeout_ms=1000))
    with pytest.raises(FlowFailed) as failed:
        lists.rows("administrateur_eleve", DEMO.sacoche_admin_login, Secret(DEMO.sacoche_admin_password))
    assert failed.value.transient and "lecture interrompue" in failed.value.message
