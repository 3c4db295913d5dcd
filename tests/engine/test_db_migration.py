"""A takes database written before quality control opens, keeps every take and gains what it lacks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kaipai.engine.db import MIGRATIONS, TakesDB

#: The takes table as the first release created it (no ``circled_by``; ``user_version`` 0).
FIRST_RELEASE = """
CREATE TABLE takes (
    id INTEGER PRIMARY KEY AUTOINCREMENT, node TEXT NOT NULL, shot TEXT NOT NULL, stage TEXT NOT NULL,
    item TEXT NOT NULL DEFAULT '', key TEXT NOT NULL UNIQUE, inputs_key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'circled', 'rejected')), seed INTEGER NOT NULL,
    backend TEXT NOT NULL, backend_version TEXT NOT NULL DEFAULT '', model TEXT NOT NULL DEFAULT '',
    params TEXT NOT NULL DEFAULT '{}', request TEXT NOT NULL DEFAULT '{}', media TEXT NOT NULL,
    files TEXT NOT NULL DEFAULT '[]', duration REAL, width INTEGER, height INTEGER, fps REAL,
    cost REAL NOT NULL DEFAULT 0, seconds REAL NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 1,
    qc TEXT NOT NULL DEFAULT '{}', metadata TEXT NOT NULL DEFAULT '{}', created TEXT NOT NULL
);
INSERT INTO takes (node, shot, stage, key, inputs_key, status, seed, backend, media, created)
VALUES ('S1/clip', 'S1', 'clip', 'k1', 'i1', 'circled', 7, 'previz', 'ab/ab.mp4', '2025-01-01T00:00:00'),
       ('S1/clip', 'S1', 'clip', 'k2', 'i1', 'pending', 8, 'previz', 'cd/cd.mp4', '2025-01-01T00:00:01');
"""


def test_an_old_database_is_migrated_in_place_and_keeps_its_takes(tmp_path: Path) -> None:
    path = tmp_path / "kaipai.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(FIRST_RELEASE)
    with TakesDB(path) as db:
        takes = db.all_takes()
        assert [(t.key, t.status, t.circled_by) for t in takes] == [("k1", "circled", ""), ("k2", "pending", "")]
        assert takes[0].hand_circled  # circled before circles were attributed: treated as the director's
        assert db.set_status(takes[1].id, "circled", by="engine").circled_by == "engine"
        assert db.take(takes[0].id).circled_by == ""  # demoted to pending
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    with TakesDB(path) as db:  # opening again changes nothing
        assert len(db.all_takes()) == 2 and db.integrity_check() == "ok"


def test_a_new_database_starts_at_the_latest_version(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    TakesDB(path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        columns = [row[1] for row in conn.execute("PRAGMA table_info(takes)")]
    assert "circled_by" in columns


def test_a_file_that_has_the_column_but_not_the_version_opens(tmp_path: Path) -> None:
    """A process killed between creating the tables and stamping the version, or two opening at once."""
    path = tmp_path / "kaipai.db"
    TakesDB(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 0")
    with TakesDB(path) as db:
        assert db.all_takes() == [] and db.integrity_check() == "ok"


def test_processes_opening_an_old_database_at_once_migrate_it_once(tmp_path: Path) -> None:
    import multiprocessing

    path = tmp_path / "kaipai.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(FIRST_RELEASE)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_open, args=(str(path),)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    with TakesDB(path) as db:
        assert len(db.all_takes()) == 2


def _open(path: str) -> None:
    TakesDB(Path(path)).close()
