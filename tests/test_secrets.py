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


def test_every_missing_password_is_listed_at_once_and_nothing_is_left_behind(sims, bot):
    """Five missing passwords take one run to learn, not five: each with its own command (or its
    variable), exit 2, no request to any site, no run folder and no lock file left."""
    from conftest import arena_state, ent_state
    school = bot.config_data["schools"]["123"]
    school["accounts"]["ent"]["password_env"] = "ENT_123_PASSWORD"
    school["sso_check"] = [{"login": "jdupont1"}, {"login": "emartin2"}]
    bot.write_config()
    result = bot("full-onboarding", "--school", "123", env={"ENT_123_PASSWORD": ""})
    assert result.code == 2, result.stdout + result.stderr
    assert "5 mots de passe de l'école 123 introuvables ; rien n'a été fait sur les sites." in result.stderr
    for site, extra in [("sacoche", " ou définissez la variable SACOCHE_123_PASSWORD"),
                        ("ent", " ou définissez la variable ENT_123_PASSWORD"), ("arena", ""),
                        ("sso:jdupont1", ""), ("sso:emartin2", "")]:
        assert f"« python -m bot credentials set --school 123 --site {site} »{extra}" in result.stderr, site
    assert "Traceback" not in result.stderr
    assert sim_state(sims)["requests"] == 0 and ent_state(sims)["requests"] == 0
    assert arena_state(sims)["requests"] == 0
    assert not (bot.tmp_path / "recordings" / "123").exists()
    assert not (bot.tmp_path / "state" / "locks" / "123.lock").exists()

    # No keyring at all: the same list, each with the variable that would give its password.
    result = bot("full-onboarding", "--school", "123", env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    assert result.code == 2 and "5 mots de passe de l'école 123 inaccessibles" in result.stderr
    assert "  - sacoche (identifiant admin.demo) : définissez la variable d'environnement SACOCHE_123_PASSWORD" \
        in result.stderr
    assert "  - sso:jdupont1 (compte ENT de vérification SSO) : ajoutez « password_env: NOM_DE_VARIABLE » sous le " \
           "compte « jdupont1 » de schools.123.sso_check" in result.stderr
    assert not (bot.tmp_path / "recordings" / "123").exists()

    bot.store_password("x", site="arena")   # one missing: said as before, alone
    for site in ("ent", "sso:jdupont1", "sso:emartin2"):
        bot.store_password("x", site=site)
    result = bot("full-onboarding", "--school", "123")
    assert result.code == 2 and "Mot de passe sacoche de l'école 123 introuvable" in result.stderr
    assert "mots de passe" not in result.stderr


def test_a_refused_run_leaves_no_folder_and_no_lock_but_keeps_those_of_others(sims, bot):
    from bot.lock import SchoolLock
    lock = bot.tmp_path / "state" / "locks" / "123.lock"
    runs = bot.tmp_path / "recordings" / "123"
    result = bot("run", "sacoche-auth-mode", "--school", "123")
    assert result.code == 2 and not runs.exists() and not lock.exists()
    # A school folder that was there before (earlier runs) stays.
    (runs / "20260901-080000-000000").mkdir(parents=True)
    assert bot("run", "sacoche-auth-mode", "--school", "123").code == 2
    assert [p.name for p in runs.iterdir()] == ["20260901-080000-000000"] and not lock.exists()
    # A lock another run holds is never removed by a run it refuses.
    with SchoolLock(bot.tmp_path / "state", "123"):
        held = lock.read_text()
        refused = bot("run", "sacoche-auth-mode", "--school", "123")
        assert refused.code == 2 and "Une autre exécution du bot travaille déjà sur l'école 123" in refused.stderr
        assert lock.read_text() == held
    assert not lock.exists()
    assert sim_state(sims)["requests"] == 0


def test_a_run_refused_once_its_inputs_were_copied_leaves_no_folder_either(school, sims):
    # The browser does not start: refused after the inputs were copied into the run's folder.
    school.config_data["browser"] = {"executable": "/bin/false", "launch_timeout_ms": 3000}
    school.write_config()
    result = school("full-onboarding", "--school", "123")
    assert result.code == 2 and "ne démarre pas" in result.stderr, result.stderr
    assert not (school.tmp_path / "recordings" / "123").exists()
    assert not (school.tmp_path / "state" / "locks" / "123.lock").exists()
    assert sim_state(sims)["requests"] == 0


def test_a_lock_file_removed_under_a_starting_run_is_not_trusted(tmp_path, monkeypatch):
    """The run that ends removes its lock file while holding it. One that opened that file just
    before locks it once it is free, sees that the path no longer names it, and starts again on
    the file now at the path (else it and a third run could each hold a lock, on two files)."""
    from bot.lock import SchoolLock, _is_at_path
    first = SchoolLock(tmp_path, "123").acquire()
    opened = []
    real_open = SchoolLock._open

    def open_then_lose_the_race(self):
        handle = real_open(self)
        if not opened:
            first.release()                  # the first run ends between this open and its lock
        opened.append(handle)
        return handle

    monkeypatch.setattr(SchoolLock, "_open", open_then_lose_the_race)
    second = SchoolLock(tmp_path, "123").acquire()
    assert len(opened) == 2     # the removed file was let go, the one now at the path taken
    assert _is_at_path(second._handle, second.path)
    second.release()
    assert not second.path.exists()
