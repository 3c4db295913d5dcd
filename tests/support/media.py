"""Test media made on the spot: small colour clips with a white flash, tones, and a cut built from them."""

from __future__ import annotations

import subprocess
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np

from kaipai.post.assemble import ffmpeg
from kaipai.post.cut import Cut, CutLine, CutShot, MusicCue
from kaipai.post.slate import draw_slate

W, H, FPS = 160, 90, 25


class Media:
    """Makes clips and sounds in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def clip(
        self,
        name: str,
        colour: str,
        seconds: float,
        flash_frame: int = 12,
        size: tuple[int, int] = (W, H),
        fps: int = FPS,
    ) -> Path:
        out = self.folder / f"{name}.mp4"
        subprocess.run(
            [ffmpeg(), "-v", "error", "-y",
             "-f", "lavfi", "-i", f"color=c={colour}:s={size[0]}x{size[1]}:d={seconds}:r={fps}",
             "-vf", f"drawbox=enable='eq(n,{flash_frame})':c=white:t=fill",
             "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", str(out)],
            check=True,
        )  # fmt: skip
        return out

    def tone(
        self, name: str, seconds: float, freq: float = 1000.0, amp: float = 0.5, wobble: bool = False, rate: int = 24000
    ) -> Path:
        t = np.arange(int(seconds * rate)) / rate
        x = amp * np.sin(2 * np.pi * freq * t)
        if wobble:  # speech-like syllables
            x *= 0.6 + 0.4 * np.sin(2 * np.pi * 4 * t)
        path = self.folder / f"{name}.wav"
        with wave.open(str(path), "wb") as w:
            (
                w.setnchannels(1),
                w.setsampwidth(2),
                w.setframerate(rate),
                w.writeframes((x * 32767).astype("<i2").tobytes()),
            )
        return path

    def slate(self) -> Callable[[CutShot], Path]:
        return lambda shot: draw_slate(shot, W, H, self.folder / "slates")

    def film(self, colours: list[str], transition: str = "cut", td: float = 0.0, language: str = "en") -> Cut:
        """Shots of ``colours`` (2 s, 2.4 s, …); each flashes at frame 12 while its line beeps."""
        cut = Cut(title="test film", language=language, width=W, height=H, fps=FPS)
        beep = self.tone("beep", 0.12)
        t = 0.0
        for i, colour in enumerate(colours):
            duration = 2.0 + 0.4 * i
            source = self.clip(f"c{i}", colour, duration)
            cut.shots.append(
                CutShot(
                    shot=f"S{i}",
                    start=t,
                    duration=duration,
                    picture=source,
                    still=None,
                    description=colour,
                    transition=transition if i else "cut",
                    transition_duration=td if i else 0.0,
                    notes=f"note {i}",
                )
            )
            cut.lines.append(
                CutLine(
                    line=f"L{i}",
                    speaker="a",
                    name="A",
                    text=f"line {i}",
                    translation="",
                    path=beep,
                    start=t + 12 / FPS,
                    end=t + 12 / FPS + 0.12,
                    on_screen=True,
                )
            )
            t += duration
        return cut

    def with_music(self, cut: Cut) -> dict[int, Path]:
        cut.music.append(MusicCue(prompt="bed", start=0.0, end=cut.duration))
        return {0: self.tone("music", cut.duration + 1, freq=220, amp=0.3)}


#: test patterns are drawn large enough for the AIGC notice's glyphs to be measured in them
PATTERN_SIZE = (640, 360)


def pattern_clip(folder: Path, name: str, source: str, seconds: float, *x264: str) -> Path:
    """A busy test pattern (an ffmpeg lavfi ``source``: moving colours, text, gradients), encoded with the
    x264 options ``x264`` (a provider's settings)."""
    out = folder / f"{name}.mp4"
    w, h = PATTERN_SIZE
    subprocess.run(
        [ffmpeg(), "-v", "error", "-y", "-f", "lavfi", "-i", f"{source}=size={w}x{h}:rate={FPS}", "-t", str(seconds),
         "-pix_fmt", "yuv420p", "-c:v", "libx264", *x264, str(out)],
        check=True,
    )  # fmt: skip
    return out


def pattern_cut(folder: Path, media: Media, shots: list[tuple[str, float]], *x264: str) -> Cut:
    """``shots`` (lavfi source, seconds) of test patterns joined by cuts, with a line of dialogue in each."""
    w, h = PATTERN_SIZE
    cut = Cut(title="t", language="zh", width=w, height=h, fps=FPS)
    voice = media.tone("voice", 1.5, freq=220, amp=0.3, wobble=True)
    t = 0.0
    for i, (source, seconds) in enumerate(shots):
        clip = pattern_clip(folder, f"p{i}", source, seconds, *x264)
        cut.shots.append(CutShot(f"S{i}", t, seconds, clip, None, source))
        cut.lines.append(CutLine(f"L{i}", "a", "A", "x", "", voice, t + 0.2, t + 1.7, True))
        t += seconds
    return cut


def voice_likeness(heard: Path, sent: Path) -> float:
    """How much the sound of ``heard`` (a returned clip) follows ``sent`` (the voice): the correlation of
    their 20 ms loudness envelopes over the length they share (allowing an encoder's delay), 0..1. A clip
    that carries the voice scores near 1; silence, another line or a steady tone scores near 0."""
    from tests.backends.doubles.server import decoded_audio

    a, rate_a = decoded_audio(str(heard))
    b, rate_b = decoded_audio(str(sent))

    def envelope(pcm: np.ndarray, rate: int) -> np.ndarray:
        hop = max(1, rate // 50)
        frames = len(pcm) // hop
        return np.sqrt((pcm[: frames * hop].reshape(frames, hop) ** 2).mean(axis=1))

    ea, eb = envelope(a, rate_a), envelope(b, rate_b)
    best = 0.0
    for lag in range(11):  # an encoder's priming delay shifts the sound by up to ~100 ms
        x, y = ea[lag:], eb
        n = min(len(x), len(y))
        if n < 5 or x[:n].std() == 0 or y[:n].std() == 0:
            continue
        best = max(best, float(np.corrcoef(x[:n], y[:n])[0, 1]))
    return best


def pictures_and_sound(path: Path) -> tuple[list[np.ndarray], np.ndarray]:
    """Every decoded frame (RGB) and every sound sample of a film, to compare two films exactly."""
    import av

    with av.open(str(path)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    with av.open(str(path)) as c:
        sound = [f.to_ndarray().ravel() for f in c.decode(*c.streams.audio)]
    return frames, np.concatenate(sound) if sound else np.zeros(0)
