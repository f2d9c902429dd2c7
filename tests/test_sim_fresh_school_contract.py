"""Pins the simulator to what a school the webmaster has just created looks like on the real
SACoche: no class level chosen (the import page says so, step 31 has nothing to offer), the
"Niveaux" page with its search by family and its add controls, the page header with its
language link, and the parents' links that SACoche rewrites on every run when two responsables
share a rank. Driven by hand in a real Chromium; the simulator's state is checked too."""
from __future__ import annotations

import re
from urllib.parse import parse_qs

from playwright.sync_api import Page, expect

from conftest import log_in, sim_state
from sim import datagen
from test_sim_wizard_contract import YEAR, go_on, open_import, upload


def levels_of(sims) -> list[int]:
    return [level["id"] for level in sim_state(sims)["schools"]["123"]["levels"]]


def test_a_new_school_has_no_level_and_the_import_page_says_so(page: Page, sims, tmp_path):
    assert levels_of(sims) == []
    data = datagen.generate_school(datagen.SchoolSpec(uai="0341234G", year=YEAR, students=8, teachers=3, seed=5))
    open_import(page, sims, "siecle_professeurs_directeurs_oui", levels=False)
    warning = page.locator("p.danger.b")
    expect(warning).to_contain_text("Aucun niveau de classe choisi pour l'établissement")
    expect(warning.locator("a")).to_have_attribute("href", "./index.php?page=administrateur_etabl_niveau")
    upload(page, "siecle_professeurs_directeurs", datagen.write_sts(data, tmp_path))
    go_on(page)   # 20
    go_on(page)   # 31
    selects = page.locator("#form_bilan select[id^=add_niv_]")
    assert selects.count() == len(data.divisions)
    # Nothing to choose: every select holds its blank option only.
    assert set(selects.evaluate_all("ss => ss.map(s => s.options.length)")) == {1}
    sent = []
    page.on("request", lambda r: sent.append(r.url) if "ajax.php" in r.url else None)
    page.click("a#envoyer_infos_regroupements")
    expect(page.locator("#form_bilan #ajax_msg")).to_have_class("erreur")
    assert sent == []
    assert sim_state(sims)["schools"]["123"]["groups"] == []


def test_niveaux_page_search_by_family_and_add(page: Page, sims):
    log_in(page, sims.sacoche_url)
    page.goto(f"{sims.sacoche_url}index.php?page=administrateur_etabl_niveau")
    expect(page.locator("h1")).to_have_text("Niveaux")
    assert page.evaluate("PAGE") == "administrateur_etabl_niveau" and page.evaluate("ID_NIVEAU_PARTAGE_MAX") == 999999
    expect(page.locator("#zone_partage h2")).to_have_text("Niveaux partagés (officiels)")
    expect(page.locator("#zone_partage tbody tr")).to_have_count(1)
    expect(page.locator("#zone_partage tbody tr.vide")).to_have_count(1)
    expect(page.locator("#zone_perso h2")).to_have_text("Niveaux spécifiques (établissement)")
    expect(page.locator("#zone_ajout_form")).to_be_hidden()

    page.locator("#zone_partage thead q.ajouter").click()
    expect(page.locator("#zone_ajout_form h2")).to_have_text("Rechercher un niveau")
    expect(page.locator("#zone_partage")).to_be_hidden()
    family = page.locator("select#f_famille")
    assert family.locator("optgroup").evaluate_all("gs => gs.map(g => g.label)") == \
        ["Niveaux usuels", "Niveaux particuliers", "Niveaux classes"]
    expect(family.locator("option[value='100']")).to_have_text("Collège")
    expect(family.locator("option[value='999']")).to_have_text("Niveaux principaux")

    with page.expect_request(lambda r: "administrateur_etabl_niveau" in r.url and r.method == "POST") as search:
        family.select_option("100")
    body = parse_qs(search.value.post_data)
    assert search.value.url.endswith("ajax.php?page=administrateur_etabl_niveau")
    assert body == {"csrf": [page.evaluate("CSRF")], "f_action": ["recherche_niveau_famille"], "f_famille": ["100"]}
    results = page.locator("ul#f_recherche_resultat")
    expect(results).to_be_visible()
    sixth = page.locator("q#add_100003")
    expect(sixth).to_have_class("ajouter")
    expect(sixth).to_have_attribute("title", "Ajouter ce niveau.")
    expect(results.locator("li", has=sixth)).to_have_text("Sixième (6)")
    # The collège's search also lists its cycles and CECRL levels, which classes never get.
    expect(results.locator("li", has=page.locator("q#add_4"))).to_have_text("Cycle 4 (5E-4E-3E) (P4)")

    with page.expect_request(lambda r: "administrateur_etabl_niveau" in r.url and r.method == "POST") as add:
        sixth.click()
    assert parse_qs(add.value.post_data) == {"csrf": [page.evaluate("CSRF")], "f_action": ["ajouter_partage"],
                                             "f_id": ["100003"]}
    assert add.value.response().json() == {"statut": True, "value": None}
    expect(page.locator("#ajax_msg_recherche")).to_have_class("valide")
    expect(page.locator("#ajax_msg_recherche")).to_have_text("Niveau ajouté.")
    expect(sixth).to_have_class("ajouter_non")
    expect(sixth).to_have_attribute("title", "Niveau déjà choisi.")
    assert levels_of(sims) == [100003]

    # A level already chosen has no action.
    sent = []
    page.on("request", lambda r: sent.append(r.url) if "ajax.php" in r.url else None)
    sixth.click()
    page.locator("#ajout_annuler").click()
    assert sent == []
    expect(page.locator("#zone_partage tr#id_100003 td").first).to_have_text("6")
    page.reload()
    expect(page.locator("#zone_partage tbody tr#id_100003 td").nth(1)).to_have_text("Sixième")
    expect(page.locator("#zone_partage tbody tr.vide")).to_have_count(0)
    expect(page.locator("p.danger.b")).to_have_count(0)


def test_step_31_offers_class_levels_only_and_guesses_by_prefix_or_mef(page: Page, sims, tmp_path):
    store = sims.sacoche_store
    for level_id in (100003, 101001, 4, 202):   # Sixième, Cinquième, Cycle 4, CECRL A2
        store.activate_level(123, level_id)
    data = datagen.generate_school(datagen.SchoolSpec(uai="0341234G", year=YEAR, students=8, teachers=3, seed=5))
    files = datagen.write_school_files(data, tmp_path)
    open_import(page, sims, "siecle_eleves_oui", levels=False)
    upload(page, "siecle_eleves", files["eleves"])
    go_on(page)   # 20
    go_on(page)   # 31
    rows = page.locator("#form_bilan input[id^=add_ref_]").evaluate_all("""refs => refs.map(r => {
        const select = document.getElementById('add_niv_' + r.id.substring(8));
        return [r.value, Array.from(select.options).map(o => o.text), select.value]; })""")
    for ref, options, chosen in rows:
        assert options == ["", "Sixième", "Cinquième"]   # no cycle, no CECRL
        # The students' MEF picks the level; a 4e or 3e class finds none.
        assert chosen == {"6": "100003", "5": "101001"}.get(ref[0], ""), ref


def test_header_carries_the_profile_and_the_language_link(page: Page, sims):
    log_in(page, sims.sacoche_url)
    profile = page.locator("#top_info span.top.profil_administrateur")
    expect(profile).to_have_text(re.compile(r"^Camille ADMIN \[administrateur\] \[fr_FR\]$"))
    expect(profile.locator("a")).to_have_attribute("href", "./index.php?page=compte_langue")
    expect(profile.locator("a")).to_have_text("[fr_FR]")


def test_two_responsables_of_one_rank_are_rewritten_on_every_run(page: Page, sims, tmp_path):
    store = sims.sacoche_store
    for level_id in (100003, 101001, 102001, 103003):
        store.activate_level(123, level_id)
    data = datagen.generate_school(datagen.SchoolSpec(uai="0341234G", year=YEAR, students=10, teachers=3, seed=8,
                                                      traps=frozenset({"same_rank_parents"})))
    same_rank = {link.eleve_id for link in data.links if link.resp_legal == 2} - \
        {link.eleve_id for link in data.links if link.resp_legal == 1}
    assert len(same_rank) == 1
    files = datagen.write_school_files(data, tmp_path)

    def run(category: str, button: str, path) -> list[str]:
        page.goto(f"{sims.sacoche_url}index.php?page=administrateur_fichier_user")
        page.select_option("#f_choix_principal", category)
        upload(page, button, path)
        lines = []
        while page.locator("a#retourner_depart").count() == 0:
            go_on(page)
            lines += page.locator("#form_bilan label.valide").all_inner_texts()
        return lines

    open_import(page, sims, "siecle_eleves_oui")
    run("siecle_eleves_oui", "siecle_eleves", files["eleves"])
    first = run("siecle_parents_oui", "siecle_parents", files["responsables"])
    assert any(re.search(r"Liens de responsabilités modifiés pour \d+ élèves", line) for line in first)
    links_after_first = sim_state(sims)["schools"]["123"]["parent_links"]
    again = run("siecle_parents_oui", "siecle_parents", files["responsables"])
    assert "Liens de responsabilités modifiés pour 1 élève" in again
    assert sim_state(sims)["schools"]["123"]["parent_links"] == links_after_first
