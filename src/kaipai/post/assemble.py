"""The master, in one ffmpeg invocation: picture, transitions, dialogue, ducked music, loudness.

One filtergraph does everything a frame loop in Python would do, in C and in one decode/encode:
normalise every shot (scale, pad, fps), extend short clips by freezing their last frame (speech is
never sped up), dissolve, wipe and fade, place each line of dialogue at its time, duck the music
under it with a sidechain compressor and normalise loudness to the delivery profile. Loudness is
measured first on the audio alone (cheap), so the one encode applies it linearly (two-pass EBU R128).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

from kaipai.post.cut import Cut, CutShot

PROFILES = {"web": -14.0, "broadcast": -23.0}
TRUE_PEAK = {"web": -1.0, "broadcast": -2.0}
RATE = 48000
XFADE = {"dissolve": "fade", "wipe": "wipeleft"}


class AssemblyError(RuntimeError):
    """ffmpeg failed; the message carries the end of its log."""


@dataclass
class Progress:
    kind: str
    fraction: float
    message: str = ""


def ffmpeg() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


def _handles(cut: Cut) -> list[tuple[float, float]]:
    """Freeze-frame handles (head, tail) per shot that pay for transitions centred on the cut."""
    out = []
    for i, shot in enumerate(cut.shots):
        head = shot.transition_duration / 2 if i > 0 and shot.transition in XFADE else 0.0
        nxt = cut.shots[i + 1] if i + 1 < len(cut.shots) else None
        tail = nxt.transition_duration / 2 if nxt is not None and nxt.transition in XFADE else 0.0
        out.append((head, tail))
    return out


class Graph:
    """Inputs and filter chains of one ffmpeg command."""

    def __init__(self) -> None:
        self.inputs: list[list[str]] = []
        self.chains: list[str] = []

    def add_input(self, *args: str) -> int:
        self.inputs.append(list(args))
        return len(self.inputs) - 1

    def args(self) -> list[str]:
        return [a for inp in self.inputs for a in inp]


def _picture_input(g: Graph, shot: CutShot, slate: Callable[[CutShot], Path], length: float, fps: int) -> int:
    if shot.picture is not None:
        return g.add_input("-i", str(shot.picture))
    still = shot.still or slate(shot)
    return g.add_input("-loop", "1", "-framerate", str(fps), "-t", f"{length + 1:.3f}", "-i", str(still))


def video_chain(g: Graph, cut: Cut, slate: Callable[[CutShot], Path]) -> str:
    """Add the picture of every shot and their transitions; return the output label."""
    w, h, fps = cut.width, cut.height, cut.fps
    group: list[str] = []  # labels joined by plain cuts, concatenated in one filter
    acc_len = 0.0
    for i, (shot, (head, tail)) in enumerate(zip(cut.shots, _handles(cut), strict=True)):
        length = head + shot.duration + tail
        k = _picture_input(g, shot, slate, length, fps)
        parts = [
            f"scale={w}:{h}:force_original_aspect_ratio=decrease",
            f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color=black",
            "setsar=1",
            f"fps={fps}",
            "format=yuv420p",
        ]
        if head:
            parts.append(f"tpad=start_mode=clone:start_duration={head:.4f}")
        parts += [f"tpad=stop_mode=clone:stop_duration={length + 1:.4f}", f"trim=duration={length:.4f}", "setpts=PTS-STARTPTS"]
        if shot.transition == "fade_in" and shot.transition_duration:
            parts.append(f"fade=t=in:st=0:d={shot.transition_duration:.4f}")
        if shot.transition == "fade_out" and shot.transition_duration:
            parts.append(f"fade=t=out:st={length - shot.transition_duration:.4f}:d={shot.transition_duration:.4f}")
        g.chains.append(f"[{k}:v]{','.join(parts)}[v{i}]")
        if shot.transition in XFADE and shot.transition_duration and group:
            # close the run of cuts with one concat, then dissolve or wipe into this shot
            left = _concat(g, group, f"g{i}")
            td = shot.transition_duration
            g.chains.append(f"[{left}][v{i}]xfade=transition={XFADE[shot.transition]}:duration={td:.4f}:offset={acc_len - td:.4f}[x{i}]")
            group, acc_len = [f"x{i}"], acc_len + length - td
        else:
            group.append(f"v{i}")
            acc_len += length
    acc = _concat(g, group, "vall")
    return acc


def _concat(g: Graph, labels: list[str], out: str) -> str:
    if len(labels) == 1:
        return labels[0]
    g.chains.append(f"{''.join(f'[{x}]' for x in labels)}concat=n={len(labels)}:v=1:a=0[{out}]")
    return out


def audio_chain(g: Graph, cut: Cut, music: dict[int, Path]) -> tuple[str, str, str]:
    """Dialogue, music and their ducked mix for the whole film; returns (dialogue, music, mix) labels."""
    total = cut.duration
    fmt = f"aresample={RATE},aformat=sample_fmts=fltp:channel_layouts=stereo"
    voices = []
    for j, line in enumerate(cut.lines):
        k = g.add_input("-i", str(line.path))
        ms = int(round(line.start * 1000))
        g.chains.append(f"[{k}:a]{fmt},adelay={ms}:all=1[d{j}]")
        voices.append(f"[d{j}]")
    silence = f"anullsrc=r={RATE}:cl=stereo,atrim=0:{total:.4f}"
    if voices:
        g.chains.append(f"{''.join(voices)}amix=inputs={len(voices)}:normalize=0:duration=longest,apad=whole_dur={total:.4f},atrim=0:{total:.4f}[dlg]")
    else:
        g.chains.append(f"{silence}[dlg]")
    cues = []
    for j, cue in enumerate(cut.music):
        path = music.get(j)
        if path is None:
            continue
        k = g.add_input("-i", str(path))
        length = max(0.01, cue.end - cue.start)
        fade = min(1.5, length / 4)
        g.chains.append(
            f"[{k}:a]{fmt},atrim=0:{length:.4f},afade=t=out:st={length - fade:.4f}:d={fade:.4f},volume=0.5,adelay={int(cue.start * 1000)}:all=1[m{j}]"
        )
        cues.append(f"[m{j}]")
    if cues:
        g.chains.append(f"{''.join(cues)}amix=inputs={len(cues)}:normalize=0:duration=longest,apad=whole_dur={total:.4f},atrim=0:{total:.4f}[mus]")
        g.chains.append("[dlg]asplit=3[dlg_mix][dlg_sc][dlg_out]")
        g.chains.append("[mus]asplit=2[mus_duck][mus_out]")
        g.chains.append("[mus_duck][dlg_sc]sidechaincompress=threshold=0.02:ratio=10:attack=15:release=350:makeup=1[ducked]")
        g.chains.append("[dlg_mix][ducked]amix=inputs=2:normalize=0:duration=first[mix]")
        return "dlg_out", "mus_out", "mix"
    g.chains.append("[dlg]asplit=2[dlg_mix][dlg_out]")
    g.chains.append(f"{silence}[mus_out]")
    return "dlg_out", "mus_out", "dlg_mix"


def run(cmd: list[str], *, total: float = 0.0, on_progress: Callable[[Progress], None] | None = None, cwd: Path | None = None, what: str = "assemble") -> str:
    """Run ffmpeg, feeding its ``-progress`` into ``on_progress``; return its log (stderr)."""
    proc = subprocess.Popen([ffmpeg(), "-hide_banner", "-nostdin", "-y", "-progress", "pipe:1", "-nostats", *cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)
    assert proc.stdout is not None and proc.stderr is not None
    import threading

    err: list[str] = []
    reader = threading.Thread(target=lambda: err.extend(proc.stderr), daemon=True)  # type: ignore[union-attr]
    reader.start()
    for line in proc.stdout:
        if line.startswith("out_time_us=") and total > 0 and on_progress is not None:
            try:
                done = int(line.split("=", 1)[1]) / 1e6
            except ValueError:
                continue
            on_progress(Progress(what, max(0.0, min(1.0, done / total))))
    proc.wait()
    reader.join()
    log = "".join(err)
    if proc.returncode != 0:
        tail = "\n".join(log.strip().splitlines()[-12:])
        raise AssemblyError(f"ffmpeg failed to {what} (exit {proc.returncode}):\n{tail}")
    return log


def measure_loudness(cut: Cut, music: dict[int, Path], profile: str) -> dict[str, str]:
    """First pass: EBU R128 measurement of the final mix, audio only."""
    g = Graph()
    dlg, mus, mix = audio_chain(g, cut, music)
    _discard(g, dlg, mus)
    target = PROFILES[profile]
    g.chains.append(f"[{mix}]loudnorm=I={target}:TP={TRUE_PEAK[profile]}:LRA=11:print_format=json[out]")
    log = run([*g.args(), "-filter_complex", ";".join(g.chains), "-map", "[out]", "-f", "null", "-"], what="measure loudness")
    found = re.findall(r"\{[^{}]*\"input_i\"[^{}]*\}", log, re.S)
    if not found:
        raise AssemblyError("ffmpeg did not report loudness; the mix may be empty")
    return json.loads(found[-1])


def assemble(
    cut: Cut,
    out: Path,
    *,
    profile: str = "web",
    music: dict[int, Path] | None = None,
    subtitles: Path | None = None,
    fonts_dir: Path | None = None,
    slate: Callable[[CutShot], Path],
    on_progress: Callable[[Progress], None] | None = None,
    preset: str = "veryfast",
) -> dict[str, float]:
    """Render the master to ``out``; return the loudness measured before normalisation."""
    if profile not in PROFILES:
        raise ValueError(f"unknown delivery profile {profile!r}; choose {', '.join(PROFILES)}")
    if not cut.shots:
        raise AssemblyError("the cut has no shots; plan the film first (kaipai plan)")
    music = music or {}
    measured = measure_loudness(cut, music, profile) if cut.lines or music else None
    g = Graph()
    video = video_chain(g, cut, slate)
    dlg, mus, mix = audio_chain(g, cut, music)
    _discard(g, dlg, mus)
    if subtitles is not None:
        fonts = f":fontsdir={_escape(str(fonts_dir))}" if fonts_dir else ""
        g.chains.append(f"[{video}]subtitles=filename={_escape(str(subtitles))}{fonts}[vsub]")
        video = "vsub"
    target = PROFILES[profile]
    if measured is not None:
        g.chains.append(
            f"[{mix}]loudnorm=I={target}:TP={TRUE_PEAK[profile]}:LRA=11:measured_I={measured['input_i']}:measured_TP={measured['input_tp']}"
            f":measured_LRA={measured['input_lra']}:measured_thresh={measured['input_thresh']}:offset={measured['target_offset']}:linear=true,"
            f"aresample={RATE}[aout]"
        )
    else:
        g.chains.append(f"[{mix}]anull[aout]")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.partial{out.suffix}")
    cmd = [
        *g.args(),
        "-filter_complex", ";".join(g.chains),
        "-map", f"[{video}]", "-map", "[aout]",
        "-c:v", "libx264", "-preset", preset, "-crf", "20", "-pix_fmt", "yuv420p", "-r", str(cut.fps),
        "-c:a", "aac", "-b:a", "192k", "-ar", str(RATE),
        "-t", f"{cut.duration:.4f}", "-movflags", "+faststart", str(tmp),
    ]  # fmt: skip
    run(cmd, total=cut.duration, on_progress=on_progress, what="assemble the film")
    tmp.replace(out)
    return {k: float(v) for k, v in (measured or {}).items() if k.startswith("input_")}


def render_stems(cut: Cut, dest: Path, music: dict[int, Path] | None = None) -> dict[str, Path]:
    """Dialogue, music and effects stems as WAV, sample-aligned with the master (one ffmpeg pass)."""
    dest.mkdir(parents=True, exist_ok=True)
    g = Graph()
    dlg, mus, mix = audio_chain(g, cut, music or {})
    _discard(g, mix)
    g.chains.append(f"anullsrc=r={RATE}:cl=stereo,atrim=0:{cut.duration:.4f}[fx]")
    stems = {"dialogue": dest / "dialogue.wav", "music": dest / "music.wav", "effects": dest / "effects.wav"}
    cmd = [*g.args(), "-filter_complex", ";".join(g.chains)]
    for label, path in zip((dlg, mus, "fx"), stems.values(), strict=True):
        cmd += ["-map", f"[{label}]", "-c:a", "pcm_s16le", "-ar", str(RATE), str(path)]
    run(cmd, what="render the audio stems")
    return stems


def _discard(g: Graph, *labels: str) -> None:
    for label in labels:
        g.chains.append(f"[{label}]anullsink")


def _escape(value: str) -> str:
    """Quote a value for an ffmpeg filter argument."""
    return value.replace("\\", "\\\\").replace(":", "\\:").replace("'", "\\'").replace(",", "\\,")

