"""The backend interface: what a backend declares, what it is asked, what it returns.

Every generator — the offline previz, a diffusers pipeline, a ComfyUI server, a cloud
service — implements one or more capability protocols below and declares a
:class:`CapabilitySheet` per capability. The engine reads the sheet to adapt a request
(snap durations and sizes) or refuse it before anything is spent, and to size its
concurrency and rate limits. Backends are found through the ``kaipai.backends`` entry
point group, so third-party packages can add their own (see :mod:`kaipai.backends.registry`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from kaipai.document.cast import Character
from kaipai.document.models import Document
from kaipai.document.qc import Continuity
from kaipai.document.scenes import Scene
from kaipai.document.settings import Style
from kaipai.document.shots import Shot


class Capability(str, Enum):
    planner = "planner"
    image = "image"
    video = "video"
    speech = "speech"
    lipsync = "lipsync"
    music = "music"
    sound = "sound"  # ambience and sound effects from a description
    judge = "judge"  # scores a take against its shot (quality control)


# --------------------------------------------------------------------------- errors


class BackendError(Exception):
    """A backend could not do the work. ``transient`` errors are retried with backoff."""

    transient: bool = False

    def __init__(self, message: str, *, retry_after: float | None = None, provider_reason: str = "") -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.provider_reason = provider_reason


class TransientError(BackendError):
    """Worth retrying: timeouts, 429, 5xx, a dropped connection."""

    transient = True


class RefusedError(BackendError):
    """The provider refused the request (content policy, bad input): never retried."""


class UnsupportedRequest(BackendError):
    """The backend cannot honour this request (duration, size, references...): refused before spending."""


class AccountError(BackendError):
    """The provider account cannot run the job (balance, quota, resource packs, a model not enabled).

    Reported with the provider's reason and never retried: waiting does not refill an account.
    """


class NotConfigured(BackendError):
    """The backend is missing a key, an extra or a server address; the message says what to do."""


# --------------------------------------------------------------------------- capability sheet


class CapabilitySheet(BaseModel):
    """What a backend (for one capability and model) can do and what it costs."""

    model_config = ConfigDict(extra="forbid")

    capability: Capability
    model: str = ""
    durations: list[float] | None = Field(
        default=None, description="Discrete clip durations (s) accepted; None = any in range."
    )
    min_duration: float = 0.0
    max_duration: float | None = None
    resolutions: list[tuple[int, int]] | None = Field(default=None, description="Exact sizes accepted; None = any.")
    size_multiple: int = Field(default=1, description="Width and height must be multiples of this.")
    max_pixels: int | None = None
    aspect_ratios: list[str] | None = None
    fps: list[int] | None = None
    frame_rule: tuple[int, int] | None = Field(
        default=None, description="(k, r): frame counts of the form k*n + r, e.g. (4, 1) for Wan."
    )
    max_frames: int | None = None
    first_last_frame: bool = Field(default=False, description="Video: takes a last frame as well as the first.")
    max_reference_images: int = Field(
        default=0, description="Reference images (who and what is in the shot) it takes; 0 = none."
    )
    native_audio: bool = Field(default=False, description="The clip comes with its own generated sound.")
    audio_input: bool = Field(
        default=False, description="Video: takes the shot's voice and returns a talking, lip-synced clip."
    )
    video_input: bool = Field(
        default=False, description="Sound: takes the shot's clip and makes sound that follows its picture."
    )
    drawn: bool = Field(
        default=False,
        description="Pictures are drawn storyboard frames (previz), not camera-like footage: quality control skips "
        "the checks that look for faces, likeness and life in them.",
    )
    languages: list[str] | None = Field(default=None, description="Speech: language codes supported.")
    min_input_seconds: float = Field(default=0.0, description="Lip sync: the shortest video and audio it takes.")
    max_video_seconds: float | None = Field(default=None, description="Lip sync: the longest video it takes.")
    max_audio_seconds: float | None = Field(
        default=None, description="Lip sync, and video that takes a voice: the longest audio it takes."
    )
    parameters: list[str] | None = Field(
        default=None,
        description="Optional provider parameters this model takes (e.g. cfg_scale, negative_prompt); a backend "
        "sends each only to models that list it. None: the backend's own fixed set.",
    )
    cost_per_unit: float = 0.0
    cost_unit: Literal["request", "image", "second", "character", "token"] = "request"
    currency: str = "USD"
    max_concurrency: int = 1
    requests_per_minute: float | None = None
    asynchronous: bool = Field(default=False, description="Submit-then-poll jobs, resumed by id after a restart.")
    deterministic: bool = Field(
        default=False, description="The same request and seed give the same file (on the same machine)."
    )
    typical_seconds: float = Field(default=1.0, description="Typical wall time of one request, for ETAs.")
    num_gpus: float = Field(default=0.0, ge=0, description="GPUs one worker of it holds on a cluster (Ray).")
    num_cpus: float = Field(
        default=1.0, ge=0, description="CPU cores one worker holds on a cluster; 0 for a client of a remote service."
    )
    memory_gb: float = Field(default=0.0, ge=0, description="RAM one worker needs to load its model, in GiB.")


# --------------------------------------------------------------------------- requests and results


class Request(BaseModel):
    """Fields common to every generation request. ``seed`` is always explicit: a take is reproducible."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    #: The capability that takes this kind of request, and the backend method that does it.
    capability: ClassVar[Capability]
    method: ClassVar[str]

    seed: int = 0
    model: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)


class ImageRequest(Request):
    capability: ClassVar[Capability] = Capability.image
    method: ClassVar[str] = "generate_image"

    prompt: str
    negative_prompt: str = ""
    width: int
    height: int
    reference_images: list[Path] = Field(default_factory=list)
    purpose: Literal["keyframe", "reference_sheet", "last_frame"] = "keyframe"
    shot: Shot | None = None
    scene: Scene | None = None
    characters: list[Character] = Field(default_factory=list)
    style: Style = Field(default_factory=Style)
    language: str = "zh"


class VideoRequest(Request):
    capability: ClassVar[Capability] = Capability.video
    method: ClassVar[str] = "generate_video"

    prompt: str
    negative_prompt: str = ""
    image: Path | None = Field(default=None, description="First frame (keyframe).")
    last_image: Path | None = Field(default=None, description="Last frame, for a shot that says where it ends.")
    reference_images: list[Path] = Field(
        default_factory=list, description="Who and what is in the shot (sheets, location, props), best first."
    )
    audio: Path | None = Field(
        default=None,
        description="The shot's dialogue, for models that animate speech (sheet.audio_input): the clip comes back "
        "lip-synced.",
    )
    width: int
    height: int
    fps: int
    duration: float
    shot: Shot | None = None
    scene: Scene | None = None
    characters: list[Character] = Field(default_factory=list, description="Who is in frame at the start or the end.")
    style: Style = Field(default_factory=Style)
    language: str = "zh"


class SpeechRequest(Request):
    capability: ClassVar[Capability] = Capability.speech
    method: ClassVar[str] = "synthesize"

    text: str
    language: str = "zh"
    character: Character | None = None
    speaker: str = Field(default="", description="Character id or 'narrator'.")
    parenthetical: str = ""
    sample_rate: int = 24000
    cast: list[Character] = Field(
        default_factory=list,
        description="Every character in cast order, so a backend can give each its own default voice "
        "(not part of the take's key: a backend records the voice it chose).",
    )


class LipsyncRequest(Request):
    capability: ClassVar[Capability] = Capability.lipsync
    method: ClassVar[str] = "lipsync"

    video: Path
    audio: Path = Field(description="The shot's dialogue track, aligned to the start of the clip.")
    speakers: list[tuple[str, float, float]] = Field(
        default_factory=list, description="(character id, start s, end s) of each on-screen line."
    )
    shot: Shot | None = None
    characters: list[Character] = Field(default_factory=list)
    fps: int = 24
    video_seconds: float | None = Field(default=None, description="Length of the clip, for the sheet's limits.")
    audio_seconds: float | None = Field(default=None, description="Length of the dialogue track.")
    clip_source: dict[str, Any] = Field(
        default_factory=dict,
        description="The clip take's provenance (provider, task and video ids, result link), so a lip-sync "
        "service can reuse a clip it already holds instead of receiving it again.",
    )


class MusicRequest(Request):
    capability: ClassVar[Capability] = Capability.music
    method: ClassVar[str] = "generate_music"

    prompt: str
    duration: float
    sample_rate: int = 48000


class SoundRequest(Request):
    """Ambience (a bed under a scene, made to loop) or a sound effect, from a description."""

    capability: ClassVar[Capability] = Capability.sound
    method: ClassVar[str] = "generate_sound"

    prompt: str
    kind: Literal["ambience", "effect"] = "effect"
    duration: float | None = Field(
        default=None, description="Seconds wanted; None lets the backend give the sound its natural length."
    )
    video: Path | None = Field(
        default=None, description="The shot's clip, for video-to-audio models (sheet.video_input)."
    )
    language: str = "zh"
    sample_rate: int = 48000


JUDGE_CRITERIA: tuple[str, ...] = ("prompt", "likeness", "artifacts", "continuity")


class JudgeRequest(Request):
    """Score a take against its shot: how well it follows the prompt, keeps each character's likeness to
    their reference, avoids artifacts, and keeps the scene's continuity (wardrobe, props)."""

    capability: ClassVar[Capability] = Capability.judge
    method: ClassVar[str] = "judge"

    images: list[Path] = Field(description="The take: a keyframe, or frames sampled from a clip, in order.")
    prompt: str = Field(description="What the shot should show.")
    criteria: list[str] = Field(default_factory=lambda: list(JUDGE_CRITERIA))
    references: dict[str, Path] = Field(
        default_factory=dict, description="Character id → their circled reference sheet or own reference image."
    )
    characters: list[Character] = Field(default_factory=list, description="Who the shot frames.")
    continuity: list[Continuity] = Field(
        default_factory=list, description="The scene's ledger for the framed characters: wardrobe, props held."
    )
    shot: Shot | None = None
    language: str = "en"


class Observed(BaseModel):
    """What a judge saw one character wear and hold (compared across the cuts of a scene)."""

    model_config = ConfigDict(extra="forbid")

    wardrobe: str = ""
    holds: list[str] = Field(default_factory=list)


class Verdict(BaseModel):
    """A judge's reply: a 0–1 score per criterion it could judge, and why the low ones are low."""

    model_config = ConfigDict(extra="forbid")

    scores: dict[str, float] = Field(default_factory=dict)
    reasons: list[str] = Field(default_factory=list)
    observed: dict[str, Observed] = Field(default_factory=dict, description="Character id → what they wear and hold.")
    measures: dict[str, float] = Field(
        default_factory=dict, description="The raw figures behind the scores (e.g. cosine similarities)."
    )


class Result(BaseModel):
    """What a generation produced. ``files`` are paths inside the job's output folder."""

    model_config = ConfigDict(extra="forbid")

    files: list[Path]
    duration: float | None = Field(default=None, description="Exact media duration in seconds (speech, video, music).")
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    cost: float = 0.0
    cost_units: float = 0.0
    model: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)


# --------------------------------------------------------------------------- job context


@dataclass
class JobContext:
    """What the engine gives a backend for one job.

    ``out_dir`` is an empty private folder; files written there are moved into the
    store when the job succeeds. An asynchronous backend must call
    :meth:`record_job_id` right after submitting and before waiting: after a crash the
    engine hands the same id back in ``job_id`` and the backend resumes polling instead of
    submitting again.
    """

    out_dir: Path
    key: str = ""
    job_id: str | None = None
    on_job_id: Callable[[str], None] | None = None
    on_progress: Callable[[float, str], None] | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)

    def record_job_id(self, job_id: str) -> None:
        self.job_id = job_id
        if self.on_job_id is not None:
            self.on_job_id(job_id)

    def progress(self, fraction: float, message: str = "") -> None:
        if self.on_progress is not None:
            self.on_progress(max(0.0, min(1.0, fraction)), message)

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()


# --------------------------------------------------------------------------- protocols and dispatch


class Backend:
    """Base class of every backend. Subclasses set ``name`` and ``capabilities``.

    ``config`` is the document's ``BackendChoice.options`` plus ``model``; secrets are
    read from the environment by the backend itself and never stored in the config.
    """

    name: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    #: Bumped when a backend's output for the same request changes; part of every artifact key.
    version: ClassVar[str] = "1"
    #: True for backends that read files named relative to the project (ComfyUI workflows):
    #: the registry passes them ``base_dir``, the project folder.
    reads_project_files: ClassVar[bool] = False
    #: True when the backend's output is AI-generated content in the sense of the labelling rules
    #: (China's measures and GB 45438-2025, EU AI Act Art. 50): a film using any of its takes carries
    #: AIGC labels under ``publish: labels: auto``. The offline previz defaults set it False.
    generative: ClassVar[bool] = True

    def __init__(self, model: str | None = None, **options: Any) -> None:
        self.model = model
        self.options = options

    def sheet(self, capability: Capability) -> CapabilitySheet:
        """What the backend can do for one capability it declares; any other capability is refused."""
        if capability not in type(self).capabilities:
            does = ", ".join(sorted(c.value for c in type(self).capabilities)) or "nothing"
            raise UnsupportedRequest(f"backend {self.name!r} does {does}, not {capability.value}")
        return self.describe(capability)

    def describe(self, capability: Capability) -> CapabilitySheet:
        """The sheet of a declared capability (for this backend's model and options)."""
        raise NotImplementedError

    def check(self) -> str:
        """Raise NotConfigured if unusable; return a short status line when ready."""
        return "ready"

    def close(self) -> None:
        """Release pipelines, clients and servers at the end of a render."""


@runtime_checkable
class ImageBackend(Protocol):
    def generate_image(self, request: ImageRequest, ctx: JobContext) -> Result: ...


@runtime_checkable
class VideoBackend(Protocol):
    def generate_video(self, request: VideoRequest, ctx: JobContext) -> Result: ...


@runtime_checkable
class SpeechBackend(Protocol):
    def synthesize(self, request: SpeechRequest, ctx: JobContext) -> Result: ...


@runtime_checkable
class LipsyncBackend(Protocol):
    def lipsync(self, request: LipsyncRequest, ctx: JobContext) -> Result: ...


@runtime_checkable
class MusicBackend(Protocol):
    def generate_music(self, request: MusicRequest, ctx: JobContext) -> Result: ...


@runtime_checkable
class SoundBackend(Protocol):
    def generate_sound(self, request: SoundRequest, ctx: JobContext) -> Result: ...


@runtime_checkable
class JudgeBackend(Protocol):
    """Writes ``verdict.json`` in the job folder and returns it, the :class:`Verdict` in ``metadata["verdict"]``."""

    def judge(self, request: JudgeRequest, ctx: JobContext) -> Result: ...


def verdict_result(verdict: Verdict, ctx: JobContext, *, model: str = "", cost: float = 0.0) -> Result:
    """A judge's reply as a job result: the verdict as a file (the contract's artifact) and in metadata."""
    path = ctx.out_dir / "verdict.json"
    path.write_text(verdict.model_dump_json(indent=2), encoding="utf-8")
    return Result(files=[path], model=model, cost=cost, metadata={"verdict": verdict.model_dump(mode="json")})


@runtime_checkable
class PlannerBackend(Protocol):
    """Turns words into the document: screenplay from an idea, shots from scenes, a shot from a note."""

    def write_screenplay(self, idea: str, language: str) -> str: ...

    def plan_scene(self, document: Document, scene: Scene) -> list[Shot]: ...

    def revise_shot(self, document: Document, shot: Shot, note: str) -> Shot: ...


def call_backend(backend: Backend, request: Request, ctx: JobContext) -> Result:
    """Hand a request to the method of the capability that takes it (``Request.method``)."""
    method = getattr(backend, request.method, None)
    if not callable(method):
        raise UnsupportedRequest(f"backend {backend.name!r} cannot take a {request.capability.value} request")
    result: Result = method(request, ctx)
    return result


def check_request(sheet: CapabilitySheet, request: Request) -> None:
    """Refuse what the sheet rules out. Snapping (rounding to what is accepted) happens before this."""
    reasons: list[str] = []
    if isinstance(request, (ImageRequest, VideoRequest)):
        w, h = request.width, request.height
        if sheet.resolutions is not None and (w, h) not in [tuple(r) for r in sheet.resolutions]:
            reasons.append(
                f"{w}x{h} is not among the sizes {sheet.model or 'it'} accepts "
                f"({', '.join(f'{a}x{b}' for a, b in sheet.resolutions)})"
            )
        if sheet.size_multiple > 1 and (w % sheet.size_multiple or h % sheet.size_multiple):
            reasons.append(f"{w}x{h} is not a multiple of {sheet.size_multiple} pixels")
        if sheet.max_pixels and w * h > sheet.max_pixels:
            reasons.append(f"{w}x{h} exceeds {sheet.max_pixels} pixels")
    if isinstance(request, (ImageRequest, VideoRequest)) and len(request.reference_images) > sheet.max_reference_images:
        reasons.append(
            f"{len(request.reference_images)} reference images, at most {sheet.max_reference_images} accepted"
            if sheet.max_reference_images
            else "reference images, which this model does not take"
        )
    if isinstance(request, VideoRequest):
        d = request.duration
        if sheet.durations is not None and not any(abs(d - x) < 1e-6 for x in sheet.durations):
            reasons.append(f"a {d:g} s clip; accepted durations are {', '.join(f'{x:g}' for x in sheet.durations)} s")
        reasons += _outside_durations(sheet, d, "clip")
        if request.last_image is not None and not sheet.first_last_frame:
            reasons.append("a last frame, which this model does not take")
        if sheet.fps is not None and request.fps not in sheet.fps:
            reasons.append(f"{request.fps} fps; accepted: {sheet.fps}")
        if request.audio is not None and not sheet.audio_input:
            reasons.append("a voice to animate, which this model does not take (its sheet says audio_input: false)")
        if request.audio is not None and sheet.max_audio_seconds is not None and d > sheet.max_audio_seconds + 1e-9:
            reasons.append(f"{d:g} s of speech; at most {sheet.max_audio_seconds:g} s accepted")
    if isinstance(request, LipsyncRequest):
        for what, seconds, most in (
            ("video", request.video_seconds, sheet.max_video_seconds),
            ("audio", request.audio_seconds, sheet.max_audio_seconds),
        ):
            if seconds is not None and most is not None and seconds > most + 1e-9:
                reasons.append(f"{seconds:g} s of {what}; at most {most:g} s accepted")
            if seconds is not None and seconds < sheet.min_input_seconds - 1e-9:
                reasons.append(f"{seconds:g} s of {what}; at least {sheet.min_input_seconds:g} s needed")
    if isinstance(request, SoundRequest) and request.duration is not None:
        reasons += _outside_durations(sheet, request.duration, "sound")
    if isinstance(request, SpeechRequest) and sheet.languages is not None and request.language not in sheet.languages:
        reasons.append(f"language {request.language!r}; supported: {', '.join(sheet.languages)}")
    if reasons:
        raise UnsupportedRequest(f"{sheet.model or sheet.capability.value} cannot take " + "; ".join(reasons))


def snap_request(sheet: CapabilitySheet, request: Request) -> Request:
    """Round a request to the nearest thing the backend accepts (size, duration, fps).

    Speech is never touched; a video's duration only ever grows, so a clip still covers its
    dialogue (the edit trims, it never speeds speech up).
    """
    update: dict[str, Any] = {}
    if isinstance(request, (ImageRequest, VideoRequest)):
        w, h = request.width, request.height
        if sheet.resolutions:
            target = w / h
            w, h = min(sheet.resolutions, key=lambda r: (abs(r[0] / r[1] - target), abs(r[0] * r[1] - w * h)))
        m = max(1, sheet.size_multiple)
        w, h = max(m, round(w / m) * m), max(m, round(h / m) * m)
        if sheet.max_pixels and w * h > sheet.max_pixels:
            scale = (sheet.max_pixels / (w * h)) ** 0.5
            w, h = max(m, int(w * scale) // m * m), max(m, int(h * scale) // m * m)
        update.update(width=int(w), height=int(h))
    if isinstance(request, VideoRequest):
        d = request.duration
        if sheet.durations:
            longer = [x for x in sorted(sheet.durations) if x >= d - 1e-9]
            d = longer[0] if longer else max(sheet.durations)
        update["duration"] = _within_durations(sheet, d)
        if sheet.fps and request.fps not in sheet.fps:
            update["fps"] = min(sheet.fps, key=lambda f: abs(f - request.fps))
    if isinstance(request, SoundRequest) and request.duration is not None:
        update["duration"] = _within_durations(sheet, request.duration)
    return request.model_copy(update=update) if update else request


def _outside_durations(sheet: CapabilitySheet, seconds: float, what: str) -> list[str]:
    """Why ``seconds`` of a clip or sound is outside the sheet's min_duration–max_duration (none when inside)."""
    top = sheet.max_duration
    if seconds < sheet.min_duration - 1e-9 or (top is not None and seconds > top + 1e-9):
        return [f"a {seconds:g} s {what} is outside {sheet.min_duration:g}–{top or '∞'} s"]
    return []


def _within_durations(sheet: CapabilitySheet, seconds: float) -> float:
    """``seconds`` moved into the sheet's min_duration–max_duration."""
    seconds = max(seconds, sheet.min_duration)
    return min(seconds, sheet.max_duration) if sheet.max_duration is not None else seconds


def snap_frames(sheet: CapabilitySheet, frames: int) -> int:
    """The nearest frame count of the form k*n + r at or above ``frames`` (Wan 4n+1, LTX 8n+1)."""
    if sheet.frame_rule is None:
        n = frames
    else:
        k, r = sheet.frame_rule
        n = max(r, r + -(-(frames - r) // k) * k)
    if sheet.max_frames is not None and n > sheet.max_frames:
        if sheet.frame_rule is None:
            n = sheet.max_frames
        else:
            k, r = sheet.frame_rule
            n = r + ((sheet.max_frames - r) // k) * k
    return n
