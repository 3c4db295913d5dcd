"""How fast the previz renderer draws keyframes, animates clips and lip-syncs them at 1280×720.

Draws every shot of the bundled example's plan, renders a clip of each camera move from one of
them, and lip-syncs one clip to a synthetic line. Prints frames per second by wall clock and by
CPU time (the fairer figure on a shared machine), and one line of JSON. Real time is 24 frames/s;
the demo target (a one-minute film end to end in under 60 s on 2 cores) needs the clips many
times faster than that.

    python benchmarks/previz_bench.py [--lang zh] [--seconds 4]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np

from kaipai.planning.importer import document_from_screenplay
from kaipai.planning.rules import plan_document
from kaipai.previz.draw import draw_keyframe, save_keyframe
from kaipai.previz.motion import encode, frames
from kaipai.previz.mouth import lipsync_clip
from kaipai.screenplay import parse_file
from kaipai.screenplay.examples import example_path

W, H, FPS = 1280, 720, 24
MOVES = ["static", "push_in", "pull_out", "pan_right", "tilt_up", "crane_up", "handheld", "orbit"]


def timed(job: Callable[[], int]) -> tuple[float, float]:
    """(items per wall second, items per CPU second) of ``job``, which returns its item count."""
    wall, cpu = time.perf_counter(), time.process_time()
    n = job()
    return n / (time.perf_counter() - wall), n / max(1e-9, time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lang", default="zh", choices=["zh", "en"])
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    doc = plan_document(document_from_screenplay(parse_file(example_path(args.lang)))).document
    work = Path(tempfile.mkdtemp(prefix="kaipai-previz-bench-"))
    shots = doc.ordered_shots()
    two = next((i for i, s in enumerate(shots) if len(s.composition) >= 2), 0)

    def draw_all() -> int:
        for i, shot in enumerate(shots):
            chars = [c for c in (doc.character(p.character) for p in shot.composition) if c is not None]
            img, layout = draw_keyframe(shot, doc.scene(shot.scene), chars, doc.style, W, H, args.lang)
            save_keyframe(img, layout, str(work / f"k{i}.png"))
        return len(shots)

    key_wall, key_cpu = timed(draw_all)
    key = work / f"k{two}.png"
    clips: dict[str, tuple[float, float]] = {}
    for move in MOVES:
        clips[move] = timed(
            lambda m=move: encode(
                frames(key, m, args.seconds, FPS, W, H),
                work / f"{m}.mp4",
                FPS,
                W,
                H,
                {"comment": json.dumps({"move": m})},
            )
        )
    line = work / "line.wav"
    rate = 24000
    t = np.arange(int(args.seconds * rate)) / rate
    with wave.open(str(line), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(rate)
        w.writeframes(
            (8000 * np.sin(2 * np.pi * 160 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype("<i2").tobytes()
        )
    speaker = shots[two].composition[0].character if shots[two].composition else ""
    lip = timed(lambda: lipsync_clip(work / "static.mp4", line, [(speaker, 0.0, args.seconds)], FPS, work / "lip.mp4"))
    result = {
        "benchmark": "previz",
        "size": f"{W}x{H}",
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "keyframes_per_s": round(key_wall, 1),
        "keyframes_per_cpu_s": round(key_cpu, 1),
        "clip_frames_per_s": {m: round(v[0], 1) for m, v in clips.items()},
        "clip_frames_per_cpu_s": {m: round(v[1], 1) for m, v in clips.items()},
        "lipsync_frames_per_s": round(lip[0], 1),
        "lipsync_frames_per_cpu_s": round(lip[1], 1),
        "realtime_fps": FPS,
    }
    slowest = min(v[0] for v in clips.values())
    print(
        f"keyframes {key_wall:.1f}/s ({key_cpu:.1f} per CPU s) · clips: "
        + ", ".join(f"{m} {v[0]:.0f}" for m, v in clips.items())
        + f" frames/s (slowest {slowest / FPS:.1f}× real time) · lip sync {lip[0]:.0f} frames/s · real time is {FPS}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
