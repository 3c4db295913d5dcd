"""The takes database (``.kaipai/kaipai.db``): every take ever made, and the director's choice.

SQLite in WAL mode: readers (the studio) never block the render, and a process killed at
any moment leaves the last committed state intact. ``synchronous=NORMAL`` is durable
against a crashed or killed process; only a power cut may lose the newest commits, never
corrupt older ones. One connection is shared by the engine's threads behind a lock.

The file's ``user_version`` says which :data:`MIGRATIONS` it has had; opening an older database
applies the rest in one transaction, so a project made by an earlier kaipai keeps every take.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

TakeStatus = Literal["pending", "circled", "rejected"]
#: Who circled a take: the engine (a render's choice, quality control's pick) or the director by hand.
CircledBy = Literal["", "engine", "director"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS takes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    node TEXT NOT NULL,
    shot TEXT NOT NULL,
    stage TEXT NOT NULL,
    item TEXT NOT NULL DEFAULT '',
    key TEXT NOT NULL UNIQUE,
    inputs_key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'circled', 'rejected')),
    seed INTEGER NOT NULL,
    backend TEXT NOT NULL,
    backend_version TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    params TEXT NOT NULL DEFAULT '{}',
    request TEXT NOT NULL DEFAULT '{}',
    media TEXT NOT NULL,
    files TEXT NOT NULL DEFAULT '[]',
    duration REAL,
    width INTEGER,
    height INTEGER,
    fps REAL,
    cost REAL NOT NULL DEFAULT 0,
    seconds REAL NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 1,
    qc TEXT NOT NULL DEFAULT '{}',
    metadata TEXT NOT NULL DEFAULT '{}',
    created TEXT NOT NULL,
    circled_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS takes_node ON takes (node);
CREATE INDEX IF NOT EXISTS takes_shot ON takes (shot);
CREATE UNIQUE INDEX IF NOT EXISTS one_circled_per_node ON takes (node) WHERE status = 'circled';
CREATE TABLE IF NOT EXISTS jobs (
    key TEXT PRIMARY KEY,
    node TEXT NOT NULL,
    backend TEXT NOT NULL,
    job_id TEXT NOT NULL,
    submitted TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS failures (
    key TEXT PRIMARY KEY,
    node TEXT NOT NULL,
    reason TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS running (
    node TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    backend TEXT NOT NULL,
    worker TEXT NOT NULL,
    driver TEXT NOT NULL,
    started TEXT NOT NULL
);
"""


#: Schema changes after the first release, in order: ``user_version`` N means the first N are applied.
#: A take circled before circles were attributed keeps ``circled_by = ''``, which counts as the director's.
#: Each is (a column it adds, its statement), so a database that already has the column is left alone.
MIGRATIONS: tuple[tuple[str, str], ...] = (
    ("circled_by", "ALTER TABLE takes ADD COLUMN circled_by TEXT NOT NULL DEFAULT ''"),
)


_DEMOTE = "UPDATE takes SET status = 'pending', circled_by = '' WHERE node = ? AND status = 'circled'"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


_EMPTY = ("empty",)  # the class-level default of a column that has one (a fresh dict per take)


class _JSONColumn:
    """A take's JSON column (its request, params, files, qc report, metadata), decoded on first read.

    A render reads every take of the film but a no-op looks at few requests: decoding them all cost
    more than the rest of reading the takes. The column's stored text is held as a ``str`` until then
    (a decoded column is never a ``str``: a dict or a list).
    """

    def __init__(self, empty: type | None = None) -> None:
        self.empty = empty

    def __set_name__(self, owner: type, name: str) -> None:
        self.attr = "_" + name

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        if obj is None:  # the dataclass asks for the field's default
            if self.empty is None:
                raise AttributeError(self.attr)
            return _EMPTY
        value = obj.__dict__[self.attr]
        if type(value) is str:
            value = obj.__dict__[self.attr] = json.loads(value)
        return value

    def __set__(self, obj: object, value: Any) -> None:
        obj.__dict__[self.attr] = self.empty() if value is _EMPTY and self.empty is not None else value


@dataclass
class Take:
    """One generated artifact of one node, with its provenance and the director's verdict."""

    id: int
    node: str
    shot: str
    stage: str
    item: str
    key: str
    inputs_key: str
    status: TakeStatus
    seed: int
    backend: str
    backend_version: str
    model: str
    params: dict[str, Any] = _JSONColumn()  # type: ignore[assignment]
    request: dict[str, Any] = _JSONColumn()  # type: ignore[assignment]
    media: str
    files: list[str] = _JSONColumn()  # type: ignore[assignment]
    duration: float | None
    width: int | None
    height: int | None
    fps: float | None
    cost: float
    seconds: float
    attempts: int
    qc: dict[str, Any] = _JSONColumn(dict)  # type: ignore[assignment]
    metadata: dict[str, Any] = _JSONColumn(dict)  # type: ignore[assignment]
    created: str = ""
    circled_by: CircledBy = ""

    @property
    def hand_circled(self) -> bool:
        """Circled by the director (or before circles were attributed): the engine never replaces it."""
        return self.status == "circled" and self.circled_by != "engine"


_JSON = ("params", "request", "files", "qc", "metadata")


def _row_to_take(row: sqlite3.Row) -> Take:
    """A take as read: every column set as is (a render reads thousands), the JSON ones still text."""
    take = object.__new__(Take)
    take.__dict__.update(zip(_attributes(tuple(row.keys())), row))
    return take


@cache
def _attributes(names: tuple[str, ...]) -> tuple[str, ...]:
    """Where each column of a row lives on a :class:`Take` (a JSON column behind its decoder)."""
    if set(names) != {f.name for f in fields(Take)}:
        raise sqlite3.DatabaseError(f"the takes table has the columns {names}, not those of a take")
    return tuple("_" + n if n in _JSON else n for n in names)


class TakesDB:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA busy_timeout=30000")
        with self._lock:
            self._migrate()

    def _migrate(self) -> None:
        """Create a new database, or bring an older one up to date: one transaction that holds the write
        lock, so two processes opening the file at once (a render and the studio) take turns, and a
        process killed half-way leaves the file as it was."""
        cur = self._conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            version = cur.execute("PRAGMA user_version").fetchone()[0]
            if version < len(MIGRATIONS):
                have = {row[1] for row in cur.execute("PRAGMA table_info(takes)")}
                for column, statement in MIGRATIONS[version:]:
                    if have and column not in have:  # a new file gets every column from SCHEMA below
                        cur.execute(statement)
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    cur.execute(statement)
            cur.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        cur.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> TakesDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        """One atomic write: all of it is committed or none of it."""
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    # ------------------------------------------------------------------ takes

    def all_takes(self) -> list[Take]:
        return [_row_to_take(r) for r in self._query("SELECT * FROM takes ORDER BY id")]

    def takes_for_shots(self, shots: set[str]) -> list[Take]:
        marks = ",".join("?" * len(shots))
        return [
            _row_to_take(r)
            for r in self._query(f"SELECT * FROM takes WHERE shot IN ({marks}) ORDER BY id", tuple(sorted(shots)))
        ]

    def takes_for_shot(self, shot: str) -> list[Take]:
        return [_row_to_take(r) for r in self._query("SELECT * FROM takes WHERE shot = ? ORDER BY id", (shot,))]

    def take(self, take_id: int) -> Take | None:
        rows = self._query("SELECT * FROM takes WHERE id = ?", (take_id,))
        return _row_to_take(rows[0]) if rows else None

    def take_by_key(self, key: str) -> Take | None:
        rows = self._query("SELECT * FROM takes WHERE key = ?", (key,))
        return _row_to_take(rows[0]) if rows else None

    def add_take(self, fields: dict[str, Any], *, circle: bool | None, clear: bool = True) -> Take:
        """Insert a new take (never replacing one) and clear its job and failure records.

        ``circle``: True makes it the node's choice, False leaves it pending, None circles it
        only when the node has no circled take yet. All in one transaction, in as few
        statements as possible: the engine's threads share this connection.
        """
        data = {
            k: (json.dumps(v, ensure_ascii=False, sort_keys=True, default=str) if k in _JSON else v)
            for k, v in fields.items()
        }
        data.setdefault("created", now())
        node = data["node"]
        with self.transaction() as cur:
            if circle is None:
                circle = (
                    cur.execute("SELECT 1 FROM takes WHERE node = ? AND status = 'circled'", (node,)).fetchone() is None
                )
            if circle:
                cur.execute(_DEMOTE, (node,))
            data["status"] = "circled" if circle else "pending"
            data["circled_by"] = "engine" if circle else ""
            names = ", ".join(data)
            marks = ", ".join("?" for _ in data)
            row = cur.execute(
                f"INSERT INTO takes ({names}) VALUES ({marks}) RETURNING *", tuple(data.values())
            ).fetchone()
            if clear:
                cur.execute("DELETE FROM jobs WHERE key = ?", (data["key"],))
                cur.execute("DELETE FROM failures WHERE key = ?", (data["key"],))
        return _row_to_take(row)

    def set_status(self, take_id: int, status: TakeStatus, *, by: CircledBy = "director") -> Take:
        """Circle (the node's previous choice becomes pending), reject, or mark pending.

        ``by`` says who circles: the director (the default: a person asked for it) or the engine.
        """
        with self.transaction() as cur:
            row = cur.execute("SELECT node FROM takes WHERE id = ?", (take_id,)).fetchone()
            if row is None:
                raise KeyError(take_id)
            if status == "circled":
                cur.execute(_DEMOTE, (row["node"],))
            who = by if status == "circled" else ""
            cur.execute("UPDATE takes SET status = ?, circled_by = ? WHERE id = ?", (status, who, take_id))
        take = self.take(take_id)
        assert take is not None
        return take

    def set_qc(self, take_id: int, qc: dict[str, Any]) -> None:
        """Record quality-check scores for a take (the QC step calls this)."""
        with self.transaction() as cur:
            cur.execute("UPDATE takes SET qc = ? WHERE id = ?", (json.dumps(qc, sort_keys=True), take_id))

    # ------------------------------------------------------------------ asynchronous jobs

    def record_job(self, key: str, node: str, backend: str, job_id: str) -> None:
        """Persist a submitted job's id before anyone waits on it (committed on return)."""
        with self.transaction() as cur:
            cur.execute(
                "INSERT INTO jobs (key, node, backend, job_id, submitted) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET "
                "job_id = excluded.job_id, backend = excluded.backend, submitted = excluded.submitted",
                (key, node, backend, job_id, now()),
            )

    def job_id(self, key: str) -> str | None:
        rows = self._query("SELECT job_id FROM jobs WHERE key = ?", (key,))
        return rows[0]["job_id"] if rows else None

    def clear_job(self, key: str) -> None:
        with self.transaction() as cur:
            cur.execute("DELETE FROM jobs WHERE key = ?", (key,))

    def jobs(self) -> dict[str, str]:
        return {r["key"]: r["job_id"] for r in self._query("SELECT key, job_id FROM jobs")}

    # ------------------------------------------------------------------ failures

    def record_failure(self, key: str, node: str, reason: str, attempts: int) -> None:
        with self.transaction() as cur:
            cur.execute(
                "INSERT INTO failures (key, node, reason, attempts, at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET "
                "reason = excluded.reason, attempts = excluded.attempts, at = excluded.at",
                (key, node, reason, attempts, now()),
            )

    def failures(self) -> dict[str, str]:
        return {r["key"]: r["reason"] for r in self._query("SELECT key, reason FROM failures")}

    # ------------------------------------------------------------------ jobs running on a cluster

    def set_running(self, driver: str, jobs: list[tuple[str, str, str, str, str]]) -> None:
        """Say which jobs a render (``driver``: host:pid) runs on a cluster now:
        (node, key, backend, worker, started). Replaces what that render said before; ``kaipai status`` reads it.
        """
        with self.transaction() as cur:
            cur.execute("DELETE FROM running WHERE driver = ?", (driver,))
            cur.executemany(
                "INSERT OR REPLACE INTO running (node, key, backend, worker, started, driver) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(*job, driver) for job in jobs],
            )

    def clear_running(self) -> None:
        """Forget every running job (a render starting: whatever ran before has ended)."""
        with self.transaction() as cur:
            cur.execute("DELETE FROM running")

    def running(self) -> list[dict[str, str]]:
        return [dict(r) for r in self._query("SELECT * FROM running ORDER BY started")]

    # ------------------------------------------------------------------ health

    def integrity_check(self) -> str:
        """SQLite's own check: 'ok' when the file is sound."""
        return str(self._query("PRAGMA integrity_check")[0][0])
