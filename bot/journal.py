"""Per-school journal (under the state folder, never in the repo): the outcome of each flow, a
fingerprint of its inputs, what it verified, and the few facts a later run needs (such as where
the ENT export was saved). `full-onboarding` reads it to resume after a failure and to skip
finished flows whose inputs did not change. It never holds a secret: flows put only statuses,
counts, names of files and verified facts in it. It is a typed, versioned model (JournalFile),
checked on load, that records what it was written for: the school, SACoche's address and base,
the ENT's address. A journal that does not match is never acted on (see Journal)."""
from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from .config import FRENCH_ERRORS
from .errors import Refused
from .fsutil import UnsafePath, check_dir, make_dirs, read_own, write_file
from .text import shorten
from .secrets import masked_url
from .status import Status


# Beyond this much unzipped data an archive is hashed as raw bytes (a zip bomb costs no time here;
# the file checks refuse it afterwards).
UNZIPPED_HASH_LIMIT = 256 * 1024 * 1024


def _file_digest(path: Path) -> bytes:
    # A zip archive counts by its members' names and contents: the same export zipped again
    # differs only in its timestamps, and must not look like a new input.
    try:
        members = hashlib.sha256(b"<zip>")
        unzipped = 0
        with zipfile.ZipFile(path) as archive:
            for info in sorted(archive.infolist(), key=lambda info: info.filename):
                members.update(info.filename.encode() + b"\0")
                with archive.open(info) as handle:
                    for block in iter(lambda: handle.read(1 << 20), b""):
                        unzipped += len(block)
                        if unzipped > UNZIPPED_HASH_LIMIT:
                            raise zipfile.BadZipFile("too large to hash unzipped")
                        members.update(block)
        return members.digest()
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError, ValueError):
        pass   # not a zip, or not one worth reading: its bytes as they are
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").digest()


def fingerprint(parts: dict) -> str:
    """A hash of a flow's inputs: file contents are hashed, other values taken as they are."""
    digest = hashlib.sha256()
    for key in sorted(parts):
        value = parts[key]
        digest.update(key.encode())
        if isinstance(value, Path):
            if value.is_file():
                digest.update(_file_digest(value))
            else:
                digest.update(b"<absent>")
        else:
            digest.update(json.dumps(value, sort_keys=True, default=str).encode())
    return digest.hexdigest()


JOURNAL_VERSION = 2
# Far beyond any school's journal (a few hundred KB): a bigger file is not one the bot wrote.
MAX_JOURNAL_BYTES = 16 * 1024 * 1024


class _Entry(BaseModel):
    # Keys a later version of the bot may add are kept as they are.
    model_config = ConfigDict(extra="allow")


def _iso_moment(value: str) -> str:
    datetime.fromisoformat(value)   # ValueError: not a date the bot wrote
    return value


class FlowEntry(_Entry):
    """One step's last outcome."""
    status: Status
    inputs: str                    # the fingerprint of its inputs when it finished ("" otherwise)
    summary: str = ""
    verified: dict[str, Any] = Field(default_factory=dict)
    run_dir: str = ""
    at: Annotated[str, AfterValidator(_iso_moment)]


class SiteIdentity(BaseModel):
    """A site a journal was written against: its address, and for SACoche the school's base."""
    model_config = ConfigDict(extra="forbid")
    url: str
    base: str | None = None

    def same_as(self, other: "SiteIdentity") -> bool:
        return _url_key(self.url) == _url_key(other.url) and self.base == other.base

    def shown(self) -> str:
        return masked_url(self.url) + (f" (base {self.base})" if self.base is not None else "")


class PendingLogins(_Entry):
    at: str
    accounts: Annotated[int, Field(ge=0)]


class SiteCheck(_Entry):
    at: Annotated[str, AfterValidator(_iso_moment)]
    identity: str
    pages: str | list[str]
    version: str | None = None
    version_note: str = ""
    landmarks: int = 0


# The facts the bot reads back, with their types (a fact of another type would make a later step
# stop on a bug); facts of a later version are kept as they are.
FACT_TYPES: dict[str, TypeAdapter] = {
    "ent_accounts_csv": TypeAdapter(str | None),
    "arena_exports": TypeAdapter(dict[str, str]),
    "site_checks": TypeAdapter(dict[str, SiteCheck]),
    "site_versions": TypeAdapter(dict[str, str | None]),
}
PENDING_LOGINS = re.compile(r".+:logins_not_saved")   # "<step>:logins_not_saved", flows/sacoche/import_users.py
PENDING_TYPE = TypeAdapter(PendingLogins | None)


class JournalFile(_Entry):
    """The journal on disk (version 2): what it was written for (the school, the sites), then each
    step's outcome and the facts later runs read."""
    version: int = JOURNAL_VERSION
    school: str
    sites: dict[str, SiteIdentity]
    flows: dict[str, FlowEntry] = Field(default_factory=dict)
    facts: dict[str, Any] = Field(default_factory=dict)

    @field_validator("facts")
    @classmethod
    def _check_facts(cls, facts: dict[str, Any]) -> dict[str, Any]:
        for key, value in facts.items():
            adapter = FACT_TYPES.get(key) or (PENDING_TYPE if PENDING_LOGINS.fullmatch(key) else None)
            if adapter is not None:
                adapter.validate_python(value, strict=True)
        return facts   # kept as plain JSON: the flows read them as such


class LegacyJournal(JournalFile):
    """A journal written before they had a version: no sites recorded."""
    version: int = 1
    sites: dict[str, SiteIdentity] = Field(default_factory=dict)


def journal_sites(config, school_id: str) -> dict[str, SiteIdentity]:
    """The sites a journal of this school is written against: SACoche (address and base: the
    school's number) and the ENT (address), as the configuration names them."""
    sites = {}
    if "sacoche" in config.sites:
        sites["sacoche"] = SiteIdentity(url=config.sites["sacoche"].url, base=school_id)
    if "ent" in config.sites:
        sites["ent"] = SiteIdentity(url=config.sites["ent"].url)
    return sites


def _url_key(url: str) -> tuple:
    """An address as compared: scheme and host in any case, default port, final « / » or not."""
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        return (url.strip(),)
    scheme = parts.scheme.lower()
    return (scheme, (parts.hostname or "").lower(), port or {"http": 80, "https": 443}.get(scheme),
            parts.path.rstrip("/"), parts.query)


class Journal:
    """The school's journal, read and checked on load. A journal the bot cannot trust is never
    acted on: one it cannot read (not JSON, the wrong shape or types, an unknown version) or one
    written for another school or against other sites is set aside under a dated name
    (`123.json.illisible-20261207-231500`, `.autre-ecole-…`, `.autre-site-…`) and the run starts
    afresh; `notes` says so, in French. `sites`: what this run works on (journal_sites); None
    compares the school only. `set_aside=False` (a command that writes nothing) leaves the file
    where it is and only ignores it. A link, a FIFO or another such file in its place is refused
    (Refused: nothing starts)."""

    def __init__(self, state_dir: Path, school_id: str, sites: dict[str, SiteIdentity] | None = None,
                 set_aside: bool = True):
        self.path = Path(state_dir) / "journal" / f"{school_id}.json"
        self.school_id = school_id
        self.sites = dict(sites or {})
        self.notes: list[str] = []
        self.model = JournalFile(school=school_id, sites=self.sites)
        self._load(set_aside, compare_sites=sites is not None)

    def _load(self, set_aside: bool, compare_sites: bool) -> None:
        try:
            check_dir(self.path.parent)
            raw = read_own(self.path, MAX_JOURNAL_BYTES)
        except FileNotFoundError:
            return   # no journal yet
        except UnsafePath as exc:
            raise Refused(f"Journal de l'école {self.school_id} refusé : {exc.message}") from None
        except OSError as exc:
            raise Refused(f"Journal de l'école {self.school_id} illisible sur ce poste ({self.path} : "
                          f"{exc.strerror or exc}) : vérifiez les droits de paths.state_dir.") from None
        found, problem = _parse(raw)
        if found is None:
            self._distrust(f"illisible ({problem})", "illisible", set_aside,
                           "cette exécution repart de zéro (chaque étape est refaite, sans rien créer en double)")
            return
        reason = self._not_for_us(found, compare_sites)
        if reason:
            pending = [f"étape {key.split(':')[0]} : {value['accounts']} compte(s) le {value['at'].replace('T', ' à ')}"
                       for key, value in found.facts.items() if PENDING_LOGINS.fullmatch(key) and value]
            self._distrust(reason, "autre-ecole" if found.school != self.school_id else "autre-site", set_aside,
                           "ses étapes sont refaites (sans rien créer en double)"
                           + (" ; il notait des comptes créés là-bas dont les identifiants n'ont jamais été récupérés "
                              f"({', '.join(pending)}), à traiter sur ce site-là" if pending else ""))
            return
        if isinstance(found, LegacyJournal):
            # Written by the bot before journals named their sites: the same school's is kept, so
            # that a run after an upgrade resumes as before; its sites are recorded from now on.
            self.notes.append(f"Journal de l'école {self.school_id} écrit par une version précédente du robot, sans "
                              "l'adresse des sites : repris tel quel (même école) ; les adresses de SACoche et de "
                              "l'ENT y sont désormais notées.")
        self.model = JournalFile(school=self.school_id, sites=self.sites or found.sites,
                                 flows=found.flows, facts=found.facts)

    def _not_for_us(self, found: JournalFile, compare_sites: bool) -> str:
        if found.school != self.school_id:
            return f"écrit pour l'école {found.school}"
        if not compare_sites:
            return ""
        for name, title in (("sacoche", "SACoche"), ("ent", "l'ENT")):
            then, now = found.sites.get(name), self.sites.get(name)
            if then is not None and now is not None and not then.same_as(now):
                return f"écrit pour {title} {then.shown()}, alors que la configuration indique {title} {now.shown()}"
        return ""

    def _distrust(self, reason: str, suffix: str, set_aside: bool, consequence: str) -> None:
        if not set_aside:
            self.notes.append(f"Journal de l'école {self.school_id} {reason} : pas pris en compte (laissé tel quel, "
                              "cette commande n'écrit rien).")
            return
        target = self._aside_name(suffix)
        try:
            os.rename(self.path, target)
        except OSError as exc:
            raise Refused(f"Journal de l'école {self.school_id} {reason}, et impossible de le mettre de côté "
                          f"({exc.strerror or exc}) : déplacez {self.path} puis relancez.") from None
        self.notes.append(f"Journal de l'école {self.school_id} {reason} : pas pris en compte, mis de côté sous "
                          f"{target} ; {consequence}.")

    def _aside_name(self, suffix: str) -> Path:
        stem = f"{self.path.name}.{suffix}-{datetime.now():%Y%m%d-%H%M%S}"
        target, number = self.path.with_name(stem), 2
        while os.path.lexists(target):
            target, number = self.path.with_name(f"{stem}-{number}"), number + 1
        return target

    def entry(self, flow: str) -> dict | None:
        found = self.model.flows.get(flow)
        return found.model_dump(mode="json") if found is not None else None

    def finished_with(self, flow: str, inputs: str) -> dict | None:
        """The journal entry when the flow finished with these very inputs, else None."""
        entry = self.entry(flow)
        if entry and entry.get("status") in (Status.DONE, Status.UNCHANGED) and entry.get("inputs") == inputs:
            return entry
        return None

    @property
    def facts(self) -> dict:
        """The facts later runs read: this very dict is the run's `remembered`, saved as it is."""
        return self.model.facts

    def record(self, flow: str, status: Status, inputs: str, summary: str, verified: dict, run_dir: Path) -> None:
        self.model.flows[flow] = FlowEntry(status=status, inputs=inputs, summary=summary, verified=verified,
                                           run_dir=str(run_dir), at=datetime.now().isoformat(timespec="seconds"))
        self.save()

    def as_json(self) -> dict:
        return {"version": JOURNAL_VERSION, "school": self.school_id,
                "sites": {name: site.model_dump(exclude_none=True) for name, site in self.model.sites.items()},
                "flows": {name: entry.model_dump(mode="json") for name, entry in self.model.flows.items()},
                "facts": self.model.facts}

    def save(self) -> None:
        # Never masked: a password short enough to occur by chance would mangle the dates, step
        # names and paths a later run reads back. It holds no secret (see above).
        text = json.dumps(self.as_json(), ensure_ascii=False, indent=2, default=str)
        # A new file renamed over the old one (fsync'd): a run killed mid-write leaves the
        # previous journal whole, and nothing planted in its place is written through.
        make_dirs(self.path.parent.parent, self.path.parent.name)
        write_file(self.path, text, private=True, durable=True)


def _parse(raw: bytes) -> tuple[JournalFile | None, str]:
    """The journal read from `raw`, or None and why it cannot be (French)."""
    if len(raw) > MAX_JOURNAL_BYTES:
        return None, f"plus de {MAX_JOURNAL_BYTES // (1024 * 1024)} Mo"
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, "ce n'est pas du JSON valide : fichier tronqué ou abîmé"
    if not isinstance(data, dict):
        return None, f"{_json_kind(data)} au lieu d'un objet JSON"
    version = data.get("version", 1)   # absent: written before journals had a version
    if version not in (1, JOURNAL_VERSION) or isinstance(version, bool):
        return None, f"version {shorten(json.dumps(version), 20)} inconnue de ce robot (écrit par une version plus récente ?)"
    try:
        model = (LegacyJournal if version == 1 else JournalFile).model_validate_json(raw, strict=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = " → ".join(str(part) for part in first["loc"]) or "racine"
        words = JOURNAL_ERRORS.get(first["type"]) or FRENCH_ERRORS.get(first["type"], "valeur invalide")
        return None, f"{where} : {words}"
    return model, ""


JOURNAL_ERRORS = {"enum": "valeur inconnue", "list_type": "une liste est attendue", "value_error": "valeur invalide",
                  "union_tag_invalid": "valeur invalide"}


def _json_kind(value: Any) -> str:
    return ("null" if value is None else "une liste" if isinstance(value, list) else "un texte"
            if isinstance(value, str) else "un nombre" if isinstance(value, (int, float)) else "une valeur")
