"""Assembling an edit: kaipai's one ffmpeg pass against MoviePy 2 and against a plain encode.

The same edit for all: N shots over a given length (default 40 shots, 3 minutes, 1080p, 25 fps)
with crossfades between shots, a line of dialogue per shot, a music bed and subtitles burned
in. The plain x264 encode of a test pattern of the same length is the floor. All use x264 with
the same preset. Prints a table and one line of JSON.

    python benchmarks/assemble_bench.py [--shots 40] [--seconds 180] [--height 1080] [--skip-moviepy]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

from kaipai.fonts import cjk_font_path, font_dir
from kaipai.post.assemble import assemble, ffmpeg
from kaipai.post.cut import Cut, CutLine, CutShot, MusicCue
from kaipai.post.slate import draw_slate
from kaipai.post.subtitles import write_subtitles

PRESET = "veryfast"


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (ffmpeg): the work done, whatever else runs."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn, *args) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(wall seconds, CPU seconds) of one run."""
    cpu, wall = cpu_seconds(), time.perf_counter()
    fn(*args)
    return time.perf_counter() - wall, cpu_seconds() - cpu


def make_inputs(work: Path, shots: int, seconds: float, w: int, h: int, fps: int) -> Cut:
    per = round(seconds / shots * fps) / fps  # shots are whole frames, as in a real cut
    cut = Cut(title="bench", language="en", width=w, height=h, fps=fps)
    rate = 24000
    t = np.arange(int(1.5 * rate)) / rate
    line = (0.3 * np.sin(2 * np.pi * 200 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t)) * 32767).astype("<i2")
    voice = work / "line.wav"
    with wave.open(str(voice), "wb") as f:
        f.setnchannels(1), f.setsampwidth(2), f.setframerate(rate), f.writeframes(line.tobytes())
    start = 0.0
    for i in range(shots):
        clip = work / f"clip{i:02d}.mp4"
        subprocess.run(
            [
                ffmpeg(),
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                f"testsrc2=s={w}x{h}:r={fps}:d={per:.3f}",
                "-pix_fmt",
                "yuv420p",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                str(clip),
            ],
            check=True,
        )
        cut.shots.append(
            CutShot(
                shot=f"S{i:02d}",
                start=start,
                duration=per,
                picture=clip,
                still=None,
                description="",
                transition="dissolve" if i else "cut",
                transition_duration=0.5 if i else 0.0,
            )
        )
        cut.lines.append(
            CutLine(
                line=f"L{i}",
                speaker="a",
                name="A",
                text=f"Line number {i} of the benchmark edit",
                translation="",
                path=voice,
                start=start + 1.0,
                end=start + 2.5,
                on_screen=True,
            )
        )
        start += per
    music = work / "music.wav"
    subprocess.run(
        [
            ffmpeg(),
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=330:sample_rate=48000:duration={start:.3f}",
            "-ac",
            "2",
            str(music),
        ],
        check=True,
    )
    cut.music.append(MusicCue(prompt="bed", start=0.0, end=start, path=music))
    return cut


def run_kaipai(cut: Cut, work: Path) -> None:
    subs = write_subtitles(cut, work)
    assemble(
        cut,
        work / "kaipai.mp4",
        music={0: cut.music[0].path},
        subtitles=subs["ass"],
        fonts_dir=font_dir(),
        slate=lambda s: draw_slate(s, cut.width, cut.height, work),
        preset=PRESET,
    )  # type: ignore[dict-item]


def run_moviepy(cut: Cut, work: Path) -> None:
    from moviepy import AudioFileClip, CompositeAudioClip, CompositeVideoClip, TextClip, VideoFileClip, vfx

    clips, overlap, t = [], 0.5, 0.0
    for i, shot in enumerate(cut.shots):
        c = VideoFileClip(str(shot.picture))
        if i:
            c = c.with_effects([vfx.CrossFadeIn(overlap)])
        clips.append(c.with_start(t))
        t += shot.duration - (overlap if i + 1 < len(cut.shots) else 0)
    subs = [
        TextClip(
            font=str(cjk_font_path()),
            text=ln.text,
            font_size=int(cut.height * 0.05),
            color="white",
            stroke_color="black",
            stroke_width=2,
        )
        .with_start(ln.start)
        .with_duration(ln.end - ln.start)
        .with_position(("center", int(cut.height * 0.8)))
        for ln in cut.lines
    ]
    video = CompositeVideoClip(clips + subs, size=(cut.width, cut.height))
    voices = [AudioFileClip(str(ln.path)).with_start(ln.start) for ln in cut.lines]
    music = AudioFileClip(str(cut.music[0].path)).with_volume_scaled(0.3)
    video = video.with_audio(CompositeAudioClip([music, *voices]))
    video.write_videofile(
        str(work / "moviepy.mp4"),
        fps=cut.fps,
        codec="libx264",
        audio_codec="aac",
        preset=PRESET,
        ffmpeg_params=["-crf", "20"],
        temp_audiofile=str(work / "moviepy-audio.m4a"),
        threads=os.cpu_count(),
        logger=None,
    )


def run_plain(cut: Cut, work: Path) -> None:
    subprocess.run(
        [ffmpeg(), "-v", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=s={cut.width}x{cut.height}:r={cut.fps}:d={cut.duration:.3f}",
         "-f", "lavfi", "-i", f"sine=frequency=330:sample_rate=48000:duration={cut.duration:.3f}",
         "-c:v", "libx264", "-preset", PRESET, "-crf", "20", "-pix_fmt", "yuv420p",
         "-c:a", "aac", str(work / "plain.mp4")],
        check=True,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shots", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--skip-moviepy", action="store_true")
    args = parser.parse_args()
    width = int(round(args.height * 16 / 9 / 2) * 2)
    work = Path(tempfile.mkdtemp(prefix="kaipai-assemble-bench-"))
    cut = make_inputs(work, args.shots, args.seconds, width, args.height, args.fps)
    kaipai_s, kaipai_cpu = timed(run_kaipai, cut, work)
    plain_s, plain_cpu = timed(run_plain, cut, work)
    moviepy_s, moviepy_cpu = (None, None) if args.skip_moviepy else timed(run_moviepy, cut, work)
    result = {
        "benchmark": "assemble", "shots": args.shots, "seconds": round(cut.duration, 2),
        "size": f"{width}x{args.height}", "fps": args.fps,
        "machine": f"{platform.machine()} {os.cpu_count()} cores", "preset": PRESET,
        "kaipai_s": round(kaipai_s, 1), "plain_encode_s": round(plain_s, 1),
        "moviepy_s": round(moviepy_s, 1) if moviepy_s else None,
        "kaipai_cpu_s": round(kaipai_cpu, 1), "plain_cpu_s": round(plain_cpu, 1),
        "moviepy_cpu_s": round(moviepy_cpu, 1) if moviepy_cpu else None,
        "kaipai_vs_plain": round(kaipai_s / plain_s, 2),
        "moviepy_vs_kaipai": round(moviepy_s / kaipai_s, 2) if moviepy_s else None,
        "kaipai_vs_plain_cpu": round(kaipai_cpu / plain_cpu, 2),
        "moviepy_vs_kaipai_cpu": round(moviepy_cpu / kaipai_cpu, 2) if moviepy_cpu else None,
        "targets": {"moviepy_vs_kaipai": ">= 5", "kaipai_vs_plain": "<= 1.3"},
    }  # fmt: skip
    print(
        f"kaipai {kaipai_s:.1f} s ({kaipai_cpu:.0f} CPU-s) · plain x264 {plain_s:.1f} s ({plain_cpu:.0f} CPU-s): "
        f"{result['kaipai_vs_plain']}× the floor, target ≤ 1.3×"
        + (
            f" · MoviePy {moviepy_s:.1f} s ({moviepy_cpu:.0f} CPU-s): "
            f"kaipai {result['moviepy_vs_kaipai']}× faster, target ≥ 5×"
            if moviepy_s
            else ""
        )
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
