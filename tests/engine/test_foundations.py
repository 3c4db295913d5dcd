"""The store, the takes database, keys and the scheduler's primitives."""

from __future__ import annotations

import asyncio
import itertools
import random
import sqlite3

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kaipai.engine import scheduling
from kaipai.engine.db import TakesDB
from kaipai.engine.keys import artifact_key, digest, inputs_key
from kaipai.engine.scheduling import RateLimiter, RetryPolicy, Slots
from kaipai.engine.store import Store


def test_store_names_files_by_content_and_keeps_one_copy(tmp_path) -> None:
    store = Store(tmp_path / "store")
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    a.write_bytes(b"same bytes")
    b.write_bytes(b"same bytes")
    ra, rb = store.put(a), store.put(b)
    assert ra == rb and ra.endswith(".wav") and not a.exists() and not b.exists()
    assert store.path(ra).read_bytes() == b"same bytes"
    assert store.verify() == []
    store.path(ra).write_bytes(b"tampered")
    assert store.verify() == [ra]


def _take(node: str, key: str) -> dict:
    return {"node": node, "shot": "S1", "stage": "clip", "item": "", "key": key, "inputs_key": "i", "seed": 1,
            "backend": "simulated", "backend_version": "1", "model": "m", "params": {}, "request": {},
            "media": "ab/x.mp4", "files": ["ab/x.mp4"], "duration": 1.0, "width": 2, "height": 2, "fps": 24.0,
            "cost": 0.5, "seconds": 0.1, "attempts": 1, "metadata": {}}  # fmt: skip


def test_database_keeps_every_take_and_one_choice_per_node(tmp_path) -> None:
    with TakesDB(tmp_path / "kaipai.db") as db:
        assert db._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        t1 = db.add_take(_take("S1/clip", "k1"), circle=None)
        t2 = db.add_take(_take("S1/clip", "k2"), circle=None)
        assert (t1.status, t2.status) == ("circled", "pending")  # the first take of a node is its choice
        with pytest.raises(sqlite3.IntegrityError):
            db.add_take(_take("S1/clip", "k1"), circle=True)  # a key is never generated (or stored) twice
        db.set_status(t2.id, "circled")
        assert [t.status for t in db.takes_for_shot("S1")] == ["pending", "circled"]
        db.record_job("k3", "S1/clip", "kling", "job-7")
        assert db.job_id("k3") == "job-7"
        db.add_take(_take("S1/clip", "k3"), circle=True)
        assert db.job_id("k3") is None  # the job's id is cleared in the same transaction as its take
        assert db.integrity_check() == "ok"


def test_keys_change_with_any_input_and_only_then() -> None:
    base = {
        "stage": "clip",
        "node": "S1/clip",
        "inputs": {"S1/keyframe": "a"},
        "backend": "kling",
        "version": "1",
        "model": "v2",
        "params": {"duration": 5.0},
    }
    k = inputs_key(**base)
    assert inputs_key(**base) == k
    for change in ({"inputs": {"S1/keyframe": "b"}}, {"version": "2"}, {"model": "v3"}, {"params": {"duration": 10.0}}):
        assert inputs_key(**{**base, **change}) != k
    assert artifact_key(k, 1) != artifact_key(k, 2)
    assert digest({"x": 0.1 + 0.2}) == digest({"x": 0.3})


@given(st.text(), st.integers(min_value=-(2**63), max_value=2**63))
def test_an_artifact_key_is_the_digest_of_its_inputs_key_and_seed(key: str, seed: int) -> None:
    """The artifact key is written out directly for speed; it must stay the canonical digest (existing takes)."""
    assert artifact_key(key, seed) == digest({"inputs": key, "seed": seed})


def test_retry_delay_grows_with_jitter_and_honours_retry_after() -> None:
    policy = RetryPolicy(max_attempts=5, base=1.0, cap=8.0)
    rng = random.Random(1)
    delays = [policy.delay(n, None, rng) for n in range(1, 6)]
    assert all(0.5 * min(8, 2 ** (n - 1)) <= d <= min(8, 2 ** (n - 1)) for n, d in zip(range(1, 6), delays))
    assert policy.delay(1, 30.0, rng) == 30.0


def test_slots_never_exceed_their_size_and_serve_priority_first() -> None:
    async def scenario() -> tuple[int, list[int]]:
        slots = Slots(2)
        busy = peak = 0
        order: list[int] = []

        async def job(priority: int) -> None:
            nonlocal busy, peak
            await slots.acquire((priority,))
            busy += 1
            peak = max(peak, busy)
            order.append(priority)
            await asyncio.sleep(0.01)
            busy -= 1
            slots.release()

        await asyncio.gather(*(job(p) for p in (5, 4, 3, 2, 1, 0)))
        return peak, order

    peak, order = asyncio.run(scenario())
    assert peak == 2
    assert order[:2] == [5, 4] and order[2:] == [0, 1, 2, 3]  # waiters are served best priority first


def test_a_request_woken_late_by_a_busy_machine_pushes_the_next_one_back(monkeypatch) -> None:
    real_sleep = asyncio.sleep
    late = [0.15]  # the first wait overruns by one and a half intervals

    async def oversleep(seconds: float) -> None:
        await real_sleep(seconds + (late.pop() if late else 0.0))

    monkeypatch.setattr(scheduling.asyncio, "sleep", oversleep)

    async def scenario() -> list[float]:
        limiter = RateLimiter(600)  # one request every 0.1 s
        return list(await asyncio.gather(*(limiter.wait() for _ in range(4))))

    granted = sorted(asyncio.run(scenario()))
    assert all(b - a >= 0.1 for a, b in itertools.pairwise(granted)), granted  # never two at once
