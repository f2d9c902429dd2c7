"""The bot's configuration: pydantic models loaded from one YAML file. Every error names the
file, the key and what is wrong, in French."""
from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import Refused
from .fsutil import regular_file_problem
from .secrets import masked_url

UAI_CHECK_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def uai_problem(uai: str) -> str | None:
    """Why a UAI (school code: 7 digits + check letter) is invalid, or None."""
    if not re.fullmatch(r"\d{7}[A-Z]", uai):
        return f"« {uai} » n'est pas un n°UAI (7 chiffres suivis d'une lettre, ex. 0341234G)"
    expected = UAI_CHECK_LETTERS[int(uai[:7]) % 23]
    if uai[7] != expected:
        return f"n°UAI « {uai} » invalide : la lettre de contrôle devrait être {expected}"
    return None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteConfig(Strict):
    url: str
    # A self-signed certificate is accepted only when this says so, for this one site; with
    # its SHA-256 fingerprint (AA:BB:…), only that certificate.
    allow_self_signed_certificate: bool = False
    certificate_sha256: str | None = None
    # The site's wording the bot looks for (a pack shipped with the flows), and overrides of
    # any of its labels, same keys (e.g. {"external_apps": {"save": "Sauvegarder"}}).
    selector_pack: str | None = None
    labels: dict[str, Any] = {}

    @field_validator("certificate_sha256")
    @classmethod
    def _check_fingerprint(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digits = re.sub(r"[\s:]", "", value).upper()
        if not re.fullmatch(r"[0-9A-F]{64}", digits):
            raise ValueError("empreinte SHA-256 attendue : 64 chiffres hexadécimaux (AA:BB:… comme l'affiche "
                             "le navigateur)")
        return ":".join(digits[i:i + 2] for i in range(0, 64, 2))

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str) -> str:
        # Every message shows the address with its credentials masked (user:***@): the
        # message is printed, and a password typed in the address must not be.
        shown = masked_url(url.strip())
        if shown != url.strip() or "@" in urlsplit(url.strip()).netloc:
            raise ValueError(f"adresse « {shown} » refusée : elle ne doit pas contenir d'identifiants ; "
                             "enregistrez le mot de passe avec « python -m bot credentials set » (ou password_env)")
        parts = urlsplit(url.strip())
        try:
            parts.port
        except ValueError:
            raise ValueError(f"adresse « {shown} » invalide : port non numérique") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"adresse « {shown} » invalide : http(s)://hôte/chemin attendu")
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            raise ValueError(f"adresse « {shown} » refusée : http:// non chiffré n'est permis que "
                             "sur la boucle locale (simulateurs) ; utilisez https://")
        return url.strip() if url.strip().endswith("/") else url.strip() + "/"


class BrowserConfig(Strict):
    executable: Path | None = None
    headless: bool = True
    slow_mo_ms: int = Field(0, ge=0, le=10_000)
    action_timeout_ms: int = Field(15_000, ge=1_000, le=600_000)
    navigation_timeout_ms: int = Field(30_000, ge=1_000, le=600_000)
    # A browser that has not started by then will not: the run is refused before any click.
    launch_timeout_ms: int = Field(30_000, ge=1_000, le=600_000)
    # A flow that failed for a passing reason (lost session, server error, slow site) is run
    # again from its start, at most this many times, with a growing pause.
    retries: int = Field(2, ge=0, le=5)


class AccountConfig(Strict):
    login: str = Field(min_length=1, max_length=64)
    # For unattended runs: the name of an environment variable holding the password.
    password_env: str | None = None

    @field_validator("password_env")
    @classmethod
    def _check_env_name(cls, name: str | None) -> str | None:
        if name is not None and not ENV_NAME.match(name):
            raise ValueError(f"« {name} » n'est pas un nom de variable d'environnement (ex. SACOCHE_123_PASSWORD)")
        return name


class SchoolFiles(Strict):
    sts: Path | None = None
    eleves: Path | None = None
    responsables: Path | None = None
    ent: Path | None = None      # the ENT's account export, when it was downloaded by hand


class ImportOptions(Strict):
    # A new class or group whose level SACoche cannot guess: give it the level most of its
    # members' classes have according to the files ("members"; a tie or no member leaves it for
    # a person), the first level offered ("first") or leave it out ("skip"). Each choice is reported.
    unknown_level: Literal["members", "first", "skip"] = "members"
    # Classes/groups absent from the file are proposed for deletion, which deletes their
    # evaluations: only tick those boxes when this says so.
    delete_missing_groups: bool = False


class EntIdOptions(Strict):
    # ENT lines SACoche refuses because several accounts share the name: let the flow settle
    # those the ENT export tells apart (true), or leave them all to a person (false).
    resolve_homonyms: bool = True


class SsoCheckUser(Strict):
    # An ENT account of a real person used to prove SSO end to end; its password comes from the
    # keyring (site "sso:<login>") or from password_env.
    login: str = Field(min_length=1, max_length=64)
    password_env: str | None = None

    _check_env_name = field_validator("password_env")(AccountConfig._check_env_name.__func__)


class CasServer(Strict):
    """What a school types for its connector's CAS server when SACoche leaves it open: the
    subdomain or port of connectors that vary per school, or the whole server for `perso`."""
    subdomain: str | None = Field(None, min_length=1, max_length=63)
    port: int | None = Field(None, gt=0, lt=65536)
    host: str | None = Field(None, min_length=1, max_length=255)   # perso only
    root: str = ""                                                  # perso only


class SchoolConfig(Strict):
    name: str = Field(min_length=1)
    uai: str
    department: str
    ent_connector: str = "esup_montpellier"   # SACoche's connector (option of its identification mode)
    # The ENT's own flows (export, link, SSO check) know one family of ENT pages; by default the
    # one of the same name as the connector, if the bot knows it. Other ENTs: steps left to a person.
    ent_family: str | None = None
    cas_server: CasServer = CasServer()
    accounts: dict[str, AccountConfig]
    files: SchoolFiles = SchoolFiles()
    imports: ImportOptions = ImportOptions()
    ent_ids: EntIdOptions = EntIdOptions()
    sso_check: list[SsoCheckUser] = []

    @field_validator("uai")
    @classmethod
    def _check_uai(cls, uai: str) -> str:
        uai = uai.strip().upper()
        problem = uai_problem(uai)
        if problem:
            raise ValueError(problem)
        return uai

    @field_validator("department", mode="before")
    @classmethod
    def _check_department(cls, value: Any) -> str:
        text = str(value).strip()
        if not re.fullmatch(r"\d{2,3}|2[AB]", text):
            raise ValueError(f"« {value} » n'est pas un n° de département (ex. 34)")
        return text


class PathsConfig(Strict):
    state_dir: Path = Path("state")
    recordings_dir: Path = Path("recordings")
    # Checked before any click on both folders: a run that fills the disk midway loses its report.
    min_free_mb: int = Field(200, ge=0, le=1_000_000)


class BotConfig(Strict):
    sites: dict[str, SiteConfig]
    browser: BrowserConfig = BrowserConfig()
    paths: PathsConfig = PathsConfig()
    schools: dict[str, SchoolConfig]
    source: Path | None = None   # the file it was read from (set by the loader)

    @field_validator("schools", mode="before")
    @classmethod
    def _check_school_keys(cls, schools: Any) -> Any:
        if not isinstance(schools, dict):
            return schools
        for key in schools:
            if not re.fullmatch(r"\d{1,9}", str(key)):
                raise ValueError(f"« {key} » : les écoles sont indexées par leur n° de base SACoche (un nombre, ex. \"123\")")
        # `123:` unquoted in YAML is a number; the school number is a text everywhere else.
        return {str(key): value for key, value in schools.items()}

    @model_validator(mode="after")
    def _check_accounts_sites(self) -> "BotConfig":
        for key, school in self.schools.items():
            for site in school.accounts:
                if site not in self.sites:
                    raise ValueError(f"schools.{key}.accounts.{site} : site inconnu (sites déclarés : "
                                     f"{', '.join(sorted(self.sites))})")
        return self

    def school(self, school_id: str) -> SchoolConfig:
        if school_id not in self.schools:
            known = ", ".join(sorted(self.schools)) or "aucune"
            raise Refused(f"{self.source or 'configuration'} : école « {school_id} » absente de la clé "
                          f"schools (écoles configurées : {known})")
        return self.schools[school_id]


FRENCH_ERRORS = {
    "missing": "clé obligatoire absente",
    "extra_forbidden": "clé inconnue (faute de frappe ?)",
    "string_type": "texte attendu",
    "int_type": "nombre entier attendu",
    "int_parsing": "nombre entier attendu",
    "bool_type": "true ou false attendu",
    "bool_parsing": "true ou false attendu",
    "dict_type": "une liste de clés (dictionnaire YAML) est attendue",
    "model_type": "une liste de clés (dictionnaire YAML) est attendue",
    "path_type": "chemin de fichier attendu",
    "literal_error": "valeur non permise",
    "string_too_short": "ne doit pas être vide",
    "string_too_long": "trop long",
    "greater_than_equal": "valeur trop petite",
    "less_than_equal": "valeur trop grande",
}


def _french(error: dict) -> str:
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])
    base = FRENCH_ERRORS.get(error["type"], "valeur invalide")
    limit = (error.get("ctx") or {})
    if "ge" in limit:
        base += f" (minimum {limit['ge']})"
    if "le" in limit:
        base += f" (maximum {limit['le']})"
    return base


def format_validation_error(source: Path | str, error: ValidationError) -> str:
    lines = [f"Configuration invalide dans {source} :"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(racine)"
        lines.append(f"  - {key} : {_french(item)}")
    return "\n".join(lines)


def _resolve_paths(data: dict, folder: Path) -> None:
    """Relative paths in the file are relative to the file's folder, not to where the bot runs."""
    def resolve(value):
        if value is None:
            return None
        path = Path(str(value)).expanduser()
        return str(path if path.is_absolute() else folder / path)

    for section, keys in (("paths", ("state_dir", "recordings_dir")), ("browser", ("executable",))):
        part = data.get(section)
        if isinstance(part, dict):
            for key in keys:
                if key in part:
                    part[key] = resolve(part[key])
    for school in (data.get("schools") or {}).values():
        files = school.get("files") if isinstance(school, dict) else None
        if isinstance(files, dict):
            for key in list(files):
                files[key] = resolve(files[key])


class DuplicateKey(yaml.YAMLError):
    def __init__(self, key, first: int, second: int):
        super().__init__(f"clé « {key} » donnée deux fois (lignes {first} et {second})")
        self.problem = str(self)
        self.problem_mark = None


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice in one mapping: the last one would silently
    win (a school, or a site's address)."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                continue   # the base class reports unhashable keys itself
            line = key_node.start_mark.line + 1
            if key in seen:
                raise DuplicateKey(key, seen[key], line)
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def load_config(path: Path | str, overrides: dict | None = None) -> BotConfig:
    """Read and check the YAML file; `overrides` (same shape) wins over it (used by the demo)."""
    path = Path(path)
    problem = regular_file_problem(path)
    if problem and problem != "fichier introuvable":
        raise Refused(f"Fichier de configuration {path} : {problem}")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise Refused(f"Fichier de configuration introuvable : {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise Refused(f"Fichier de configuration illisible : {path} ({exc.__class__.__name__})") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)   # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" ligne {mark.line + 1}" if mark else ""
        raise Refused(f"{path} : YAML illisible{where} ({getattr(exc, 'problem', None) or 'syntaxe'})") from None
    if not isinstance(data, dict):
        raise Refused(f"{path} : le fichier doit contenir des clés (sites, browser, paths, schools)")
    if overrides:
        data = deep_merge(data, overrides)
    data = {**data}
    _resolve_paths(data, path.resolve().parent)
    data["source"] = str(path)
    try:
        return BotConfig.model_validate(data)
    except ValidationError as exc:
        raise Refused(format_validation_error(path, exc)) from None


def deep_merge(base: dict, extra: dict) -> dict:
    """`base` with `extra` laid over it, nested mappings merged key by key."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
