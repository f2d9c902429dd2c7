"""Passwords: from an environment variable named in the config (unattended runs), else from the
system keyring (service `sacoche-ent-bot`, one entry per school and site). A password is held in
a `Secret` that never shows itself, and every revealed value is registered so that any text
leaving the bot (console, report, exception) can be scrubbed with `redact`."""
from __future__ import annotations

import os
import threading

import keyring
import keyring.errors

from .config import BotConfig
from .errors import Refused

SERVICE = "sacoche-ent-bot"
MASK = "********"

_known_secrets: set[str] = set()
_lock = threading.Lock()
# Passwords taken out of the environment (see take_environment_passwords), by variable name.
_from_environment: dict[str, str] = {}


class Secret:
    """A password that prints as a mask; `reveal()` is the only way to its value."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value
        if value:
            with _lock:
                _known_secrets.add(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret(********)"

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("a Secret cannot be pickled")


def redact(text: str) -> str:
    """Replace every password the bot has read by a mask."""
    with _lock:
        known = sorted(_known_secrets, key=len, reverse=True)
    for value in known:
        text = text.replace(value, MASK)
    return text


def entry_name(school_id: str, site: str) -> str:
    return f"{school_id}/{site}"


SSO_PREFIX = "sso:"   # the password of an ENT user who proves SSO: "sso:<login>"
INSTALL_KEYRING = ("installez un trousseau (par ex. « pip install keyrings.alt », stockage en clair dans le dossier "
                   "de l'utilisateur)")


class MissingPassword(Refused):
    """A password found neither in the environment nor in the keyring; `remedy` says, in French,
    how to give it (pre-flight lists every missing one with its own)."""

    def __init__(self, message: str, site: str, remedy: str, keyring_problem: str = ""):
        super().__init__(message)
        self.site = site
        self.remedy = remedy
        self.keyring_problem = keyring_problem   # set when no keyring can be used at all


def _account_key(school_id: str, site: str) -> str:
    """Where this account's password_env goes in the configuration."""
    if site.startswith(SSO_PREFIX):
        return f"le compte « {site[len(SSO_PREFIX):]} » de schools.{school_id}.sso_check"
    return f"schools.{school_id}.accounts.{site}"


def _keyring_unavailable(exc: Exception, school_id: str, site: str, env: str | None) -> MissingPassword:
    remedy = (f"définissez la variable d'environnement {env}" if env else
              f"ajoutez « password_env: NOM_DE_VARIABLE » sous {_account_key(school_id, site)} et définissez cette "
              "variable")
    problem = f"Aucun trousseau de clés utilisable sur cette machine ({exc.__class__.__name__})"
    return MissingPassword(f"{problem} : {remedy}, ou {INSTALL_KEYRING}.", site, remedy, problem)


def _set_command(school_id: str, site: str) -> str:
    return f"« python -m bot credentials set --school {school_id} --site {site} »"


def _account(config: BotConfig, school_id: str, site: str):
    school = config.school(school_id)
    if site.startswith(SSO_PREFIX):
        login = site[len(SSO_PREFIX):]
        return next((user for user in school.sso_check if user.login == login), None)
    return school.accounts.get(site)


def take_environment_passwords(config: BotConfig) -> None:
    """Move every password variable the config names out of the process environment, before any
    child process (Playwright's driver, the browser) is started: children inherit the
    environment, where `ps e` would show them. The bot keeps them in memory only."""
    names = {account.password_env for school in config.schools.values()
             for account in [*school.accounts.values(), *school.sso_check] if account.password_env}
    with _lock:
        for name in names:
            value = os.environ.pop(name, None)
            if value:
                _from_environment[name] = value
                _known_secrets.add(value)


def _environment_value(name: str | None) -> str | None:
    if not name:
        return None
    with _lock:
        return _from_environment.get(name) or os.environ.get(name) or None


def get_password(config: BotConfig, school_id: str, site: str) -> Secret:
    account = _account(config, school_id, site)
    if account is None:
        raise Refused(f"{config.source} : aucun compte {site} pour l'école {school_id} "
                      f"(clé schools.{school_id}.accounts.{site} absente)")
    from_environment = _environment_value(account.password_env)
    if from_environment:
        return Secret(from_environment)
    try:
        value = keyring.get_password(SERVICE, entry_name(school_id, site))
    except keyring.errors.KeyringError as exc:
        raise _keyring_unavailable(exc, school_id, site, account.password_env) from None
    if not value:
        env_hint = f" ou définissez la variable {account.password_env}" if account.password_env else ""
        remedy = f"lancez {_set_command(school_id, site)}{env_hint}"
        raise MissingPassword(f"Mot de passe {site} de l'école {school_id} introuvable : {remedy}.", site, remedy)
    return Secret(value)


def require_passwords(config: BotConfig, school_id: str, sites) -> None:
    """Pre-flight: every password these sites need is at hand; else one Refused listing every
    missing one with the command (or variable) that gives it, so that one run tells them all."""
    missing: list[MissingPassword] = []
    for site in dict.fromkeys(sites):
        try:
            get_password(config, school_id, site)
        except MissingPassword as exc:
            missing.append(exc)
    if len(missing) == 1:
        raise missing[0]
    if not missing:
        return
    lines = " ;\n".join(f"  - {exc.site}{_whose(config, school_id, exc.site)} : {exc.remedy}" for exc in missing)
    problem = next((exc.keyring_problem for exc in missing if exc.keyring_problem), "")
    if problem:
        raise Refused(f"{problem} : {len(missing)} mots de passe de l'école {school_id} inaccessibles ; rien n'a été "
                      f"fait sur les sites. Pour chacun :\n{lines}.\nOu bien {INSTALL_KEYRING}.")
    raise Refused(f"{len(missing)} mots de passe de l'école {school_id} introuvables ; rien n'a été fait sur les sites. "
                  f"Enregistrez chacun :\n{lines}.")


def _whose(config: BotConfig, school_id: str, site: str) -> str:
    if site.startswith(SSO_PREFIX):
        return " (compte ENT de vérification SSO)"
    account = _account(config, school_id, site)
    return f" (identifiant {account.login})" if account is not None else ""


def set_password(school_id: str, site: str, password: str) -> None:
    try:
        keyring.set_password(SERVICE, entry_name(school_id, site), password)
    except keyring.errors.KeyringError as exc:
        raise _keyring_unavailable(exc, school_id, site, None) from None


def delete_password(school_id: str, site: str) -> bool:
    try:
        keyring.delete_password(SERVICE, entry_name(school_id, site))
        return True
    except keyring.errors.PasswordDeleteError:
        return False
    except keyring.errors.KeyringError as exc:
        raise _keyring_unavailable(exc, school_id, site, None) from None


def password_status(config: BotConfig, school_id: str, site: str) -> str:
    """Where the password would come from, in French, without ever showing it."""
    account = _account(config, school_id, site)
    if account is None:
        return "aucun compte configuré"
    if _environment_value(account.password_env):
        return f"présent (variable d'environnement {account.password_env})"
    try:
        stored = keyring.get_password(SERVICE, entry_name(school_id, site))
    except keyring.errors.KeyringError:
        return "absent (aucun trousseau utilisable sur cette machine)"
    return "présent (trousseau)" if stored else "absent"
