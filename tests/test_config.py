"""Bad configuration is refused before any click: exit 2, a French message naming the key."""
from __future__ import annotations

import copy

import pytest

from bot.config import load_config, uai_problem
from bot.errors import Refused
from conftest import DEMO, REPO, sim_state


def test_example_config_is_valid_as_is():
    config = load_config(REPO / "config.example.yaml")
    school = config.school("123")
    assert school.uai == "0341234G" and school.department == "34"
    assert config.sites["sacoche"].url == "http://127.0.0.1:8801/"


@pytest.mark.parametrize("uai, problem", [
    ("0341234G", None), ("0340999B", None),
    ("0340999A", "lettre de contrôle devrait être B"),
    ("034123G", "n'est pas un n°UAI"),
])
def test_uai_check_letter(uai, problem):
    found = uai_problem(uai)
    assert (found is None) if problem is None else (problem in found)


def mutate(data: dict, path: str, value) -> dict:
    data = copy.deepcopy(data)
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[key]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return data


DELETE = object()

BAD_CONFIGS = [
    ("schools.123.uai", "0340999A", "schools.123.uai : n°UAI « 0340999A » invalide"),
    ("schools.123.department", "3x4", "schools.123.department : « 3x4 » n'est pas un n° de département"),
    ("schools.123.colour", "bleu", "schools.123.colour : clé inconnue"),
    ("schools.123.name", DELETE, "schools.123.name : clé obligatoire absente"),
    ("sites.sacoche.url", "http://sacoche.example.org/", "sites.sacoche.url : adresse « http://sacoche.example.org/ » refusée"),
    ("sites.sacoche.url", "javascript:alert(1)", "sites.sacoche.url : adresse « javascript:alert(1) » invalide"),
    ("browser.action_timeout_ms", 10, "browser.action_timeout_ms : valeur trop petite"),
    ("schools.123.accounts.sacoche.password_env", "mot de passe", "password_env : « mot de passe » n'est pas un nom de variable"),
    ("schools.abc", {"name": "x"}, "« abc » : les écoles sont indexées par leur n° de base SACoche"),
]


@pytest.mark.parametrize("path, value, expected", BAD_CONFIGS, ids=[c[0] + str(i) for i, c in enumerate(BAD_CONFIGS)])
def test_bad_config_is_refused_with_exit_2_naming_the_key(sims, bot, path, value, expected):
    bot.store_password(DEMO.sacoche_admin_password)
    bot.write_config(mutate(bot.config_data, path, value))
    result = bot("run", "sacoche-auth-mode", "--school", "123")
    assert result.code == 2, result.stderr
    assert str(bot.config_path) in result.stderr
    assert expected in result.stderr
    assert sim_state(sims)["requests"] == 0     # nothing was touched


def test_unreadable_yaml_names_the_line(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("sites:\n  sacoche: [oops\nschools: {}\n", encoding="utf-8")
    with pytest.raises(Refused, match=r"config.yaml : YAML illisible ligne \d"):
        load_config(path)


def test_missing_config_file(tmp_path):
    with pytest.raises(Refused, match="Fichier de configuration introuvable"):
        load_config(tmp_path / "absent.yaml")


def test_unknown_school_and_unknown_flow_are_refused(sims, bot):
    bot.store_password(DEMO.sacoche_admin_password)
    result = bot("run", "sacoche-auth-mode", "--school", "999")
    assert result.code == 2 and "école « 999 » absente" in result.stderr
    result = bot("run", "no-such-flow", "--school", "123")
    assert result.code == 2 and "Étape inconnue « no-such-flow »" in result.stderr
    assert sim_state(sims)["requests"] == 0


def test_department_without_that_connector_is_refused_before_any_click(sims, bot):
    bot.store_password(DEMO.sacoche_admin_password)
    bot.write_config(mutate(bot.config_data, "schools.123.department", "75"))
    result = bot("run", "sacoche-auth-mode", "--school", "123", "--json")
    assert result.code == 2
    assert "n'existe pas pour le département 75" in result.stderr
    assert result.report["status"] == "refused"
    assert sim_state(sims)["requests"] == 0


def test_usage_errors_exit_2_in_french(bot):
    result = bot("run", "sacoche-auth-mode", config=False)
    assert result.code == 2 and "arguments obligatoires manquants : --school" in result.stderr
