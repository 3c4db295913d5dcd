"""Rendering on Ray: a local Ray instance (2 CPUs and one logical GPU) started once for this module.

The same film comes out on the cluster as on this machine's threads; a worker killed mid-job
loses nothing and pays for nothing twice; a cancelled render stops the cluster's jobs; a
killed driver is resumed by the next render; a diffusers pipeline is loaded once per worker
and serves every keyframe; GPU backends that outnumber the GPUs take turns instead of waiting
on each other forever.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray

from kaipai.document.backend_choice import BackendChoice
from kaipai.document.execution import ExecutorChoice, WorkerResources
from kaipai.engine.db import Take, TakesDB
from kaipai.engine.engine import EngineSettings
from kaipai.service.render import render
from tests.support.films import Film, many_shot_film, small_film
from tests.support.tiny_diffusers import build_tiny_sd

# One Ray instance for the module: its tests stay on one test worker (the suite runs with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("ray")
REPO = Path(__file__).resolve().parents[2]
QUICK = {"speech": 0.02, "image": 0.02, "video": 0.02, "lipsync": 0.02, "music": 0.02}


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """The local Ray instance; yields its address for drivers in other processes."""
    ray.init(
        num_cpus=2,
        num_gpus=1,
        object_store_memory=200 * 2**20,
        include_dashboard=False,
        log_to_driver=False,
        namespace="kaipai",
    )
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


def on_ray(film: Film, **choice: Any) -> EngineSettings:
    return dataclasses.replace(film.settings, executor=ExecutorChoice(use="ray", **choice))


def takes(film: Film) -> list[Take]:
    with TakesDB(film.paths.database) as db:
        return db.all_takes()


def circled(film: Film) -> dict[str, str]:
    return {t.node: t.media for t in takes(film) if t.status == "circled"}


def pid_of(worker: str) -> int:
    match = re.search(r"pid (\d+)", worker)
    assert match, worker
    return int(match.group(1))


def wait_for(condition: Any, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.05)
    return None


def submitted_clips(film: Film) -> list[dict[str, str]]:
    """Clip jobs running on a worker whose provider job id the driver has committed."""
    if not film.paths.database.exists():
        return []
    with TakesDB(film.paths.database) as db:
        jobs = db.jobs()
        return [r for r in db.running() if r["node"].endswith("/clip") and r["key"] in jobs]


def test_a_twenty_shot_film_renders_to_the_same_circled_takes_as_on_threads(cluster: str, tmp_path: Path) -> None:
    options = {"latency": QUICK, "jitter": 0.5, "failure_rate": 0.1, "retry_after": 0.0, "concurrency": 3}
    threads = Film(tmp_path / "threads", options)
    cluster_film = Film(tmp_path / "cluster", options)
    for f in (threads, cluster_film):
        f.paths.root.mkdir(parents=True)
    threads.write(many_shot_film(20, threads.options))
    doc = many_shot_film(20, cluster_film.options)
    doc.executor = ExecutorChoice(use="ray", transfer="object_store")  # chosen in kaipai.yaml, files via Ray
    cluster_film.write(doc)

    local = render(threads.paths, settings=threads.settings)
    events: list[Any] = []
    remote = render(cluster_film.paths, settings=cluster_film.settings, on_event=events.append)

    assert local.ok and remote.ok, (local.failures, remote.failures)
    assert remote.generated == local.generated == 92
    assert circled(cluster_film) == circled(threads)
    assert not cluster_film.repeated()
    # Every backend job ran on a cluster worker and says where; shot audio is mixed by the driver.
    placed = {e.node: e.where for e in events if e.kind == "progress" and e.where}
    made = [t for t in takes(cluster_film) if t.stage != "shot_audio"]
    assert {t.node for t in made} <= set(placed)
    assert all(pid_of(t.metadata["worker"]) != os.getpid() for t in made)
    assert all("worker" not in t.metadata for t in takes(cluster_film) if t.stage == "shot_audio")
    again = render(cluster_film.paths, settings=cluster_film.settings)
    assert again.generated == 0 and again.reused == remote.generated


def test_a_worker_killed_mid_job_loses_nothing_and_no_paid_job_is_submitted_twice(
    cluster: str, film: Any, tmp_path: Path
) -> None:
    f = film({"asynchronous": True, "server": str(tmp_path / "provider"), "latency": {**QUICK, "video": 2.0}})
    killed: dict[str, Any] = {}

    def kill_the_clip_worker() -> None:
        rows = wait_for(lambda: submitted_clips(f), 60)
        if rows:
            killed["pid"] = pid_of(rows[0]["worker"])
            killed["nodes"] = {r["node"] for r in rows}
            os.kill(killed["pid"], signal.SIGKILL)

    killer = threading.Thread(target=kill_the_clip_worker)
    killer.start()
    summary = render(f.paths, settings=on_ray(f, transfer="shared"))
    killer.join()

    assert killed, "no clip job was seen running"
    assert summary.ok, summary.failures
    assert not f.repeated(), "a paid job was submitted twice"
    clips = {t.node: t for t in takes(f) if t.stage == "clip"}
    assert len(clips) == 3
    for node in killed["nodes"]:
        assert clips[node].metadata["resumed"] is True  # the restarted worker polled the recorded job
        assert clips[node].attempts >= 2
        assert pid_of(clips[node].metadata["worker"]) != killed["pid"]
    with TakesDB(f.paths.database) as db:
        assert db.jobs() == {} and db.running() == []


def test_cancelling_stops_the_cluster_jobs_and_the_next_render_resumes_them(
    cluster: str, film: Any, tmp_path: Path
) -> None:
    server = tmp_path / "provider"
    f = film({"asynchronous": True, "server": str(server), "latency": {**QUICK, "video": 60.0}})
    cancel = threading.Event()
    cancelled_at: list[float] = []

    def cancel_once_the_clips_are_submitted() -> None:
        wait_for(lambda: len(submitted_clips(f)) == 3, 60)
        cancelled_at.append(time.monotonic())
        cancel.set()

    canceller = threading.Thread(target=cancel_once_the_clips_are_submitted)
    canceller.start()
    summary = render(f.paths, settings=on_ray(f), cancel=cancel)
    canceller.join()

    assert summary.cancelled and cancelled_at
    assert time.monotonic() - cancelled_at[0] < 10, "the workers went on waiting for the provider"
    assert not [t for t in takes(f) if t.stage in ("clip", "lipsync")]
    # Meanwhile the provider finished the three clips; the next render collects them by id.
    for job in server.glob("*.json"):
        job.write_text(json.dumps({**json.loads(job.read_text()), "due": time.time()}))
    again = render(f.paths, settings=on_ray(f))
    assert again.ok, again.failures
    assert not f.repeated()
    assert all(t.metadata["resumed"] for t in takes(f) if t.stage == "clip")


DRIVER = """
import sys
from pathlib import Path
from kaipai.document.execution import ExecutorChoice
from kaipai.engine.engine import EngineSettings
from kaipai.engine.scheduling import RetryPolicy
from kaipai.project import ProjectPaths
from kaipai.service.render import render

settings = EngineSettings(retry=RetryPolicy(4, 0.01, 0.05), executor=ExecutorChoice(use="ray", address=sys.argv[2]))
render(ProjectPaths(Path(sys.argv[1])), settings=settings)
"""


def test_a_driver_killed_mid_render_is_resumed_by_the_next_render(cluster: str, film: Any, tmp_path: Path) -> None:
    f = film({"asynchronous": True, "server": str(tmp_path / "provider"), "latency": {**QUICK, "video": 2.0}})
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    driver = subprocess.Popen(
        [sys.executable, str(script), str(f.paths.root), cluster],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_for(lambda: len(submitted_clips(f)) == 3, 120), "the driver never sent its clips"
    finally:
        driver.send_signal(signal.SIGKILL)
        driver.wait()

    summary = render(f.paths, settings=on_ray(f))
    assert summary.ok, summary.failures
    assert not f.repeated()
    clips = [t for t in takes(f) if t.stage == "clip"]
    assert len(clips) == 3 and all(t.metadata["resumed"] for t in clips)


@pytest.mark.slow
def test_a_warm_worker_serves_every_keyframe_from_one_loaded_pipeline(cluster: str, film: Any, tmp_path: Path) -> None:
    model = build_tiny_sd(tmp_path / "tiny-sd")
    f = film({"latency": QUICK})
    doc = small_film(f.options)
    establishing = doc.shots[0]  # nobody in frame: no reference sheet to make first
    doc.shots = [establishing.model_copy(update={"id": f"E{i}", "order": i}) for i in range(1, 5)]
    doc.project.resolution = (64, 48)
    doc.backends["image"] = BackendChoice(use="diffusers", model=str(model), options={"device": "cpu", "steps": 2})
    f.write(doc)
    loaded: dict[str, Any] = {}
    done: list[str] = []

    def count_loads(backend: Any) -> Any:
        from kaipai.backends.diffusers.runtime import load_counts

        return {key.model: n for key, n in load_counts().items()}

    def watch(event: Any) -> None:
        if event.kind == "done" and event.stage == "keyframe":
            done.append(event.node)
            if len(done) == 4:  # the worker is still up: ask it what it loaded
                [name] = [a["name"] for a in ray.util.list_named_actors(all_namespaces=True) if "-image-" in a["name"]]
                pool = name.rsplit("-", 1)[0]  # the worker's name is its pool's and its number
                loaded.update(ray.get(ray.get_actor(name, namespace="kaipai").inspect.remote(pool, count_loads)))

    summary = render(f.paths, settings=on_ray(f), stages=["keyframe"], on_event=watch)

    assert summary.ok and summary.generated == 4, summary.failures
    assert loaded == {str(model): 1}  # one pipeline, loaded once, for four keyframes
    keyframes = [t for t in takes(f) if t.stage == "keyframe"]
    assert len({t.metadata["worker"] for t in keyframes}) == 1
    assert all(t.width == 64 and t.height == 48 for t in keyframes)
    assert len({t.media for t in keyframes}) == 4  # four seeds, four pictures


def test_gpu_backends_outnumbering_the_gpus_take_turns(cluster: str, film: Any) -> None:
    f = film({"latency": QUICK})
    one_gpu = WorkerResources(num_gpus=1)
    summary = render(f.paths, settings=on_ray(f, resources={"image": one_gpu, "video": one_gpu}))
    assert summary.ok, summary.failures
    made = {t.stage: t.metadata["worker"] for t in takes(f) if t.stage in ("keyframe", "clip", "voice")}
    assert "GPU 0" in made["keyframe"] and "GPU 0" in made["clip"]
    assert "GPU" not in made["voice"]  # a service's client holds no GPU


def test_a_backend_no_node_can_hold_fails_its_own_jobs_saying_what_to_do(cluster: str, film: Any) -> None:
    f = film({"latency": QUICK})
    summary = render(f.paths, settings=on_ray(f, resources={"video": WorkerResources(num_gpus=4)}))
    clips = [n for n in summary.failures if n.endswith("/clip")]
    assert len(clips) == 3 and summary.failed == 3
    assert all(
        "no node of the Ray cluster can hold a worker of simulated (video) (4 GPU" in summary.failures[n] for n in clips
    )
    assert {t.stage for t in takes(f)} == {"sheet", "voice", "shot_audio", "keyframe"}  # the rest rendered
