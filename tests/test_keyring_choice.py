"""No password in clear behind the user's back: when the only keyring at hand keeps passwords in
a plain file (keyrings.alt's PlaintextKeyring, which the test extra installs), `credentials set`
says where and how, and stores nothing without the explicit --allow-plaintext-keyring."""
from __future__ import annotations

import base64

import pytest

PASSWORD = "Zq9-plain-pw"
SECURE_BACKEND = '''
import json, os, pathlib
from keyring.backend import KeyringBackend

class Keyring(KeyringBackend):
    """Stands for a desktop keyring (Secret Service): not a plain-text file backend."""
    priority = 5
    store = pathlib.Path(os.environ["SECURE_FAKE_STORE"])

    def _all(self):
        return json.loads(self.store.read_text()) if self.store.exists() else {}

    def get_password(self, service, username):
        return self._all().get(f"{service}/{username}")

    def set_password(self, service, username, password):
        self.store.write_text(json.dumps({**self._all(), f"{service}/{username}": password}))

    def delete_password(self, service, username):
        entries = self._all()
        entries.pop(f"{service}/{username}")
        self.store.write_text(json.dumps(entries))
'''


def keyring_file(bot):
    return bot.tmp_path / "xdg" / "python_keyring" / "keyring_pass.cfg"


def stored_anywhere(bot) -> bool:
    path = keyring_file(bot)
    if not path.exists():
        return False
    text = path.read_text()
    return PASSWORD in text or base64.b64encode(PASSWORD.encode()).decode() in text


def set_password(bot, *flags, env=None):
    return bot("credentials", "set", "--school", "123", "--site", "sacoche", *flags, stdin=PASSWORD + "\n", env=env)


def test_a_plaintext_keyring_is_refused_with_where_and_the_alternatives(bot):
    result = set_password(bot)
    assert result.code == 2, result.stdout + result.stderr
    message = result.stderr
    assert "EN CLAIR" in message and str(keyring_file(bot)) in message and "PlaintextKeyring" in message
    assert "--allow-plaintext-keyring" in message                 # the explicit choice
    assert "password_env" in message and "schools.123.accounts.sacoche" in message   # a server's way
    assert "Secret Service" in message                             # a desktop's way
    assert "enregistré dans" not in result.stdout
    assert not stored_anywhere(bot)
    assert "absent" in bot("credentials", "status", "--school", "123", "--site", "sacoche").stdout


def test_the_explicit_choice_stores_it_and_says_where(bot):
    result = set_password(bot, "--allow-plaintext-keyring")
    assert result.code == 0, result.stderr
    assert "EN CLAIR" in result.stdout and str(keyring_file(bot)) in result.stdout
    assert stored_anywhere(bot)
    status = bot("credentials", "status", "--school", "123", "--site", "sacoche")
    assert "présent (trousseau)" in status.stdout and "en clair" in status.stdout and str(keyring_file(bot)) in status.stdout
    assert PASSWORD not in status.stdout + status.stderr + result.stdout + result.stderr


def test_the_default_keyring_of_a_test_install_is_refused_too(bot, tmp_path):
    """No PYTHON_KEYRING_BACKEND and no desktop session: keyring picks keyrings.alt on its own."""
    env = {key: value for key, value in bot.env.items() if key != "PYTHON_KEYRING_BACKEND"}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "config"), DBUS_SESSION_BUS_ADDRESS=f"unix:path={tmp_path}/no-bus")
    bot.env = env
    result = set_password(bot)
    assert result.code == 2 and "EN CLAIR" in result.stderr, result.stdout + result.stderr
    assert not stored_anywhere(bot)


@pytest.mark.parametrize("backend", ["keyring.backends.chainer.ChainerBackend", "keyring.backends.null.Keyring"])
def test_a_chained_plaintext_or_a_keyring_that_keeps_nothing_is_refused(bot, backend, tmp_path):
    env = {"PYTHON_KEYRING_BACKEND": backend, "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path}/no-bus"}
    result = set_password(bot, env=env)
    assert result.code == 2, result.stdout + result.stderr
    assert "enregistré dans" not in result.stdout and not stored_anywhere(bot)
    assert "password_env" in result.stderr


def test_a_real_keyring_needs_no_choice(bot, tmp_path):
    (tmp_path / "securefake.py").write_text(SECURE_BACKEND, encoding="utf-8")
    env = {"PYTHON_KEYRING_BACKEND": "securefake.Keyring", "SECURE_FAKE_STORE": str(tmp_path / "secure.json"),
           "PYTHONPATH": f"{tmp_path}:{bot.env['PYTHONPATH']}"}
    result = set_password(bot, env=env)
    assert result.code == 0, result.stderr
    assert "enregistré dans le trousseau" in result.stdout and "EN CLAIR" not in result.stdout
    assert PASSWORD in (tmp_path / "secure.json").read_text()
    status = bot("credentials", "status", "--school", "123", "--site", "sacoche", env=env)
    assert "présent (trousseau)" in status.stdout and "en clair" not in status.stdout


def test_the_store_is_judged_by_its_class(monkeypatch, tmp_path):
    import keyring
    from keyring.backends import chainer, fail, null
    from keyrings.alt.file import PlaintextKeyring

    from bot.secrets import keyring_store
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    previous = keyring.get_keyring()
    try:
        keyring.set_keyring(PlaintextKeyring())
        store = keyring_store()
        assert store.in_clear and store.file == str(tmp_path / "python_keyring" / "keyring_pass.cfg")
        keyring.set_keyring(null.Keyring())
        assert keyring_store().keeps_nothing
        keyring.set_keyring(fail.Keyring())
        assert not keyring_store().in_clear   # its set says « no keyring » itself
        monkeypatch.setattr(chainer.ChainerBackend, "backends", [PlaintextKeyring()], raising=False)
        keyring.set_keyring(chainer.ChainerBackend())
        assert keyring_store().in_clear
    finally:
        keyring.set_keyring(previous)
