"""The sandbox's storage: one SQLite database (a file, or memory) behind one lock.

Owns the schema, the connection, transactions, id sequences and the dump/load of every stored
object. Each object is kept as the exact JSON the API returns, beside the few columns that are
looked up by (app, external_id, id, name, value, code), so a list page is a string join rather
than a decode and re-encode. It must not validate bodies or know HTTP.

Concurrency: one connection shared by every thread and guarded by a re-entrant lock; every
handler runs its reads and writes inside ``store.transaction()``, so each request sees and
leaves a consistent database. That serialises the database work only (microseconds per call);
decoding, validation and the network stay parallel.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rulesets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app TEXT NOT NULL,
    external_id TEXT,
    body TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS rulesets_app_eid ON rulesets(app, external_id);
CREATE INDEX IF NOT EXISTS rulesets_eid ON rulesets(external_id);
CREATE INDEX IF NOT EXISTS rulesets_app_id ON rulesets(app, id);
CREATE TABLE IF NOT EXISTS order_conditions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE(name, value)
);
CREATE TABLE IF NOT EXISTS discount_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code_key TEXT NOT NULL UNIQUE,
    ruleset_id INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS discount_codes_ruleset ON discount_codes(ruleset_id);
CREATE TABLE IF NOT EXISTS sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

_TABLES = ("rulesets", "order_conditions", "discount_codes", "sequences")

#: Version of the dump format (docs/sandbox.md describes it).
DUMP_VERSION = 1


class Store:
    """A SQLite database holding rulesets, order conditions, discount codes and id sequences."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = None if path is None else Path(path)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        target = ":memory:" if self.path is None else str(self.path)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a transaction spans exactly
        # one request; check_same_thread=False because the lock below is what serialises use.
        self.conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        self.lock = threading.RLock()
        self._depth = 0
        if self.path is not None:
            # WAL + NORMAL: a crash loses at most the last commits, never corrupts, and writes
            # stay fast enough for the throughput benchmark.
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(_SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and one transaction; commit on success, roll back on any exception."""
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            self.conn.execute("BEGIN")
            self._depth = 1
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")
            finally:
                self._depth = 0

    def next_id(self, name: str, count: int = 1) -> int:
        """Reserve ``count`` ids from the named sequence and return the first."""
        with self.transaction() as conn:
            row = conn.execute("SELECT value FROM sequences WHERE name = ?", (name,)).fetchone()
            first = (row[0] if row else 0) + 1
            conn.execute(
                "INSERT INTO sequences(name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                (name, first + count - 1),
            )
            return int(first)

    def clear(self) -> None:
        """Delete every object and restart every id sequence."""
        with self.transaction() as conn:
            for table in _TABLES:
                conn.execute(f"DELETE FROM {table}")
            conn.execute("DELETE FROM sqlite_sequence")

    def dump(self) -> dict[str, Any]:
        """Every stored object in the seed/dump format (see docs/sandbox.md)."""
        with self.transaction() as conn:
            rulesets = [
                {"app": app, "ruleset": json.loads(body)}
                for app, body in conn.execute("SELECT app, body FROM rulesets ORDER BY id")
            ]
            conditions = [
                json.loads(body)
                for (body,) in conn.execute("SELECT body FROM order_conditions ORDER BY seq")
            ]
            codes = [
                json.loads(body)
                for (body,) in conn.execute("SELECT body FROM discount_codes ORDER BY id")
            ]
            sequences = dict(conn.execute("SELECT name, value FROM sequences").fetchall())
        return {
            "version": DUMP_VERSION,
            "rulesets": rulesets,
            "order_conditions": conditions,
            "discount_codes": codes,
            "sequences": sequences,
        }

    def load(self, data: dict[str, Any]) -> None:
        """Replace everything with a dump; ids are kept, sequences move past the largest."""
        if data.get("version", DUMP_VERSION) != DUMP_VERSION:
            raise ValueError(f"unsupported dump version {data.get('version')!r}")
        with self.transaction() as conn:
            self.clear()
            for entry in data.get("rulesets", []):
                body = entry["ruleset"]
                conn.execute(
                    "INSERT INTO rulesets(id, app, external_id, body) VALUES (?, ?, ?, ?)",
                    (body["id"], entry["app"], body.get("external_id"), _dumps(body)),
                )
            for body in data.get("order_conditions", []):
                conn.execute(
                    "INSERT INTO order_conditions(name, value, body) VALUES (?, ?, ?)",
                    (body["name"], body["value"], _dumps(body)),
                )
            for body in data.get("discount_codes", []):
                conn.execute(
                    "INSERT INTO discount_codes(id, code_key, ruleset_id, body) "
                    "VALUES (?, ?, ?, ?)",
                    (body["id"], body["code"].lower(), body["ruleset_id"], _dumps(body)),
                )
            sequences = dict(data.get("sequences", {}))
            rule_ids = [
                rule["id"]
                for entry in data.get("rulesets", [])
                for rule in entry["ruleset"]["rules"]
            ]
            field_set_ids = [
                fs["id"] for body in data.get("order_conditions", []) for fs in body["field_sets"]
            ]
            sequences["rule"] = max([sequences.get("rule", 0), *rule_ids])
            sequences["field_set"] = max([sequences.get("field_set", 0), *field_set_ids])
            for name, value in sequences.items():
                conn.execute("INSERT INTO sequences(name, value) VALUES (?, ?)", (name, value))

    def close(self) -> None:
        """Close the connection (the file stays)."""
        with self.lock:
            self.conn.close()


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
