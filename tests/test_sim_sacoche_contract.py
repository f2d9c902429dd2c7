"""Pins the simulator to the real SACoche's contract (ids, names, option values, AJAX parameters
and answers of the real site), so that selectors written against it are those of the real
site. Driven with pytest-playwright's own page in a real Chromium."""
from __future__ import annotations

from urllib.parse import parse_qs

import pytest
from playwright.sync_api import Page, expect

from conftest import DEMO, log_in, sim_state, wait_out_login_delay

ESUP_OPTIONS = {f"cas~{dep}|esup_montpellier": f"{dep} | ENT Languedoc-Roussillon (académie de Montpellier)"
                for dep in ("11", "30", "34", "48", "66")}


def body_of(request) -> dict[str, list[str]]:
    return parse_qs(request.post_data or "", keep_blank_values=True)


def test_login_page_shell_then_form_by_ajax(page: Page, sims):
    requests = []
    page.on("request", lambda r: requests.append(r) if "ajax.php" in r.url else None)
    page.goto(f"{sims.sacoche_url}?id=123")
    expect(page).to_have_title("SACoche » Évaluer par compétences et valider le socle commun")
    expect(page.locator("h1.identification")).to_have_text("Identification")
    expect(page.locator("form#form_auth #f_profil")).to_have_value("structure")
    expect(page.locator("#f_login")).to_have_attribute("name", "f_login")
    expect(page.locator("#f_login")).to_have_attribute("maxlength", "30")
    expect(page.locator("#f_password")).to_have_attribute("type", "password")
    expect(page.locator("#f_submit")).to_have_text("Accéder à son espace.")
    expect(page.locator("#f_action")).to_have_value("identifier")
    expect(page.locator("#f_mode")).to_have_value("normal")
    init = body_of(requests[0])
    assert requests[0].url.endswith("ajax.php?page=public_accueil")
    assert init["f_action"] == ["initialiser"] and init["f_base"] == ["123"]
    assert init["f_profil"] == ["structure"] and init["csrf"] == [""]
    assert "get_mode" in init and "get_login" in init


def test_the_public_page_and_version_txt_show_the_release_without_login(page: Page, sims):
    # « Version installée 2017-09-19. », the release in an <em>, next to the label the page
    # fills by AJAX; VERSION.txt is served without login, its 10 bytes and nothing else.
    page.goto(f"{sims.sacoche_url}?base=123&mode=normal")
    expect(page.locator("h1.informations")).to_have_text("Informations")
    item = page.locator("li:has(> label#ajax_version)")
    expect(item).to_contain_text("Version installée 2017-09-19.")
    expect(item.locator("em")).to_have_text("2017-09-19")
    answer = page.request.get(sims.sacoche_url + "VERSION.txt")
    assert answer.status == 200 and answer.body() == b"2017-09-19"
    assert sim_state(sims)["logins"] == {}


def test_login_posts_the_spec_fields_and_enforces_the_delay(page: Page, sims):
    posts = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" and "csrf=" in r.url else None)
    log_in(page, sims.sacoche_url)
    fields = body_of(posts[-1])
    assert posts[-1].url.endswith("ajax.php?page=public_accueil&csrf=")
    for name, value in {"f_base": "123", "f_login": DEMO.sacoche_admin_login, "f_mode": "normal",
                        "f_profil": "structure", "f_action": "identifier"}.items():
        assert fields[name] == [value]
    expect(page.locator("span#clock")).to_have_text("30 min")
    expect(page.locator("span#deconnecter")).to_have_text("Déconnexion")
    expect(page.locator("h1")).to_have_text("Bienvenue dans votre espace identifié")
    assert page.evaluate("CSRF") and page.evaluate("PAGE") == "compte_accueil"
    expect(page.locator("ul#menu a.etabl_connexion")).to_have_attribute(
        "href", "./index.php?page=administrateur_etabl_connexion")


def test_wrong_password_message_and_growing_delay(page: Page, sims):
    page.goto(f"{sims.sacoche_url}?id=123")
    page.fill("#f_login", DEMO.sacoche_admin_login)
    page.fill("#f_password", "wrong")
    wait_out_login_delay(page)
    page.wait_for_timeout(2100)
    with page.expect_response(lambda r: "csrf=" in r.url) as info:
        page.click("#f_submit")
    assert info.value.json()["value"] == "Mot de passe incorrect ! Nouvelle tentative autorisée dans 2s."
    # A failure adds one second: 2 s later is now too early.
    page.wait_for_timeout(2100)
    with page.expect_response(lambda r: "csrf=" in r.url) as info:
        page.click("#f_submit")
    assert info.value.json()["value"] == "Sécurité : patienter 3s avant une nouvelle tentative."


def test_connexion_page_ids_options_and_ajax(page: Page, sims):
    log_in(page, sims.sacoche_url)
    page.goto(f"{sims.sacoche_url}index.php?page=administrateur_etabl_connexion")
    expect(page.locator("h1")).to_have_text("Mode d'identification / Connecteur ENT")
    select = page.locator("form#form_mode select#connexion_mode_nom")
    expect(select).to_have_attribute("name", "connexion_mode_nom")
    expect(select).to_have_value("normal~|sacoche")
    options = dict(zip(select.locator("option").evaluate_all("os => os.map(o => o.value)"),
                       select.locator("option").all_inner_texts()))
    for value, text in ESUP_OPTIONS.items():
        assert options[value] == text
    assert "cas~|esup_montpellier" not in options
    expect(select.locator("optgroup[label='Serveur CAS'] option[value='cas~34|esup_montpellier']")).to_have_count(1)
    button = page.locator("button#bouton_valider_mode")
    expect(button).to_have_text("Valider ce mode d'identification.")

    select.select_option("cas~34|esup_montpellier")
    expect(page.locator("#ajax_msg_mode")).to_have_text("Penser à valider les modifications.")
    assert sim_state(sims)["schools"]["123"]["params"]["connexion_mode"] == "normal"
    expect(page.locator("#lien_direct li")).to_have_text(f"{sims.sacoche_url}?sso=123")
    with page.expect_request(lambda r: "ajax.php?page=administrateur_etabl_connexion" in r.url) as info:
        button.click()
    raw = info.value.post_data
    assert "f_connexion_ref=34|esup_montpellier&" in raw   # the "|" travels raw
    fields = body_of(info.value)
    assert fields["csrf"] == [page.evaluate("CSRF")]
    assert fields["f_action"] == ["enregistrer_mode_identification"]
    assert fields["f_connexion_mode"] == ["cas"]
    assert fields["cas_serveur_host"] == ["www.environnementnumeriquedetravail.fr"]
    assert fields["cas_serveur_port"] == ["443"] and fields["cas_serveur_root"] == ["cas"]
    assert fields["serveur_host_subdomain"] == ["www"]
    assert fields["cas_serveur_verif_certif_ssl"] == ["1"]
    assert info.value.response().json() == {"statut": True, "value": None}
    expect(page.locator("#ajax_msg_mode")).to_have_text("Mode de connexion enregistré !")
    expect(page.locator("#ajax_msg_mode")).to_have_class("valide")
    page.reload()
    expect(select).to_have_value("cas~34|esup_montpellier")


def test_login_form_once_the_ent_mode_is_set(page: Page, sims):
    sims.sacoche_store.set_params(123, {"connexion_mode": "cas", "connexion_nom": "esup_montpellier",
                                        "connexion_departement": "34"})
    page.goto(f"{sims.sacoche_url}?base=123")
    expect(page.locator("#f_mode_cas")).to_be_checked()
    expect(page.locator("label[for=f_mode_cas]")).to_contain_text("authentification extérieure cas-esup_montpellier")
    expect(page.locator("label[for=f_mode_normal]")).to_contain_text("formulaire SACoche")
    expect(page.locator("#fieldset_normal")).to_be_hidden()
    page.check("#f_mode_normal")
    expect(page.locator("#f_password")).to_be_visible()
    page.goto(f"{sims.sacoche_url}?base=123&mode=normal")
    expect(page.locator("#f_mode_normal")).to_be_checked()
    expect(page.locator("#f_login")).to_be_visible()


def test_csrf_token_is_per_page_display(page: Page, sims):
    log_in(page, sims.sacoche_url)
    page.goto(f"{sims.sacoche_url}index.php?page=administrateur_etabl_connexion")
    answer = page.evaluate("""() => fetch('ajax.php?page=administrateur_etabl_connexion', {method: 'POST',
        headers: {'Content-Type': 'application/x-www-form-urlencoded'},
        body: 'csrf=wrong&f_action=enregistrer_mode_identification'}).then(r => r.json())""")
    assert answer == {"statut": False, "value": "Jeton CSRF invalide. Plusieurs onglets ouverts avec des sessions incompatibles ?"}


@pytest.mark.parametrize("query", ["", "?id=123"])
def test_public_page_ends_the_session_and_lost_session_is_reported(page: Page, sims, query):
    log_in(page, sims.sacoche_url)
    page.goto(f"{sims.sacoche_url}index.php{query}")     # a public page while identified
    page.goto(f"{sims.sacoche_url}index.php?page=administrateur_etabl_connexion")
    expect(page.locator("div.probleme")).to_have_text(
        "Session absente / perdue / expirée / incompatible. Veuillez vous (re)connecter.")
    answer = page.evaluate("() => fetch('ajax.php?page=conserver_session_active').then(r => r.json())")
    assert answer["statut"] is False


def test_logout_link_ends_the_session(page: Page, sims):
    log_in(page, sims.sacoche_url)
    page.click("#deconnecter")
    page.wait_for_url(f"{sims.sacoche_url}index.php")
    page.goto(f"{sims.sacoche_url}index.php?page=compte_accueil")
    expect(page.locator("div.probleme")).to_be_visible()


def test_inactivity_counter_keeps_alive_then_closes_the_session(page: Page, sims):
    page.clock.install()
    log_in(page, sims.sacoche_url)
    calls = []
    page.on("request", lambda r: calls.append(r.url.split("page=")[-1]) if "ajax.php" in r.url else None)
    page.clock.fast_forward("20:05")
    expect(page.locator("#clock")).to_have_text("10 min")
    assert "conserver_session_active" in calls
    page.clock.fast_forward("06:00")
    expect(page.locator("#clock")).to_have_text("4 min")
    expect(page.locator("span.top:has(#clock)")).to_have_class("top clock_anim")
    page.clock.fast_forward("05:00")
    expect(page.locator("#top_info")).to_contain_text("Votre session a expiré.")
    expect(page.locator("#menu")).to_have_count(0)
    assert "fermer_session" in calls
    answer = page.evaluate("() => fetch('ajax.php?page=conserver_session_active').then(r => r.json())")
    assert answer["statut"] is False


def test_pages_carry_sacoches_content_security_policy(page: Page, sims):
    """The real SACoche sends its policy with every page: scripts inline or eval'd, requests and
    frames to its own origin. What the bot runs inside a page must work under it."""
    for url in (f"{sims.sacoche_url}?id=123", f"{sims.sacoche_url}index.php?page=administrateur_fichier_user"):
        if "administrateur" in url:
            log_in(page, sims.sacoche_url)
        answer = page.goto(url)
        policy = {directive.split()[0]: directive.split()[1:] for directive in
                  answer.headers["content-security-policy"].split(" ; ")}
        assert policy["script-src"] == ["'self'", "'unsafe-inline'", "'unsafe-eval'"]
        assert policy["connect-src"] == ["'self'"] and policy["child-src"] == ["'self'"]
        assert policy["object-src"] == ["'none'"] and policy["font-src"] == ["'none'"]
        assert answer.headers["x-content-type-options"] == "nosniff"
    # Enforced by the browser: a request to another origin is refused, one to SACoche goes.
    assert page.evaluate("""async other => {
        try { await fetch(other); return 'sent'; } catch (e) { return 'refused'; } }""", sims.ent_url) == "refused"
    assert page.evaluate("async () => (await fetch('index.php?page=compte_accueil')).status") == 200
