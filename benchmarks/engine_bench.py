"""Render-engine benchmark: scheduling efficiency and the cost of a no-op re-render.

Renders a 100-shot film with the ``simulated`` backends (provider latencies scaled down
200×: speech ~2 s → 10 ms, image ~10 s → 50 ms, video ~60 s → 300 ms, lip sync ~30 s →
150 ms; log-normal jitter; per-backend concurrency limits; 5 % transient failures retried
with backoff) and compares the makespan with its lower bound: the larger of

- the critical path: over shots, max(slowest voice line, keyframe) + clip + lip sync, and
- the total work of each backend divided by its concurrency (its busiest possible use).

The makespan runs from the first job's start to the last job's end; the render's whole
wall time (which also parses kaipai.yaml — about half a second for 100 shots on the
round-trip parser — and plans) is printed beside it. Then it renders again with nothing
changed and times that (every take is reused).

    python benchmarks/engine_bench.py [--shots 100] [--scale 200] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from kaipai.backends.simulated import SimulatedBackend
from kaipai.build.db import TakesDB
from kaipai.build.engine import EngineSettings
from kaipai.build.scheduling import RetryPolicy
from kaipai.document.io import new_document_text
from kaipai.document.models import BackendChoice, Cast, Character, DialogueLine, Document, Placement, Project, Scene, Shot
from kaipai.service.project import ProjectPaths
from kaipai.service.render import render

#: Typical provider seconds per request and how many run at once.
PROVIDERS = {
    "speech": (2.0, 8),
    "image": (10.0, 4),
    "video": (60.0, 4),
    "lipsync": (30.0, 2),
}
STAGE_CAP = {"voice": "speech", "keyframe": "image", "clip": "video", "lipsync": "lipsync"}


def film(shots: int, options: dict) -> Document:
    """A film whose shots alternate: establishing (no dialogue), a single with on-screen lines, a two-shot with V.O."""
    chars = [Character(id="a", name="阿安"), Character(id="b", name="老白")]
    scenes = [Scene(id=f"S{i:02d}", heading=f"{i}-1 日 内 房间") for i in range(1, shots // 10 + 2)]
    out = []
    for i in range(shots):
        kind = i % 3
        shot = Shot(id=f"SH{i:03d}", scene=scenes[i // 10].id, order=i, description=f"镜头 {i}", duration=3.0)
        if kind == 1:
            shot.composition = [Placement(character="a")]
            shot.dialogue = [DialogueLine(id=f"L{i:03d}a", speaker="a", text="我们得走了" * (1 + i % 2)), DialogueLine(id=f"L{i:03d}b", speaker="a", text="现在")]
        elif kind == 2:
            shot.composition = [Placement(character="a"), Placement(character="b")]
            shot.dialogue = [DialogueLine(id=f"L{i:03d}c", speaker="b", text="等一下，我还没准备好"), DialogueLine(id=f"L{i:03d}d", speaker="a", text="来不及了", delivery="V.O.")]
        out.append(shot)
    backends = {cap: BackendChoice(use="simulated", options=options) for cap in PROVIDERS}
    return Document(project=Project(title="bench", resolution=(320, 180), fps=12), cast=Cast(characters=chars), scenes=scenes, shots=out, backends=backends)


def lower_bound(paths: ProjectPaths, options: dict) -> tuple[float, float, dict[str, float]]:
    """(critical path, busiest backend's work/capacity, work per backend) from the rendered takes' keys."""
    sim = SimulatedBackend(**options)
    with TakesDB(paths.database) as db:
        takes = db.all_takes()
    latency: dict[str, float] = {}
    work: dict[str, float] = defaultdict(float)
    per_shot: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for t in takes:
        cap = STAGE_CAP.get(t.stage)
        if cap is None:
            continue
        lat = sim.latency_for(cap, t.key)
        latency[t.node] = lat
        work[cap] += lat
        per_shot[t.shot][t.stage].append(lat)
    critical = max(max(max(s.get("voice", [0.0])), max(s.get("keyframe", [0.0]))) + max(s.get("clip", [0.0])) + max(s.get("lipsync", [0.0])) for s in per_shot.values())
    capacity = {cap: work[cap] / PROVIDERS[cap][1] for cap in work}
    return critical, max(capacity.values()), capacity


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shots", type=int, default=100)
    parser.add_argument("--scale", type=float, default=200.0, help="Divide provider latencies by this.")
    parser.add_argument("--failure-rate", type=float, default=0.05)
    parser.add_argument("--keep", type=Path, default=None, help="Render into this folder and keep it.")
    args = parser.parse_args()

    root = args.keep or Path(tempfile.mkdtemp(prefix="kaipai-bench-"))
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
    settings = EngineSettings(retry=RetryPolicy(max_attempts=6, base=2.0 / args.scale, cap=20.0 / args.scale))

    retries = 0
    first_start: float | None = None
    last_done = 0.0

    def watch(event: object) -> None:
        nonlocal retries, first_start, last_done
        kind = getattr(event, "kind", "")
        retries += kind == "retry"
        if kind == "started" and first_start is None:
            first_start = time.perf_counter()
        if kind == "done":
            last_done = time.perf_counter()

    t0 = time.perf_counter()
    first = render(paths, settings=settings, on_event=watch)
    wall = time.perf_counter() - t0
    makespan = last_done - (first_start or t0)
    critical, busiest, per_backend = lower_bound(paths, options)
    bound = max(critical, busiest)

    noop_times = []
    for _ in range(3):
        t0 = time.perf_counter()
        again = render(paths, settings=settings)
        noop_times.append(time.perf_counter() - t0)
        assert again.generated == 0, again
    log_keys = (root / "requests.log").read_text().split("\n")
    keys = [ln.split("\t")[0] for ln in log_keys if ln]

    print(f"shots                 {args.shots}")
    print(f"nodes generated       {first.generated} (failed {first.failed}, transient retries {retries})")
    print(f"generation requests   {len(keys)} ({len(keys) - len(set(keys))} repeated keys)")
    print("backend work/capacity " + ", ".join(f"{cap} {v:.2f} s" for cap, v in sorted(per_backend.items())))
    print(f"critical path         {critical:.2f} s")
    print(f"lower bound           {bound:.2f} s")
    print(f"makespan              {makespan:.2f} s  ({makespan / bound:.3f}× the lower bound; target ≤ 1.15×) — first job start to last job done")
    print(f"render wall time      {wall:.2f} s  ({wall / bound:.3f}×) — also reading kaipai.yaml, planning, writing durations back")
    print(f"no-op re-render       {statistics.median(noop_times):.3f} s median of 3 (target < 1 s)")
    if args.keep is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
