"""Passwords come from the keyring or an environment variable, and never show."""
from __future__ import annotations

import pytest

from bot.secrets import MASK, Secret, redact
from conftest import DEMO, sim_state


def test_missing_secret_is_refused_with_exit_2(sims, bot):
    result = bot("run", "sacoche-auth-mode", "--school", "123")
    assert result.code == 2
    assert result.stderr.count("Mot de passe sacoche de l'école 123 introuvable") == 1   # said once
    assert "python -m bot credentials set --school 123 --site sacoche" in result.stderr
    assert "SACOCHE_123_PASSWORD" in result.stderr
    assert sim_state(sims)["requests"] == 0
    runs = bot.tmp_path / "recordings" / "123"
    assert not runs.exists() or not any(runs.iterdir())   # a refused run leaves no empty run folder


def test_credentials_set_status_delete(bot):
    assert "absent" in bot("credentials", "status", "--school", "123", "--site", "sacoche").stdout
    bot.store_password("s3cret-value")
    status = bot("credentials", "status", "--school", "123", "--site", "sacoche")
    assert status.code == 0 and "présent (trousseau)" in status.stdout
    assert "s3cret-value" not in status.stdout + status.stderr
    env_status = bot("credentials", "status", "--school", "123", "--site", "sacoche",
                     env={"SACOCHE_123_PASSWORD": "x"})
    assert "variable d'environnement SACOCHE_123_PASSWORD" in env_status.stdout
    assert "supprimé" in bot("credentials", "delete", "--school", "123", "--site", "sacoche").stdout
    assert "absent" in bot("credentials", "status", "--school", "123", "--site", "sacoche").stdout


def test_a_site_the_config_does_not_declare_is_refused(bot):
    result = bot("credentials", "set", "--school", "123", "--site", "moodle", stdin="x\n")
    assert result.code == 2 and "« moodle » : arena, ent, sacoche ou sso:<identifiant ENT> attendu" in result.stderr


def test_empty_password_is_not_stored(bot):
    result = bot("credentials", "set", "--school", "123", "--site", "sacoche", stdin="\n")
    assert result.code == 2 and "Mot de passe vide" in result.stderr


def test_no_usable_keyring_gives_a_french_hint(sims, bot):
    result = bot("run", "sacoche-auth-mode", "--school", "123",
                 env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    assert result.code == 2
    assert "Aucun trousseau de clés utilisable" in result.stderr
    assert "SACOCHE_123_PASSWORD" in result.stderr


def test_secret_never_prints_and_is_redacted():
    secret = Secret("hunter2-xyz")
    assert "hunter2" not in repr(secret) + str(secret) + f"{secret}"
    assert redact("boom: hunter2-xyz!") == f"boom: {MASK}!"
    with pytest.raises(TypeError):
        import pickle
        pickle.dumps(secret)


def test_a_run_leaves_the_password_nowhere(sims, bot_with_password):
    result = bot_with_password("run", "sacoche-auth-mode", "--school", "123", "--json")
    assert result.code == 0, result.stderr
    password = DEMO.sacoche_admin_password
    assert password not in result.stdout + result.stderr
    recordings = bot_with_password.tmp_path / "recordings"
    files = [p for p in recordings.rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert password.encode() not in path.read_bytes(), path
