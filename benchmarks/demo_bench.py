"""The README's first command, timed: a fresh virtual environment, ``pip install .``, ``kaipai demo``.

Reports the install time, the demo's wall time (target: a one-minute film in under 60 s on
2 cores) and checks what a viewer would: the film is as long as the planned shots, every line
of dialogue is audible where the subtitles put it. Prints a table and one line of JSON.

    python benchmarks/demo_bench.py [--lang zh|en] [--reuse-env DIR] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHECK = r"""
import json, sys
from pathlib import Path
import av, numpy as np, pysubs2
from kaipai.document.io import load
folder = Path(sys.argv[1])
doc = load(folder / "kaipai.yaml").doc
film = folder / "output" / "film.mp4"
with av.open(str(film)) as c:
    duration = float(c.duration) / 1e6
    a = c.streams.audio[0]
    rate = a.rate
    pcm = np.concatenate([f.to_ndarray().mean(axis=0) for f in c.decode(a)])
planned = sum(s.duration for s in doc.shots)
subs = pysubs2.load(str(next((folder / "output").glob("*.srt"))))
def rms(t0, t1):
    seg = pcm[int(t0 * rate): int(t1 * rate)]
    return float(np.sqrt(np.mean(seg ** 2))) if len(seg) else 0.0
lines = [rms(e.start / 1000, e.end / 1000) for e in subs]
print(json.dumps({"film_s": duration, "planned_s": planned, "shots": len(doc.shots),
                  "subtitles": len(subs), "dialogue_lines": sum(len(s.dialogue) for s in doc.shots),
                  "quietest_line_rms": min(lines) if lines else 0.0, "film_rms": rms(0, duration)}))
"""


def run(cmd: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, env=env)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lang", default="zh", choices=["zh", "en"])
    parser.add_argument(
        "--reuse-env", type=Path, help="Use this virtual environment instead of a fresh one (skips the install)."
    )
    parser.add_argument("--keep", type=Path, help="Keep the demo project here.")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="kaipai-demo-bench-"))
    install_s = 0.0
    if args.reuse_env:
        env_dir = args.reuse_env
    else:
        env_dir = work / "venv"
        venv.create(env_dir, with_pip=True)
        install_s = run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q", str(REPO)])
    folder = args.keep or work / "demo"
    env = {**os.environ, "PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    demo_s = run([str(env_dir / "bin" / "kaipai"), "demo", str(folder), "--lang", args.lang], env=env)
    rerun_s = run([str(env_dir / "bin" / "kaipai"), "demo", str(folder), "--lang", args.lang], env=env)
    checked = json.loads(
        subprocess.run(
            [str(env_dir / "bin" / "python"), "-c", CHECK, str(folder)], check=True, capture_output=True, text=True
        ).stdout
    )
    result = {
        "benchmark": "demo",
        "lang": args.lang,
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "install_s": round(install_s, 1),
        "demo_s": round(demo_s, 1),
        "rerun_s": round(rerun_s, 1),
        **{k: round(v, 3) if isinstance(v, float) else v for k, v in checked.items()},
        "seconds_per_film_minute": round(demo_s / max(checked["film_s"] / 60, 1e-9), 1),
        "target_s_per_film_minute": 60,
    }
    print(
        f"install {install_s:.0f} s · demo {demo_s:.1f} s for a {checked['film_s']:.1f} s film "
        f"({result['seconds_per_film_minute']} s per film minute, target < 60) · re-run {rerun_s:.1f} s"
    )
    print(
        f"film {checked['film_s']:.2f} s vs planned {checked['planned_s']:.2f} s · "
        f"{checked['subtitles']} subtitles for {checked['dialogue_lines']} lines · "
        f"quietest line RMS {checked['quietest_line_rms']:.4f}"
    )
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
