"""``simulated``: a stand-in for paid generators, for tests and benchmarks. Never the default.

It behaves like a provider — latency drawn from a distribution, transient failures at a
set rate (with ``retry_after``), concurrency and rate limits, a price list, and, when
``asynchronous``, submit-then-poll jobs that survive the client being killed — and it
writes real small files: a WAV of the spoken length, a PNG, an MP4 (or, with
``media: bytes``, a file of deterministic bytes, for speed). Its output depends only on
the request and seed, so a re-render that reuses takes can be compared byte for byte
with one that generated them.

Options (``backends: {video: {use: simulated, options: {...}}}``), each either one value
or a mapping per capability (``{speech: 0.05, video: 0.4}``):

- ``latency`` mean seconds per request (0); ``jitter`` log-normal sigma (0 = fixed)
- ``failure_rate`` chance of a transient failure per attempt (0); ``retry_after`` seconds
- ``concurrency`` (4) and ``rpm`` (none): the limits it declares
- ``cost`` per unit and ``cost_unit``; ``sheet``: extra capability-sheet fields per capability
- ``asynchronous`` (false) with ``server`` (a folder playing the provider's job store)
- ``log``: a file that gets one line per generation the "provider" accepted (its key)
- ``refuse``: text that makes a prompt or line be refused; ``fail_text``: text that always fails
- ``media``: ``real`` (default) or ``bytes``; ``seconds_per_char`` of speech (0.18)
- ``references`` (image 4, others 0): the reference images it takes (its ``max_reference_images``)
- ``first_last_frame`` (false): its clips take a last frame; ``audio_input`` (false): its clips take the
  shot's voice and come back lip-synced (a speech-to-video model), with that voice as their sound
- ``requests``: a file that gets one JSON line per request received (what the engine sent it)
- ``native_audio``: clips come with their own sound, as Veo or Seedance clips do (an AAC stream of a
  steady 1.5 kHz tone in the MP4, ``Result.metadata["audio"] = True``, ``native_audio`` in the sheet)

- ``defects``: bad takes on purpose, for quality-control tests — a list of
  ``{kind, shot, text, capability, takes}``: ``kind`` one of :data:`DEFECTS`; ``shot`` a shot id
  (pictures), ``text`` a piece of the prompt or line, ``capability`` (image, video, lipsync, speech…)
  narrow what it hits; ``seeds`` the seeds that come out bad, or ``takes`` how many takes (distinct
  seeds, in the order this backend instance is asked) — all of them when neither is given

Its output follows every input it is given (keyframe, last frame, references, voice), so a
changed input gives a changed file. With ``media: real`` pictures show the shot's characters as
synthetic faces a face detector finds (:mod:`kaipai.backends.synthetic`), and a lip-synced clip (or
a clip of a model that takes the voice) moves the speaker's mouth with the voice.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
import os
import random
import tempfile
import threading
import time
import wave
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kaipai.backends.base import (
    Backend,
    Capability,
    CapabilitySheet,
    ImageRequest,
    JobContext,
    LipsyncRequest,
    MusicRequest,
    RefusedError,
    Request,
    Result,
    SpeechRequest,
    TransientError,
    UnsupportedRequest,
    VideoRequest,
)

if TYPE_CHECKING:
    import numpy as np  # made media only: a render that reuses every take never loads it

_UNITS = {"speech": "character", "image": "image", "video": "second", "lipsync": "second", "music": "second"}
#: What ``defects`` can break: black pictures, a frozen clip, a clip half as long as asked, nobody's face,
#: white flash frames, another shirt colour, a mouth half a second off the voice, a silent or clipped voice.
DEFECTS = frozenset({"black", "frozen", "short", "faceless", "flash", "wardrobe", "offsync", "silent", "clipped"})


def _unit_float(key: str) -> float:
    """A deterministic number in [0, 1) from a string."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2**64


def _colour(key: str) -> tuple[int, int, int]:
    raw = hashlib.sha256(key.encode()).digest()
    return 40 + raw[0] % 180, 40 + raw[1] % 180, 40 + raw[2] % 180


class SimulatedBackend(Backend):
    name = "simulated"
    capabilities = frozenset(
        {Capability.speech, Capability.image, Capability.video, Capability.lipsync, Capability.music}
    )
    version = "1"

    def __init__(self, model: str | None = None, **options: Any) -> None:
        super().__init__(model=model, **options)
        self._attempts: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        server = options.get("server")
        self.server = Path(server) if server else Path(tempfile.gettempdir()) / "kaipai-simulated-server"
        self.log = Path(options["log"]) if options.get("log") else None
        self.requests = Path(options["requests"]) if options.get("requests") else None
        self.media = str(options.get("media", "real"))
        if self.media == "real":
            import cv2  # noqa: F401 - loaded here, not first in a worker thread (its import is not thread-safe)
        self.defects: list[dict[str, Any]] = list(options.get("defects") or [])
        for d in self.defects:
            if not isinstance(d, dict) or d.get("kind") not in DEFECTS:
                raise ValueError(f"defects: each entry needs a kind among {', '.join(sorted(DEFECTS))}, not {d!r}")
        self._bad_seeds: dict[int, list[int]] = defaultdict(list)

    # ------------------------------------------------------------------ configuration

    def _opt(self, name: str, cap: str, default: Any) -> Any:
        value = self.options.get(name, default)
        if isinstance(value, dict):
            return value.get(cap, default)
        return value

    def describe(self, capability: Capability) -> CapabilitySheet:
        cap = capability.value
        fields: dict[str, Any] = {
            "capability": capability,
            "model": self.model or f"simulated-{cap}",
            "cost_per_unit": float(self._opt("cost", cap, 0.0)),
            "cost_unit": self._opt("cost_unit", cap, _UNITS.get(cap, "request")),
            "max_concurrency": int(self._opt("concurrency", cap, 4)),
            "requests_per_minute": self._opt("rpm", cap, None),
            "asynchronous": bool(self._opt("asynchronous", cap, False)),
            "typical_seconds": float(self._opt("latency", cap, 0.0)) or 0.01,
            "deterministic": True,
            "max_reference_images": int(self._opt("references", cap, 4 if cap == "image" else 0)),
            "native_audio": capability == Capability.video and bool(self._opt("native_audio", cap, False)),
            "num_cpus": 0.0,  # it plays a remote service: on a cluster its client is a light worker
        }
        if capability == Capability.video:
            fields["first_last_frame"] = bool(self._opt("first_last_frame", cap, False))
            fields["audio_input"] = bool(self._opt("audio_input", cap, False))
        extra = (self.options.get("sheet") or {}).get(cap, {})
        fields.update(extra)
        return CapabilitySheet(**fields)

    def check(self) -> str:
        return "simulated: no real generation, for tests and benchmarks"

    # ------------------------------------------------------------------ capabilities

    def synthesize(self, request: SpeechRequest, ctx: JobContext) -> Result:
        seconds = max(0.5, float(self._opt("seconds_per_char", "speech", 0.18)) * len(request.text))
        seconds = round(seconds, 3)

        def produce(out: Path) -> Result:
            import numpy as np

            path = out / "voice.wav"
            rate = request.sample_rate
            t = np.arange(round(seconds * rate)) / rate
            pitch = 140 + 120 * _unit_float(request.speaker + str(request.seed))
            envelope = 0.5 + 0.5 * np.sin(2 * math.pi * 3.0 * t) ** 2
            gain = {"silent": 0.0, "clipped": 4.0}.get(self._defect(request, request.text) or "", 0.3)
            tone = (np.clip(gain * envelope * np.sin(2 * math.pi * pitch * t), -1, 32767 / 32768) * 32767).astype("<i2")
            with wave.open(str(path), "wb") as fh:
                fh.setnchannels(1)
                fh.setsampwidth(2)
                fh.setframerate(rate)
                fh.writeframes(tone.tobytes())
            return Result(files=[path], duration=len(t) / rate)

        return self._perform("speech", request, request.text, len(request.text), ctx, produce)

    def generate_image(self, request: ImageRequest, ctx: JobContext) -> Result:
        defect = self._defect(request, request.prompt)

        def produce(out: Path) -> Result:
            import numpy as np
            from PIL import Image

            path = out / "keyframe.png"
            tag = f"{request.prompt}|{request.seed}" + "".join(f"|{_file_tag(p)}" for p in request.reference_images)
            img = np.empty((request.height, request.width, 3), dtype=np.uint8)
            img[:] = _colour(tag)
            x = int(_unit_float(tag) * request.width)
            img[:, x : x + request.width // 10] = _colour(tag[::-1])
            self._people(img, request.shot or _sheet_shot(request), defect)
            if defect == "black":
                img[:] = 0
            Image.fromarray(img).save(path, format="PNG")
            return Result(files=[path], width=request.width, height=request.height)

        return self._perform("image", request, request.prompt, 1, ctx, produce)

    def generate_video(self, request: VideoRequest, ctx: JobContext) -> Result:
        sheet = self.describe(Capability.video)
        for given, taken, what in (
            (request.last_image is not None, sheet.first_last_frame, "a last frame (set first_last_frame)"),
            (request.audio is not None, sheet.audio_input, "a voice (set audio_input)"),
            (len(request.reference_images) > sheet.max_reference_images, False, "that many reference images"),
        ):
            if given and not taken:
                raise UnsupportedRequest(f"simulated video takes no {what}")
        defect = self._defect(request, request.prompt)

        own = sheet.native_audio and request.audio is None and self.media != "bytes"  # its own sound

        def produce(out: Path) -> Result:
            inputs = [request.image, request.last_image, *request.reference_images, request.audio]
            tag = f"{request.prompt}|{request.seed}|{request.duration}" + "".join(f"|{_file_tag(p)}" for p in inputs)
            duration = request.duration / 2 if defect == "short" else request.duration
            voice = None
            if request.audio is not None and request.shot is not None and request.shot.speakers_on_screen:
                speaker = request.shot.speakers_on_screen[0]  # the model animates the one who speaks
                voice = (request.audio, [(speaker, 0.0, duration)], 0.5 if defect == "offsync" else 0.0)
            path = self._video(
                out / "clip", tag, request.width, request.height, request.fps, duration, request.audio,
                request.shot, defect, voice, tone=own,
            )  # fmt: skip
            meta: dict[str, Any] = {"lip_synced": True} if request.audio is not None else {}
            return Result(
                files=[path],
                duration=duration,
                width=request.width,
                height=request.height,
                fps=request.fps,
                metadata={**meta, "audio": True} if own else meta,
            )

        return self._perform("video", request, request.prompt, request.duration, ctx, produce)

    def lipsync(self, request: LipsyncRequest, ctx: JobContext) -> Result:
        duration, size = _probe(request.video, request.audio)
        defect = self._defect(request, "")

        def produce(out: Path) -> Result:
            tag = f"lipsync|{_file_tag(request.video)}|{_file_tag(request.audio)}|{request.seed}"
            voice = (request.audio, list(request.speakers), 0.5 if defect == "offsync" else 0.0)
            path = self._video(
                out / "lipsync", tag, size[0], size[1], request.fps, duration, None, request.shot, defect, voice
            )
            return Result(files=[path], duration=duration, width=size[0], height=size[1], fps=request.fps)

        return self._perform("lipsync", request, "", duration, ctx, produce)

    def generate_music(self, request: MusicRequest, ctx: JobContext) -> Result:
        def produce(out: Path) -> Result:
            import numpy as np

            path = out / "music.wav"
            rate = request.sample_rate
            total = round(request.duration * rate)
            # A whole number of hertz repeats every second: synthesise one second and tile it.
            pitch = 110 + int(220 * _unit_float(f"{request.prompt}|{request.seed}"))
            second = (0.2 * np.sin(2 * math.pi * pitch * np.arange(rate) / rate) * 32767).astype("<i2")
            tone = np.tile(second, total // rate + 1)[:total]
            with wave.open(str(path), "wb") as fh:
                fh.setnchannels(1)
                fh.setsampwidth(2)
                fh.setframerate(rate)
                fh.writeframes(tone.tobytes())
            return Result(files=[path], duration=request.duration)

        return self._perform("music", request, request.prompt, request.duration, ctx, produce)

    # ------------------------------------------------------------------ the "provider"

    def _perform(
        self, cap: str, request: Request, text: str, units: float, ctx: JobContext, produce: Callable[[Path], Result]
    ) -> Result:
        key = ctx.key or hashlib.sha256(request.model_dump_json().encode()).hexdigest()
        refuse = self._opt("refuse", cap, "")
        if refuse and refuse in text:
            raise RefusedError(
                f"simulated provider refused the request: it contains {refuse!r}", provider_reason="content_policy"
            )
        if self._opt("fail_text", cap, "") and self._opt("fail_text", cap, "") in text:
            raise TransientError(
                "simulated provider keeps timing out on this request", retry_after=self._retry_after(cap)
            )
        self._received(request)
        latency = self._latency(cap, key)
        metadata: dict[str, Any] = {}
        if self._opt("asynchronous", cap, False):
            metadata = self._run_async(cap, key, latency, ctx)
        else:
            self._maybe_fail(cap, key)
            self._record(cap, key)
            self._wait(time.monotonic() + latency, ctx)
        result = produce(ctx.out_dir)
        unit = self._opt("cost_unit", cap, _UNITS.get(cap, "request"))
        cost = float(self._opt("cost", cap, 0.0)) * (units if unit in ("second", "character", "token") else 1.0)
        return result.model_copy(
            update={
                "cost": round(cost, 6),
                "cost_units": units,
                "model": self.model or f"simulated-{cap}",
                "metadata": {**result.metadata, **metadata},
            }
        )

    def _run_async(self, cap: str, key: str, latency: float, ctx: JobContext) -> dict[str, Any]:
        """Submit (once, idempotently by job id) and poll until the job is due; say which job and whether resumed."""
        self.server.mkdir(parents=True, exist_ok=True)
        resumed = ctx.job_id is not None
        job_id = ctx.job_id or f"sim-{key[:32]}"
        if ctx.job_id is None:
            ctx.record_job_id(job_id)  # persisted by the engine before anything is submitted
        job = self.server / f"{job_id}.json"
        if not job.exists():
            self._maybe_fail(cap, key)  # a 429 on submit: nothing was accepted
            fd, tmp = tempfile.mkstemp(dir=self.server, prefix=".job.")
            with os.fdopen(fd, "w") as fh:
                json.dump({"key": key, "capability": cap, "due": time.time() + latency}, fh)
            try:
                os.link(tmp, job)  # create-if-absent, atomically
                accepted = True
            except FileExistsError:
                accepted = False
            finally:
                os.unlink(tmp)
            if accepted:
                self._record(cap, key)
        due = json.loads(job.read_text())["due"]
        self._wait(time.monotonic() + max(0.0, due - time.time()), ctx)
        return {"job_id": job_id, "resumed": resumed}

    def _wait(self, until: float, ctx: JobContext) -> None:
        left = until - time.monotonic()
        if left > 0 and ctx.cancel_event.wait(left):
            raise TransientError("cancelled while waiting for the simulated provider")

    def latency_for(self, cap: str, key: str) -> float:
        """The (deterministic) seconds a request with this key takes; benchmarks use it for bounds."""
        return self._latency(cap, key)

    def _latency(self, cap: str, key: str) -> float:
        mean = float(self._opt("latency", cap, 0.0))
        sigma = float(self._opt("jitter", cap, 0.0))
        if mean <= 0 or sigma <= 0:
            return max(0.0, mean)
        return mean * random.Random(key).lognormvariate(-sigma * sigma / 2, sigma)

    def _retry_after(self, cap: str) -> float | None:
        value = self._opt("retry_after", cap, None)
        return float(value) if value is not None else None

    def _maybe_fail(self, cap: str, key: str) -> None:
        rate = float(self._opt("failure_rate", cap, 0.0))
        if rate <= 0:
            return
        attempt = self._attempt(key)
        if _unit_float(f"{key}:{attempt}") < rate:
            raise TransientError("simulated provider: 503 service busy", retry_after=self._retry_after(cap))

    def _attempt(self, key: str) -> int:
        """This request's attempt number, as a provider sees it: counted across every process that
        serves the project (a cluster's workers, a render restarted after a crash) when the provider
        keeps a log, so a retry on another worker is not the first attempt again (and fails again)."""
        with self._lock:
            if self.log is None:
                self._attempts[key] += 1
                return self._attempts[key]
            tally = self.log.with_name(self.log.name + ".attempts")
            tally.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tally, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                os.write(fd, f"{key}\n".encode())
                with open(tally, encoding="utf-8") as fh:
                    return sum(line.rstrip("\n") == key for line in fh)
            finally:
                os.close(fd)

    def _received(self, request: Request) -> None:
        if self.requests is not None:
            line = json.dumps({"type": type(request).__name__, **request.model_dump(mode="json")}, ensure_ascii=False)
            self.requests.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, open(self.requests, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")

    def _record(self, cap: str, key: str) -> None:
        if self.log is not None:
            self.log.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, f"{key}\t{cap}\t{os.getpid()}\n".encode())
            finally:
                os.close(fd)

    def _defect(self, request: Request, text: str) -> str | None:
        """The defect this take is asked to carry, if any (counting distinct seeds per entry)."""
        shot = getattr(request, "shot", None)
        for i, d in enumerate(self.defects):
            if "capability" in d and d["capability"] != request.capability.value:
                continue
            if "shot" in d and (shot is None or shot.id != d["shot"]):
                continue
            if "text" in d and d["text"] not in text:
                continue
            if "seeds" in d:
                bad = request.seed in d["seeds"]
            else:
                with self._lock:
                    seeds = self._bad_seeds[i]
                    if request.seed not in seeds:
                        seeds.append(request.seed)
                    bad = d.get("takes") is None or seeds.index(request.seed) < int(d["takes"])
            if bad:
                return str(d["kind"])
        return None

    def _people(self, img: np.ndarray, shot: Any, defect: str | None, mouths: dict[str, float] | None = None) -> None:
        """Draw the shot's characters on an RGB frame (nobody for a ``faceless`` take)."""
        from kaipai.backends.synthetic import draw_person, placements, shirt_colour

        if defect == "faceless":
            return
        h, w = img.shape[:2]
        for cid, cx, cy, size in placements(shot, w, h):
            mouth = (mouths or {}).get(cid, 0.0)
            draw_person(img, cx, cy, size, mouth, shirt_colour(cid, changed=defect == "wardrobe"))

    def _video(
        self,
        stem: Path,
        tag: str,
        width: int,
        height: int,
        fps: int,
        duration: float,
        sound: Path | None = None,
        shot: Any = None,
        defect: str | None = None,
        voice: tuple[Path, list[tuple[str, float, float]], float] | None = None,
        tone: bool = False,
    ) -> Path:
        import numpy as np

        frames = max(1, round(duration * fps))
        if self.media == "bytes":
            path = stem.with_suffix(".sim")
            seedbytes = hashlib.sha256(f"{tag}|{width}x{height}@{fps}|{frames}|{defect}".encode()).digest()
            path.write_bytes(b"KAIPAI-SIMULATED-VIDEO\n" + seedbytes * 32)
            return path
        import av

        talking = _talking(voice, fps, frames) if voice else {}
        path = stem.with_suffix(".mp4")
        base = np.array(_colour(tag), dtype=np.uint8)
        w, h = width - width % 2, height - height % 2
        with av.open(str(path), "w") as container:
            stream = container.add_stream("libx264", rate=fps)
            stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
            stream.options = {"preset": "ultrafast", "crf": "35"}
            if sound is not None:  # a clip that animates a voice comes with that voice
                _mux_sound(container, sound, duration)
            own = _sound_stream(container) if tone else None
            img = np.empty((h, w, 3), dtype=np.uint8)
            bar = max(2, w // 12)
            for i in range(frames):
                j = 0 if defect == "frozen" else i
                img[:] = base
                x = int((j / max(1, frames - 1)) * (w - bar))
                img[:, x : x + bar] = base ^ 0x80  # always far from the background: the clip moves
                self._people(img, shot, defect, {cid: env[j] for cid, env in talking.items()})
                if defect == "black":
                    img[:] = 0
                elif defect == "flash" and i in (frames // 3, 2 * frames // 3):
                    img[:] = 255
                for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
            if own is not None:
                _sound_track(container, own, duration)
        return path


SOUND_HZ = 1500.0  # the simulated clip's own sound: a steady tone, easy to find in a mix


def _sound_stream(container: Any, rate: int = 48000) -> Any:
    stream = container.add_stream("aac", rate=rate)
    stream.layout = "stereo"
    return stream


def _sound_track(container: Any, stream: Any, duration: float, rate: int = 48000) -> None:
    """A clip's own sound: a quiet steady tone as long as the clip, AAC in the same MP4."""
    import av
    import numpy as np

    t = np.arange(round(duration * rate)) / rate
    tone = (0.2 * np.sin(2 * np.pi * SOUND_HZ * t)).astype(np.float32)
    block = 1024
    for i in range(0, len(tone), block):
        chunk = np.ascontiguousarray(np.stack([tone[i : i + block]] * 2))
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
        frame.sample_rate, frame.pts = rate, i
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)


def _talking(voice: tuple[Path, list[tuple[str, float, float]], float], fps: int, n: int) -> dict[str, np.ndarray]:
    """Per speaking character, how open their mouth is in each frame: the voice's loudness while they
    speak (``shift`` seconds late for an out-of-sync take), shut otherwise."""
    import numpy as np

    from kaipai.backends.synthetic import loudness_per_frame

    audio, speakers, shift = voice
    try:
        with wave.open(str(audio), "rb") as fh:
            rate, channels = fh.getframerate(), fh.getnchannels()
            pcm = np.frombuffer(fh.readframes(fh.getnframes()), dtype="<i2").astype(np.float32) / 32768
    except (OSError, wave.Error, EOFError):
        return {}
    if channels > 1:
        pcm = pcm.reshape(-1, channels).mean(axis=1)
    loud = loudness_per_frame(pcm, rate, fps, n)
    late = round(shift * fps)
    if late:
        loud = np.concatenate([np.zeros(late), loud])[:n]
    out: dict[str, np.ndarray] = {}
    t = np.arange(n) / fps
    for cid, start, end in speakers:
        inside = (t >= start + shift) & (t < end + shift)
        out[cid] = np.where(inside, loud, 0.0) + out.get(cid, np.zeros(n))
    return out


def _sheet_shot(request: ImageRequest) -> Any:
    """A reference sheet shows its character full face, as a close-up in the middle."""
    if request.purpose != "reference_sheet" or not request.characters:
        return None
    from kaipai.document.shots import Placement, Shot

    return Shot(id="sheet", scene="sheet", size="CU", composition=[Placement(character=request.characters[0].id)])


def _mux_sound(container: Any, sound: Path, duration: float) -> None:
    """Encode a WAV (cut to ``duration``) as the clip's AAC sound track."""
    import av
    import numpy as np

    with wave.open(str(sound), "rb") as fh:
        rate, channels = fh.getframerate(), fh.getnchannels()
        pcm = np.frombuffer(fh.readframes(fh.getnframes()), dtype="<i2")
    mono = pcm.reshape(-1, channels).mean(axis=1).astype("<i2")[: round(duration * rate)]
    stream = container.add_stream("aac", rate=rate)
    stream.layout = "mono"
    frame = av.AudioFrame.from_ndarray(mono.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = rate
    for packet in stream.encode(frame):
        container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)


def _file_tag(path: Path | None) -> str:
    """A short content tag of an input file, so outputs follow their inputs."""
    if path is None or not Path(path).exists():
        return ""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        h.update(fh.read(1 << 20))
    return h.hexdigest()[:16]


def _probe(video: Path, audio: Path) -> tuple[float, tuple[int, int]]:
    """Duration and size of a video; a simulated byte clip carries neither, so the audio's length stands in."""
    with contextlib.suppress(Exception):
        import av

        with av.open(str(video)) as c:
            s = c.streams.video[0]
            duration = float(s.frames / s.average_rate) if s.frames and s.average_rate else float(c.duration or 0) / 1e6
            return duration, (s.codec_context.width, s.codec_context.height)
    with contextlib.suppress(Exception), wave.open(str(audio), "rb") as fh:
        return fh.getnframes() / fh.getframerate(), (64, 36)
    return 1.0, (64, 36)
