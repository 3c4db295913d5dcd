"""One pass of ffmpeg over a take: what its pictures and sound measure.

A clip is decoded once. ffmpeg's own detectors run on it — ``blackdetect`` and ``freezedetect`` on
the picture; ``silencedetect``, ``astats`` and ``ebur128`` on the sound — while the same decode
hands back small grey frames for the checks done in numpy (flash frames, faces, mouth motion).
A still or a sound file is read directly. Nothing here decides pass or fail; :mod:`kaipai.qc.checks`
does.
"""

from __future__ import annotations

import re
import subprocess
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kaipai.post.ffmpeg import ffmpeg

#: The grey frames handed back are this wide (height follows the picture), enough for a face in a
#: medium shot and cheap to pass through a pipe.
SCAN_WIDTH = 480
#: blackdetect: a picture is black when 98 % of its pixels are darker than 10 % grey.
BLACK = "blackdetect=d=0.1:pix_th=0.10:pic_th=0.98"
#: freezedetect: frames that differ by less than -60 dB of noise for half a second are frozen.
FREEZE = "freezedetect=n=-60dB:d=0.5"
SILENCE_DB = -50.0
AUDIO = (
    f"aformat=channel_layouts=mono,silencedetect=n={SILENCE_DB:g}dB:d=0.3,"
    "astats=measure_perchannel=none:measure_overall=Peak_level+RMS_level+Number_of_samples+Abs_Peak_count,"
    "ebur128=framelog=quiet"
)


class MediaError(Exception):
    """The file is not a picture or sound ffmpeg can read."""


@dataclass
class AudioScan:
    duration: float
    silences: list[tuple[float, float]] = field(default_factory=list)
    peak_db: float = float("-inf")
    rms_db: float = float("-inf")
    lufs: float | None = None
    peak_samples: int = 0  # samples at the absolute peak: many of them at 0 dBFS is clipping

    @property
    def silent_seconds(self) -> float:
        return sum(e - s for s, e in self.silences)


@dataclass
class VideoScan:
    duration: float
    width: int
    height: int
    fps: float
    black: list[tuple[float, float]] = field(default_factory=list)
    frozen: list[tuple[float, float]] = field(default_factory=list)
    #: Small grey frames, (n, h, w) uint8, at :data:`SCAN_WIDTH`.
    frames: np.ndarray = field(default_factory=lambda: np.zeros((0, 1, 1), np.uint8))
    audio: AudioScan | None = None

    @property
    def luma(self) -> np.ndarray:
        """Mean brightness of each frame, 0–255."""
        return self.frames.reshape(len(self.frames), -1).mean(axis=1) if len(self.frames) else np.zeros(0)


@dataclass
class ImageScan:
    width: int
    height: int
    grey: np.ndarray  # full size, uint8
    rgb: np.ndarray | None  # full size, uint8; None when colour was not asked for


def probe(path: Path) -> tuple[float, int, int, float, bool]:
    """(duration s, width, height, fps, has sound) from the container's headers."""
    import av

    try:
        with av.open(str(path)) as c:
            if not c.streams.video:
                raise MediaError(f"{path.name} has no picture")
            s = c.streams.video[0]
            fps = float(s.average_rate or s.guessed_rate or 0)
            if s.frames and fps:
                duration = s.frames / fps
            elif s.duration is not None and s.time_base:
                duration = float(s.duration * s.time_base)
            else:
                duration = float(c.duration or 0) / 1e6
            return duration, s.codec_context.width, s.codec_context.height, fps, bool(c.streams.audio)
    except av.error.FFmpegError as exc:
        raise MediaError(f"{path.name} is not a video ffmpeg can read ({exc})") from None


def scan_video(path: Path, *, width: int = SCAN_WIDTH, freeze: bool = True, sound: bool = True) -> VideoScan:
    """Black (and, with ``freeze``, frozen) stretches, grey frames ``width`` wide and, with ``sound``, the
    clip's audio scan. The decoder skips its loop filter: the checks need brightness and shapes, not
    the last bit of fidelity, and it saves a quarter of the decode."""
    duration, src_w, src_h, fps, has_audio = probe(path)
    w = max(2, min(width, src_w - src_w % 2))
    h = max(2, round(src_h * w / max(1, src_w) / 2) * 2)
    if not freeze and not (has_audio and sound):
        return _decode_grey(path, (duration, src_w, src_h, fps), w, h)
    detect = BLACK + ("," + FREEZE if freeze else "")
    graph = f"[0:v]scale={w}:{h}:flags=fast_bilinear,format=gray,split=2[q][p];[q]{detect},nullsink"
    if has_audio and sound:
        graph += f";[0:a]{AUDIO},anullsink"
    cmd = [ffmpeg(), "-hide_banner", "-nostats", "-v", "info", "-threads", "1", "-skip_loop_filter", "all"]
    cmd += ["-i", str(path), "-filter_complex", graph, "-map", "[p]", "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"]
    done = subprocess.run(cmd, capture_output=True, check=False)
    log = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        raise MediaError(f"ffmpeg could not read {path.name}: {_last_line(log)}")
    raw = np.frombuffer(done.stdout, dtype=np.uint8)
    n = len(raw) // (w * h)
    if fps and n:
        duration = n / fps  # what was decoded, not what the header claims
    return VideoScan(
        duration=duration,
        width=src_w,
        height=src_h,
        fps=fps,
        black=_spans(log, "black_start", "black_end", duration),
        frozen=_freezes(log, duration) if freeze else [],
        frames=raw[: n * w * h].reshape(n, h, w),
        audio=_audio_stats(log, duration) if has_audio and sound else None,
    )


#: Studio-range luma to full range, as ffmpeg's ``format=gray`` converts it.
_FULL_RANGE = np.clip((np.arange(256) - 16) * 255 / 219 + 0.5, 0, 255).astype(np.uint8)


def _dark(grey: np.ndarray) -> np.ndarray:
    """Per grey frame, (n, h, w), whether it is black as blackdetect's thresholds read: 98 % of its pixels
    under a tenth of full brightness."""
    return (grey < 26).reshape(len(grey), -1).mean(axis=1) >= 0.98


def _spans_of(mask: np.ndarray, step: float, shortest: float, duration: float) -> list[tuple[float, float]]:
    """The runs of True in ``mask`` (one value per ``step`` seconds) lasting ``shortest`` or more, in seconds."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return [
        (float(a * step), float(min(duration, b * step)))
        for a, b in zip(edges[::2], edges[1::2], strict=True)
        if (b - a) * step >= shortest
    ]


def _decode_grey(path: Path, header: tuple[float, int, int, float], w: int, h: int) -> VideoScan:
    """Grey frames and black stretches decoded in this process: a clip that needs no freeze or sound
    detection (a drawn lip-sync take) is read without starting ffmpeg, which costs as much as the decode."""
    import av

    duration, src_w, src_h, fps = header
    step = max(1, round(src_w / w))  # every step-th pixel of the luma plane: a view, no scaler per frame
    frames: list[np.ndarray] = []
    try:
        with av.open(str(path)) as c:
            stream = c.streams.video[0]
            stream.thread_type = "NONE"  # one core, as the ffmpeg scan runs
            full_range = False
            for frame in c.decode(stream):
                if frame.format.name not in ("yuv420p", "yuvj420p", "yuv422p", "yuv444p", "gray"):
                    frame = frame.reformat(format="yuv420p")
                full_range = frame.format.name in ("yuvj420p", "gray") or frame.color_range == 2
                luma = frame.planes[0]
                rows = np.frombuffer(luma, np.uint8).reshape(-1, luma.line_size)
                frames.append(rows[: frame.height : step, : frame.width : step].copy())
    except av.error.FFmpegError as exc:
        raise MediaError(f"{path.name} has no picture ffmpeg can decode ({exc})") from None
    if not frames:
        raise MediaError(f"{path.name} has no picture ffmpeg can decode")
    grey = np.stack(frames)
    if not full_range:
        grey = _FULL_RANGE[grey]  # studio-range luma (16–235) read as ffmpeg's grey reads it (0–255)
    if fps:
        duration = len(grey) / fps  # what was decoded, not what the header claims
    black = _spans_of(_dark(grey), 1 / fps if fps else 0.0, 0.1, duration)
    return VideoScan(duration=duration, width=src_w, height=src_h, fps=fps, black=black, frames=grey)


def peek_video(path: Path, width: int = 96) -> VideoScan:
    """The header and the first frame only: what a drawn clip needs (its pictures are a checked keyframe
    moved by a known camera), at a hundredth of the cost of decoding every frame."""
    import av

    duration, src_w, src_h, fps, _ = probe(path)
    try:
        with av.open(str(path)) as c:
            frame = next(c.decode(video=0))
            w = max(2, min(width, src_w - src_w % 2))
            h = max(2, round(src_h * w / max(1, src_w) / 2) * 2)
            first = frame.reformat(width=w, height=h, format="gray").to_ndarray()
    except (av.error.FFmpegError, StopIteration) as exc:
        raise MediaError(f"{path.name} has no picture ffmpeg can decode ({exc})") from None
    black = [(0.0, duration)] if _dark(first[None])[0] else []
    return VideoScan(duration=duration, width=src_w, height=src_h, fps=fps, black=black, frames=first[None])


def scan_audio(path: Path) -> AudioScan:
    """Silences, peak, RMS and loudness of a sound file: a 16-bit WAV (what speech and music backends
    write) is measured directly, anything else through ffmpeg's ``silencedetect``/``astats``/``ebur128``."""
    if path.suffix.lower() == ".wav":
        measured = _scan_wav(path)
        if measured is not None:
            return measured
    cmd = [ffmpeg(), "-hide_banner", "-nostats", "-v", "info", "-i", str(path)]
    cmd += ["-filter_complex", f"[0:a]{AUDIO}[o]", "-map", "[o]", "-f", "null", "-"]
    done = subprocess.run(cmd, capture_output=True, check=False)
    log = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        raise MediaError(f"ffmpeg could not read {path.name}: {_last_line(log)}")
    duration = _duration(log)
    return _audio_stats(log, duration)


def _scan_wav(path: Path) -> AudioScan | None:
    """The same measures as the ffmpeg chain, in numpy: silences of 0.3 s or more under −50 dBFS (in
    10 ms steps), peak and RMS level, and samples at the peak. Loudness is left to ffmpeg (``lufs`` None)."""
    try:
        with wave.open(str(path), "rb") as w:
            if w.getsampwidth() != 2:
                return None
            rate, channels = w.getframerate(), w.getnchannels()
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    except (wave.Error, EOFError):
        return None
    if channels > 1:
        pcm = pcm.reshape(-1, channels).mean(axis=1).astype(np.int16)
    duration = len(pcm) / rate if rate else 0.0
    if not len(pcm):
        return AudioScan(duration=0.0)
    x = pcm.astype(np.float32) * (1 / 32768)
    energy = x * x  # one pass over a feature's music bed is most of what this costs
    hop = max(1, rate // 100)
    steps = len(x) // hop
    level = np.sqrt(energy[: steps * hop].reshape(steps, hop).mean(axis=1)) if steps else np.zeros(0)
    silences = _spans_of(level < 10 ** (SILENCE_DB / 20), hop / rate, 0.3, duration)  # quiet 10 ms steps
    top = max(int(pcm.max()), -int(pcm.min()))
    peak = top / 32768
    rms = float(np.sqrt(energy.mean()))
    at_peak = int(np.count_nonzero(pcm == top) + np.count_nonzero(pcm == -top)) if top else len(x)
    return AudioScan(
        duration=duration,
        silences=silences,
        peak_db=20 * np.log10(peak) if peak > 0 else float("-inf"),
        rms_db=20 * np.log10(rms) if rms > 0 else float("-inf"),
        lufs=None,
        peak_samples=at_peak,
    )


def scan_image(path: Path, *, colour: bool = True) -> ImageScan:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            grey = np.asarray(img.convert("L"))
            rgb = np.asarray(img.convert("RGB")) if colour else None
    except (UnidentifiedImageError, OSError) as exc:
        raise MediaError(f"{path.name} is not a picture ({exc})") from None
    return ImageScan(width=grey.shape[1], height=grey.shape[0], grey=grey, rgb=rgb)


def read_sound(path: Path, rate: int = 16000) -> np.ndarray:
    """Mono samples in [-1, 1] at ``rate``: 16-bit WAV read directly, anything else through ffmpeg."""
    if path.suffix.lower() == ".wav":
        try:
            with wave.open(str(path), "rb") as w:
                if w.getsampwidth() == 2:
                    native, channels = w.getframerate(), w.getnchannels()
                    pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768
                    if channels > 1:
                        pcm = pcm.reshape(-1, channels).mean(axis=1)
                    return pcm if native == rate else _resample(pcm, native, rate)
        except (wave.Error, EOFError):
            pass
    cmd = [ffmpeg(), "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(rate)]
    done = subprocess.run([*cmd, "-f", "s16le", "pipe:1"], capture_output=True, check=False)
    if done.returncode != 0:
        raise MediaError(f"ffmpeg could not read the sound of {path.name}: {_last_line(done.stderr.decode())}")
    return np.frombuffer(done.stdout, dtype="<i2").astype(np.float32) / 32768


def envelope(samples: np.ndarray, rate: int, fps: float, n: int) -> np.ndarray:
    """Loudness (RMS) of the sound under each of ``n`` video frames."""
    hop = rate / fps
    out = np.zeros(n, dtype=np.float32)
    for i in range(n):
        seg = samples[int(i * hop) : int((i + 1) * hop)]
        out[i] = float(np.sqrt(np.mean(seg * seg))) if len(seg) else 0.0
    return out


# --------------------------------------------------------------------------- parsing ffmpeg's log

_NUM = r"(-?(?:\d+(?:\.\d*)?|inf))"


def _spans(log: str, start: str, end: str, duration: float) -> list[tuple[float, float]]:
    starts = [float(x) for x in re.findall(rf"{start}:\s*{_NUM}", log)]
    ends = [float(x) for x in re.findall(rf"{end}:\s*{_NUM}", log)]
    return [(s, ends[i] if i < len(ends) else duration) for i, s in enumerate(starts)]


def _freezes(log: str, duration: float) -> list[tuple[float, float]]:
    starts = [float(x) for x in re.findall(rf"freeze_start:\s*{_NUM}", log)]
    ends = [float(x) for x in re.findall(rf"freeze_end:\s*{_NUM}", log)]
    return [(s, ends[i] if i < len(ends) else duration) for i, s in enumerate(starts)]


def _audio_stats(log: str, duration: float) -> AudioScan:
    silences = _spans(log, "silence_start", "silence_end", duration)

    def stat(name: str) -> float | None:
        found = re.findall(rf"\] {name}:\s*{_NUM}", log)
        return float(found[-1]) if found else None

    lufs = re.search(rf"Integrated loudness:\s*I:\s*{_NUM} LUFS", log)
    samples = stat("Number of samples")
    return AudioScan(
        duration=duration if duration else 0.0,
        silences=silences,
        peak_db=stat("Peak level dB") if stat("Peak level dB") is not None else float("-inf"),  # type: ignore[arg-type]
        rms_db=stat("RMS level dB") if stat("RMS level dB") is not None else float("-inf"),  # type: ignore[arg-type]
        lufs=float(lufs.group(1)) if lufs else None,
        peak_samples=int(stat("Abs Peak count") or 0) if samples else 0,
    )


def _duration(log: str) -> float:
    m = re.search(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)", log)
    if m:
        return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    t = re.findall(r"time=(\d+):(\d+):(\d+(?:\.\d+)?)", log)
    return int(t[-1][0]) * 3600 + int(t[-1][1]) * 60 + float(t[-1][2]) if t else 0.0


def _resample(pcm: np.ndarray, src: int, dst: int) -> np.ndarray:
    n = round(len(pcm) * dst / src)
    return np.interp(np.arange(n) * src / dst, np.arange(len(pcm)), pcm).astype(np.float32)


def _last_line(log: str) -> str:
    lines = [ln.strip() for ln in log.strip().splitlines() if ln.strip()]
    return lines[-1][:200] if lines else "no output"


def stills(path: Path, count: int, out_dir: Path, width: int = 768) -> list[Path]:
    """``count`` frames spread through a clip (10 %…90 %), as PNGs no wider than ``width`` (for a judge)."""
    duration, _, _, fps, _ = probe(path)
    total = max(1, round(duration * fps)) if fps else 1
    picks = sorted({min(total - 1, round(total * (0.1 + 0.8 * i / max(1, count - 1)))) for i in range(count)})
    chosen = "+".join(f"eq(n\\,{n})" for n in picks)
    out_dir.mkdir(parents=True, exist_ok=True)
    pattern = out_dir / "still-%02d.png"
    cmd = [ffmpeg(), "-v", "error", "-y", "-i", str(path), "-vf", f"select={chosen},scale='min({width},iw)':-2"]
    done = subprocess.run([*cmd, "-fps_mode", "passthrough", str(pattern)], capture_output=True, check=False)
    if done.returncode != 0:
        raise MediaError(f"ffmpeg could not take stills from {path.name}: {_last_line(done.stderr.decode())}")
    return sorted(out_dir.glob("still-*.png"))
