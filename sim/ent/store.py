"""SQLite state of the ENT simulator: accounts, structures (a school's rows in the link
configuration), external applications and their per-structure link values, CAS service tickets
and ENT web sessions. Everything lives in one file so that a restarted simulator keeps it."""
from __future__ import annotations

import secrets
import sqlite3
import time
from dataclasses import dataclass

from ..sqlite_store import SqliteStore, check_password, hash_password  # noqa: F401 (used by the apps)

PROFILES = ("Eleve", "Enseignant", "Personnel", "Parent", "Administrateur")
ADMIN_PROFILE = "Administrateur"
APPS_PER_PAGE = 10

SCHEMA = """
CREATE TABLE IF NOT EXISTS account (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ent_id TEXT NOT NULL UNIQUE COLLATE NOCASE,
    profile TEXT NOT NULL,
    nom TEXT NOT NULL,
    prenom TEXT NOT NULL,
    classe TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    uai TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS structure (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uai TEXT NOT NULL,
    name TEXT NOT NULL,
    instance TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS app (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL DEFAULT 'other',   -- 'sacoche' marks the link the guide configures
    url_prefix TEXT NOT NULL             -- the link is url_prefix + the value typed per structure
);
CREATE TABLE IF NOT EXISTS app_link (
    app_id INTEGER NOT NULL,
    structure_id INTEGER NOT NULL,
    value TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (app_id, structure_id)
);
CREATE TABLE IF NOT EXISTS ticket (
    id TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    ent_id TEXT NOT NULL,
    created REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS web_session (
    id TEXT PRIMARY KEY,
    ent_id TEXT NOT NULL,
    created REAL NOT NULL
);
"""






@dataclass(frozen=True)
class TicketCheck:
    """Outcome of a service-ticket validation: ent_id on success, else a CAS failure code."""
    ent_id: str | None
    code: str = ""
    message: str = ""


class Store(SqliteStore):
    """Thread-safe access to the ENT simulator's SQLite file (one connection, one lock)."""

    SCHEMA = SCHEMA

    # Accounts ----------------------------------------------------------------------------
    def add_accounts(self, rows: list[dict]) -> None:
        """Bulk insert (seeding a school writes thousands of rows: one commit)."""
        for row in rows:
            if row["profile"] not in PROFILES:
                raise ValueError(f"profil inconnu : {row['profile']}")
        with self._lock:
            self._db.executemany(
                "INSERT INTO account (ent_id, profile, nom, prenom, classe, password_hash, uai)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(r["ent_id"], r["profile"], r["nom"], r["prenom"], r.get("classe", ""),
                  hash_password(r["password"]), r["uai"]) for r in rows])
            self._db.commit()

    def add_account(self, ent_id: str, profile: str, nom: str, prenom: str, password: str,
                    uai: str, classe: str = "") -> None:
        self.add_accounts([dict(ent_id=ent_id, profile=profile, nom=nom, prenom=prenom,
                                password=password, uai=uai, classe=classe)])

    def account(self, ent_id: str) -> sqlite3.Row | None:
        rows = self._query("SELECT * FROM account WHERE ent_id = ?", (ent_id,))
        return rows[0] if rows else None

    def ent_ids(self) -> set[str]:
        return {row["ent_id"].lower() for row in self._query("SELECT ent_id FROM account")}

    def search_accounts(self, uai: str, profile: str = "", nom: str = "", classe: str = "",
                        with_admins: bool = True) -> list[sqlite3.Row]:
        sql, args = "SELECT * FROM account WHERE uai = ?", [uai]
        if profile:
            sql += " AND profile = ?"
            args.append(profile)
        if nom:
            sql += " AND (nom LIKE ? OR prenom LIKE ? OR ent_id LIKE ?)"
            args += [f"%{nom}%"] * 3
        if classe:
            sql += " AND classe = ? COLLATE NOCASE"
            args.append(classe)
        if not with_admins:
            sql += " AND profile != ?"
            args.append(ADMIN_PROFILE)
        return self._query(sql + " ORDER BY id", tuple(args))

    def check_login(self, ent_id: str, password: str) -> sqlite3.Row | None:
        account = self.account(ent_id)
        if account is None or not check_password(password, account["password_hash"]):
            return None
        return account

    # Structures and external applications -------------------------------------------------
    def add_structure(self, uai: str, name: str, instance: str) -> int:
        return self._write("INSERT INTO structure (uai, name, instance) VALUES (?, ?, ?)",
                           (uai, name, instance))

    def structures(self, uai: str | None = None) -> list[sqlite3.Row]:
        if uai is None:
            return self._query("SELECT * FROM structure ORDER BY id")
        return self._query("SELECT * FROM structure WHERE uai = ? ORDER BY id", (uai,))

    def add_app(self, name: str, url_prefix: str, kind: str = "other") -> int:
        with self._lock:
            position = self._db.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM app").fetchone()[0]
            cursor = self._db.execute("INSERT INTO app (name, position, kind, url_prefix) VALUES (?, ?, ?, ?)",
                                      (name, position, kind, url_prefix))
            self._db.commit()
            return cursor.lastrowid

    def apps(self) -> list[sqlite3.Row]:
        return self._query("SELECT * FROM app ORDER BY position, id")

    def app(self, app_id: int) -> sqlite3.Row | None:
        rows = self._query("SELECT * FROM app WHERE id = ?", (app_id,))
        return rows[0] if rows else None

    def link_values(self, app_id: int) -> dict[int, str]:
        rows = self._query("SELECT structure_id, value FROM app_link WHERE app_id = ?", (app_id,))
        return {row["structure_id"]: row["value"] for row in rows}

    def set_link_values(self, app_id: int, values: dict[int, str]) -> None:
        with self._lock:
            for structure_id, value in values.items():
                self._db.execute("INSERT OR REPLACE INTO app_link (app_id, structure_id, value) VALUES (?, ?, ?)",
                                 (app_id, structure_id, value))
            self._db.commit()

    @staticmethod
    def link_url(app: sqlite3.Row, value: str) -> str:
        """An empty value means the link is not configured for that structure."""
        return app["url_prefix"] + value if value else ""

    # CAS service tickets --------------------------------------------------------------------
    def issue_ticket(self, service: str, ent_id: str) -> str:
        ticket = f"ST-{int(time.time() * 1000)}-{secrets.token_urlsafe(20)}"
        self._write("INSERT INTO ticket (id, service, ent_id, created) VALUES (?, ?, ?, ?)",
                    (ticket, service, ent_id, time.time()))
        return ticket

    def consume_ticket(self, ticket: str, service: str, ttl_s: float) -> TicketCheck:
        """CAS 2.0 rules: a ticket is used at its first validation whatever the outcome, so a
        wrong service or an expired ticket burns it too."""
        with self._lock:
            row = self._db.execute("SELECT * FROM ticket WHERE id = ?", (ticket,)).fetchone()
            if row is None or row["used"]:
                return TicketCheck(None, "INVALID_TICKET", f"Ticket « {ticket} » non reconnu")
            self._db.execute("UPDATE ticket SET used = 1 WHERE id = ?", (ticket,))
            self._db.commit()
        if time.time() - row["created"] >= ttl_s:
            return TicketCheck(None, "INVALID_TICKET", f"Ticket « {ticket} » expiré")
        if row["service"] != service:
            return TicketCheck(None, "INVALID_SERVICE",
                               f"Le ticket « {ticket} » n'a pas été émis pour le service « {service} »")
        return TicketCheck(row["ent_id"])

    def ticket_counts(self) -> dict[str, int]:
        row = self._query("SELECT COUNT(*) AS issued, COALESCE(SUM(used), 0) AS used FROM ticket")[0]
        return {"issued": row["issued"], "used": row["used"]}

    # ENT web sessions -----------------------------------------------------------------------
    def open_session(self, ent_id: str) -> str:
        session_id = secrets.token_urlsafe(24)
        self._write("INSERT INTO web_session (id, ent_id, created) VALUES (?, ?, ?)",
                    (session_id, ent_id, time.time()))
        return session_id

    def session_account(self, session_id: str) -> sqlite3.Row | None:
        rows = self._query("SELECT a.* FROM web_session s JOIN account a ON a.ent_id = s.ent_id"
                           " WHERE s.id = ?", (session_id,))
        return rows[0] if rows else None

    def close_session(self, session_id: str) -> None:
        self._write("DELETE FROM web_session WHERE id = ?", (session_id,))

    def close_all_sessions(self) -> None:
        self._write("DELETE FROM web_session")

    def session_count(self) -> int:
        return self._query("SELECT COUNT(*) FROM web_session")[0][0]

    # Test view ---------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        """The state as JSON-ready data, without password hashes, ticket ids nor session ids."""
        structures = {row["id"]: row for row in self.structures()}
        apps = []
        for index, app in enumerate(self.apps()):
            values = self.link_values(app["id"])
            apps.append({
                "id": app["id"], "name": app["name"], "kind": app["kind"], "position": app["position"],
                "page": index // APPS_PER_PAGE + 1, "url_prefix": app["url_prefix"],
                "links": [{"structure_id": sid, "uai": s["uai"], "structure": s["name"],
                           "instance": s["instance"], "value": values.get(sid, ""),
                           "url": self.link_url(app, values.get(sid, ""))}
                          for sid, s in structures.items()],
            })
        accounts = [{key: row[key] for key in ("ent_id", "profile", "nom", "prenom", "classe", "uai")}
                    for row in self._query("SELECT * FROM account ORDER BY id")]
        return {
            "accounts": accounts,
            "structures": [dict(row) for row in structures.values()],
            "apps": apps,
            "tickets": self.ticket_counts(),
            "sessions": self.session_count(),
        }
