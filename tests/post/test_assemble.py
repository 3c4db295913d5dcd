"""The master from test clips: length to the frame, sound in sync at every cut, loudness on target,
transitions of the right length, subtitles that match the dialogue."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import av
import numpy as np
import pyloudnorm
import pysubs2
import pytest

from kaipai.post.assemble import assemble, ffmpeg
from kaipai.post.cut import Cut, CutLine, CutShot
from kaipai.post.slate import draw_slate
from kaipai.post.subtitles import write_subtitles

W, H, FPS, RATE = 160, 90, 25, 48000
COLOURS = ["red", "blue", "green", "yellow"]


def clip(tmp: Path, name: str, colour: str, seconds: float, flash_frame: int) -> Path:
    out = tmp / f"{name}.mp4"
    subprocess.run(
        [ffmpeg(), "-v", "error", "-y", "-f", "lavfi", "-i", f"color=c={colour}:s={W}x{H}:d={seconds}:r={FPS}",
         "-vf", f"drawbox=enable='eq(n,{flash_frame})':c=white:t=fill", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", str(out)],
        check=True,
    )  # fmt: skip
    return out


def tone(tmp: Path, name: str, seconds: float, freq: float = 1000.0, amp: float = 0.5, wobble: bool = False) -> Path:
    rate = 24000
    t = np.arange(int(seconds * rate)) / rate
    x = amp * np.sin(2 * np.pi * freq * t)
    if wobble:  # speech-like: syllables
        x *= 0.6 + 0.4 * np.sin(2 * np.pi * 4 * t)
    path = tmp / f"{name}.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(rate), w.writeframes((x * 32767).astype("<i2").tobytes())
    return path


def slate(tmp: Path):  # type: ignore[no-untyped-def]
    return lambda shot: draw_slate(shot, W, H, tmp / "slates")


def beep_flash_cut(tmp: Path, transition: str = "cut", td: float = 0.0) -> Cut:
    """Four shots; in each, frame 12 flashes white and a beep starts at that moment."""
    cut = Cut(title="sync", language="en", width=W, height=H, fps=FPS)
    t = 0.0
    beep = tone(tmp, "beep", 0.12)
    for i, colour in enumerate(COLOURS):
        duration = 2.0 + 0.4 * i
        # shot 3's clip is shorter than the shot: it must be frozen, never sped up
        source = clip(tmp, f"c{i}", colour, duration if i != 2 else 1.0, 12)
        cut.shots.append(CutShot(shot=f"S{i}", start=t, duration=duration, picture=source, still=None, description=colour, transition=transition if i else "cut", transition_duration=td if i else 0.0))
        cut.lines.append(CutLine(line=f"L{i}", speaker="a", name="A", text=f"line {i}", translation="", path=beep, start=t + 12 / FPS, end=t + 12 / FPS + 0.12, on_screen=True))
        t += duration
    return cut


def decode(film: Path) -> tuple[list[np.ndarray], np.ndarray, int]:
    with av.open(str(film)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    with av.open(str(film)) as c:
        chunks = [f.to_ndarray() for f in c.decode(audio=0)]
        rate = c.streams.audio[0].rate
    stereo = np.concatenate([ch.T if ch.ndim == 2 and ch.shape[0] <= 2 else ch.reshape(-1, 2) for ch in chunks])
    return frames, stereo, rate


def test_length_to_the_frame_and_sync_at_every_cut(tmp_path: Path) -> None:
    cut = beep_flash_cut(tmp_path)
    film = tmp_path / "film.mp4"
    assemble(cut, film, slate=slate(tmp_path))
    frames, stereo, rate = decode(film)
    pcm = stereo.mean(axis=1)
    assert len(frames) == round(cut.duration * FPS)
    flashes = [i for i, f in enumerate(frames) if f.mean() > 220]
    block = int(0.005 * rate)
    env = np.sqrt(np.mean(pcm[: len(pcm) // block * block].reshape(-1, block) ** 2, axis=1))
    quiet = int(0.1 / 0.005)
    onsets = [i * 0.005 for i in range(quiet, len(env)) if env[i] > 0.05 and env[i - quiet : i].max() < 0.01]
    assert len(flashes) == len(onsets) == 4
    for frame, onset in zip(flashes, onsets, strict=True):
        assert abs(frame / FPS - onset) <= 1 / FPS, "sound and picture drifted apart"
    # the shortened clip (shot 3) is held on its last frame, not sped up: its shot keeps its length
    s2 = cut.shots[2]
    held = frames[round((s2.start + 1.2) * FPS) : round(s2.end * FPS)]
    assert all(np.array_equal(held[0], f) for f in held[1:])


@pytest.mark.parametrize(("profile", "target"), [("web", -14.0), ("broadcast", -23.0)])
def test_loudness_on_target(tmp_path: Path, profile: str, target: float) -> None:
    cut = Cut(title="loud", language="en", width=W, height=H, fps=FPS)
    speech = tone(tmp_path, "speech", 5.0, freq=220, amp=0.1, wobble=True)
    cut.shots.append(CutShot(shot="S0", start=0, duration=6.0, picture=None, still=None, description="a slate"))
    cut.lines.append(CutLine(line="L0", speaker="a", name="A", text="hi", translation="", path=speech, start=0.5, end=5.5, on_screen=True))
    film = tmp_path / "film.mp4"
    assemble(cut, film, profile=profile, slate=slate(tmp_path))
    _, stereo, rate = decode(film)
    measured = pyloudnorm.Meter(rate).integrated_loudness(stereo)
    assert abs(measured - target) <= 1.0


def test_dissolves_have_their_length_and_keep_the_film_length(tmp_path: Path) -> None:
    cut = beep_flash_cut(tmp_path, transition="dissolve", td=1.0)
    film = tmp_path / "film.mp4"
    assemble(cut, film, slate=slate(tmp_path))
    frames, _, _ = decode(film)
    assert len(frames) == round(cut.duration * FPS)
    # between red and blue: frames whose colour is neither pure red nor pure blue
    boundary = round(cut.shots[1].start * FPS)
    window = frames[boundary - FPS : boundary + FPS]
    red, blue = np.array([254, 0, 0]), np.array([0, 0, 254])
    mixed = [f for f in window if np.abs(f[5, 5].astype(int) - red).sum() > 12 and np.abs(f[5, 5].astype(int) - blue).sum() > 12]
    assert abs(len(mixed) - FPS * 1.0) <= 2


def test_missing_picture_shows_a_slate(tmp_path: Path) -> None:
    cut = Cut(title="slate", language="zh", width=W, height=H, fps=FPS)
    cut.shots.append(CutShot(shot="S01-001", start=0, duration=1.0, picture=None, still=None, description="雨夜的公交站台"))
    film = tmp_path / "film.mp4"
    assemble(cut, film, slate=slate(tmp_path))
    frames, _, _ = decode(film)
    assert len(frames) == FPS and frames[0].std() > 5  # text on the card, not a black frame


def test_subtitles_match_the_dialogue(tmp_path: Path) -> None:
    cut = beep_flash_cut(tmp_path)
    cut.lines[0].text = "A rather long line of dialogue that a viewer cannot read in one go, so it is wrapped and split into two subtitles"
    cut.lines[1].translation = "第二句"
    out = write_subtitles(cut, tmp_path)
    subs = pysubs2.load(str(out["srt"]))
    first = [e for e in subs if e.start < cut.lines[1].start * 1000]
    assert len(first) == 2 and first[0].start == round(cut.lines[0].start * 1000) and first[-1].end == round(cut.lines[0].end * 1000)
    assert all(len(row) <= 42 for e in subs for row in e.plaintext.splitlines())
    second = next(e for e in subs if "line 1" in e.plaintext)
    assert "第二句" in second.plaintext
    assert abs(second.start - cut.lines[1].start * 1000) <= 1
    assert pysubs2.load(str(out["ass"])).styles["Default"].fontname == "Noto Sans CJK SC"
