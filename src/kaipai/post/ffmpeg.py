"""Running the bundled ffmpeg: one command's inputs and filter chains, progress, and clear failures."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import imageio_ffmpeg


class AssemblyError(RuntimeError):
    """ffmpeg failed; the message carries the end of its log."""


@dataclass
class Progress:
    """How far one ffmpeg step is (``fraction`` in 0..1); ``kind`` names the step."""

    kind: str
    fraction: float
    message: str = ""


def ffmpeg() -> str:
    """The ffmpeg binary shipped with imageio-ffmpeg (no system ffmpeg needed)."""
    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass
class Graph:
    """Inputs and filter chains of one ffmpeg command; chains are joined into one filter_complex."""

    inputs: list[list[str]] = field(default_factory=list)
    chains: list[str] = field(default_factory=list)

    def add_input(self, *args: str) -> int:
        self.inputs.append(list(args))
        return len(self.inputs) - 1

    def args(self) -> list[str]:
        return [a for inp in self.inputs for a in inp]

    def filter_args(self) -> list[str]:
        return ["-filter_complex", ";".join(self.chains)] if self.chains else []


def h264(fps: int, preset: str = "veryfast") -> list[str]:
    """The master's video encoding. One definition, so a part encoded later (the labelled opening)
    has the same parameter sets and joins the rest of the film by stream copy."""
    return ["-c:v", "libx264", "-preset", preset, "-crf", "20", "-pix_fmt", "yuv420p", "-r", str(fps)]


def run(
    cmd: list[str],
    *,
    total: float = 0.0,
    on_progress: Callable[[Progress], None] | None = None,
    cwd: Path | None = None,
    what: str = "assemble",
) -> str:
    """Run ffmpeg, feeding its ``-progress`` output into ``on_progress``; return its log (stderr)."""
    proc = subprocess.Popen(
        [ffmpeg(), "-hide_banner", "-nostdin", "-y", "-progress", "pipe:1", "-nostats", *cmd],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        cwd=cwd,
    )
    assert proc.stdout is not None and proc.stderr is not None
    err: list[str] = []
    stderr = proc.stderr
    reader = threading.Thread(target=lambda: err.extend(stderr), daemon=True)
    reader.start()
    for line in proc.stdout:
        if on_progress is None:
            continue
        if line.startswith("out_time_us=") and total > 0:
            try:
                done = int(line.split("=", 1)[1]) / 1e6
            except ValueError:
                continue
            on_progress(Progress(what, max(0.0, min(1.0, done / total))))
        elif line.strip() == "progress=end":
            on_progress(Progress(what, 1.0))
    proc.wait()
    reader.join()
    log = "".join(err)
    if proc.returncode != 0:
        tail = "\n".join(log.strip().splitlines()[-12:])
        raise AssemblyError(f"ffmpeg failed to {what} (exit {proc.returncode}):\n{tail}")
    return log


def escape(value: str) -> str:
    """Quote a value for a filter option inside a filter_complex (both escaping levels of ffmpeg)."""
    option = "".join("\\" + c if c in "\\':" else c for c in value)
    return "".join("\\" + c if c in "\\'[],;" else c for c in option)
