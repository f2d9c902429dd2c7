"""Text a person reads in the terminal: never cut in the middle of a word (shortened at a word
boundary with « … », or not cut at all), and « de » elided before a vowel (« d'ARENA »)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.config import load_config
from bot.flow import RunContext
from bot.landmarks import SiteChanged
from bot.report import summary_table
from bot.runner import SchoolOutcome
from bot.site_check import SiteReport, inspect_sites, table
from bot.text import de, shorten
from conftest import REPO


def test_shorten_cuts_at_a_word_boundary_and_says_so():
    text = "12 professeurs trouvés. / 1 conseiller d'éducation (CPE) trouvé. / 1 professeur documentaliste trouvé."
    assert shorten(text, 200) == text
    short = shorten(text, 60)
    assert short == "12 professeurs trouvés. / 1 conseiller d'éducation (CPE)…" and len(short) <= 60
    assert shorten("une\nligne   puis\tune autre", 100) == "une ligne puis une autre"
    assert shorten("a" * 64, 13) == "a" * 12 + "…"        # one long word (a hash): cut inside, said
    assert shorten("mots, encore", 8) == "mots…"           # no dangling punctuation before « … »


@pytest.mark.parametrize("name, expected", [
    ("ARENA", "d'ARENA"), ("SACoche", "de SACoche"), ("l'ENT", "de l'ENT"), ("ENT", "d'ENT"),
    ("Éric", "d'Éric"), ("admin.ent", "d'admin.ent"), ("https://ent.example.org/", "de https://ent.example.org/"),
    ("Yves", "d'Yves"), ("Yann", "de Yann"), ("jdupont1", "de jdupont1"),
])
def test_de_is_elided_before_a_vowel(name, expected):
    assert de(name) == expected


def test_site_titles_after_de_are_elided_in_what_the_engine_says(tmp_path):
    said: list[str] = []

    class Arena:
        site, title = "arena", "ARENA"

        def inspect(self, ctx, thorough, pages):
            raise SiteChanged("ARENA", "Accueil", ["le lien « STS-web »"])

    ctx = RunContext(config=load_config(REPO / "config.example.yaml"), school_id="123", run_dir=tmp_path,
                     say=said.append)
    [report] = inspect_sites(ctx, [Arena()])
    assert said == ["Vérification des pages d'ARENA…"]
    assert report.page_changed.startswith("La page « Accueil » d'ARENA a changé")
    assert "Version d'ARENA : non lue" in table([report])
    assert "Version de SACoche : non lue" in table([SiteReport("sacoche", "SACoche")])
    assert "Version de l'ENT : non lue" in table([SiteReport("ent", "l'ENT")])


def fixed_width_cuts(path: Path) -> list[str]:
    """`{text[:N]}` in an f-string: a message cut at a fixed width, wherever its words fall."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FormattedValue) and isinstance(node.value, ast.Subscript) \
                and isinstance(node.value.slice, ast.Slice) and node.value.slice.lower is None \
                and isinstance(node.value.slice.upper, ast.Constant):
            found.append(f"{path.relative_to(REPO)}:{node.lineno} {ast.unparse(node.value)}")
    return found


def test_no_user_text_is_cut_at_a_fixed_width():
    offenders = [cut for folder in ("bot", "flows", "schoolfiles") for path in sorted((REPO / folder).rglob("*.py"))
                 for cut in fixed_width_cuts(path)]
    assert offenders == []


def test_the_wizard_prints_every_line_of_a_step_in_full(tmp_path):
    from flows.sacoche.import_users import TEACHERS, StepLog
    from flows.sacoche.pages import WizardStep

    said: list[str] = []
    ctx = RunContext(config=load_config(REPO / "config.example.yaml"), school_id="123", run_dir=tmp_path,
                     say=said.append)
    lines = ["12 professeurs trouvés.", "1 conseiller d'éducation (CPE) trouvé.",
             "1 professeur documentaliste trouvé.", "1 personnel de direction trouvé."]
    log = StepLog(ctx, TEACHERS)
    log.record(WizardStep("passer_etape_suivante", 20, lines))
    assert said == ["    étape 10 : 12 professeurs trouvés.",
                    "               1 conseiller d'éducation (CPE) trouvé.",
                    "               1 professeur documentaliste trouvé.",
                    "               1 personnel de direction trouvé."]
    log.record(WizardStep("passer_etape_suivante", 30, []))
    assert said[-1] == "    étape 20 :"


def test_the_batch_table_shortens_a_refusal_at_a_word_boundary():
    refusal = ("3 mots de passe de l'école 124 introuvables ; rien n'a été fait sur les sites. Enregistrez chacun : "
               "sacoche, ent, arena")
    row = summary_table([SchoolOutcome("124", refused=refusal)]).splitlines()[-1]
    assert row.endswith("  3 mots de passe de l'école 124 introuvables ; rien n'a été fait sur…")
