"""Render-engine benchmark: scheduling efficiency and the cost of a no-op re-render.

Renders a 100-shot film with the ``simulated`` backends — provider latencies of real services
(speech ~2 s, image ~10 s, video ~60 s, lip sync ~30 s, music ~20 s per request, log-normal
jitter), per-backend concurrency limits, 5 % transient failures retried with backoff and
jitter — with time scaled down (200× by default) so the whole run takes seconds. It compares
the makespan with its lower bound, the larger of

- the critical path: the longest chain of requests through the artifact graph (voice →
  clip → lip sync, keyframe → clip, the voices a music cue spans → music), and
- each backend's total work divided by its concurrency (its busiest possible use).

The makespan runs from the first job's start to the last job's end; the render's whole wall
time (reading kaipai.yaml, planning, writing durations back) is reported beside it. Then it
renders again with nothing changed, three times, and reports the median (every take reused).

With ``--executor ray`` the render runs on a Ray instance the benchmark starts on this machine
(``--ray-cpus``, 2 by default; its start-up is not timed): the same makespan against the bound,
then the same film rendered by the thread executor for comparison. For both it reports the
scheduling overhead per job: the time from the run loop starting a job to its take being
committed, beyond the backend's own time (dispatch, moving files, the commit).

Prints a table, then one line of JSON.

    python benchmarks/engine_bench.py [--shots 100] [--scale 200] [--failure-rate 0.05] [--keep DIR]
                                      [--executor thread|ray] [--ray-cpus 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from kaipai.backends.simulated import SimulatedBackend
from kaipai.document.backend_choice import BackendChoice
from kaipai.document.cast import Cast, Character
from kaipai.document.execution import ExecutorChoice
from kaipai.document.io import load, new_document_text
from kaipai.document.models import Document
from kaipai.document.scenes import Scene
from kaipai.document.settings import Project
from kaipai.document.shots import DialogueLine, Placement, Shot
from kaipai.engine.db import TakesDB
from kaipai.engine.engine import EngineSettings
from kaipai.engine.graph import build_graph
from kaipai.engine.scheduling import RetryPolicy
from kaipai.engine.stages import CAPABILITY
from kaipai.project import ProjectPaths
from kaipai.service.render import render

#: Typical provider seconds per request and how many requests each provider runs at once.
PROVIDERS = {
    "speech": (2.0, 8),
    "image": (10.0, 4),
    "video": (60.0, 4),
    "lipsync": (30.0, 2),
    "music": (20.0, 2),
}
TARGET_RATIO = 1.15
TARGET_RATIO_RAY = 1.25
TARGET_NOOP = 1.0


def film(shots: int, options: dict) -> Document:
    """Shots alternate: establishing (no dialogue), a single with on-screen lines, a two-shot with a V.O.
    line; every scene of ten shots opens with a music cue."""
    chars = [Character(id="a", name="阿安"), Character(id="b", name="老白")]
    scenes = [Scene(id=f"S{i:02d}", heading=f"{i}-1 日 内 房间") for i in range(1, shots // 10 + 2)]
    out = []
    for i in range(shots):
        kind = i % 3
        shot = Shot(id=f"SH{i:03d}", scene=scenes[i // 10].id, order=i, description=f"镜头 {i}", duration=3.0)
        if i % 10 == 0:
            shot.music = f"第{i // 10 + 1}场的配乐，弦乐，缓慢"
        if kind == 1:
            shot.composition = [Placement(character="a")]
            shot.dialogue = [
                DialogueLine(id=f"L{i:03d}a", speaker="a", text="我们得走了" * (1 + i % 2)),
                DialogueLine(id=f"L{i:03d}b", speaker="a", text="现在"),
            ]
        elif kind == 2:
            shot.composition = [Placement(character="a"), Placement(character="b")]
            shot.dialogue = [
                DialogueLine(id=f"L{i:03d}c", speaker="b", text="等一下，我还没准备好"),
                DialogueLine(id=f"L{i:03d}d", speaker="a", text="来不及了", delivery="V.O."),
            ]
        out.append(shot)
    backends = {cap: BackendChoice(use="simulated", options=options) for cap in PROVIDERS}
    return Document(
        project=Project(title="bench", resolution=(320, 180), fps=12),
        cast=Cast(characters=chars),
        scenes=scenes,
        shots=out,
        backends=backends,
    )


def lower_bound(paths: ProjectPaths, options: dict) -> tuple[float, dict[str, float]]:
    """(critical path, work ÷ concurrency per backend), from the latencies of the circled takes' keys."""
    sim = SimulatedBackend(**options)
    with TakesDB(paths.database) as db:
        takes = {t.node: t for t in db.all_takes() if t.status == "circled"}
    work: dict[str, float] = defaultdict(float)
    finish: dict[str, float] = {}
    for node in build_graph(load(paths.document).doc).values():  # dependencies come first
        cap = CAPABILITY[node.stage]
        latency = sim.latency_for(cap, takes[node.id].key) if cap else 0.0
        if cap:
            work[cap] += latency
        finish[node.id] = max((finish[d] for d in node.deps), default=0.0) + latency
    return max(finish.values()), {cap: w / PROVIDERS[cap][1] for cap, w in work.items()}


def render_once(root: Path, args: argparse.Namespace, executor: ExecutorChoice | None) -> dict:
    """Render the film once into ``root``; the makespan, its bound and the overhead per job."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    options = {
        "latency": {cap: secs / args.scale for cap, (secs, _) in PROVIDERS.items()},
        "concurrency": {cap: n for cap, (_, n) in PROVIDERS.items()},
        "jitter": 0.3,
        "failure_rate": args.failure_rate,
        "retry_after": 0.0,
        "media": "bytes",
        "log": str(root / "requests.log"),
    }
    paths = ProjectPaths(root)
    paths.document.write_text(new_document_text(film(args.shots, options)), encoding="utf-8")
    settings = EngineSettings(
        retry=RetryPolicy(max_attempts=6, base=2.0 / args.scale, cap=20.0 / args.scale), executor=executor
    )

    retries = 0
    first_start: float | None = None
    last_done = 0.0
    started: dict[str, float] = {}
    finished: dict[str, float] = {}

    def watch(event: object) -> None:
        nonlocal retries, first_start, last_done
        kind = getattr(event, "kind", "")
        retries += kind == "retry"
        now = time.perf_counter()
        if kind == "started":
            first_start = first_start or now
            started[event.node] = now  # type: ignore[attr-defined]  # the last attempt's start
        if kind == "done":
            last_done = finished[event.node] = now  # type: ignore[attr-defined]

    t0 = time.perf_counter()
    summary = render(paths, settings=settings, on_event=watch)
    wall = time.perf_counter() - t0
    makespan = last_done - (first_start or t0)
    critical, per_backend = lower_bound(paths, options)
    with TakesDB(paths.database) as db:
        backend_seconds = {t.node: t.seconds for t in db.all_takes() if t.stage != "shot_audio"}
    overhead = [
        (finished[n] - started[n] - backend_seconds[n]) * 1000
        for n in backend_seconds
        if n in started and n in finished
    ]
    keys = [line.split("\t")[0] for line in (root / "requests.log").read_text().splitlines() if line]
    return {
        "paths": paths,
        "settings": settings,
        "summary": summary,
        "retries": retries,
        "wall": wall,
        "makespan": makespan,
        "critical": critical,
        "per_backend": per_backend,
        "bound": max(critical, *per_backend.values()),
        "overhead_ms": statistics.mean(overhead) if overhead else 0.0,
        "overhead_p50_ms": statistics.median(overhead) if overhead else 0.0,
        "keys": keys,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--shots", type=int, default=100)
    parser.add_argument("--scale", type=float, default=200.0, help="Divide provider latencies by this.")
    parser.add_argument("--failure-rate", type=float, default=0.05)
    parser.add_argument("--keep", type=Path, default=None, help="Render into this folder and keep it.")
    parser.add_argument("--executor", choices=("thread", "ray"), default="thread")
    parser.add_argument("--ray-cpus", type=int, default=2, help="CPUs of the local Ray instance (--executor ray).")
    args = parser.parse_args()

    base = args.keep or Path(tempfile.mkdtemp(prefix="kaipai-bench-"))
    executor = None
    if args.executor == "ray":
        import ray

        t0 = time.perf_counter()
        ray.init(num_cpus=args.ray_cpus, include_dashboard=False, log_to_driver=False, logging_level="warning")
        ray_start = time.perf_counter() - t0
        executor = ExecutorChoice(use="ray")
    run = render_once(base / "film", args, executor)
    first, paths, bound, makespan = run["summary"], run["paths"], run["bound"], run["makespan"]
    peer = render_once(base / "film-threads", args, None) if executor is not None else None

    noop_times = []
    for _ in range(3):
        t0 = time.perf_counter()
        again = render(paths, settings=run["settings"])
        noop_times.append(time.perf_counter() - t0)
        assert again.generated == 0 and again.failed == 0, again
    noop = statistics.median(noop_times)
    if executor is not None:
        ray.shutdown()
    keys = run["keys"]

    target = TARGET_RATIO_RAY if executor is not None else TARGET_RATIO
    ratio = makespan / bound
    title = f"render engine ({args.executor}): {args.shots} shots, simulated providers, time ÷ {args.scale:g}"
    table = Table(title=title)
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("note")
    table.add_row(
        "nodes generated", str(first.generated), f"failed {first.failed}, transient failures retried {run['retries']}"
    )
    table.add_row("generation requests", str(len(keys)), f"{len(keys) - len(set(keys))} repeated keys")
    for cap, value in sorted(run["per_backend"].items()):
        table.add_row(
            f"{cap} work ÷ concurrency",
            f"{value:.2f} s",
            f"{PROVIDERS[cap][1]} at once, ~{PROVIDERS[cap][0]:g} s each unscaled",
        )
    table.add_row("critical path", f"{run['critical']:.2f} s", "longest chain of requests through the graph")
    table.add_row("lower bound", f"{bound:.2f} s", "max(critical path, busiest backend)")
    table.add_row(
        "makespan",
        f"{makespan:.2f} s",
        f"[{'green' if ratio <= target else 'red'}]{ratio:.3f}× the bound[/] (target ≤ {target}×)",
    )
    table.add_row(
        "render wall time",
        f"{run['wall']:.2f} s",
        f"{run['wall'] / bound:.3f}×, with reading kaipai.yaml, planning, durations written back",
    )
    table.add_row(
        "scheduling overhead per job",
        f"{run['overhead_ms']:.1f} ms",
        f"mean (median {run['overhead_p50_ms']:.1f} ms): start → committed, beyond the backend's own time",
    )
    if peer is not None:
        table.add_row("Ray start-up", f"{ray_start:.2f} s", f"local instance, {args.ray_cpus} CPUs (not timed above)")
        table.add_row(
            "thread executor makespan",
            f"{peer['makespan']:.2f} s",
            f"{peer['makespan'] / peer['bound']:.3f}× its bound; Ray ÷ threads = {makespan / peer['makespan']:.3f}",
        )
        table.add_row(
            "thread executor overhead per job",
            f"{peer['overhead_ms']:.1f} ms",
            f"mean (median {peer['overhead_p50_ms']:.1f} ms)",
        )
    table.add_row(
        "no-op re-render",
        f"{noop:.3f} s",
        f"[{'green' if noop < TARGET_NOOP else 'red'}]median of 3[/] (target < {TARGET_NOOP:g} s)",
    )
    Console().print(table)
    report = {
        "bench": "engine",
        "executor": args.executor,
        "shots": args.shots,
        "scale": args.scale,
        "generated": first.generated,
        "failed": first.failed,
        "retries": run["retries"],
        "requests": len(keys),
        "repeated_requests": len(keys) - len(set(keys)),
        "critical_path_s": round(run["critical"], 3),
        "backend_bound_s": {cap: round(v, 3) for cap, v in sorted(run["per_backend"].items())},
        "lower_bound_s": round(bound, 3),
        "makespan_s": round(makespan, 3),
        "ratio": round(ratio, 3),
        "ratio_target": target,
        "wall_s": round(run["wall"], 3),
        "overhead_ms_per_job": round(run["overhead_ms"], 2),
        "overhead_p50_ms_per_job": round(run["overhead_p50_ms"], 2),
        "noop_s": round(noop, 3),
        "noop_target_s": TARGET_NOOP,
    }
    if peer is not None:
        report.update(
            ray_start_s=round(ray_start, 3),
            thread_makespan_s=round(peer["makespan"], 3),
            thread_ratio=round(peer["makespan"] / peer["bound"], 3),
            ray_over_thread=round(makespan / peer["makespan"], 3),
            thread_overhead_ms_per_job=round(peer["overhead_ms"], 2),
        )
    print(json.dumps(report))
    if args.keep is None:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
