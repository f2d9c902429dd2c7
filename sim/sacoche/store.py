"""SQLite state of the SACoche simulator: schools (the webmaster database), their parameters,
their accounts, and the server-side sessions (PHP keeps sessions in files; we keep them here so
a restarted simulator keeps them too)."""
from __future__ import annotations

import json
import sqlite3

from .levels import Level, is_class_level, nomenclature, sort_key
from ..sqlite_store import SqliteStore, check_password, hash_password  # noqa: F401 (used by the apps)

SCHEMA = """
CREATE TABLE IF NOT EXISTS school (
    base INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    uai TEXT NOT NULL DEFAULT '',
    zone TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS param (
    base INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (base, key)
);
CREATE TABLE IF NOT EXISTS user (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    base INTEGER NOT NULL,
    profil TEXT NOT NULL,            -- sigle: ADM, ENS, DIR, EDU, DOC, ELV, TUT, ...
    login TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    nom TEXT NOT NULL,
    prenom TEXT NOT NULL,
    id_ent TEXT NOT NULL DEFAULT '',
    active INTEGER NOT NULL DEFAULT 1,
    sconet_id INTEGER NOT NULL DEFAULT 0,
    sconet_num INTEGER NOT NULL DEFAULT 0,
    reference TEXT NOT NULL DEFAULT '',
    genre TEXT NOT NULL DEFAULT 'I',
    naissance TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    classe_id INTEGER NOT NULL DEFAULT 0,
    sortie TEXT NOT NULL DEFAULT '',  -- leaving date; empty = current account
    UNIQUE (base, login)
);
CREATE TABLE IF NOT EXISTS niveau_actif (
    base INTEGER NOT NULL,
    niveau_id INTEGER NOT NULL,      -- an official level of sim/sacoche/levels.py, chosen by the school
    PRIMARY KEY (base, niveau_id)
);
CREATE TABLE IF NOT EXISTS groupe (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    base INTEGER NOT NULL,
    type TEXT NOT NULL,              -- classe | groupe
    ref TEXT NOT NULL,
    nom TEXT NOT NULL,
    niveau_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS user_groupe (
    user_id INTEGER NOT NULL,
    groupe_id INTEGER NOT NULL,
    pp INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, groupe_id)
);
CREATE TABLE IF NOT EXISTS parent_eleve (
    parent_id INTEGER NOT NULL,
    eleve_id INTEGER NOT NULL,
    resp_legal INTEGER NOT NULL,
    PRIMARY KEY (parent_id, eleve_id)
);
CREATE TABLE IF NOT EXISTS parent_adresse (
    parent_id INTEGER PRIMARY KEY,
    ligne1 TEXT, ligne2 TEXT, ligne3 TEXT, ligne4 TEXT,
    code_postal TEXT, commune TEXT, pays TEXT
);
CREATE TABLE IF NOT EXISTS import_state (
    session_id TEXT PRIMARY KEY,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS session (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL
);
"""

# Parameters a new school starts with (SACoche's defaults).
DEFAULT_PARAMS = {
    "connexion_mode": "normal",
    "connexion_nom": "sacoche",
    "connexion_departement": "",
    "cas_serveur_host": "",
    "cas_serveur_port": "",
    "cas_serveur_root": "",
    "cas_serveur_url_login": "",
    "cas_serveur_url_logout": "",
    "cas_serveur_url_validate": "",
    "cas_serveur_verif_certif_ssl": "1",
    "duree_inactivite_ADM": "30",
    "deconnexion_adresse_redirection": "",
    "mois_bascule_annee_scolaire": "8",
    "date_last_import_eleves": "",
    "date_last_import_parents": "",
    "date_last_import_professeurs": "",
}

# The collège's four usual class levels (Sixième to Troisième): tests and benchmarks give them
# to a school that is not meant to start empty.
COLLEGE_LEVELS = (100003, 101001, 102001, 103003)


class Store(SqliteStore):
    """Thread-safe access to the simulator's SQLite file (one connection, one lock: the
    simulator serves a handful of requests at a time)."""

    SCHEMA = SCHEMA

    # Schools -----------------------------------------------------------------------------
    def add_school(self, base: int, name: str, uai: str, zone: str = "", levels=()) -> None:
        """A school as the webmaster creates it: default parameters, no level chosen (unless
        `levels` names official level ids)."""
        self._write("INSERT OR REPLACE INTO school (base, name, uai, zone) VALUES (?, ?, ?, ?)",
                    (base, name, uai, zone))
        for key, value in DEFAULT_PARAMS.items():
            self._write("INSERT OR IGNORE INTO param (base, key, value) VALUES (?, ?, ?)",
                        (base, key, value))
        for level_id in levels:
            self.activate_level(base, level_id)

    def set_school_uai(self, base: int, uai: str) -> None:
        self._write("UPDATE school SET uai = ? WHERE base = ?", (uai, base))

    def levels(self, base: int) -> list[Level]:
        """The official levels the school has chosen, in SACoche's order."""
        table = nomenclature()
        chosen = [table[row["niveau_id"]] for row in self._query(
            "SELECT niveau_id FROM niveau_actif WHERE base = ?", (base,)) if row["niveau_id"] in table]
        return sorted(chosen, key=sort_key)

    def class_levels(self, base: int) -> list[Level]:
        """The chosen levels a class or group can have (what step 31/41 offers)."""
        return [level for level in self.levels(base) if is_class_level(level)]

    def activate_level(self, base: int, level_id: int) -> None:
        self._write("INSERT OR IGNORE INTO niveau_actif (base, niveau_id) VALUES (?, ?)", (base, level_id))

    def deactivate_level(self, base: int, level_id: int) -> None:
        self._write("DELETE FROM niveau_actif WHERE base = ? AND niveau_id = ?", (base, level_id))

    def remove_levels(self, base: int) -> None:
        self._write("DELETE FROM niveau_actif WHERE base = ?", (base,))

    def school(self, base: int) -> sqlite3.Row | None:
        rows = self._query("SELECT * FROM school WHERE base = ?", (base,))
        return rows[0] if rows else None

    def school_by_uai(self, uai: str) -> sqlite3.Row | None:
        rows = self._query("SELECT * FROM school WHERE uai = ?", (uai.upper(),))
        return rows[0] if rows else None

    def schools(self) -> list[sqlite3.Row]:
        return self._query("SELECT * FROM school ORDER BY base")

    # Parameters --------------------------------------------------------------------------
    def params(self, base: int) -> dict[str, str]:
        rows = self._query("SELECT key, value FROM param WHERE base = ?", (base,))
        return {row["key"]: row["value"] for row in rows}

    def set_params(self, base: int, values: dict[str, str]) -> None:
        with self._lock:
            for key, value in values.items():
                self._db.execute("INSERT OR REPLACE INTO param (base, key, value) VALUES (?, ?, ?)",
                                 (base, key, str(value)))
            self._db.commit()

    # Accounts ----------------------------------------------------------------------------
    def add_user(self, base: int, profil: str, login: str, password: str, nom: str,
                 prenom: str, id_ent: str = "") -> int:
        return self._write(
            "INSERT INTO user (base, profil, login, password_hash, nom, prenom, id_ent)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (base, profil, login, hash_password(password), nom, prenom, id_ent))

    def user_by_login(self, base: int, login: str) -> sqlite3.Row | None:
        rows = self._query("SELECT * FROM user WHERE base = ? AND login = ?", (base, login))
        return rows[0] if rows else None

    def user(self, user_id: int) -> sqlite3.Row | None:
        rows = self._query("SELECT * FROM user WHERE id = ?", (user_id,))
        return rows[0] if rows else None

    def users(self, base: int) -> list[sqlite3.Row]:
        return self._query("SELECT * FROM user WHERE base = ? ORDER BY id", (base,))

    def query(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        return self._query(sql, args)

    def execute(self, sql: str, args: tuple = ()) -> int:
        return self._write(sql, args)

    def transaction(self):
        """`with store.transaction() as db:` — several writes, one commit (a wizard step)."""
        return _Transaction(self)

    # Sessions ----------------------------------------------------------------------------
    def load_session(self, session_id: str) -> dict | None:
        rows = self._query("SELECT data FROM session WHERE id = ?", (session_id,))
        return json.loads(rows[0]["data"]) if rows else None

    def save_session(self, session_id: str, data: dict) -> None:
        self._write("INSERT OR REPLACE INTO session (id, data) VALUES (?, ?)",
                    (session_id, json.dumps(data)))

    def delete_session(self, session_id: str) -> None:
        self._write("DELETE FROM session WHERE id = ?", (session_id,))
        self._write("DELETE FROM import_state WHERE session_id = ?", (session_id,))

    # The wizard's temporary files (SACoche keeps them on disk between steps) ------------
    def load_import(self, session_id: str) -> dict | None:
        rows = self._query("SELECT data FROM import_state WHERE session_id = ?", (session_id,))
        return json.loads(rows[0]["data"]) if rows else None

    def save_import(self, session_id: str, data: dict | None) -> None:
        if data is None:
            self._write("DELETE FROM import_state WHERE session_id = ?", (session_id,))
        else:
            self._write("INSERT OR REPLACE INTO import_state (session_id, data) VALUES (?, ?)",
                        (session_id, json.dumps(data)))

    # Test view ---------------------------------------------------------------------------
    def snapshot(self) -> dict:
        """The whole state as JSON-ready data, without password hashes nor sessions."""
        result: dict = {"schools": {}}
        for school in self.schools():
            base = school["base"]
            groups = {row["id"]: dict(row) for row in self._query(
                "SELECT id, type, ref, nom, niveau_id FROM groupe WHERE base = ? ORDER BY id", (base,))}
            users = []
            for row in self.users(base):
                user = {key: row[key] for key in row.keys() if key != "password_hash"}
                user["classe"] = groups.get(row["classe_id"], {}).get("ref", "")
                user["groupes"] = sorted(groups[g["groupe_id"]]["ref"] for g in self._query(
                    "SELECT groupe_id FROM user_groupe WHERE user_id = ?", (row["id"],)))
                user["pp"] = sorted(groups[g["groupe_id"]]["ref"] for g in self._query(
                    "SELECT groupe_id FROM user_groupe WHERE user_id = ? AND pp = 1", (row["id"],)))
                users.append(user)
            result["schools"][str(base)] = {
                "name": school["name"],
                "uai": school["uai"],
                "params": self.params(base),
                "levels": [{"id": level.id, "ref": level.ref, "nom": level.name}
                           for level in self.levels(base)],
                "groups": list(groups.values()),
                "users": users,
                "parent_links": [dict(row) for row in self._query(
                    "SELECT pe.parent_id, pe.eleve_id, pe.resp_legal FROM parent_eleve pe "
                    "JOIN user u ON u.id = pe.parent_id WHERE u.base = ? ORDER BY 1, 2", (base,))],
                "addresses": [dict(row) for row in self._query(
                    "SELECT pa.* FROM parent_adresse pa JOIN user u ON u.id = pa.parent_id "
                    "WHERE u.base = ? ORDER BY 1", (base,))],
            }
        return result


class _Transaction:
    def __init__(self, store: Store):
        self.store = store

    def __enter__(self) -> sqlite3.Connection:
        self.store._lock.acquire()
        return self.store._db

    def __exit__(self, exc_type, *exc) -> None:
        try:
            if exc_type is None:
                self.store._db.commit()
            else:
                self.store._db.rollback()
        finally:
            self.store._lock.release()
