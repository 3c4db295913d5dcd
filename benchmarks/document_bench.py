"""Feature-length projects stay fast: every command and studio edit at 1,660 shots, as a user runs them.

Runs the real commands in subprocesses (``python -m kaipai …`` with this checkout's code) on the
Big Fish screenplay (120 pages: 191 scenes, 1,660 planned shots, a 1.8 MB kaipai.yaml) and
reports each one's wall time, CPU time (user + system: the fairer figure on a loaded machine)
and peak memory against its target, the median of ``--repeat`` runs:

- ``new`` with the import and the first ``plan``; a re-``plan`` (nothing changed);
- the read-only commands ``validate``, ``shots``, ``status``, ``render --dry-run``,
  ``export shotlist`` (and ``validate`` right after the file was edited by hand: no cache);
- ``kaipai --help``; a no-op ``render`` of the demo film; a no-op ``render --no-cut`` of the
  whole Big Fish film, rendered once in the setup with the ``simulated`` backends and
  ``media: bytes`` (previz at 1,660 shots takes too long for a benchmark; the engine's work per
  node is the same, and a bytes-only film cannot be cut, hence ``--no-cut``), and ``status`` and
  ``export shotlist`` on that rendered film (they read every take: quality control's verdicts);
- studio requests through the studio's app in a process of its own, as its server runs them:
  open a shot (``GET /api/shots/ID``), save an edit (``PATCH``), a storyboard page, a search;
- scaling: the same commands on the screenplay repeated 1×, 4× and 16× (26,560 shots), time
  and peak memory per shot, and the growth exponent between the two largest sizes (1.0 is
  linear; it must stay under 1.15).

The checkout's modules are compiled to bytecode first, as installing a package does (a
``PYTHONDONTWRITEBYTECODE`` environment would otherwise have every command compile them again).

Prints tables, then one line of JSON.

    python benchmarks/document_bench.py [--repeat 3] [--scales 1,4,16] [--demo DIR] [--keep DIR]
"""

from __future__ import annotations

import argparse
import compileall
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))  # this checkout's code, as the commands below run it
SCRIPT = REPO / "tests" / "fixtures" / "screenplays" / "Big-Fish.fountain"
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src"), "COLUMNS": "120"}
READ_ONLY = ["validate", "shots", "status", "render --dry-run", "export shotlist"]
TARGETS = {
    "new": 2.0,
    "plan": 2.0,
    "re-plan": 2.0,
    **dict.fromkeys(READ_ONLY, 1.0),
    "validate (after a hand edit)": 1.0,
    "--help": 0.2,
    "render (no-op, demo)": 0.5,
    "render --no-cut (no-op, 1,660 shots)": 2.0,
    "status (rendered)": 1.0,
    "export shotlist (rendered)": 1.0,
}
STUDIO_TARGETS = {"open a shot": 0.1, "save an edit": 0.3, "storyboard page": 1.0, "search": 1.0}
RSS_TARGET_MB = 300
LINEAR = 1.15
console = Console()


def run(args: list[str], cwd: Path) -> dict[str, float]:
    """One command as a user runs it: wall and CPU seconds, peak resident memory in MB."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kaipai", *args], cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=err
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"kaipai {' '.join(args)} failed in {cwd}:\n{err.read().decode()[-3000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024}


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def screenplay(times: int, folder: Path) -> Path:
    """Big Fish, ``times`` over (the importer numbers the repeated scenes on)."""
    text = SCRIPT.read_text(encoding="utf-8")
    target = folder / f"big-fish-x{times}.fountain"
    target.write_text("\n\n".join([text] * times), encoding="utf-8")
    return target


def make_project(root: Path, name: str, script: Path) -> tuple[Path, dict[str, float], dict[str, float]]:
    """``new`` then the first ``plan``; their figures."""
    new = run(["new", name, "--script", str(script)], root)
    plan = run(["plan"], root / name)
    return root / name, new, plan


def command_figures(root: Path, script: Path, repeat: int) -> tuple[dict[str, dict[str, float]], Path]:
    figures: dict[str, list[dict[str, float]]] = {}
    project = None
    for i in range(repeat):
        folder, new, plan = make_project(root, f"bf{i}", script)
        figures.setdefault("new", []).append(new)
        figures.setdefault("plan", []).append(plan)
        project = project or folder
    assert project is not None
    for _ in range(repeat):
        figures.setdefault("re-plan", []).append(run(["plan"], project))
        for command in READ_ONLY:
            figures.setdefault(command, []).append(run(command.split(), project))
        doc = project / "kaipai.yaml"
        doc.write_text(doc.read_text(encoding="utf-8") + "# a note by hand\n", encoding="utf-8")
        figures.setdefault("validate (after a hand edit)", []).append(run(["validate"], project))
    return {k: median_of(v) for k, v in figures.items()}, project


def help_figures(root: Path, repeat: int) -> dict[str, float]:
    run(["--help"], root)  # the first one fills the help cache
    return median_of([run(["--help"], root) for _ in range(repeat)])


def demo_figures(root: Path, demo: Path | None, repeat: int) -> dict[str, float]:
    folder = root / "demo"
    if demo is not None:
        shutil.copytree(demo, folder)
    else:
        run(["demo", str(folder)], root)
    run(["render"], folder)  # settles anything the copy changed
    return median_of([run(["render"], folder) for _ in range(repeat)])


def rendered_film(project: Path, root: Path, repeat: int) -> tuple[dict[str, float], dict[str, dict[str, float]], Path]:
    """The whole film rendered on simulated backends once; then no-op renders and the commands that read
    every take. Returns (render, {command: figures}, folder)."""
    folder = root / "bf-rendered"
    if not (folder / ".kaipai" / "kaipai.db").exists():  # a kept folder keeps its render
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(project, folder)
        helper(["--simulated", str(folder)])
    first = run(["render", "--no-cut"], folder)
    run(["render", "--no-cut"], folder)  # settled: a kept folder's edits from the studio requests are rendered
    figures = {
        "render --no-cut (no-op, 1,660 shots)": median_of([run(["render", "--no-cut"], folder) for _ in range(repeat)]),
        "status (rendered)": median_of([run(["status"], folder) for _ in range(repeat)]),
        "export shotlist (rendered)": median_of([run(["export", "shotlist"], folder) for _ in range(repeat)]),
    }
    return first, figures, folder


def helper(args: list[str]) -> Any:
    """Run a part of this benchmark that needs kaipai in a process of its own (this one stays small:
    a child's peak memory counts its parent's at the fork) and return what it printed as JSON."""
    done = subprocess.run([sys.executable, __file__, *args], env=ENV, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def use_simulated(folder: Path) -> None:
    """Every generative capability on the simulated backends, writing bytes instead of media."""
    from kaipai.document.backend_choice import BackendChoice
    from kaipai.document.io import update

    options = {"media": "bytes"}  # the simulated backends' own limits (4 jobs at once per capability)

    def simulated(doc: Any) -> None:
        for cap in ("speech", "image", "video", "lipsync", "music"):
            doc.backends[cap] = BackendChoice(use="simulated", options=options)

    update(folder / "kaipai.yaml", simulated)
    print(json.dumps({"ok": True}))


def studio_figures(folder: Path, repeat: int) -> dict[str, float]:
    """Median seconds of studio requests, through the app as its server runs it."""
    import gc

    from fastapi.testclient import TestClient

    from kaipai.cli.app import GC_THRESHOLD
    from kaipai.project import ProjectPaths, load_document
    from kaipai.studio.app import create_app

    gc.set_threshold(*GC_THRESHOLD)  # as `kaipai studio` runs

    paths = ProjectPaths(folder)
    shots = [s.id for s in load_document(paths).ordered_shots()]
    picks = [shots[(i * 397) % len(shots)] for i in range(max(5, repeat * 3))]
    timings: dict[str, list[float]] = {}
    with TestClient(create_app(paths, "bench"), headers={"X-Kaipai-Token": "bench"}) as client:

        def timed(name: str, method: str, url: str, **kw: Any) -> None:
            start, cpu = time.perf_counter(), time.process_time()
            response = client.request(method, url, **kw)
            timings.setdefault(name, []).append(time.perf_counter() - start)
            timings.setdefault(name + " (CPU)", []).append(time.process_time() - cpu)
            assert response.status_code == 200, response.text

        client.get(f"/api/shots/{picks[0]}")  # the studio was opened: its first request reads the document
        for i, shot in enumerate(picks):
            timed("open a shot", "GET", f"/api/shots/{shot}")
            timed("save an edit", "PATCH", f"/api/shots/{shot}", json={"description": f"edited in the bench {i}"})
        for i in range(repeat):
            timed("storyboard page", "GET", f"/api/storyboard?offset={i * 600}&limit=60")
            timed("search", "GET", "/api/storyboard?limit=60&q=catfish")
    return {k: statistics.median(v) for k, v in timings.items()}


def scaling(root: Path, scales: list[int]) -> dict[int, dict[str, dict[str, float]]]:
    """The commands at each size, once each (the sizes repeat the work), per shot."""
    out: dict[int, dict[str, dict[str, float]]] = {}
    for times in scales:
        folder, new, plan = make_project(root, f"scale{times}", screenplay(times, root))
        shots = count_shots(folder / "kaipai.yaml")
        figures = {"new": new, "plan": plan}
        for command in READ_ONLY:
            run(command.split(), folder)  # warm: the first read after plan is already a cache hit; keep it fair
            figures[command] = run(command.split(), folder)
        out[times] = {k: {**v, "shots": shots} for k, v in figures.items()}
        shutil.rmtree(folder, ignore_errors=True)
    return out


def count_shots(document: Path) -> int:
    count, inside = 0, False
    for line in document.open(encoding="utf-8"):
        if line[:1].isalpha():
            inside = line.startswith("shots:")
        elif inside and line.startswith("  - id: "):
            count += 1
    return count


def exponent(small: float, large: float, ratio: float) -> float:
    return math.log(large / small) / math.log(ratio) if small > 0 and large > 0 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scales", default="1,4,16", help="Sizes of the scaling run, in Big Fishes ('' to skip).")
    parser.add_argument(
        "--demo", type=Path, default=None, help="A rendered demo project to copy instead of making one."
    )
    parser.add_argument("--keep", type=Path, default=None, help="Work in this folder and keep it.")
    parser.add_argument("--studio", type=Path, default=None, help=argparse.SUPPRESS)  # the helper processes
    parser.add_argument("--simulated", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.studio is not None:
        print(json.dumps(studio_figures(args.studio, args.repeat)))
        return
    if args.simulated is not None:
        use_simulated(args.simulated)
        return
    compileall.compile_dir(REPO / "src", quiet=1)  # as an installed kaipai has its bytecode
    root = args.keep or Path(tempfile.mkdtemp(prefix="kaipai-document-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    try:
        commands, project = command_figures(root, SCRIPT, args.repeat)
        commands["--help"] = help_figures(root, args.repeat)
        commands["render (no-op, demo)"] = demo_figures(root, args.demo, args.repeat)
        full_render, on_rendered, rendered = rendered_film(project, root, args.repeat)
        commands.update(on_rendered)
        studio = helper(["--studio", str(rendered), "--repeat", str(args.repeat)])
        scales = [int(s) for s in args.scales.split(",") if s.strip()]
        growth = scaling(root, scales) if scales else {}
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)

    title = f"Big Fish (1,660 shots), median of {args.repeat}; load average {load[0]:.1f} on {os.cpu_count()} cores"
    table = Table(title=title)
    for col in ("command", "wall s", "CPU s", "peak MB", "target s", "CPU within"):
        table.add_column(col, justify="left" if col == "command" else "right")
    for name, f in commands.items():
        ok = f["cpu"] <= TARGETS[name]
        table.add_row(name, f"{f['wall']:.2f}", f"{f['cpu']:.2f}", f"{f['rss_mb']:.0f}", f"{TARGETS[name]}",
                      "[green]yes[/]" if ok else "[red]no[/]")  # fmt: skip
    table.add_row("render (once, the whole film)", f"{full_render['wall']:.1f}", f"{full_render['cpu']:.1f}",
                  f"{full_render['rss_mb']:.0f}", "—", "")  # fmt: skip
    console.print(table)
    peak = max(f["rss_mb"] for f in commands.values())
    console.print(f"peak memory of the commands: {peak:.0f} MB (target < {RSS_TARGET_MB} MB)")
    studio_table = Table(title="studio requests on the rendered Big Fish (the studio's app), median")
    for col in ("request", "wall ms", "CPU ms", "target ms"):
        studio_table.add_column(col, justify="left" if col == "request" else "right")
    for name, target in STUDIO_TARGETS.items():
        wall, cpu = studio[name], studio[name + " (CPU)"]
        studio_table.add_row(name, f"{wall * 1000:.0f}", f"{cpu * 1000:.0f}", f"{target * 1000:.0f}")
    console.print(studio_table)
    verdicts: dict[str, dict[str, float]] = {}
    if growth:
        scale_table = Table(title="scaling: per shot, at each size (× Big Fish)")
        scale_table.add_column("command")
        for times in growth:
            scale_table.add_column(f"{times}× ms/shot", justify="right")
            scale_table.add_column(f"{times}× KB/shot", justify="right")
        scale_table.add_column("time growth", justify="right")
        scale_table.add_column("memory growth", justify="right")
        sizes = sorted(growth)
        for name in growth[sizes[0]]:
            cells = []
            for times in sizes:
                f = growth[times][name]
                cells += [f"{f['cpu'] / f['shots'] * 1000:.2f}", f"{f['rss_mb'] * 1024 / f['shots']:.1f}"]
            if len(sizes) >= 2:
                a, b = growth[sizes[-2]][name], growth[sizes[-1]][name]
                ratio = b["shots"] / a["shots"]
                verdicts[name] = {
                    "time": exponent(a["cpu"], b["cpu"], ratio),
                    "memory": exponent(a["rss_mb"], b["rss_mb"], ratio),
                }
                cells += [f"{verdicts[name]['time']:.2f}", f"{verdicts[name]['memory']:.2f}"]
            else:
                cells += ["", ""]
            scale_table.add_row(name, *cells)
        console.print(scale_table)
        console.print(
            "growth: the exponent of CPU time and peak memory between the two largest sizes "
            f"(1.0 = linear; target < {LINEAR})"
        )
    print(
        json.dumps(
            {
                "bench": "document",
                "load_average": load[0],
                "cores": os.cpu_count(),
                "repeat": args.repeat,
                "commands": commands,
                "targets": TARGETS,
                "full_render": full_render,
                "peak_rss_mb": peak,
                "studio_seconds": studio,
                "studio_targets": STUDIO_TARGETS,
                "scaling": {str(k): v for k, v in growth.items()},
                "growth_exponents": verdicts,
            }
        )
    )


if __name__ == "__main__":
    main()
