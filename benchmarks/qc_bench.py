"""What quality control costs on a previz render: CPU seconds per film minute, and its share of the render.

Renders the same planned film twice from scratch in fresh projects — once with quality control
switched off (every node treated as one it does not look at), once as shipped — and measures wall
time and CPU time (this process and its ffmpeg children). Then measures every take of the second
project again (``kaipai qc --recheck``, once to warm up, once measured), which is quality control's
own cost with nothing else running: the figure reported, since on a shared machine the difference
between the two renders is mostly other people's load. The film is the bundled example (both
languages by default) or the first scenes of a screenplay (``--script``, ``--scenes``). Target: the
cheap checks add under 10 % to a previz render.

    python benchmarks/qc_bench.py [--lang zh --lang en]
    python benchmarks/qc_bench.py --script tests/fixtures/screenplays/Big-Fish.fountain --scenes 12
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kaipai.engine.quality import Quality
from kaipai.project import ProjectPaths
from kaipai.service.cut import make_cut
from kaipai.service.demo import create_demo
from kaipai.service.document import new_project, plan_project
from kaipai.service.qc import check
from kaipai.service.render import render
from kaipai.service.takes import circled_media

TARGET = 0.10


def cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def measured(job: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, wall seconds, CPU seconds) of ``job``."""
    wall, used = time.perf_counter(), cpu()
    out = job()
    return out, time.perf_counter() - wall, cpu() - used


@contextmanager
def quality_off() -> Iterator[None]:
    original = Quality.rules
    Quality.rules = lambda self, node: None  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        Quality.rules = original  # type: ignore[method-assign]


def planned(where: Path, lang: str | None, script: Path | None, scenes: int) -> ProjectPaths:
    if script is None:
        assert lang is not None
        return create_demo(where, lang)
    from kaipai.document.io import update

    paths = new_project(where, script=script)
    plan_project(paths)

    def first_scenes(doc: Any) -> None:  # after planning: a plan re-reads the whole screenplay
        doc.scenes = doc.scenes[:scenes]
        kept = {s.id for s in doc.scenes}
        doc.shots = [s for s in doc.shots if s.scene in kept]

    if scenes:
        update(paths.document, first_scenes)
    return paths


def bench(name: str, lang: str | None, script: Path | None, scenes: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="kaipai-qc-bench-"))
    try:
        base = planned(work / "plan", lang, script, scenes)
        for side in ("off", "on"):
            (work / side).mkdir()
            shutil.copy(base.document, work / side / "kaipai.yaml")
            for extra in base.root.iterdir():
                if extra.suffix in (".fountain", ".txt"):
                    shutil.copy(extra, work / side / extra.name)
        off, on = ProjectPaths(work / "off"), ProjectPaths(work / "on")
        with quality_off():
            plain, wall_off, cpu_off = measured(lambda: render(off))
        checked, wall_on, cpu_on = measured(lambda: render(on))
        assert plain.ok and checked.ok, (plain.failures, checked.failures)
        check(on, again=True)  # loads OpenCV and the backends once, as the render did
        takes, wall_qc, cpu_qc = measured(lambda: check(on, again=True))
        _, _, cpu_cut = measured(lambda: make_cut(on))
        minutes = sum(m.duration for m in circled_media(on).values()) / 60
        flagged = sorted(checked.flagged)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "film": name,
        "film_minutes": round(minutes, 3),
        "takes_checked": takes,
        "render_wall_s": {"without_qc": round(wall_off, 2), "with_qc": round(wall_on, 2)},
        "render_cpu_s": {"without_qc": round(cpu_off, 2), "with_qc": round(cpu_on, 2)},
        "qc_cpu_s": round(cpu_qc, 3),
        "qc_wall_s": round(wall_qc, 3),
        "qc_cpu_s_per_film_minute": round(cpu_qc / minutes, 3),
        "qc_share_of_render_cpu": round(cpu_qc / cpu_off, 4),
        "qc_share_of_render_and_cut_cpu": round(cpu_qc / (cpu_off + cpu_cut), 4),
        "render_wall_overhead": round(wall_on / wall_off - 1, 4),
        "cut_cpu_s": round(cpu_cut, 2),
        "flagged_shots": flagged,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lang", action="append", choices=["zh", "en"], help="bundled example(s) (default: both)")
    parser.add_argument("--script", type=Path, help="a screenplay instead of the bundled examples")
    parser.add_argument("--scenes", type=int, default=10, help="with --script: its first N scenes (0: all)")
    args = parser.parse_args()
    runs = (
        [
            bench(
                f"{args.script.name} ({f'first {args.scenes} scenes' if args.scenes else 'whole'})",
                None,
                args.script,
                args.scenes,
            )
        ]
        if args.script
        else [bench(f"demo ({lang})", lang, None, 0) for lang in (args.lang or ["zh", "en"])]
    )
    for r in runs:
        share = r["qc_share_of_render_cpu"]
        print(
            f"{r['film']}: {r['film_minutes']:.2f} film min, {r['takes_checked']} takes; QC {r['qc_cpu_s']:.2f} CPU s "
            f"= {r['qc_cpu_s_per_film_minute']:.2f} CPU s per film minute = {share:.1%} of the render's CPU "
            f"({r['qc_share_of_render_and_cut_cpu']:.1%} with the cut); render wall {r['render_wall_s']['without_qc']}"
            f" s → {r['render_wall_s']['with_qc']} s ({r['render_wall_overhead']:+.1%}); "
            f"target < {TARGET:.0%}: {'met' if share < TARGET else 'NOT met'}"
        )
    print(
        json.dumps(
            {
                "benchmark": "qc",
                "target_share": TARGET,
                "runs": runs,
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
