"""Pins the simulator's "Importer des fichiers d'utilisateurs" wizard to the real SACoche's
contract: option values, hidden file input, step controls and parameters, messages, and the
traps observed on the real site. Driven by hand in a real Chromium."""
from __future__ import annotations

import csv
import io
import re
from datetime import date
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import Page, expect

from conftest import choose_college_levels, log_in, sim_state
from sim import datagen

YEAR = date.today().year if date.today().month >= 8 else date.today().year - 1
CONTROLS = ("#form_bilan a#passer_etape_suivante, #form_bilan a#envoyer_infos_regroupements, "
            "#form_bilan a#envoyer_infos_utilisateurs, #form_bilan a.step53, #form_bilan a#retourner_depart")


@pytest.fixture
def school_files(tmp_path):
    data = datagen.generate_school(datagen.SchoolSpec(uai="0341234G", year=YEAR, students=12, teachers=4, seed=3))
    return data, datagen.write_school_files(data, tmp_path / "files")


def open_import(page: Page, sims, category: str, levels: bool = True) -> None:
    """The import page, for a school whose levels are chosen unless `levels` is False (a fresh
    school has none: see test_sim_fresh_school_contract)."""
    if levels:
        choose_college_levels(sims)
    log_in(page, sims.sacoche_url)
    page.goto(f"{sims.sacoche_url}index.php?page=administrateur_fichier_user")
    page.select_option("#f_choix_principal", category)


def upload(page: Page, button: str, path) -> None:
    with page.expect_file_chooser() as chooser:
        page.click(f"button#{button}")
    with page.expect_response(lambda r: "administrateur_fichier_user" in r.url):
        chooser.value.set_files(str(path))
    expect(page.locator("#form_bilan #ajax_msg")).not_to_have_class(re.compile("loader"))


def go_on(page: Page):
    control = page.locator(CONTROLS).first
    with page.expect_request(lambda r: "administrateur_fichier_user" in r.url) as info:
        control.click()
    expect(page.locator("#form_bilan #ajax_msg")).not_to_have_class(re.compile("loader"))
    return info.value


def test_category_form_and_hidden_file_input(page: Page, sims):
    open_import(page, sims, "siecle_eleves_oui")
    values = page.locator("#f_choix_principal option").evaluate_all("os => os.map(o => o.value)")
    for value in ("siecle_professeurs_directeurs_oui", "siecle_eleves_oui", "siecle_parents_oui",
                  "siecle_nomenclature_oui", "onde_eleves", "tableur_eleves"):
        assert value in values
    expect(page.locator("#fieldset_siecle_eleves_oui button#siecle_eleves")).to_have_text("Parcourir...")
    expect(page.locator("#f_mode_complet")).to_be_checked()     # no import yet this school year
    file_input = page.locator("input#f_import")
    expect(file_input).to_have_attribute("name", "userfile")
    expect(file_input).to_have_attribute("type", "file")
    box = file_input.bounding_box()
    assert box is None or box["width"] == 0 or file_input.evaluate("e => getComputedStyle(e).opacity") == "0"
    expect(page.locator("#f_step")).to_have_value("10")


def test_without_uai_the_siecle_categories_are_non(page: Page, sims):
    sims.sacoche_store.set_school_uai(123, "")
    open_import(page, sims, "siecle_eleves_non")
    expect(page.locator("#fieldset_siecle_eleves_non label.alerte")).to_have_text(
        "Le numéro UAI de l'établissement n'étant pas renseigné, cette procédure ne peut pas être utilisée.")
    expect(page.locator("#fieldset_siecle_eleves_non button")).to_have_count(0)


def test_teacher_import_steps_parameters_and_reports(page: Page, sims, school_files):
    data, files = school_files
    open_import(page, sims, "siecle_professeurs_directeurs_oui")
    with page.expect_request(lambda r: "administrateur_fichier_user" in r.url) as upload_request:
        upload(page, "siecle_professeurs_directeurs", files["sts"])
    assert upload_request.value.url.endswith(f"ajax.php?page=administrateur_fichier_user&csrf={page.evaluate('CSRF')}")
    # Chromium does not hand file uploads' bodies to Playwright: check the form that was posted.
    assert upload_request.value.headers["content-type"].startswith("multipart/form-data")
    posted = page.evaluate("() => Array.from(new FormData(document.getElementById('form_choix')).keys())")
    assert posted == ["f_action", "f_step", "userfile", "f_choix_principal", "f_mode"]
    expect(page.locator("ul#step li#step1")).to_have_class("on")
    assert page.locator("ul#step li").evaluate_all("lis => lis.map(l => l.id)") == \
        ["step1", "step2", "step3", "step4", "step5", "step6", "step9"]
    expect(page.locator("#form_bilan input[name=report_objet]")).to_be_visible()
    expect(page.locator("#form_bilan label.valide")).to_have_text("Votre fichier a été correctement réceptionné.")
    expect(page.locator("a#passer_etape_suivante")).to_have_attribute("href", "#step20")

    step20 = go_on(page)
    fields = parse_qs(step20.post_data)
    assert fields["f_step"] == ["20"] and fields["f_action"] == ["siecle_professeurs_directeurs_oui"]
    assert fields["f_mode"] == ["complet"] and fields["csrf"] == [page.evaluate("CSRF")]
    counts = datagen.expected_counts(data)
    expect(page.locator("#form_bilan")).to_contain_text(f"{counts['staff_by_profile']['ENS']} personnels enseignants trouvés.")
    expect(page.locator("#form_bilan")).to_contain_text("1 personnel de direction trouvé.")
    expect(page.locator("a#passer_etape_suivante")).to_have_attribute("href", "#step31")

    go_on(page)   # step 31: classes
    expect(page.locator("a#envoyer_infos_regroupements")).to_have_attribute("href", "#step32")
    first_add = page.locator("#form_bilan input[type=checkbox][id^=add_]").first
    expect(first_add).to_be_checked()
    key = first_add.get_attribute("id")[4:]
    expect(page.locator(f"#add_niv_{key}")).not_to_have_value("")
    expect(page.locator(f"#add_nom_{key}")).to_have_attribute("maxlength", "20")
    step32 = go_on(page)
    fields = parse_qs(step32.post_data, keep_blank_values=True)
    assert fields["f_del"] == [""] and "]¤[" in fields["f_add"][0]
    classes = counts["classes"]
    expect(page.locator("#form_bilan label.valide")).to_have_text(
        f"0 classe présente + {classes} classes ajoutées − 0 classe supprimée = {classes} classes résultantes.")

    go_on(page)   # 41
    go_on(page)   # 42
    go_on(page)   # 51
    expect(page.locator("#form_bilan th").filter(has_text="Utilisateurs à ajouter")).to_have_text(
        re.compile(r"^Utilisateurs à ajouter \(absents de la base, nouveaux dans le fichier\)\."))
    step52 = go_on(page)
    checked = parse_qs(step52.post_data)["f_check"][0].split(",")
    assert len(checked) == counts["staff"] and all(c.startswith("add_") for c in checked)
    staff = counts["staff"]
    expect(page.locator("#form_bilan label.valide")).to_have_text(
        f"0 utilisateur actuel et 0 utilisateur ancien → 0 utilisateur modifié + {staff} utilisateurs ajoutés "
        f"− 0 utilisateur retiré → {staff} utilisateurs actuels et 0 utilisateur ancien.")
    expect(page.locator("#form_bilan tr.new")).to_have_count(staff)   # clear passwords, complet mode
    expect(page.locator("#form_bilan input#archive")).to_have_attribute("name", "archive")

    step53 = go_on(page)
    assert parse_qs(step53.post_data)["f_step"] == ["53"]
    expect(page.locator("#form_bilan p.danger")).to_have_text("Les mots de passe, cryptés, ne seront plus accessibles ultérieurement !")
    with page.expect_download() as download_info:
        page.click("#form_bilan a[href*='force_download.php?auth&fichier=']")
    content = download_info.value.path().read_bytes().decode("cp1252")
    assert content.startswith("SCONET_Id;SCONET_N°;REFERENCE;PROFIL;NOM;PRENOM;COURRIEL;LOGIN;MOT DE PASSE\r\n\r\n")
    assert len(list(csv.reader(io.StringIO(content), delimiter=";"))) == staff + 2
    expect(page.locator("a#passer_etape_suivante")).to_have_attribute("href", "#step61")
    go_on(page)   # 61
    go_on(page)   # 62
    expect(page.locator("#form_bilan")).to_contain_text("Modifications associations utilisateurs / classes effectuées :")
    go_on(page)   # 90
    expect(page.locator("#form_bilan label.valide")).to_have_text("Fichiers temporaires effacés, procédure d'import terminée !")
    expect(page.locator("a#retourner_depart")).to_have_text("Retour au départ.")
    state = sim_state(sims)["schools"]["123"]
    assert sum(1 for u in state["users"] if u["profil"] != "ADM") == staff


def test_file_set_directly_on_the_hidden_input_loses_the_mode(page: Page, sims, school_files):
    _, files = school_files
    open_import(page, sims, "siecle_eleves_oui")
    with page.expect_response(lambda r: "administrateur_fichier_user" in r.url):
        page.set_input_files("#f_import", str(files["eleves"]))
    step20 = go_on(page)
    assert parse_qs(step20.post_data, keep_blank_values=True)["f_mode"] == [""]


@pytest.mark.parametrize("change, message", [
    ({"uai": "0341235H"}, "Le fichier transmis est issu de l'établissement 0341235H et non 0341234G !"),
    ({"year": YEAR - 1}, f"Le fichier transmis ne correspond pas à l'année scolaire {YEAR} !"),
])
def test_wrong_uai_or_year_is_refused_at_step_20_not_at_upload(page: Page, sims, tmp_path, change, message):
    spec = {"uai": "0341234G", "year": YEAR, "students": 5, "teachers": 2, **change}
    data = datagen.generate_school(datagen.SchoolSpec(**spec))
    path = datagen.write_eleves(data, tmp_path)
    open_import(page, sims, "siecle_eleves_oui")
    upload(page, "siecle_eleves", path)
    expect(page.locator("#form_bilan label.valide")).to_have_text("Votre fichier a été correctement réceptionné.")
    go_on(page)
    expect(page.locator("#form_bilan #ajax_msg")).to_have_class("alerte")
    expect(page.locator("#form_bilan #ajax_msg")).to_have_text(message)


def test_zip_without_the_expected_entry(page: Page, sims, school_files, tmp_path):
    _, files = school_files
    archive = datagen.write_zip(files["eleves"], tmp_path / "ExportXML_ElevesSansAdresses.zip", "export/ElevesSansAdresses.xml")
    open_import(page, sims, "siecle_eleves_oui")
    upload(page, "siecle_eleves", archive)
    expect(page.locator("#form_bilan #ajax_msg")).to_have_text("Fichier ElevesSansAdresses.xml non trouvé dans l'archive ZIP !")


def test_a_group_without_level_blocks_the_step_without_any_request(page: Page, sims, tmp_path):
    data = datagen.generate_school(datagen.SchoolSpec(uai="0341234G", year=YEAR, students=6, teachers=3,
                                                      traps=frozenset({"group_without_level"})))
    path = datagen.write_sts(data, tmp_path)
    open_import(page, sims, "siecle_professeurs_directeurs_oui")
    upload(page, "siecle_professeurs_directeurs", path)
    go_on(page)   # 20
    go_on(page)   # 31
    go_on(page)   # 32
    go_on(page)   # 41: groups
    empty = page.locator("#form_bilan select[id^=add_niv_]").evaluate_all(
        "selects => selects.filter(s => !s.value).map(s => s.id)")
    assert len(empty) == 2   # AS_SPORT and LATIN5: no level reference starts their code
    sent = []
    page.on("request", lambda r: sent.append(r.url) if "ajax.php" in r.url else None)
    page.click("a#envoyer_infos_regroupements")
    expect(page.locator("#form_bilan #ajax_msg")).to_have_class("erreur")
    expect(page.locator("#form_bilan #ajax_msg")).to_have_text("2 lignes de formulaire à compléter.")
    assert sent == []


def test_parents_step_list_and_links(page: Page, sims, school_files):
    _, files = school_files
    # Parents need students: put them in through the wizard first, the quick way.
    open_import(page, sims, "siecle_eleves_oui")
    upload(page, "siecle_eleves", files["eleves"])
    while page.locator("a#retourner_depart").count() == 0:
        if page.locator("a#envoyer_infos_regroupements").count():
            for select in page.locator("#form_bilan select[id^=add_niv_]").all():
                if not select.input_value():
                    select.select_option(index=1)
        go_on(page)
    page.click("a#retourner_depart")
    page.select_option("#f_choix_principal", "siecle_parents_oui")
    upload(page, "siecle_parents", files["responsables"])
    assert page.locator("ul#step li").evaluate_all("lis => lis.map(l => l.id)") == \
        ["step1", "step2", "step5", "step7", "step8", "step9"]
    go_on(page)
    expect(page.locator("a#passer_etape_suivante")).to_have_attribute("href", "#step51")
