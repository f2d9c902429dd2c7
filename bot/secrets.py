"""Passwords: from an environment variable named in the config (unattended runs), else from the
system keyring (service `sacoche-ent-bot`, one entry per school and site). A password is held in
a `Secret` that never shows itself, and every revealed value is registered so that any text
leaving the bot for a person or a log (console, report, exception, traceback) can be scrubbed
with `redact`. The bot's own data (journal, state, paths) is never scrubbed: it must stay true.
`masked_url` shows an address with its credentials hidden."""
from __future__ import annotations

import html
import json
import os
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus

import keyring
import keyring.errors

from .errors import Refused

if TYPE_CHECKING:   # only for annotations: config imports this module (masked_url)
    from .config import BotConfig

SERVICE = "sacoche-ent-bot"
MASK = "********"
URL_MASK = "***"
# Below this length a value occurs by chance inside words, numbers, dates and paths (« 2026 »
# in 20261207, « x » in « exports »): it is masked only where it stands as a whole token.
SHORT_SECRET = 6
# Characters that glue a token into a longer one when a letter or digit follows them: a date
# (2026-12-07), a path (/home/x/…), a file or host name (admin.demo), a login (admin_ent).
JOINERS = "-_./\\:@"
_JOINER = "[" + re.escape(JOINERS) + "]"
# Before the token, « ( » glues too: a French plural mark, « niveau(x) », « élève(s) ».
_JOINER_BEFORE = "[" + re.escape(JOINERS + "(") + "]"

_known_secrets: set[str] = set()
_lock = threading.Lock()
# Passwords taken out of the environment (see take_environment_passwords), by variable name.
_from_environment: dict[str, str] = {}
_pattern_cache: tuple[frozenset, re.Pattern | None] = (frozenset(), None)


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


def _written_forms(value: str) -> set[str]:
    """The value as it may appear in text: as is, inside JSON (both escapings), in HTML, in a URL."""
    return {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1],
            html.escape(value, quote=True), quote(value, safe=""), quote_plus(value, safe="")}


def _as_token(form: str) -> str:
    # Not glued to a letter or digit, directly or through a joiner (see JOINERS).
    return rf"(?<!\w)(?<!\w{_JOINER_BEFORE}){re.escape(form)}(?!\w)(?!{_JOINER}\w)"


def _secrets_pattern(known: frozenset) -> re.Pattern | None:
    global _pattern_cache
    cached_for, pattern = _pattern_cache
    if cached_for == known:
        return pattern
    alternatives = {}
    for value in known:
        for form in _written_forms(value):
            if form:
                alternatives[form] = re.escape(form) if len(value) >= SHORT_SECRET else _as_token(form)
    # Longest first: a secret that holds a shorter one is masked whole.
    ordered = sorted(alternatives, key=len, reverse=True)
    pattern = re.compile("|".join(alternatives[form] for form in ordered)) if ordered else None
    _pattern_cache = (known, pattern)
    return pattern


def redacted_json(value, **dumps_options) -> str:
    """`value` as JSON with every text in it redacted, keys included: masking the JSON text itself
    would turn a number equal to a short numeric password (a year, a count) into invalid JSON."""
    def walk(item):
        if isinstance(item, str):
            return redact(item)
        if isinstance(item, dict):
            return {walk(str(key)): walk(inner) for key, inner in item.items()}
        if isinstance(item, (list, tuple)):
            return [walk(inner) for inner in item]
        return item
    default = dumps_options.pop("default", None)
    if default is not None:
        value = json.loads(json.dumps(value, default=default, ensure_ascii=False))
    return json.dumps(walk(value), **dumps_options)


def redact(text: str) -> str:
    """What a person or a log may read: every password the bot has read replaced by a mask (a
    short one only where it stands whole), and the credentials of any address hidden. Never
    for the bot's own data (journal, state, paths), which must stay as they are."""
    text = mask_urls_in(text)
    with _lock:
        known = frozenset(_known_secrets)
        pattern = _secrets_pattern(known)
    if pattern is None:
        return text
    return pattern.sub(lambda found: found.group() if _in_existing_path(text, found) else MASK, text)


_PATH_BOUNDS = re.compile(r"[\s\"'`«»<>()\[\]]")


def _in_existing_path(text: str, found: re.Match) -> bool:
    """Whether the match lies in a path of this machine that exists (a report, a run folder): a
    path is the bot's own and is shown whole, or it would name a file that does not exist."""
    start = max((bound.end() for bound in _PATH_BOUNDS.finditer(text, 0, found.start())), default=0)
    after = _PATH_BOUNDS.search(text, found.end())
    token = text[start:after.start() if after else len(text)].rstrip(".,;:!?")
    if "/" not in token or "://" in token:
        return False
    try:
        return os.path.exists(os.path.expanduser(token))
    except (OSError, ValueError):
        return False


# Addresses ----------------------------------------------------------------------------------
_SCHEME = re.compile(r"^\s*(?:[A-Za-z][A-Za-z0-9+.\-]*:)?//")
# An address inside a text: up to a space or a quote.
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>«»]+")


def masked_url(url: str) -> str:
    """The address as a person may see it: `https://user:***@host/…`. What stands before the
    host's « @ » is the credentials, even when it holds « / », « ? » or « @ » itself (a password
    typed as is): better hide a little more than show a password."""
    url = str(url)
    scheme = _SCHEME.match(url)
    start = scheme.end() if scheme else 0
    rest = url[start:]
    if "@" not in rest:
        return url
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" in authority:
        userinfo_end = authority.rindex("@")
    elif ":" in authority and not authority.startswith("[") and not authority.rsplit(":", 1)[1].isdigit():
        # « user:pa/ss@host »: the « port » is no number, the password went on past a « / ».
        userinfo_end = rest.rindex("@")
    else:
        return url   # an « @ » in the path or the query (an e-mail address), no credentials
    user, colon, _ = rest[:userinfo_end].partition(":")
    shown = f"{user}:{URL_MASK}" if colon and user and not re.search(r"[/?#]", user) else URL_MASK
    return f"{url[:start]}{shown}{rest[userinfo_end:]}"


def mask_urls_in(text: str) -> str:
    """Every address of a text with its credentials hidden (see masked_url)."""
    if "@" not in text:
        return text
    return _URL_IN_TEXT.sub(lambda found: masked_url(found.group()), text)


def entry_name(school_id: str, site: str) -> str:
    return f"{school_id}/{site}"


SSO_PREFIX = "sso:"   # the password of an ENT user who proves SSO: "sso:<login>"
INSTALL_KEYRING = ("installez un trousseau (par ex. « pip install keyrings.alt », stockage en clair dans le dossier "
                   "de l'utilisateur, à accepter explicitement : credentials set … --allow-plaintext-keyring)")


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


def remember_for_masking(config: BotConfig, school_id: str) -> None:
    """Reads (never uses) every password of the school's accounts, so that what a run shows masks
    them even when no step of it needs them: a re-run that skips every step still shows dates,
    counts and summaries. One that cannot be read is for the steps to report."""
    school = config.school(school_id)
    for site in [*school.accounts, *(f"{SSO_PREFIX}{user.login}" for user in school.sso_check)]:
        try:
            get_password(config, school_id, site)
        except Exception:   # missing, or no keyring: the pre-flight of the steps that need it says so
            pass


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


# Keyrings that keep passwords in clear ---------------------------------------------------------
ALLOW_PLAINTEXT_FLAG = "--allow-plaintext-keyring"


@dataclass(frozen=True)
class KeyringStore:
    """Where `credentials set` would write: the backend's class, whether it keeps the password
    readable by anyone who reads its file (keyrings.alt's PlaintextKeyring: base64, no
    encryption), or keeps nothing at all (keyring's null backend), and its file when it has one."""
    backend: str
    in_clear: bool = False
    keeps_nothing: bool = False
    file: str = ""

    @property
    def how(self) -> str:
        # keyrings.alt's file keyring writes each password in base64, which anyone can decode.
        return ("en base64, sans aucun chiffrement" if self.backend.startswith("keyrings.alt.")
                else "sans aucun chiffrement")


def _writer(backend):
    # The chainer writes to the first backend it chains (the highest priority).
    chained = getattr(backend, "backends", None) if type(backend).__name__ == "ChainerBackend" else None
    return chained[0] if chained else backend


def keyring_store() -> KeyringStore | None:
    """The store a `set` would use, judged by the backend's class; None when keyring cannot even
    name one (the set then says why)."""
    try:
        backend = _writer(keyring.get_keyring())
    except Exception:   # a PYTHON_KEYRING_BACKEND that does not load: the set itself reports it
        return None
    kind = type(backend)
    name = f"{kind.__module__}.{kind.__qualname__}"
    try:
        scheme = str(getattr(backend, "scheme", "") or "")
    except Exception:   # keyrings.alt's base class raises for its scheme
        scheme = ""
    # keyrings.alt's PlaintextKeyring (and any subclass) says « no encyption » [sic] as its scheme.
    in_clear = (any("plaintext" in klass.__name__.lower() for klass in kind.__mro__)
                or scheme.lower().startswith("no "))
    keeps_nothing = kind.__module__ == "keyring.backends.null" or name.endswith("ChainerBackend")
    try:
        where = str(getattr(backend, "file_path", "") or "")
    except Exception:
        where = ""
    return KeyringStore(name, in_clear, keeps_nothing, where)


def check_keyring_for_storing(school_id: str, site: str, allow_plaintext: bool = False) -> KeyringStore | None:
    """Refused (exit 2) when the keyring would keep the password in clear without the explicit
    choice, or would keep nothing; says where it would go and the alternatives."""
    store = keyring_store()
    if store is None:
        return None
    if store.keeps_nothing:
        raise Refused(f"Le trousseau configuré ({store.backend}) ne conserve aucun mot de passe : rien n'a été "
                      f"enregistré. {_alternatives(school_id, site)}.")
    if store.in_clear and not allow_plaintext:
        where = f"dans le fichier {store.file}" if store.file else "dans un fichier"
        raise Refused(f"Le trousseau de clés que Python trouve sur cette machine ({store.backend}) garde les mots de "
                      f"passe EN CLAIR {where} ({store.how} : quiconque lit ce fichier, ou une de ses sauvegardes, "
                      f"lit le mot de passe). Rien n'a été enregistré. "
                      f"{_alternatives(school_id, site)} ;\n  - ou bien, en connaissance de cause, relancez cette "
                      f"commande avec {ALLOW_PLAINTEXT_FLAG} pour l'enregistrer en clair dans ce fichier.")
    return store


def _alternatives(school_id: str, site: str) -> str:
    return ("Au choix :\n"
            "  - sur un poste avec une session graphique, utilisez le trousseau du système (GNOME Keyring ou "
            "KWallet, par Secret Service) : relancez cette commande dans la session ouverte ;\n"
            f"  - sur un serveur, n'enregistrez rien : ajoutez « password_env: NOM_DE_VARIABLE » sous "
            f"{_account_key(school_id, site)} dans la configuration et définissez cette variable d'environnement "
            "au lancement du robot")


def set_password(school_id: str, site: str, password: str, allow_plaintext: bool = False) -> str:
    """Stores the password; says where, in French (the file when it is kept in clear)."""
    store = check_keyring_for_storing(school_id, site, allow_plaintext)
    try:
        keyring.set_password(SERVICE, entry_name(school_id, site), password)
    except keyring.errors.KeyringError as exc:
        raise _keyring_unavailable(exc, school_id, site, None) from None
    if store is not None and store.in_clear:
        return (f"EN CLAIR ({store.how}) dans le fichier {store.file or '?'} "
                f"(trousseau {store.backend}, accepté par {ALLOW_PLAINTEXT_FLAG}) : protégez ce fichier, ou préférez "
                "un trousseau du système ou password_env")
    return f"dans le trousseau{f' {store.backend}' if store else ''} (service {SERVICE})"


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
    if not stored:
        return "absent"
    store = keyring_store()
    if store is not None and store.in_clear:
        return f"présent (trousseau) — en clair dans le fichier {store.file or store.backend}"
    return "présent (trousseau)"
