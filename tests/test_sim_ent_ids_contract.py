"""Pins the simulator's ENT-identifier import and its "Modifier un utilisateur" dialog to the
real SACoche, as its source applies them: former accounts are candidates, names are cleaned
and cut to 25 characters by abbreviation, an id held before the upload is refused, numeric ids
compare as numbers; the dialog sets one account's Id. ENT and refuses one held elsewhere."""
from __future__ import annotations

import re
from urllib.parse import parse_qs

from playwright.sync_api import Page, expect

from conftest import log_in
from sim.sacoche import clean
from sim.sacoche.ent_ids import import_ent

BASE = 123


def esup_file(*lines: tuple[str, str, str, str]) -> bytes:
    body = "".join(f"{ent_id};{profile};{nom};{prenom};\r\n" for ent_id, profile, nom, prenom in lines)
    return ("Extraction des comptes ENT\r\nuid;profil;nom;prenom;classe\r\n" + body).encode("utf-8")


def add(store, profil: str, login: str, nom: str, prenom: str, id_ent: str = "", sortie: str = "") -> int:
    user_id = store.add_user(BASE, profil, login, "secret-Passw0rd", clean.nom(nom), clean.prenom(prenom), id_ent)
    if sortie:
        store.execute("UPDATE user SET sortie = ? WHERE id = ?", (sortie, user_id))
    return user_id


def rows_of(html: str) -> list[str]:
    """The report's rows as plain "first cell | second cell" lines."""
    cells = re.findall(r'<tr(?: class="new")?><td>([^<]*)</td><td(?: class="b")?>([^<]*)</td></tr>', html)
    return [f"{first} | {second}" for first, second in cells]


def test_clean_follows_sacoche_quirks():
    # Characters outside Latin-1, and "?", become "z" when accents are removed.
    assert clean.accents("Éloïse O’NEIL ?") == "Eloise OzNEIL z"
    # Cut to 25 by abbreviating words from the last one, not by slicing.
    assert clean.nom("Dupont-Saint-Germain-des-Champs") == "DUPONT-SAINT-G.-DES-C."
    assert clean.prenom("marie-christine anne-sophie") == "Marie-Christine Anne-S."
    # Plain ASCII: a capital after every non-letter; other text: Unicode title case, where a word
    # goes on across an apostrophe (seen with the real PHP 8.2 code). So "o'neil héloïse" is
    # stored "O'neil Héloïse", while the ENT's line, accents removed first, reads "O'Neil Heloise".
    assert clean.prenom("jean-marc o'neil") == "Jean-Marc O'Neil"
    assert clean.prenom("o'neil héloïse") == "O'neil Héloïse"
    assert clean.prenom(clean.accents("o'neil héloïse")) == "O'Neil Heloise"
    assert clean.loosely_equal("0123", "123") and not clean.loosely_equal("a0123", "a123")


def test_former_accounts_are_candidates_and_long_names_match_once_cut(sims):
    store = sims.sacoche_store
    add(store, "ELV", "cur.martin", "MARTIN", "Lea")
    add(store, "ELV", "old.martin", "MARTIN", "Lea", sortie="2025-07-05")
    long_id = add(store, "ELV", "long.name", "Dupont-Saint-Germain-des-Champs", "Lou")
    html = import_ent(store, BASE, esup_file(("e1", "Eleve", "Martin", "léa"),
                                             ("e2", "Eleve", "DUPONT-SAINT-GERMAIN-DES-CHAMPS", "lou")), "esup_montpellier")
    rows = rows_of(html)
    assert "MARTIN Lea [e1] | homonymes trouvés dans la base : traiter ce cas manuellement" in rows
    assert "DUPONT-SAINT-G.-DES-C. Lou () | Id ENT : e2" in rows
    assert store.user(long_id)["id_ent"] == "e2"


def test_an_id_held_before_the_upload_is_refused_and_numeric_ids_compare_as_numbers(sims):
    store = sims.sacoche_store
    holder = add(store, "ENS", "p.holder", "HOLDER", "Paul", id_ent="123")
    add(store, "TUT", "r.other", "OTHER", "Rose")
    same = add(store, "TUT", "s.same", "SAME", "Sam", id_ent="77")
    html = import_ent(store, BASE, esup_file(("0123", "Parent", "OTHER", "Rose"), ("077", "Parent", "SAME", "Sam"),
                                             ("   ", "Parent", "SAME", "Sam")), "esup_montpellier")
    rows = rows_of(html)
    assert "OTHER Rose [0123] | identifiant d'ENT déjà affecté à un autre utilisateur" in rows
    assert "SAME Sam [077] | identifiant d'ENT identique" in rows
    assert "SAME Sam | identifiant d'ENT non imposé" in rows
    assert store.user(holder)["id_ent"] == "123" and store.user(same)["id_ent"] == "77"


def test_edit_dialog_sets_an_id_and_refuses_one_held_elsewhere(page: Page, sims):
    store = sims.sacoche_store
    store.execute("UPDATE user SET id_ent = 'admin-ent' WHERE base = ? AND profil = 'ADM'", (BASE,))
    teacher = add(store, "ENS", "t.bonnet", "BONNET", "Stephane")
    store.execute("UPDATE user SET sconet_id = 4242, email = 'sb@example.org', genre = 'M' WHERE id = ?", (teacher,))
    log_in(page, sims.sacoche_url)
    page.goto(f"{sims.sacoche_url}index.php?page=administrateur_professeur&section=gestion")
    assert page.evaluate("PAGE") == "administrateur_professeur_gestion"
    row = page.locator(f"tr#id_{teacher}")
    expect(row.locator("td.nu q.modifier")).to_have_attribute("title", "Modifier ce personnel.")

    posts = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" and "ajax.php" in r.url else None)
    row.locator("q.modifier").click()
    expect(page.locator("#form_gestion h2")).to_have_text("Modifier un utilisateur")
    expect(page.locator("#f_id_ent")).to_have_attribute("maxlength", "63")
    page.fill("#f_id_ent", "admin-ent")   # an administrator's: refused, the dialog stays open
    with page.expect_response(lambda r: "ajax.php" in r.url):
        page.click("#bouton_valider")
    expect(page.locator("#ajax_msg_gestion")).to_have_text("Identifiant ENT déjà utilisé !")
    expect(page.locator("#ajax_msg_gestion")).to_have_class("alerte")
    expect(page.locator("#form_gestion")).to_be_visible()
    assert store.user(teacher)["id_ent"] == ""

    page.fill("#f_id_ent", "sbonnet")
    with page.expect_response(lambda r: "ajax.php" in r.url):
        page.click("#bouton_valider")
    expect(page.locator("#form_gestion")).to_be_hidden()
    expect(row.locator("td").nth(1)).to_have_text("sbonnet")
    body = parse_qs(posts[-1].post_data, keep_blank_values=True)
    assert "csrf=" in posts[-1].url and "csrf" not in body
    assert body["f_action"] == ["modifier"] and body["f_id"] == [str(teacher)]
    assert body["box_login"] == ["1"] and body["box_password"] == ["1"] and body["f_profil"] == ["ENS"]
    saved = store.user(teacher)
    # The other fields went through the form unchanged.
    assert (saved["id_ent"], saved["sconet_id"], saved["email"], saved["genre"], saved["login"]) == \
        ("sbonnet", 4242, "sb@example.org", "M", "t.bonnet")
