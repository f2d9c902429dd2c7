"""Pins the ENT simulator's contract: every label of the pack reachable by role + accessible name
(what the bot relies on), the accounts export in SACoche's `esup` layout, the link configuration
round trip, live label renames, and the CAS 2.0 protocol (plain HTTP, no browser)."""
from __future__ import annotations

import http.client
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import yaml
from playwright.sync_api import Page, expect

from sim.datagen import SchoolData, SchoolSpec, generate_school, name_key
from sim.ent.app import PACK_PATH, create_app
from sim.ent.seed import DEMO_ENT_ADMIN, ENT_ONLY, demo_password, ent_accounts, seed_ent
from sim.ent.store import Store
from sim.server import ServedApp

UAI = "0341234G"
SACOCHE_URL = "http://127.0.0.1:8801/"   # never contacted: only written into the link
SERVICE = f"{SACOCHE_URL}?sso&base=123"
CAS = "{http://www.yale.edu/tp/cas}"
PACK = yaml.safe_load(PACK_PATH.read_text(encoding="utf-8"))
SPEC = SchoolSpec(uai=UAI, year=2026, students=25, teachers=4, seed=5, support_staff=True,
                  traps=frozenset({"homonyms", "accents", "student_left", "student_without_class"}))


def pack(key: str) -> str:
    value = PACK
    for part in key.split("."):
        value = value[part]
    return str(value)


@dataclass
class Ent:
    served: ServedApp
    store: Store
    data: SchoolData

    @property
    def url(self) -> str:
        return self.served.url

    def http(self, method: str, path: str, form: dict | None = None, cookie: str = "",
             json_body: dict | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
        """One request, redirects not followed (the CAS dance is made of them)."""
        connection = http.client.HTTPConnection(self.served.host, self.served.port, timeout=10)
        headers, body = {}, None
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urlencode(form)
        if json_body is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(json_body)
        if cookie:
            headers["Cookie"] = cookie
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        result = answer.status, answer.headers, answer.read()
        connection.close()
        return result

    def state(self) -> dict:
        return json.loads(self.http("GET", "/_sim/state")[2])

    def login(self, user: str, password: str, service: str = "") -> tuple[str, str]:
        """CAS login over HTTP: (session cookie, Location)."""
        status, headers, _ = self.http("POST", "/cas/login",
                                       {"username": user, "password": password, "service": service})
        assert status == 302, status
        return headers["Set-Cookie"].split(";")[0], headers["Location"]

    def admin_cookie(self) -> str:
        return self.login(*DEMO_ENT_ADMIN)[0]

    def validate(self, ticket: str, service: str = SERVICE) -> ET.Element:
        status, headers, body = self.http("GET", "/cas/serviceValidate?" + urlencode({"service": service, "ticket": ticket}))
        assert status == 200 and headers["Content-Type"].startswith("text/xml")
        root = ET.fromstring(body)
        assert root.tag == f"{CAS}serviceResponse"
        return root[0]


def failure_code(element: ET.Element) -> str:
    assert element.tag == f"{CAS}authenticationFailure", ET.tostring(element)
    return element.get("code")


def ticket_of(location: str) -> str:
    match = re.search(r"[?&]ticket=(ST-[^&#]+)", location)
    assert match, location
    return match.group(1)


@pytest.fixture
def ent(tmp_path):
    app = create_app(tmp_path / "ent")
    data = generate_school(SPEC)
    seed_ent(app.config["STORE"], data, uai=UAI, admin_login=DEMO_ENT_ADMIN[0],
             admin_password=DEMO_ENT_ADMIN[1], sacoche_url=SACOCHE_URL, school_name="Collège Jean Moulin (démo)")
    served = ServedApp(app).start()
    yield Ent(served, app.config["STORE"], data)
    served.stop()
    app.config["STORE"].close()


def browser_login(page: Page, ent: Ent, user: str = DEMO_ENT_ADMIN[0], password: str = DEMO_ENT_ADMIN[1]) -> None:
    page.goto(ent.url)
    page.get_by_role("textbox", name=pack("login.username"), exact=True).fill(user)
    page.get_by_role("textbox", name=pack("login.password"), exact=True).fill(password)
    page.get_by_role("button", name=pack("login.submit"), exact=True).click()
    expect(page).to_have_url(ent.url)


def open_sacoche_links(page: Page) -> None:
    page.get_by_role("link", name=pack("menu.administration"), exact=True).click()
    page.get_by_role("link", name=pack("menu.external_apps"), exact=True).click()
    page.get_by_role("link", name=pack("external_apps.page_link").format(number=pack("external_apps.sacoche_page")),
                     exact=True).click()
    page.get_by_role("button", name=pack("external_apps.configure").format(app=pack("external_apps.app")),
                     exact=True).click()


# -- the pack, by role + name ---------------------------------------------------------------------

def test_every_pack_label_is_reachable_by_role_and_name(page: Page, ent: Ent):
    reached: set[str] = set()

    def one(role: str, key: str, **fmt):
        locator = page.get_by_role(role, name=pack(key).format(**fmt), exact=True)
        expect(locator).to_have_count(1)
        reached.add(key)
        return locator

    page.goto(ent.url)
    one("textbox", "login.username").fill(DEMO_ENT_ADMIN[0])
    one("textbox", "login.password").fill(DEMO_ENT_ADMIN[1])
    one("button", "login.submit").click()
    one("link", "menu.desktop")
    one("link", "menu.logout")
    one("link", "desktop.tile")
    one("link", "menu.administration").click()
    one("link", "menu.accounts").click()
    one("button", "accounts.search").click()
    expect(one("link", "accounts.export")).to_be_visible()
    one("link", "menu.external_apps").click()
    expect(page.get_by_role("button", name=pack("external_apps.configure").format(app="SACoche"))).to_have_count(0)
    one("link", "external_apps.page_link", number=pack("external_apps.sacoche_page")).click()
    one("cell", "external_apps.app")
    one("button", "external_apps.configure", app=pack("external_apps.app")).click()
    one("checkbox", "external_apps.select_all").check()
    one("button", "external_apps.edit_links").click()
    one("textbox", "external_apps.base_field").fill("123")
    one("button", "external_apps.validate").click()
    one("button", "external_apps.save").click()
    expect(one("status", "external_apps.saved")).to_have_text(pack("external_apps.saved"))
    # Clicked at bot speed (validate, then save at once), the number is stored.
    sacoche = next(a for a in ent.state()["apps"] if a["kind"] == "sacoche")
    assert [link["url"] for link in sacoche["links"]] == [SERVICE] * 2
    reached.add("external_apps.sacoche_page")   # a number, used above to pick the page link
    assert reached == {f"{group}.{key}" for group, entries in PACK.items() for key in entries}


def test_sacoche_is_on_the_second_page_of_ten(page: Page, ent: Ent):
    apps = ent.state()["apps"]
    sacoche = next(a for a in apps if a["kind"] == "sacoche")
    assert sacoche["name"] == "SACoche" and sacoche["page"] == 2 and len(apps) > 12
    browser_login(page, ent)
    page.get_by_role("link", name="Administration", exact=True).click()
    page.get_by_role("link", name="Applications externes", exact=True).click()
    expect(page.get_by_role("button", name=re.compile("^Configurer le lien"))).to_have_count(10)
    expect(page.get_by_role("cell", name="SACoche", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Page 3", exact=True)).to_have_count(0)
    page.get_by_role("link", name="Page 2", exact=True).click()
    expect(page.get_by_role("button", name="Configurer le lien « SACoche »", exact=True)).to_be_visible()


# -- the accounts export ------------------------------------------------------------------------------

def test_csv_export_is_sacoche_esup_layout_in_latin1(page: Page, ent: Ent):
    browser_login(page, ent)
    page.get_by_role("link", name="Administration", exact=True).click()
    page.get_by_role("link", name="Administration des comptes", exact=True).click()
    expect(page.get_by_label("Profil")).to_have_value("")   # default option: "Tous"
    expect(page.get_by_label("Profil").locator("option:checked")).to_have_text("Tous")
    page.get_by_role("button", name="Rechercher", exact=True).click()
    with page.expect_download() as info:
        page.get_by_role("link", name="Extraction CSV Complète des identifiants", exact=True).click()
    assert info.value.suggested_filename == f"extraction_comptes_{UAI}.csv"
    raw = Path(info.value.path()).read_bytes()

    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")   # accented names in ISO-8859-1 are not valid UTF-8
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    lines = raw.decode("iso-8859-1").split("\r\n")[:-1]
    assert ";" not in lines[0] and lines[0]                    # one cell: the title
    assert lines[1] == "uid;profil;nom;prenom;classe"
    rows = [line.split(";") for line in lines[2:]]
    assert all(len(row) == 5 for row in rows)

    expected = ent_accounts(ent.data)
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows] == \
        [(a.ent_id, a.profile, a.nom, a.prenom, a.classe) for a in expected]
    assert {r[1] for r in rows} == {"Eleve", "Enseignant", "Personnel", "Parent"}
    assert DEMO_ENT_ADMIN[0] not in {r[0] for r in rows}
    people = len(ent.data.staff) + len(ent.data.students) + len(ent.data.parents)
    assert len(rows) == people + len(ENT_ONLY)
    for nom, prenom, profile in ENT_ONLY:
        assert [r for r in rows if (r[2], r[3], r[1]) == (nom, prenom, profile)]
    assert "Éloïse" in {r[3] for r in rows}
    students = {(s.nom, s.division or "") for s in ent.data.students}
    assert {(r[2].upper(), r[4]) for r in rows if r[1] == "Eleve"} == students


def test_csv_encoding_switch_and_faults(ent: Ent):
    cookie = ent.admin_cookie()
    status, _, _ = ent.http("POST", "/_sim/faults", json_body={"csv_encoding": "utf-8-sig"})
    assert status == 200
    status, headers, body = ent.http("GET", "/admin/comptes/extraction", cookie=cookie)
    assert status == 200 and headers["Content-Disposition"] == f'attachment; filename="extraction_comptes_{UAI}.csv"'
    assert body.startswith(b"\xef\xbb\xbf") and "Éloïse" in body.decode("utf-8-sig")

    ent.http("POST", "/_sim/faults", json_body={"csv_truncate": 40})
    assert len(ent.http("GET", "/admin/comptes/extraction", cookie=cookie)[2]) == 40
    ent.http("POST", "/_sim/faults", json_body={"http_500": ["/admin/comptes/extraction"]})
    assert ent.http("GET", "/admin/comptes/extraction", cookie=cookie)[0] == 500
    assert ent.http("POST", "/_sim/faults", json_body={"no_such_fault": 1})[0] == 400
    assert ent.http("POST", "/_sim/faults", json_body={"csv_encoding": "ebcdic"})[0] == 400
    ent.http("POST", "/_sim/faults", json_body={"expire_sessions": True})
    status, headers, _ = ent.http("GET", "/admin/comptes", cookie=cookie)
    assert status == 302 and headers["Location"].startswith("/cas/login?service=")
    assert ent.state()["faults"] == {"delaying": 0, "hits": []}   # the one-shot switch is not kept


# -- the SACoche link -----------------------------------------------------------------------------------

def test_link_configuration_round_trip(page: Page, ent: Ent):
    browser_login(page, ent)
    open_sacoche_links(page)
    validate = page.get_by_role("button", name="Valider", exact=True)
    field = page.get_by_role("textbox", name="Valeur après « base= »", exact=True)
    expect(field).to_be_hidden()

    page.get_by_role("button", name="Modifier un ensemble de liens", exact=True).click()
    field.fill("123")
    validate.click()   # nothing ticked
    expect(page.get_by_role("alert")).to_have_text("Aucune structure sélectionnée : cochez au moins une ligne.")

    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_role("checkbox", name="Sélectionner tout", exact=True).check()
    for box in page.locator("tbody").get_by_role("checkbox").all():
        expect(box).to_be_checked()
    page.get_by_role("button", name="Modifier un ensemble de liens", exact=True).click()
    field.fill("12a")
    validate.click()
    expect(page.get_by_role("alert")).to_have_text("La valeur après « base= » doit être un nombre (chiffres uniquement).")
    page.get_by_role("checkbox", name="Sélectionner tout", exact=True).check()
    page.get_by_role("button", name="Modifier un ensemble de liens", exact=True).click()
    field.fill("123")
    validate.click()
    expect(rows.locator("td.valeur")).to_have_text(["123 (non enregistré)"] * 2)
    sacoche = lambda: next(a for a in ent.state()["apps"] if a["kind"] == "sacoche")
    assert [link["value"] for link in sacoche()["links"]] == ["", ""]   # validated, not stored

    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Configuration enregistrée")
    links = sacoche()["links"]
    assert [(link["uai"], link["value"], link["url"]) for link in links] == [(UAI, "123", SERVICE)] * 2

    page.get_by_role("link", name="Bureau", exact=True).click()
    open_sacoche_links(page)   # re-opening shows what is stored
    expect(rows.locator("td.valeur")).to_have_text(["123"] * 2)
    expect(rows.locator("td.adresse")).to_have_text([SERVICE] * 2)
    expect(page.get_by_role("status")).to_have_count(0)
    page.get_by_role("link", name="Bureau", exact=True).click()
    expect(page.get_by_role("link", name="SACoche", exact=True)).to_have_attribute("href", SERVICE)


def test_unconfigured_sacoche_tile_says_so(page: Page, ent: Ent):
    browser_login(page, ent)
    tile = page.get_by_role("link", name="SACoche", exact=True)
    expect(tile).to_have_attribute("href", "#")
    tile.click()
    expect(page.get_by_role("alert")).to_have_text("Lien non configuré")
    expect(page.get_by_role("link", name="Pronote", exact=True)).to_have_attribute("href", f"/appli/pronote?uai={UAI}")


def test_label_rename_changes_what_is_rendered(page: Page, ent: Ent):
    browser_login(page, ent)
    open_sacoche_links(page)
    edit = page.get_by_role("button", name="Modifier un ensemble de liens", exact=True)
    expect(edit).to_have_count(1)
    status, _, body = ent.http("POST", "/_sim/labels", json_body={
        "external_apps.edit_links": "Modifier les liens sélectionnés", "menu.desktop": "Mon bureau"})
    assert status == 200 and json.loads(body)["external_apps"]["edit_links"] == "Modifier les liens sélectionnés"
    page.reload()
    expect(edit).to_have_count(0)
    expect(page.get_by_role("button", name="Modifier les liens sélectionnés", exact=True)).to_have_count(1)
    expect(page.get_by_role("link", name="Mon bureau", exact=True)).to_have_count(1)
    assert ent.http("POST", "/_sim/labels", json_body={"menu.nope": "x"})[0] == 400


# -- access, state, persistence -------------------------------------------------------------------

def test_non_administrators_get_a_french_403(ent: Ent):
    student = next(a for a in ent_accounts(ent.data) if a.profile == "Eleve")
    cookie, location = ent.login(student.ent_id, demo_password(student.ent_id))
    assert location == "/"
    status, _, body = ent.http("GET", "/", cookie=cookie)
    assert status == 200 and b">Administration<" not in body
    for path in ("/admin", "/admin/comptes", "/admin/comptes/extraction", "/admin/applications", "/admin/applications/1"):
        status, _, body = ent.http("GET", path, cookie=cookie)
        assert status == 403 and "réservée aux administrateurs".encode() in body, path


def test_state_shape_counts_and_restart(ent: Ent, tmp_path):
    state = ent.state()
    assert state["requests"] == 0 and state["tickets"] == {"issued": 0, "used": 0}
    assert all("password" not in key for account in state["accounts"] for key in account)
    assert set(state["accounts"][0]) == {"ent_id", "profile", "nom", "prenom", "classe", "uai"}
    assert [s["instance"] for s in state["structures"]] == ["Établissement", "Accès mobile"]
    ent.login(*DEMO_ENT_ADMIN, service=SERVICE)
    state = ent.state()
    assert state["requests"] == 1 and state["tickets"] == {"issued": 1, "used": 0} and state["sessions"] == 1

    ent.store.set_link_values(next(a["id"] for a in state["apps"] if a["kind"] == "sacoche"),
                              {s["id"]: "77" for s in state["structures"]})
    again = create_app(tmp_path / "ent")   # same folder: a restarted simulator
    try:
        assert seed_ent(again.config["STORE"], ent.data, uai=UAI, admin_login=DEMO_ENT_ADMIN[0],
                        admin_password="x", sacoche_url=SACOCHE_URL) is False
        snapshot = again.config["STORE"].snapshot()
        assert len(snapshot["accounts"]) == len(state["accounts"])
        sacoche = next(a for a in snapshot["apps"] if a["kind"] == "sacoche")
        assert [link["url"] for link in sacoche["links"]] == [f"{SACOCHE_URL}?sso&base=77"] * 2
    finally:
        again.config["STORE"].close()


def test_seeded_accounts_are_deterministic_and_matchable(ent: Ent):
    accounts = ent_accounts(ent.data)
    assert accounts == ent_accounts(generate_school(SPEC))
    ids = [a.ent_id for a in accounts]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[a-z]+\d+", i) for i in ids)
    sources = {f"sts:{m.sts_id}": (m.nom, m.prenom) for m in ent.data.staff}
    sources |= {f"eleve:{s.eleve_id}": (s.nom, s.prenom) for s in ent.data.students}
    sources |= {f"personne:{p.personne_id}": (p.nom, p.prenom) for p in ent.data.parents}
    varied = 0
    for account in accounts:
        if account.same_name_as_source:
            original = sources[account.source]
            assert name_key(account.nom, account.prenom) == name_key(*original)   # case only
            varied += (account.nom, account.prenom) != original
    assert varied >= 5
    assert any(a.prenom.islower() for a in accounts)
    mismatches = [a for a in accounts if a.source.startswith("mismatch:")]
    assert len(mismatches) == 1
    assert name_key(mismatches[0].nom, mismatches[0].prenom) != name_key(*sources[mismatches[0].source[9:]])
    assert len([a for a in accounts if a.source == "ent-only"]) == 2
    # The homonyms trap reaches the ENT: SACoche must refuse to guess between them.
    assert len([a for a in accounts if name_key(a.nom, a.prenom) == ("FAURE", "JULIETTE")]) == 2
    staff = {f"sts:{m.sts_id}": m.fonction for m in ent.data.staff}
    for account in accounts:
        if account.source in staff:
            assert account.profile == ("Enseignant" if staff[account.source] == "ENS" else "Personnel")
    # A second school in the same ENT gets ids of its own.
    assert not set(ids) & {a.ent_id for a in ent_accounts(ent.data, taken=set(ids))}


# -- CAS 2.0, plain HTTP ---------------------------------------------------------------------------------

def test_cas_login_form_and_wrong_password(ent: Ent):
    status, _, body = ent.http("GET", "/cas/login?" + urlencode({"service": SERVICE}))
    assert status == 200 and b'name="service"' in body
    status, headers, body = ent.http("POST", "/cas/login",
                                     {"username": DEMO_ENT_ADMIN[0], "password": "faux", "service": SERVICE})
    assert status == 401 and "Identifiant ou mot de passe incorrect.".encode() in body
    assert "Set-Cookie" not in headers
    assert ent.http("POST", "/cas/login", {"username": "personne", "password": "x"})[0] == 401
    assert ent.state()["tickets"]["issued"] == 0


def test_cas_ticket_is_single_use(ent: Ent):
    cookie, location = ent.login(*DEMO_ENT_ADMIN, service=SERVICE)
    assert location.startswith(SERVICE + "&ticket=ST-")
    success = ent.validate(ticket_of(location))
    assert success.tag == f"{CAS}authenticationSuccess"
    assert success.find(f"{CAS}user").text == DEMO_ENT_ADMIN[0]
    assert failure_code(ent.validate(ticket_of(location))) == "INVALID_TICKET"
    # With the ENT session, a new service gets a ticket at once (that is the single sign-on).
    status, headers, _ = ent.http("GET", "/cas/login?service=http%3A%2F%2F127.0.0.1%3A9%2Fapp", cookie=cookie)
    assert status == 302 and headers["Location"].startswith("http://127.0.0.1:9/app?ticket=ST-")
    assert ent.state()["tickets"] == {"issued": 2, "used": 1}


def test_cas_service_mismatch_consumes_the_ticket(ent: Ent):
    _, location = ent.login(*DEMO_ENT_ADMIN, service=SERVICE)
    ticket = ticket_of(location)
    assert failure_code(ent.validate(ticket, service=f"{SACOCHE_URL}?sso&base=124")) == "INVALID_SERVICE"
    assert failure_code(ent.validate(ticket)) == "INVALID_TICKET"


def test_cas_expired_and_unknown_tickets(ent: Ent):
    ent.http("POST", "/_sim/faults", json_body={"ticket_ttl_s": 0})
    _, location = ent.login(*DEMO_ENT_ADMIN, service=SERVICE)
    assert failure_code(ent.validate(ticket_of(location))) == "INVALID_TICKET"
    assert failure_code(ent.validate("ST-0-inconnu")) == "INVALID_TICKET"


def test_cas_ticket_lifetime_from_create_app(tmp_path):
    app = create_app(tmp_path / "ent", ticket_ttl_s=0.0)
    store = app.config["STORE"]
    try:
        store.add_account("u1", "Eleve", "NOM", "Prenom", "p", UAI)
        client = app.test_client()
        ticket = store.issue_ticket(SERVICE, "u1")
        body = client.get("/cas/serviceValidate", query_string={"service": SERVICE, "ticket": ticket}).data
        assert b'code="INVALID_TICKET"' in body
    finally:
        store.close()


def test_cas_missing_parameters(ent: Ent):
    for query in ("", "?ticket=ST-1", "?" + urlencode({"service": SERVICE})):
        status, _, body = ent.http("GET", "/cas/serviceValidate" + query)
        assert status == 200 and failure_code(ET.fromstring(body)[0]) == "INVALID_REQUEST"


def test_cas_without_service_logout_and_gateway(ent: Ent):
    cookie, location = ent.login(*DEMO_ENT_ADMIN)
    assert location == "/"
    status, headers, _ = ent.http("GET", "/cas/login", cookie=cookie)
    assert status == 302 and headers["Location"] == "/"
    status, headers, _ = ent.http("GET", "/cas/logout?" + urlencode({"service": SERVICE}), cookie=cookie)
    assert status == 302 and headers["Location"] == SERVICE
    status, _, body = ent.http("GET", "/cas/login?" + urlencode({"service": SERVICE}), cookie=cookie)
    assert status == 200 and b'type="password"' in body   # the session is over
    status, headers, _ = ent.http("GET", "/cas/login?" + urlencode({"service": SERVICE, "gateway": "true"}))
    assert status == 302 and headers["Location"] == SERVICE   # gateway: back without a ticket


def test_portal_goes_through_its_own_cas(ent: Ent):
    status, headers, _ = ent.http("GET", "/admin/applications?page=2")
    assert status == 302
    service = dict(p.split("=", 1) for p in urlsplit(headers["Location"]).query.split("&"))["service"]
    assert service.startswith("http")
    _, location = ent.login(*DEMO_ENT_ADMIN, service=f"{ent.url}admin/applications?page=2")
    cookie_less = urlsplit(location)
    status, headers, _ = ent.http("GET", f"{cookie_less.path}?{cookie_less.query}")
    assert status == 302 and headers["Location"] == f"{ent.url}admin/applications?page=2"
    cookie = headers["Set-Cookie"].split(";")[0]
    assert ent.http("GET", "/admin/applications?page=2", cookie=cookie)[0] == 200
    status, _, body = ent.http("GET", f"{cookie_less.path}?{cookie_less.query}")   # the same ticket again
    assert status == 401 and b"INVALID_TICKET" in body
    # With the session, even a dead ticket just leads to the page (no redirect loop).
    status, headers, _ = ent.http("GET", f"{cookie_less.path}?{cookie_less.query}", cookie=cookie)
    assert status == 302 and headers["Location"] == f"{ent.url}admin/applications?page=2"


def test_create_app_labels_override_the_pack(tmp_path):
    app = create_app(tmp_path / "ent", labels={"login": {"submit": "Valider l'identification"}})
    try:
        body = app.test_client().get("/cas/login").data.decode()
        assert "Valider l&#39;identification</button>" in body and "Se connecter" not in body
        assert f'for="username">{pack("login.username")}<' in body   # the rest stays the pack's
    finally:
        app.config["STORE"].close()
