"""What support staff read (report.html, the terminal, report.json's human fields): every key
worded once, in its step's labels or the engine's (bot/labels.py), never shown raw; a step
worded by what it did; and a page that fits 1366 px, in a real Chromium.

The run below is built with the flows' own labels and, where they are pure functions, their own
code (the lists left to a person, the forecast's figures, a skipped step, a changed page), so
that a key a flow adds without a label fails here."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page

from bot import report
from bot.labels import ENGINE_DETAILS, PARTS, check_report_labels
from bot.landmarks import SiteChanged
from bot.report_html import unlabelled, write_html
from bot.results import FlowResult, InputFile, RunReport
from bot.runner import _skipped
from bot.status import Status, Work
from flows import FLOWS, by_name
from flows.sacoche import ent_ids, ent_matching as matching
from schoolfiles.checks import COUNT_LABELS
from schoolfiles.ent_csv import EntAccount, EntCsv

WIDTH = 1366
LONG_URL = "https://sacoche.ac-montpellier.example/sacoche/?sso&base=123&cookie=" + "x" * 60
# A key as programs write it: words joined by "_" (a dotted config path, imports.unknown_level,
# is what a person must type, so it stays).
SNAKE = re.compile(r"(?<![\w./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w.-])")
# The raw English words the demo's report used to show (checked, « exports : 3 », « (file) »…).
RAW_WORDS = [re.compile(pattern) for pattern in (r"\bchecked\b", r"\bmissing\b", r"\bexports : \d", r"\(file\)",
                                                 r"\beleve\b", r"(?<![\w-])files\b", r"\bverified\b", r"\bhints\b")]


def flow(name: str):
    return by_name()[name]


def result(name: str, status: Status, summary: str, details: dict, counts: dict | None = None,
           work: Work | None = None, screenshot: str | None = None, missing: str = "") -> FlowResult:
    real = flow(name)
    return FlowResult(name=name, title=real.title, status=status, summary=summary, duration_s=1.5,
                      details=details, counts=counts or {}, screenshot=screenshot, screenshot_missing=missing,
                      labels=real.report_labels, work=work or real.work)


def ent_ids_step() -> FlowResult:
    """The identifier import, its lists made by the flow's own functions: homonyms left to a
    person, ENT accounts SACoche does not know (« PARIS leo pierre » among them), the forecast."""
    Account = matching.Account
    accounts = [Account("1", "parent", "BONNET", "Stephane", profile="TUT", login="sbonnet"),
                Account("2", "parent", "BONNET", "Stephane", profile="TUT", login="sbonnet2"),
                Account("3", "élève", "PARIS", "Leo", class_name="4A", birth="27/10/2013", login="leo.paris"),
                Account("4", "élève", "FAURE", "Juliette", class_name="5A")]
    export = EntCsv(Path("extraction.csv"), "utf-8", ";", "Extraction des comptes ENT", [
        EntAccount("sbonnet1", "Parent", "BONNET", "Stephane"), EntAccount("sbonnet2", "Parent", "Bonnet", "Stéphane"),
        EntAccount("lparis1", "Eleve", "PARIS", "leo pierre", classe="4A"),
        EntAccount("eagent1", "Personnel", "AGENT", "Entretien"),
        EntAccount("jfaure1", "Eleve", "FAURE", "Juliette", classe="5A")])
    prediction = matching.predict(export, accounts)
    settlements = matching.settle_homonyms(prediction, accounts)
    unknown = ent_ids.unknown_items(prediction, accounts)
    assert any(item["nearest_names"] == "PARIS Leo (élève)" for item in unknown)
    details = {
        "file": "extraction_comptes_0341234G.csv",
        "forecast": ent_ids.forecast_figures(prediction, accounts, True),
        "files_kept": {"prediction_file": ent_ids.PREDICTION_FILE, "sacoche_report": ent_ids.SACOCHE_REPORT,
                       "result_file": ent_ids.RESULT_FILE},
        "changed": [f"ÉLÈVE{n:03d} Prénom (5EME A) → Id ENT : e{n:03d}" for n in range(40)],
        "resolved": ["FAURE Juliette [jfaure1] → FAURE Juliette (élève, classe 5A)"],
        "by_hand": [{"label": ent_ids.HOMONYMS, "items": [ent_ids.homonym_item(s) for s in settlements]},
                    {"label": ent_ids.ENT_ONLY, "items": unknown},
                    {"label": ent_ids.WITHOUT_ID, "items": ["PARIS Leo (élève, classe 4A, login leo.paris)"]}],
        "verified": {"ids_read_back": 41, "settled_read_back": 1, "users_without_ent_id": 1},
    }
    counts = {"ent_ids_set": 40, "ent_ids_unchanged": 0, "homonyms": 2, "homonyms_resolved": 0,
              "homonyms_already_resolved": 0, "homonyms_left": 2, "ent_only_accounts": 2, "ent_ids_taken": 0,
              "prediction_differences": 0, "sacoche_users_without_ent_id": 1}
    return result("sacoche-ent-ids", Status.DONE, "40 identifiant(s) ENT posé(s) par l'import.", details, counts,
                  screenshot="08-sacoche-ent-ids.png")


def every_outcome(run_dir: Path) -> RunReport:
    """A run with every kind of outcome a report shows (done, unchanged by what the step does,
    skipped, refused, failed, mismatch, a site-check failure), the lists a person goes through,
    a forecast, ARENA's files and the SSO check's table."""
    arena_files = {kind: {"file": name, "sha256": "ab" * 32} for kind, name in (
        ("sts", "sts_emp_0341234G_2026.xml"), ("eleves", "ExportXML_ElevesSansAdresses.zip"),
        ("responsables", "ResponsablesAvecAdresses.zip"))}
    checked = {key: 3 for key in COUNT_LABELS if key.islower()} | {"staff_by_profile": {"ENS": 10, "DIR": 1}}
    teachers = flow("sacoche-import-teachers")
    steps = [
        result("arena-exports", Status.UNCHANGED, "3 export(s) ARENA téléchargé(s) et vérifié(s).",
               {"files": arena_files, "checked": checked, "verified": {"exports_checked": 3}},
               {"exports_downloaded": 3, "passcodes_refused": 1}, screenshot="01-arena-exports.png"),
        result("ent-accounts-export", Status.UNCHANGED, "Extraction téléchargée : 184 comptes.",
               {"file": "extraction_comptes_0341234G.csv", "encoding": "Windows-1252", "title": "Extraction",
                "verified": {"accounts": 184, "by_profile": {"Eleve": 65, "Enseignant": 10}}},
               {"ent_accounts": 184}),
        _skipped(flow("sacoche-auth-mode"), {"at": "2026-12-07T22:25:31", "summary": "Mode d'identification passé à l'ENT.",
                                             "run_dir": str(run_dir.parent / "20261207-222520-822229"),
                                             "verified": {"mode_after_reload": "cas~34|esup_montpellier"}}),
        result("sacoche-class-levels", Status.UNCHANGED, "Les 4 niveaux sont déjà choisis : rien à changer.",
               {"already": ["Sixième (6)"], "classes": {"6A": "Sixième — MEF 10010012110", "4A": "Quatrième"},
                "verified": {"levels_chosen": ["Sixième (6)", "Quatrième (4)"]}}, {"levels_added": 0}),
        result("sacoche-import-teachers", Status.DONE, "Import des professeurs et personnels : 13 ajoutés.",
               {"mode": "complet", "file": "entrees/sts_emp_0341234G_2026.xml",
                "steps": [{"step": 10, "lines": ["Votre fichier a été correctement réceptionné."]}],
                "notes": ["« AS_SPORT » : niveau « Troisième » choisi (règle imports.unknown_level: members)."],
                "sensitive_files": ["identifiants_123_personnel.csv"], "trace": "05-sacoche-import-teachers.trace.zip",
                "verified": {"expected": 13, "listed": 13}},
               {f"teachers_{key}": 1 for key in ("users_added", "classes_added", "main_teachers_changed")}),
        result("sacoche-import-students", Status.REFUSED, "SACoche n'a aucun niveau de classe choisi.",
               {"what_to_do": Status.REFUSED.advice()}),
        ent_ids_step(),
        result("ent-sacoche-link", Status.FAILED, "La page « applications » de l'ENT a changé.",
               {"what_to_do": "Transmettez ce rapport.",
                "site_changed": SiteChanged("l'ENT", "applications", ["bouton « Modifier »"], "5.2",
                                            ["sites.ent.labels.external_apps.edit_links"]).as_dict()},
               screenshot="09-ent-sacoche-link-echec.png"),
        result("sso-check", Status.UNCHANGED, "3/3 utilisateur(s) de l'ENT connecté(s) à SACoche par le Bureau.",
               {"results": [{"login": login, "identified": True, "user": user, "profile": profile,
                             "profile_type": "eleve" if profile == "élève" else profile, "language": "fr_FR",
                             "url": LONG_URL} for login, user, profile in (
                   ("gduprelafon1", "Gaëlle DUPRÉ-LAFONT", "professeur"), ("smartel1", "Salome MARTEL", "élève"),
                   ("lmartel1", "Luna MARTEL", "parent"))],
                "verified": {"connected_users": ["smartel1 → Salome MARTEL [élève]"]}},
               screenshot="10-sso-check.png"),
        FlowResult(name="site-check", title="Pages de SACoche (vérifiées avant toute écriture)", status=Status.MISMATCH,
                   summary="La page « Niveaux » de SACoche a changé.", details={"what_to_do": "Transmettez ce rapport."},
                   screenshot_missing="la page n'a pas pu être capturée en 15 s"),
    ]
    arena = [InputFile(role=label, source=str(run_dir / "arena" / name), copied=f"arena/{name}", sha256="cd" * 32,
                       size=20_587, produced=True, used_by=[teachers.title, by_name()["sacoche-ent-ids"].title])
             for label, name in (("Export STS-Web", "sts_emp_0341234G_2026.xml"),
                                 ("Export SIECLE des élèves", "ExportXML_ElevesSansAdresses.zip"))]
    run = RunReport(school="123", run_dir=run_dir, title="Collège Jean Moulin (démo)", flows=steps,
                    started_at="2026-12-07T22:35:40", finished_at="2026-12-07T22:36:08",
                    inputs=[*arena, InputFile(role="Export SIECLE des responsables", source="/srv/ecole/Responsables.zip",
                                              copied="entrees/Responsables.zip", sha256="ef" * 32, size=4_707,
                                              used_by=[teachers.title])],
                    forecasts=[{"title": by_name()["sacoche-ent-ids"].title, "step": "sacoche-ent-ids",
                                "lines": ["164 identifiant(s) à poser"],
                                "figures": steps[6].details["forecast"]}],
                    sites=[{"site": "sacoche", "title": "SACoche", "version": "2017-09-19", "ok": False, "problem": "",
                            "landmarks": [{"page": "Niveaux", "landmark": "bouton « Ajouter »", "present": False,
                                           "hint": "sites.sacoche…"}]}])
    return run


@pytest.fixture
def run(tmp_path) -> RunReport:
    return every_outcome(tmp_path / "recordings" / "123" / "20261207-223540-304934")


def visible_text(page: Page) -> str:
    """What a person reads, every fold opened; file names and paths (in <code>) aside."""
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    return page.evaluate("""() => { const copy = document.body.cloneNode(true);
        copy.querySelectorAll('code').forEach(c => c.remove());
        document.body.after(copy); const text = copy.innerText; copy.remove(); return text; }""")


# The label table ----------------------------------------------------------------------------------
def test_every_key_of_every_kind_of_outcome_has_its_french_label(run):
    assert unlabelled(run) == set()


def test_flows_word_their_keys_in_their_report_labels_only():
    """Each flow's labels are in its report_labels, with known parts; the keys it reports are
    identifiers worded there (a French label used as a key would bypass the table)."""
    for each in FLOWS:
        check_report_labels(each.report_labels, each.name)
        for part in set(PARTS) - {"data_keyed"}:
            for key, label in (each.report_labels.get(part) or {}).items():
                assert label is None or (isinstance(label, str) and label.strip()), (each.name, key)
    run = every_outcome(Path("/r/123/x"))
    keys = set()

    def walk(value, data_keyed, parent=None):
        if isinstance(value, dict):
            for key, item in value.items():
                if parent not in data_keyed:     # a mapping of data: class names, the ENT's profiles
                    keys.add(key)
                walk(item, data_keyed, key)
        elif isinstance(value, list):
            for item in value:
                walk(item, data_keyed, parent)
    for step in run.flows:
        # ARENA's « checked » holds the staff functions' codes, worded through schoolfiles' table.
        walk(step.details, set(step.labels.get("data_keyed") or ()) | {"staff_by_profile"})
    keys -= {"label", "items", "step", "lines"}          # by-hand groups and wizard steps: shaped by the engine
    assert [key for key in keys if not re.fullmatch(r"[a-z][a-z0-9_]*", key)] == []
    assert {"checked", "missing", "site_changed", "done_summary"} <= keys and "missing" in ENGINE_DETAILS


def test_a_step_is_worded_by_what_it_did():
    assert Status.UNCHANGED.worded(Work.DOWNLOADS) == "téléchargé et vérifié"
    assert Status.UNCHANGED.worded(Work.CHECKS) == "vérifié"
    assert Status.UNCHANGED.worded(Work.WRITES) == "déjà en place, rien changé"
    assert Status.UNCHANGED.worded(Work.NOT_NEEDED) == "pas nécessaire"
    assert Status.FAILED.worded(Work.DOWNLOADS) == "ÉCHEC"
    assert {flow("arena-exports").work, flow("ent-accounts-export").work, flow("sso-check").work} == {
        Work.DOWNLOADS, Work.CHECKS}


def test_a_skipped_step_says_when_it_was_done_not_what_it_did_as_if_now(run):
    skipped = run.flows[2]
    assert skipped.summary == ("Fait le 7 décembre 2026 à 22:25 ; entrées inchangées depuis : étape sautée "
                               "(--force pour la refaire).")
    assert "Mode d'identification passé" not in skipped.summary
    assert skipped.details["done_summary"] == "Mode d'identification passé à l'ENT."
    assert skipped.status_label == "déjà fait, sauté"


def test_terminal_and_json_speak_the_same_words(run):
    text = report.to_text(run)
    assert "arena-exports : téléchargé et vérifié (1,5 s)" in text
    assert "sso-check : vérifié" in text and "sacoche-class-levels : déjà en place, rien changé" in text
    assert "sacoche-auth-mode : déjà fait, sauté (0,0 s) — Fait le 7 décembre 2026 à 22:25" in text
    assert not SNAKE.findall(text.split("Rapport :")[0].replace("--force", ""))
    data = run.to_json_dict()
    assert data["status_label"] == "échec"
    assert [f["status_label"] for f in data["flows"]][:3] == ["téléchargé et vérifié", "téléchargé et vérifié",
                                                              "déjà fait, sauté"]
    assert data["flows"][0]["labels"]["details"]["sts"] == "export ARENA STS-Web (emploi du temps)"
    # Read back, each step keeps its own words: « mode » of two steps, « file » of ARENA and the ENT's.
    again = RunReport.from_json_dict(data)
    assert unlabelled(again) == set() and again.flows[0].work is Work.DOWNLOADS


# The page, in Chromium at 1366 px -------------------------------------------------------------------
def test_the_report_fits_1366_px_shows_what_support_needs_and_no_raw_key(page: Page, run):
    run_dir = Path(run.run_dir)
    run_dir.mkdir(parents=True)
    page.set_viewport_size({"width": 1024, "height": 640})
    page.set_content('<div style="height:640px;background:#2d6cdf;color:#fff;font:40px sans-serif">SACoche</div>')
    for step in run.flows:
        if step.screenshot:
            page.screenshot(path=str(run_dir / step.screenshot))
    for name in (ent_ids.PREDICTION_FILE, ent_ids.SACOCHE_REPORT):   # the result file was never written
        (run_dir / name).write_text("{}", encoding="utf-8")
    write_html(run, run_dir / "report.html")

    page.set_viewport_size({"width": WIDTH, "height": 768})
    page.goto((run_dir / "report.html").as_uri())
    text = visible_text(page)

    # Nothing wider than the window, nothing wider than its column, no table over a screenshot.
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("innerWidth") == WIDTH
    overflowing = page.evaluate("""() => {
        const out = [];
        for (const el of document.querySelectorAll('main *')) {
            const box = el.getBoundingClientRect();
            if (!box.width || el.closest('.scroll') && !el.classList.contains('scroll')) continue;
            const column = el.parentElement.closest('.flow-main, aside, .card, .scroll');
            if (column && box.right > column.getBoundingClientRect().right + 1)
                out.push(`${el.tagName}.${el.className} ${Math.round(box.right)} > ${Math.round(column.getBoundingClientRect().right)}`);
        }
        for (const body of document.querySelectorAll('.flow-body')) {
            const main = body.querySelector('.flow-main'), aside = body.querySelector('aside');
            if (main && aside) {
                const widest = Math.max(...[...main.querySelectorAll('*')].map(e => Math.min(
                    e.getBoundingClientRect().right, (e.closest('.scroll') || e).getBoundingClientRect().right)));
                if (widest > aside.getBoundingClientRect().left) out.push(`over the screenshot of ${body.parentElement.id}`);
            }
        }
        return out; }""")
    assert overflowing == []
    assert page.locator("#etape-9 .scroll").first.evaluate("box => box.scrollWidth > 0")   # the SSO table, in its box

    # No key reaches the reader.
    assert SNAKE.findall(text.replace("--force", "")) == []
    assert [pattern.pattern for pattern in RAW_WORDS if pattern.search(text)] == []
    for engine_word in ("Page du site qui a changé", "Éléments introuvables", "Libellés adaptables dans la configuration",
                        "Vérifié alors en relisant le site", "Résultat de cette exécution-là"):
        assert engine_word in text, engine_word
    # ARENA's files are exports ARENA; « Extraction de l'ENT importée » is the ENT export's alone.
    arena = page.locator("#etape-1")
    assert "export ARENA STS-Web (emploi du temps)" in arena.inner_text()
    assert "Extraction de l'ENT importée" not in arena.inner_text()
    assert "personnels enseignants : 10" in arena.inner_text()
    assert page.locator("#etape-1 .badge").inner_text() == "téléchargé et vérifié"
    assert page.locator("#etape-9 .badge").inner_text() == "vérifié"
    assert "eleve" not in page.locator("#etape-9").inner_text()      # SACoche's internal profile name, for programs

    # The forecast's figures, labelled, in the « Prévisions » box, with the prediction and SACoche's report.
    box = page.locator("section[aria-labelledby=previsions]")
    figures = dict(zip(box.locator(".figures dt").all_inner_texts(), box.locator(".figures dd").all_inner_texts()))
    assert figures["identifiants à poser"] == "1" and figures["comptes ENT inconnus de SACoche"] == "2"
    assert figures["lignes que SACoche refusera pour homonymie"] == "2"
    assert box.get_by_role("link", name=re.compile("Prévision du robot")).get_attribute("href") == ent_ids.PREDICTION_FILE
    assert box.get_by_role("link", name=re.compile("Rapport de SACoche")).get_attribute("href") == ent_ids.SACOCHE_REPORT

    # The files used, ARENA's downloads with the step that made them and those that read them.
    files = page.locator("section[aria-labelledby=entrees]")
    row = files.locator("tr", has_text="sts_emp_0341234G_2026.xml")
    assert "téléchargé par cette exécution, étape 1, « ARENA : exports STS-Web et SIECLE »" in row.inner_text()
    assert row.get_by_role("link", name="étape 5").count() == 1 and "Export STS-Web" in row.inner_text()
    assert "pas écrit" in files.locator("li", has_text="Résultat de l'étape").inner_text()

    # Nearest names catch a second first name; lists a person goes through are on top.
    todo = page.locator("section.todo")
    assert "PARIS Leo (élève)" in todo.locator("tr", has_text="PARIS leo pierre").inner_text()
    assert todo.get_by_text("Homonymes à traiter à la main").count() == 1

    page.screenshot(path=str(run_dir / "report-1366.png"), full_page=True)


def test_a_step_that_opened_no_page_shows_no_blank_screenshot(tmp_path):
    from bot.report_html import render_html
    arena = result("arena-exports", Status.UNCHANGED, "Pas besoin d'ARENA : les fichiers sont indiqués.", {},
                   work=Work.NOT_NEEDED, missing="ARENA n'a pas été ouvert, les fichiers sont indiqués dans la configuration")
    page_html = render_html(RunReport(school="7", run_dir=tmp_path, flows=[arena]))
    section = page_html[page_html.index('id="etape-1"'):]
    assert "<img" not in section and "Pas de capture d'écran : ARENA n&#x27;a pas été ouvert" in section
    assert ">pas nécessaire</span>" in section
