"""The HTML report (bot/report_html.py): what a person must do is on top, every name is escaped,
no password is shown, links are relative to the run's folder, and Chromium shows it readably."""
from __future__ import annotations

import copy
import re
import struct
from html.parser import HTMLParser

import pytest
from playwright.sync_api import Page, expect

from bot.report_html import render_html, write_html
from bot.secrets import Secret

RUN_DIR = "/srv/sacoche-bot/recordings/123/20261128-212308-816639"
XSS = "<script>alert(1)</script>"
ENT_ONLY = [f"COMPTE{number:02d} Ent [ent{number:02d}]" for number in range(1, 13)]   # 12 > 10: folded

# Same shape as bot.report.as_dict(run) for a real demo run (/tmp/sample_report.json), cut down,
# plus the optional keys (title, dates, trace, skipped) and the traps the page must survive.
REPORT = {
    "school": "123",
    "title": "Collège Jean Moulin (démo)",
    "started_at": "2026-11-28T21:23:08",
    "finished_at": "2026-11-28T21:23:21",
    "status": "failed",
    "flows": [
        {"name": "ent-accounts-export", "title": "ENT : extraction des comptes", "status": "done", "duration_s": 0.96,
         "details": {"summary": "Extraction téléchargée : 187 comptes ; rien n'a été modifié sur l'ENT.",
                     "file": f"{RUN_DIR}/extraction_comptes_0341234G.csv",
                     "encoding": "Windows-1252 / ISO-8859-1",
                     "verified": {"comptes": 187, "par profil": {"Eleve": 65, "Enseignant": 10}}},
         "counts": {"ent_accounts": 187}, "screenshot": "01-ent-accounts-export.png"},
        {"name": "sacoche-auth-mode", "title": "SACoche : mode d'identification", "status": "unchanged", "duration_s": 3.03,
         "details": {"summary": "Mode d'identification déjà à cas~34|esup_montpellier.",
                     "verified": {"mode_after_reload": "cas~34|esup_montpellier"}},
         "screenshot": "02-sacoche-auth-mode.png"},
        {"name": "sacoche-import-teachers", "title": "SACoche : import des professeurs", "status": "done", "duration_s": 1.32,
         "details": {
             "summary": "Import des professeurs et personnels : 13 ajoutés, 0 modifiés, 0 retirés.",
             "mode": "complet",
             "file": "/tmp/fichiers/sts_emp_0341234G_2026.xml",
             "password": "hunter2-top-secret",
             "steps": [{"step": 10, "lines": ["Votre fichier a été correctement réceptionné."]},
                       {"step": 20, "lines": ["10 personnels enseignants trouvés.", "4 classes trouvées."]}],
             "notes": ["« AS_SPORT » : niveau inconnu de SACoche, niveau « Sixième » choisi "
                       "(règle imports.unknown_level: first).",
                       "Suppression proposée mais non cochée (à décider à la main) : 5EME B."],
             "sensitive_files": [f"{RUN_DIR}/identifiants_123_personnel_2026.csv",
                                   f"{RUN_DIR}/identifiants_123_personnel_2026.pdf"],
             "trace": "03-sacoche-import-teachers.trace.zip",
             "verified": {"professeurs et personnels attendus": 13,
                          "professeurs et personnels listés par SACoche": 13,
                          "mot_de_passe_admin": "mdp-jamais-affiche"}},
         "counts": {"teachers_users_added": 13, "teachers_classes_deleted": 0},
         "screenshot": "03-sacoche-import-teachers.png"},
        {"name": "sacoche-import-students", "title": "SACoche : import des élèves", "status": "skipped", "duration_s": 0.0,
         "details": {"summary": "Import des élèves ignoré.",
                     "skipped_reason": "aucun fichier SIECLE des élèves dans la configuration"},
         "screenshot": None},
        {"name": "sacoche-ent-ids", "title": "SACoche : identifiants ENT", "status": "done", "duration_s": 1.8,
         "details": {"summary": "171 identifiant(s) ENT posé(s), 2 homonyme(s) à traiter à la main.",
                     "changed": ["AUBRY Celine (parent) → Id ENT : caubry1"],
                     "by_hand": [
                         {"label": "Homonymes à traiter à la main (par nom)",
                          "items": ["BONNET Stephane [sbonnet1]", f"{XSS} [xss1]"]},
                         {"label": "Comptes ENT sans utilisateur SACoche", "items": ENT_ONLY},
                         {"label": "Utilisateurs SACoche sans identifiant ENT",
                          "items": ["FAURE Juliette", "FERNANDEZ Morgane"]}],
                     "verified": {"identifiants ENT relus dans les pages de gestion": 171}},
         "counts": {"homonyms": 2}, "screenshot": "05 sacoche-ent-ids.png"},
        {"name": "custom-step", "status": "done", "duration_s": 75.2,
         "details": {"summary": "Étape maison."}, "counts": {"mystery_counter": 7}, "screenshot": None},
        {"name": "ent-sacoche-link", "title": "ENT : lien SACoche", "status": "failed", "duration_s": 12.4,
         "details": {"summary": "Délai dépassé en attendant la page : élément attendu : bouton « Valider »"},
         "screenshot": "07-ent-sacoche-link-echec.png"},
    ],
    "counts": {"ent_accounts": 187, "teachers_users_added": 13, "teachers_classes_deleted": 0,
               "homonyms": 2, "mystery_counter": 7},
    # The flows' own labels of their keys (bot.report.as_dict gathers them from the flows).
    "labels": {"counts": {"ent_accounts": "comptes dans l'extraction de l'ENT",
                          "teachers_users_added": "utilisateurs ajoutés",
                          "teachers_classes_deleted": "classes supprimées",
                          "homonyms": "homonymes à traiter à la main"},
               "details": {"file": "Fichier utilisé", "encoding": "Encodage", "mode": "Mode"}},
    "run_dir": RUN_DIR,
}


@pytest.fixture
def report() -> dict:
    return copy.deepcopy(REPORT)


def todo_box(page_html: str) -> str:
    start = page_html.index('id="todo"')
    return page_html[start:page_html.index("</section>", start)]


def step_section(page_html: str, number: int) -> str:
    start = page_html.index('<section class="card flow')
    start = page_html.index(f'id="etape-{number}"', start)
    return page_html[start:page_html.index("</section>", start)]


class Collector(HTMLParser):
    """Tag balance (void elements aside) and every href/src, to check the page's structure."""
    VOID = {"meta", "img", "br", "hr", "input", "link", "wbr"}

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.urls: list[str] = []
        self.tags: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)
        self.urls += [value for name, value in attrs if name in ("href", "src")]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def parsed(page_html: str) -> Collector:
    collector = Collector()
    collector.feed(page_html)
    collector.close()
    return collector


# The HTML text -------------------------------------------------------------------------------
def test_page_is_one_self_contained_french_file(report):
    page_html = render_html(report)
    assert page_html.startswith("<!DOCTYPE html>")
    assert '<html lang="fr">' in page_html and '<meta charset="utf-8">' in page_html
    collector = parsed(page_html)
    assert collector.errors == [] and collector.stack == []
    assert not {"script", "link", "iframe", "object", "embed"} & collector.tags
    assert not [name for name in collector.attributes if name.startswith("on")]
    assert "@import" not in page_html and "url(" not in page_html
    for url in collector.urls:   # only files of the run's folder and anchors of the page
        assert "://" not in url and not url.startswith(("/", "javascript:", "data:")), url
    assert "@media print" in page_html


def test_every_name_is_escaped(report):
    page_html = render_html(report)
    assert XSS not in page_html and "<script" not in page_html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; [xss1]" in page_html


def test_header_shows_school_title_status_and_date(report):
    page_html = render_html(report)
    assert "École n° 123 — Collège Jean Moulin (démo)" in page_html
    assert re.search(r'class="badge big s-failed">échec<', page_html)
    assert "28 novembre 2026 à 21:23 (durée 13,0 s)" in page_html


def test_todo_box_comes_first_and_lists_what_a_person_must_do(report):
    page_html = render_html(report)
    assert page_html.index('id="todo"') < page_html.index('id="etape-1"')
    todo = todo_box(page_html)
    # The failure first, with its message and how to resume.
    assert todo.index("ÉCHEC") < todo.index("Homonymes")
    assert "Délai dépassé en attendant la page : élément attendu : bouton « Valider »" in todo
    assert "Relancer la commande pour reprendre à cette étape." in todo
    assert 'href="#etape-7"' in todo
    # People SACoche could not match: short lists open, long ones folded with their count.
    assert "Homonymes à traiter à la main (par nom)" in todo and "BONNET Stephane [sbonnet1]" in todo
    homonyms = todo[todo.index("Homonymes"):todo.index("Comptes ENT sans utilisateur SACoche")]
    assert "<details" not in homonyms
    ent_only = todo[todo.index("Comptes ENT sans utilisateur SACoche"):
                    todo.index("Utilisateurs SACoche sans identifiant ENT")]
    assert "(12," in ent_only and re.search(r"<details[^>]*><summary>Voir la liste \(12\)</summary>", ent_only)
    assert all(name in ent_only for name in ENT_ONLY)
    assert "FAURE Juliette" in todo and "FERNANDEZ Morgane" in todo
    # The imports' remarks and the password files; a skipped step is nothing to do by hand.
    assert "niveau « Sixième » choisi" in todo
    assert "Suppression proposée mais non cochée (à décider à la main) : 5EME B." in todo
    assert "aucun fichier SIECLE des élèves dans la configuration" not in todo
    assert "aucun fichier SIECLE des élèves dans la configuration" in step_section(page_html, 4)
    assert "à transmettre puis supprimer" in todo
    assert 'href="identifiants_123_personnel_2026.csv"' in todo


def test_nothing_to_do_says_so():
    page_html = render_html({"school": "7", "status": "success", "counts": {}, "run_dir": "/x/7/r",
                             "flows": [{"name": "sacoche-auth-mode", "status": "done", "duration_s": 1,
                                        "details": {"summary": "ok"}, "screenshot": None}]})
    assert "Rien à faire à la main." in todo_box(page_html)
    assert re.search(r'class="badge big s-success">réussite<', page_html)


def test_french_titles_and_statuses(report):
    page_html = render_html(report)
    for title in ("ENT : extraction des comptes", "SACoche : mode d&#x27;identification",
                  "SACoche : import des professeurs", "SACoche : import des élèves",
                  "SACoche : identifiants ENT", "ENT : lien SACoche"):
        assert f">{title}</h2>" in page_html, title
    assert ">custom-step</h2>" in page_html   # unknown names as they are
    for status in ("fait", "déjà en place, rien changé", "déjà fait, sauté", "ÉCHEC"):
        assert f">{status}</span>" in page_html, status
    assert "1 min 15 s" in page_html and "1,3 s" in page_html
    report["status"] = "mismatch"
    report["flows"][-1]["status"] = "mismatch"
    mismatch = render_html(report)
    assert re.search(r'class="badge big s-mismatch">vérification en échec<', mismatch)
    assert ">VÉRIFICATION EN ÉCHEC</span>" in mismatch


def test_step_section_shows_checks_wizard_files_and_links(report):
    page_html = render_html(report)
    export = step_section(page_html, 1)
    assert 'href="extraction_comptes_0341234G.csv"' in export      # in the run's folder: relative
    assert "<li>Eleve : 65</li>" in export                          # a dict inside verified: a list
    assert '<a href="01-ent-accounts-export.png"><img src="01-ent-accounts-export.png"' in export
    teachers = step_section(page_html, 3)
    assert "<code>/tmp/fichiers/sts_emp_0341234G_2026.xml</code>" in teachers   # elsewhere: no link
    assert 'href="/tmp' not in page_html and f'href="{RUN_DIR}' not in page_html
    assert re.search(r'<details class="wizard"><summary>[^<]*\(2 étapes\)</summary>', teachers)
    assert "10 personnels enseignants trouvés." in teachers
    assert '<a href="03-sacoche-import-teachers.trace.zip">' in teachers
    assert "ouvrir avec : <code>playwright show-trace 03-sacoche-import-teachers.trace.zip</code>" in teachers
    assert "contient des mots de passe : à transmettre puis supprimer" in teachers
    assert 'href="identifiants_123_personnel_2026.pdf"' in teachers
    assert "professeurs et personnels listés par SACoche" in teachers
    assert 'src="05%20sacoche-ent-ids.png"' in step_section(page_html, 5)   # quoted, still relative
    skipped = step_section(page_html, 4)
    assert "Pourquoi l&#x27;étape est sautée : aucun fichier SIECLE" in skipped and "<img" not in skipped
    failed = step_section(page_html, 7)
    assert 'class="error"' in failed and "07-ent-sacoche-link-echec.png" in failed


def test_passwords_are_never_shown(report):
    known = Secret("mdp-lu-par-le-robot-42")   # a password the bot has read must be masked anywhere
    report["flows"][0]["details"]["summary"] += f" ({known.reveal()})"
    page_html = render_html(report)
    assert "hunter2-top-secret" not in page_html and "mdp-jamais-affiche" not in page_html
    assert "mot_de_passe_admin" not in page_html and ">password<" not in page_html
    assert known.reveal() not in page_html and "********" in page_html


def test_counts_have_french_labels(report):
    page_html = render_html(report)
    assert "<h2 id=\"compteurs\">Compteurs</h2>" in page_html
    assert "Comptes dans l&#x27;extraction de l&#x27;ENT" in page_html
    assert "Homonymes à traiter à la main" in page_html
    counts = page_html[page_html.index('id="compteurs"'):]
    assert "<h3>SACoche : import des professeurs</h3>" in counts and "Utilisateurs ajoutés" in counts
    assert "mystery_counter" in page_html   # unknown keys as they are


def test_write_html_and_missing_optional_keys(tmp_path):
    bare = {"school": "123", "status": "success", "counts": {},
            "run_dir": "/r/123/20261128-212308-816639",
            "flows": [{"name": "sacoche-auth-mode", "status": "done", "duration_s": 3.0,
                       "details": {"summary": "Déjà fait."}, "screenshot": "02-sacoche-auth-mode.png"}]}
    path = tmp_path / "report.html"
    write_html(bare, path)
    text = path.read_bytes().decode("utf-8")
    assert "École n° 123</h1>" in text and "Compteurs" not in text
    assert "28 novembre 2026 à 21:23" in text   # from the run folder's name
    assert "Vérifié en relisant le site" not in text and "show-trace" not in text


# In Chromium ---------------------------------------------------------------------------------
def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_chromium_shows_the_report(page: Page, tmp_path, report):
    page.set_content('<div style="width:640px;height:400px;background:#2d6cdf;color:#fff">SACoche</div>')
    page.screenshot(path=str(tmp_path / "01-ent-accounts-export.png"))
    write_html(report, tmp_path / "report.html")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto((tmp_path / "report.html").as_uri())

    expect(page.get_by_role("heading", level=1)).to_have_text("École n° 123 — Collège Jean Moulin (démo)")
    todo = page.locator("section.todo")
    expect(todo.get_by_role("heading", name="À faire à la main")).to_be_visible()
    expect(todo.get_by_text("Relancer la commande pour reprendre à cette étape.")).to_be_visible()
    expect(todo.get_by_text(f"{XSS} [xss1]")).to_be_visible()   # shown as text, never run
    expect(todo.get_by_text("Suppression proposée mais non cochée")).to_be_visible()
    folded = todo.get_by_text(ENT_ONLY[-1])
    expect(folded).to_be_hidden()
    todo.get_by_text("Voir la liste (12)").click()
    expect(folded).to_be_visible()
    expect(page.locator("#etape-7 .badge")).to_have_text("ÉCHEC")
    expect(page.locator("#etape-4 .badge")).to_have_text("déjà fait, sauté")
    thumbnail = page.locator("#etape-1 img")
    expect(thumbnail).to_be_visible()
    assert thumbnail.evaluate("img => img.naturalWidth") > 0   # the relative src resolves
    assert dialogs == [] and page.evaluate("document.scripts.length") == 0

    shot = page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    width, height = png_size(shot)
    assert width == 1280 and height > 2000 and len(shot) > 50_000


def test_print_shows_the_folded_lists_of_the_todo_box(page: Page, tmp_path, report):
    write_html(report, tmp_path / "report.html")
    page.goto((tmp_path / "report.html").as_uri())
    page.emulate_media(media="print")
    expect(page.locator("section.todo").get_by_text(ENT_ONLY[-1])).to_be_visible()
    pdf = page.pdf()
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000


def test_a_step_without_screenshot_says_why():
    page_html = render_html({"school": "7", "status": "success", "counts": {}, "run_dir": "/x/7/r",
                             "flows": [{"name": "sacoche-import-parents", "status": "done", "duration_s": 1,
                                        "details": {"summary": "ok"}, "screenshot": None,
                                        "screenshot_missing": "la page n'a pas pu être capturée en 15 s"}]})
    assert "Pas de capture d'écran : la page n&#x27;a pas pu être capturée en 15 s" in step_section(page_html, 1)


def test_a_run_with_every_kind_of_outcome():
    from html import escape

    from bot.status import FALLBACK_ADVICE, Status
    step_statuses = [status for status in Status if status is not Status.SUCCESS]
    flows = [{"name": f"step-{status.value}", "status": status.value, "duration_s": 1,
              "details": {"summary": f"résumé {status.value}"}, "screenshot": None} for status in step_statuses]
    page_html = render_html({"school": "7", "status": "failed", "counts": {}, "run_dir": "/x/7/r", "flows": flows})
    for number, status in enumerate(step_statuses, start=1):
        section = step_section(page_html, number)
        assert f">{escape(status.label)}</span>" in section, status
        assert f"résumé {status.value}" in section
        assert (escape(FALLBACK_ADVICE) in section) == status.went_wrong, status
    assert re.search(r'class="badge big s-failed">échec<', page_html)
