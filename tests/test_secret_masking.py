"""Secrets are masked where a person or a log reads them (terminal, reports, logs), as whole
values: a short one (« 2026 », « x », « admin ») only where it stands as a token of its own,
never inside a date, a number, a path or a word. The bot's own data (journal, state, paths) is
never masked. Addresses are shown with their credentials masked (user:***@)."""
from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from bot import secrets
from bot.secrets import MASK, Secret, redact
from conftest import DEMO, REPO
from sim.ent.seed import DEMO_ENT_ADMIN
from sim.seed import sso_check_logins
from sim.sqlite_store import hash_password

SHORT = ("2026", "x", "admin")
JOINERS = r"[-_./\\:@]"


def whole_token(value: str) -> re.Pattern:
    """`value` standing alone: not glued to a letter or digit, directly or through a joiner
    (a date, a path, a file name, a plural mark: 2026-12-07, /home/x/, admin.demo, niveau(x))."""
    return re.compile(rf"(?<!\w)(?<!\w[-_./\\:@(]){re.escape(value)}(?!\w)(?!{JOINERS}\w)")


@pytest.fixture
def known(monkeypatch):
    """The process's registry of secrets, empty for the test and restored after it."""
    monkeypatch.setattr(secrets, "_known_secrets", set())
    for value in SHORT:
        Secret(value)
    return secrets._known_secrets


# What a person reads -----------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "Déjà fait le 2026-12-07 à 10:12",
    "Fait le 2026-12-07T10:12:00",
    "Rapport : /tmp/recordings/123/20261207-101010-123456/report.html",
    "arena-exports, ent-accounts-export, sacoche-ent-ids",
    "compte admin.demo (administrateur), admin_ent, ent-x",
    "année scolaire 2025-2026, 12026 élèves, /home/x/files, C:\\x\\y, 0341234G",
    "max exports xylophone", "https://ent.example.org/x/admin/", "jean.admin@ecole.fr",
    "4 niveau(x) de classe ajouté(s)",
])
def test_a_short_secret_inside_a_date_a_path_or_a_word_is_left_alone(known, text):
    assert redact(text) == text


@pytest.mark.parametrize("text, masked", [
    ("mot de passe 2026 refusé", f"mot de passe {MASK} refusé"),
    ('locator.fill("x")', f'locator.fill("{MASK}")'),
    ("identifiant admin, mot de passe admin.", f"identifiant {MASK}, mot de passe {MASK}."),
    ("password=2026&login=x", f"password={MASK}&login={MASK}"),
    ("x", MASK),
    ("le mot de passe est x.", f"le mot de passe est {MASK}."),
    ("l'admin", f"l'{MASK}"),
])
def test_a_short_secret_standing_alone_is_masked(known, text, masked):
    assert redact(text) == masked


def test_a_long_secret_is_masked_wherever_it_occurs_and_however_it_is_written(known):
    Secret("hunter2-xyz")
    Secret('p"ss\\wörd1')
    assert redact("boom:hunter2-xyzZ") == f"boom:{MASK}Z"
    assert redact("abchunter2-xyz") == f"abc{MASK}"
    for text in (json.dumps({"a": 'p"ss\\wörd1'}), json.dumps({"a": 'p"ss\\wörd1'}, ensure_ascii=False)):
        assert "ss" not in redact(text), text   # escaped for JSON, it is still the password
    assert redact("?password=p%22ss%5Cw%C3%B6rd1") == f"?password={MASK}"


def test_a_path_of_this_machine_is_shown_whole(known, tmp_path):
    """A long password inside an existing path (a home folder named like it) leaves the path
    whole: a masked path names a file that does not exist."""
    Secret("jdupont2024")
    folder = tmp_path / "jdupont2024" / "recordings"
    folder.mkdir(parents=True)
    assert redact(f"Rapport : {folder}.") == f"Rapport : {folder}."
    assert redact(f'{{"run_dir": "{folder}"}}') == f'{{"run_dir": "{folder}"}}'
    assert redact(f"{tmp_path}/jdupont2024/absent ; jdupont2024") == f"{tmp_path}/{MASK}/absent ; {MASK}"


def test_the_journal_keeps_its_dates_step_names_and_paths(known, tmp_path):
    from bot.journal import Journal
    from bot.status import Status
    run_dir = tmp_path / "recordings" / "123" / "20261207-101010-123456"
    run_dir.mkdir(parents=True)
    export = run_dir / "downloads" / "x" / "export_ent_2026.csv"
    (tmp_path / "state").mkdir()
    journal = Journal(tmp_path / "state", "123")
    journal.facts["ent_export"] = str(export)
    journal.record("arena-exports", Status.DONE, "abc", "2026 élèves ; compte admin", {"admin": 2026}, run_dir)
    saved = json.loads((tmp_path / "state" / "journal" / "123.json").read_text(encoding="utf-8"))
    entry = saved["flows"]["arena-exports"]
    assert entry["run_dir"] == str(run_dir) and saved["facts"]["ent_export"] == str(export)
    assert entry["summary"] == "2026 élèves ; compte admin" and entry["verified"] == {"admin": 2026}
    datetime.fromisoformat(entry["at"])
    assert MASK not in json.dumps(saved)


def test_report_text_names_a_run_folder_that_exists(known, tmp_path):
    from bot import report
    from bot.results import RunReport
    run_dir = tmp_path / "recordings" / "123" / "20261207-101010-123456"
    run_dir.mkdir(parents=True)
    (run_dir / "report.html").write_text("", encoding="utf-8")
    text = report.to_text(RunReport(school="123", run_dir=run_dir, title="x"))
    shown = Path(re.search(r"Rapport : (.+)", text).group(1))
    assert shown.is_file()


# Addresses ------------------------------------------------------------------------------------------
def test_masked_url():
    from bot.secrets import masked_url
    assert masked_url("http://admin:Zq9secret@8.8.8.8/") == "http://admin:***@8.8.8.8/"
    assert masked_url("https://sacoche.example.org/sacoche/") == "https://sacoche.example.org/sacoche/"
    assert masked_url("https://h.example.org/mail/a@b.fr") == "https://h.example.org/mail/a@b.fr"   # no credentials
    for url in ("https://:Zq9secret@h.example.org/", "https://admin:Zq9se/cret@h.example.org/",
                "https://admin:Zq9se@cret@h.example.org/", "https://admin:Zq9s%40cret@h.example.org/",
                "HTTPS://ADMIN:Zq9secret@[::1]:8443/", "admin:Zq9secret@h.example.org", "//admin:Zq9secret@h/"):
        shown = secrets.masked_url(url)
        assert "Zq9" not in shown and "***@" in shown, (url, shown)


HOSTILE_URLS = ["http://admin:Zq9secret@8.8.8.8/", "https://admin:Zq9secret@sacoche.example.org/",
                "http://admin:Zq9secret@127.0.0.1:8080/", "ftp://admin:Zq9secret@sacoche.example.org/",
                "http://admin:Zq9se/cret@8.8.8.8/", "https://admin:Zq9s@cret@sacoche.example.org/",
                "https://:Zq9secret@sacoche.example.org/", "admin:Zq9secret@sacoche.example.org",
                "https://admin:Zq9secret@sacoche.example.org:notaport/"]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_an_address_with_credentials_is_refused_without_showing_them(tmp_path, url):
    from bot.config import load_config
    from bot.errors import Refused
    data = yaml.safe_load((REPO / "config.example.yaml").read_text(encoding="utf-8"))
    data["sites"]["sacoche"]["url"] = url
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(Refused) as refused:
        load_config(path)
    assert "sites.sacoche.url" in refused.value.message
    assert "Zq9" not in refused.value.message and "cret" not in refused.value.message, refused.value.message


def test_an_address_with_credentials_is_refused_by_the_command_without_showing_them(bot):
    bot.config_data["sites"]["sacoche"]["url"] = "http://admin:Zq9secret@8.8.8.8/"
    bot.write_config()
    result = bot("run", "sacoche-auth-mode", "--school", "123")
    assert result.code == 2
    assert "admin:***@8.8.8.8" in result.stderr and "identifiants" in result.stderr
    assert "Zq9secret" not in result.stdout + result.stderr


def test_any_address_a_person_reads_has_its_credentials_masked(known):
    assert redact("le serveur ne répond pas à http://admin.ent:Zq9secret@ent.example.org/cas « ok »") == (
        "le serveur ne répond pas à http://admin.ent:***@ent.example.org/cas « ok »")


def test_the_browser_and_tls_messages_mask_credentials(tmp_path):
    from bot.browser import NavigationWatch
    from bot.config import SiteConfig
    from bot.errors import Refused
    from bot.tls import check_site
    from sim.sacoche.app import create_app
    from sim.server import ServedApp
    from test_tls import self_signed
    watch = NavigationWatch.__new__(NavigationWatch)
    watch.status, watch.url, watch.failure = 503, "https://admin:Zq9secret@ent.example.org/", ""
    assert "Zq9secret" not in watch.problem() and "admin:***@ent.example.org" in watch.problem()
    cert, key, _ = self_signed(tmp_path)
    app = create_app(tmp_path / "sim")
    served = ServedApp(app, ssl_context=(cert, key)).start()
    try:
        site = SiteConfig.model_construct(url=f"https://admin:Zq9secret@127.0.0.1:{served.port}/",
                                          allow_self_signed_certificate=False, certificate_sha256=None)
        with pytest.raises(Refused) as refused:
            check_site("sacoche", site)
    finally:
        served.stop()
        app.config["STORE"].close()
    assert "Zq9secret" not in refused.value.message and "admin:***@127.0.0.1" in refused.value.message


# A whole onboarding with passwords that occur by chance ------------------------------------------
def set_sim_passwords(sims, sacoche: str, ent_admin: str, sso_users: str) -> list[str]:
    """The simulators' accounts given these passwords (straight in their stores)."""
    sims.sacoche_store._write("UPDATE user SET password_hash = ? WHERE base = 123 AND login = ?",
                              (hash_password(sacoche), DEMO.sacoche_admin_login))
    checkers = sso_check_logins(sims.school_data)
    for login, password in [(DEMO_ENT_ADMIN[0], ent_admin), *[(login, sso_users) for login in checkers]]:
        sims.ent_store._write("UPDATE account SET password_hash = ? WHERE ent_id = ?", (hash_password(password), login))
    return checkers


def shown_as_token(text: str) -> list[str]:
    """Each short password standing alone in `text`, with what surrounds it."""
    return [text[max(found.start() - 40, 0):found.end() + 40]
            for value in SHORT for found in whole_token(value).finditer(text)]


def test_an_onboarding_with_short_passwords_keeps_its_journal_and_shows_no_password(sims, school):
    checkers = set_sim_passwords(sims, sacoche="2026", ent_admin="x", sso_users="admin")
    school.store_password("2026")
    school.store_password("x", site="ent")
    for login in checkers:
        school.store_password("admin", site=f"sso:{login}")

    result = school("full-onboarding", "--school", "123")
    assert result.code == 0, result.stdout[-3000:] + result.stderr[-3000:]
    shown = result.stdout + result.stderr
    assert shown_as_token(shown) == [], shown
    assert "arena-exports" in shown and "sacoche-ent-ids" in shown
    # Every report path printed exists.
    printed = re.findall(r"Rapport : (\S+)", shown)
    assert printed and all(Path(path).is_file() for path in printed), printed
    run_dir = Path(printed[-1]).parent
    for report in [run_dir / "report.json", *run_dir.glob("*.log")]:
        assert shown_as_token(report.read_text(encoding="utf-8")) == [], report
    data = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    assert Path(data["run_dir"]) == run_dir
    assert all(flow["screenshot"] is None or (run_dir / flow["screenshot"]).is_file() for flow in data["flows"])

    # The journal is the bot's own: dates, step names and paths as they are.
    journal = json.loads((school.tmp_path / "state" / "journal" / "123.json").read_text(encoding="utf-8"))
    assert MASK not in json.dumps(journal, ensure_ascii=False)
    assert set(journal["flows"]) == {flow["name"] for flow in data["flows"]}
    for entry in journal["flows"].values():
        datetime.fromisoformat(entry["at"])
        assert Path(entry["run_dir"]).is_dir()
    facts = json.dumps(journal["facts"], ensure_ascii=False)
    for path in re.findall(r'"(/[^"]+\.(?:csv|zip|xml))"', facts):
        assert Path(path).is_file(), path

    # What reads the journal back still finds its files and dates.
    forecast = school("check-files", "--school", "123", "--prevision")
    assert forecast.code == 0, forecast.stdout[-3000:] + forecast.stderr[-3000:]
    assert "Pas d'extraction CSV" not in forecast.stdout + forecast.stderr
    assert shown_as_token(forecast.stdout + forecast.stderr) == []
    again = school("full-onboarding", "--school", "123", "--json")
    assert again.code == 0, again.stderr[-3000:]
    assert {flow["status"] for flow in again.report["flows"]} == {"skipped"}
    assert shown_as_token(again.stdout + again.stderr) == []


def test_json_outputs_stay_valid_when_a_number_equals_a_short_password(known, tmp_path):
    """report.json and --json mask the texts they hold, not their JSON: a count or a year equal
    to a short numeric password stays a number, and the password in a text is still masked."""
    from bot.report import refused_json, to_json
    from bot.results import RunReport
    shown = json.loads(secrets.redacted_json({"year": 2026, "2026": ["code 2026", 2026]}))
    assert shown == {"year": 2026, MASK: [f"code {MASK}", 2026]}
    assert json.loads(to_json(RunReport(school="2026", run_dir=tmp_path, title="École 2026")))["school"] == MASK
    refused = json.loads(refused_json("123", "mot de passe 2026 refusé"))
    assert refused["message"] == f"mot de passe {MASK} refusé"
