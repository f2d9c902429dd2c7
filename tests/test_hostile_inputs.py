"""Hostile or broken ENT exports and configurations: refused before any click, exit 2, a
French message, nothing touched on either site. (The STS/SIECLE corpus is in
test_input_files.py.)"""
from __future__ import annotations

import pytest

from conftest import DEMO, ent_state, sim_state

HEADER = "Extraction des comptes ENT\r\nuid;profil;nom;prenom;classe\r\n"
GOOD = "abernard1;Eleve;BERNARD;Léa;3A\r\ncmartin1;Enseignant;MARTIN;Claire;\r\nsbernard1;Parent;BERNARD;Sophie;\r\n"

CSV_CASES = {
    "empty": (b"", "fichier vide"),
    "blank-lines": (b"\r\n\r\n  \r\n", "fichier vide"),
    "binary": (bytes(range(256)) * 4, "contenu binaire"),
    "one-column": ("Extraction\r\nuid\r\nabernard1\r\ncmartin1\r\n".encode(), "aucun compte utilisable"),
    "comma-separated": ((HEADER + GOOD).replace(";", ",").encode(), "séparateur « , »"),
    "no-title-line": (("uid;profil;nom;prenom\r\n" + GOOD).encode(), "titre d'une seule cellule"),
    "headers-only": (HEADER.encode(), "2 lignes d'en-tête"),
    "no-parents": ((HEADER + "abernard1;Eleve;BERNARD;Léa;3A\r\ncmartin1;Enseignant;MARTIN;Claire;\r\n").encode(),
                   "aucun compte de profil Parent"),
    "formula": ((HEADER + GOOD + "=cmd|' /C calc'!A0;Eleve;X;Y;\r\n").encode(), "formule de tableur"),
    "formula-in-name": ((HEADER + GOOD + "zz1;Eleve;@SUM(A1);Y;\r\n").encode(), "formule de tableur"),
    "id-twice": ((HEADER + GOOD + "abernard1;Eleve;BERNARD;Lea;3B\r\n").encode(), "identifiant(s) ENT en double (abernard1)"),
    "script-name": ((HEADER + GOOD + "zz2;Eleve;<script>alert(1)</script>;Y;\r\n").encode(), "balise HTML"),
    "huge": (None, "Mo, plus que les 20 Mo permis"),
}


@pytest.mark.parametrize("case", list(CSV_CASES))
def test_bad_ent_exports_are_refused_before_any_click(sims, bot, tmp_path, case):
    content, expected = CSV_CASES[case]
    path = tmp_path / "extraction.csv"
    if content is None:
        with path.open("wb") as out:
            out.write((HEADER + GOOD).encode())
            out.truncate(21 * 1024 * 1024)
    else:
        path.write_bytes(content)
    bot.config_data["schools"]["123"]["files"] = {"ent": str(path)}
    bot.write_config()
    bot.store_password(DEMO.sacoche_admin_password)
    result = bot("run", "sacoche-ent-ids", "--school", "123")
    assert result.code == 2, result.stderr
    assert expected in result.stderr
    assert sim_state(sims)["requests"] == 0 and ent_state(sims)["requests"] == 0


CONFIG_CASES = {
    "unknown-top-key": (lambda c: c.update(extra=1), "extra : clé inconnue"),
    "school-not-a-map": (lambda c: c["schools"].update({"123": "oops"}), "schools.123 : une liste de clés"),
    "sites-missing": (lambda c: c.pop("sites"), "sites : clé obligatoire absente"),
    "url-with-credentials": (lambda c: c["sites"]["sacoche"].update(url="https://admin:pw@sacoche.example.org/"),
                             "ne doit pas contenir d'identifiants"),
    "ftp-url": (lambda c: c["sites"]["ent"].update(url="ftp://127.0.0.1/"), "http(s)://hôte/chemin attendu"),
    "retries-too-many": (lambda c: c.setdefault("browser", {}).update(retries=50), "browser.retries : valeur trop grande"),
    "unknown-rule": (lambda c: c["schools"]["123"].update(imports={"unknown_level": "last"}),
                     "schools.123.imports.unknown_level : valeur non permise"),
    "sso-user-empty": (lambda c: c["schools"]["123"].update(sso_check=[{"login": ""}]),
                       "schools.123.sso_check.0.login : ne doit pas être vide"),
}


@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_bad_configurations_are_refused_naming_the_key(sims, bot, case):
    change, expected = CONFIG_CASES[case]
    change(bot.config_data)
    bot.write_config()
    result = bot("run", "sacoche-auth-mode", "--school", "123")
    assert result.code == 2, result.stderr
    assert expected in result.stderr
    assert sim_state(sims)["requests"] == 0


def test_yaml_that_is_not_a_mapping_and_a_yaml_bomb(bot, tmp_path):
    bot.config_path.write_text("- a\n- b\n", encoding="utf-8")
    result = bot("run", "sacoche-auth-mode", "--school", "123")
    assert result.code == 2 and "le fichier doit contenir des clés" in result.stderr
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n" \
           "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    bot.config_path.write_text(bomb, encoding="utf-8")
    result = bot("run", "sacoche-auth-mode", "--school", "123")
    assert result.code == 2 and "clé inconnue" in result.stderr
