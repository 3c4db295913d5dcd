"""How fast the previz renderer draws keyframes and animates clips at 1280×720 on this machine.

Draws every shot of the bundled example's plan, then renders a camera-move clip of each kind.
Prints frames per second for both and one line of JSON.

    python benchmarks/previz_bench.py [--lang zh] [--seconds 4]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from kaipai.planning.importer import document_from_screenplay
from kaipai.planning.rules import plan_document
from kaipai.previz.draw import draw_keyframe, save_keyframe
from kaipai.previz.motion import encode, frames
from kaipai.screenplay import parse_file
from kaipai.screenplay.examples import example_path

W, H, FPS = 1280, 720, 24
MOVES = ["static", "push_in", "pan_right", "handheld"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lang", default="zh", choices=["zh", "en"])
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    doc = plan_document(document_from_screenplay(parse_file(example_path(args.lang)))).document
    work = Path(tempfile.mkdtemp(prefix="kaipai-previz-bench-"))
    shots = doc.ordered_shots()
    started = time.perf_counter()
    for i, shot in enumerate(shots):
        chars = [c for c in (doc.character(p.character) for p in shot.composition) if c is not None]
        img, layout = draw_keyframe(shot, doc.scene(shot.scene), chars, doc.style, W, H, args.lang)
        save_keyframe(img, layout, str(work / f"k{i}.png"))
    key_fps = len(shots) / (time.perf_counter() - started)
    clip_fps = {}
    for move in MOVES:
        t0 = time.perf_counter()
        n = encode(frames(work / "k1.png", move, args.seconds, FPS, W, H), work / f"{move}.mp4", FPS, W, H)
        clip_fps[move] = round(n / (time.perf_counter() - t0), 1)
    result = {"benchmark": "previz", "size": f"{W}x{H}", "machine": f"{platform.machine()} {os.cpu_count()} cores", "keyframes_per_s": round(key_fps, 1), "clip_frames_per_s": clip_fps, "realtime_fps": FPS}
    print(f"keyframes {key_fps:.1f}/s · clip frames/s " + ", ".join(f"{m} {v}" for m, v in clip_fps.items()) + f" (real time is {FPS})")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
