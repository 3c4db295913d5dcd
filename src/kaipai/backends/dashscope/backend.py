"""``dashscope``: Alibaba Cloud Model Studio (百炼) — Wan keyframes and clips, CosyVoice voices, lip sync.

Wan runs as asynchronous tasks through the shared life of :func:`~kaipai.backends.remote.tasks.run_task`
(a POST with ``X-DashScope-Async: enable``, then ``GET /api/v1/tasks/{id}``); which endpoint and fields
a clip uses follows its model's sheet: image-to-video (``img_url``), first-and-last frame
(``wan…kf2v…``: ``first_frame_url`` + ``last_frame_url``), reference-to-video (``wan2.6-r2v``:
``reference_urls``) and speech-to-video (``wan2.2-s2v``: the keyframe and the shot's voice make a
talking clip, after the face check). Lip sync of an existing clip is VideoRetalk. Local files reach
DashScope as its SDK sends them, by temporary upload (:mod:`~kaipai.backends.dashscope.uploads`).
Voices are CosyVoice over the WebSocket (:mod:`~kaipai.backends.dashscope.speech`), or HTTP in Beijing
with ``speech_protocol: http``; a character with a ``voice.sample`` gets a cloned voice.

Key: ``DASHSCOPE_API_KEY`` or ``api_key`` under ``[dashscope]`` in ~/.config/kaipai/config.toml.
Region: ``options.region`` (beijing — the default —, singapore or virginia), else ``DASHSCOPE_REGION``
or ``region`` under ``[dashscope]``; the key must be that region's. ``base_url`` overrides the host.
Options: ``prompt_extend`` (false), ``watermark`` (false), ``voice``, ``voices`` ({character id:
voice}), ``speech_protocol``, ``sheet`` overrides, and the polling figures of
:class:`~kaipai.backends.remote.tasks.PollSettings`.
"""

from __future__ import annotations

import time
import wave
from pathlib import Path
from typing import Any

import httpx

from kaipai.backends.base import (
    Backend,
    BackendError,
    Capability,
    CapabilitySheet,
    ImageRequest,
    JobContext,
    LipsyncRequest,
    NotConfigured,
    RefusedError,
    Result,
    SpeechRequest,
    TransientError,
    UnsupportedRequest,
    VideoRequest,
)
from kaipai.backends.dashscope import protocol, speech
from kaipai.backends.dashscope.protocol import PROVIDER
from kaipai.backends.dashscope.uploads import RESOLVE_HEADER, Uploader
from kaipai.backends.dashscope.voices import default_voice
from kaipai.backends.remote import tasks
from kaipai.backends.remote.sheets import (
    default_model,
    for_capability,
    load_sheet,
    located,
    provider_model,
    regions,
    sheet_named,
)

MAX_SEED = 2**31 - 1
MAX_IMAGE_SIDE = 1440
LINK_SECONDS = 24 * 3600  # result links and task ids live 24 h
FACE_CHECK_MODEL = "wan2.2-s2v-detect"


def video_tier(width: int, height: int) -> str:
    """Wan's ``resolution`` parameter for an output size from the sheet."""
    pixels = width * height
    if pixels <= 832 * 480:
        return "480P"
    if pixels <= 1280 * 720:
        return "720P"
    return "1080P"


def image_size(width: int, height: int) -> tuple[int, int]:
    """Keep the longer side within what Wan text-to-image accepts, on a 16-pixel grid."""
    scale = min(1.0, MAX_IMAGE_SIDE / max(width, height))
    return max(512, int(width * scale) // 16 * 16), max(512, int(height * scale) // 16 * 16)


def _ws_url(base_url: str) -> str:
    return "ws" + base_url.removeprefix("http") + "/api-ws/v1/inference"


class DashScopeBackend(Backend):
    name = "dashscope"
    capabilities = frozenset({Capability.image, Capability.video, Capability.speech, Capability.lipsync})
    version = "1"
    reads_project_files = True  # voice samples and reference images are named relative to the project

    def __init__(self, model: str | None = None, **options: Any) -> None:
        super().__init__(model=model, **options)
        self.settings = tasks.PollSettings.from_options(options)
        region, self.base_url = located("dashscope", options)
        self.region = str(region)
        hosts = regions("dashscope")[self.region]
        own_host = self.base_url == hosts["base_url"]
        self.ws_url = str(options.get("ws_url") or (hosts["ws_url"] if own_host else _ws_url(self.base_url)))
        self.speech_protocol = str(options.get("speech_protocol", "websocket"))
        if self.speech_protocol not in ("websocket", "http"):
            raise NotConfigured(f"dashscope speech_protocol {self.speech_protocol!r} is not websocket or http")
        self.where = f"region {self.region} at {self.base_url}"
        self._api = httpx.Client(base_url=self.base_url, timeout=self.settings.timeout)
        self._files = httpx.Client(timeout=self.settings.download_timeout, follow_redirects=True)
        self._errors = protocol.errors_hook(self.where)
        self.uploads = Uploader(self._send, self._files)
        self.enrollment = speech.Enrollment(self._send, self._headers, self.uploads, self.settings, self.where)

    # ------------------------------------------------------------------ configuration

    def model_for(self, capability: Capability) -> str:
        return self.model or default_model("dashscope", capability, self.region)

    def describe(self, capability: Capability) -> CapabilitySheet:
        """The model's sheet in this region, named as the region calls it (Singapore: ``wan2.1-…``)."""
        overrides = (self.options.get("sheet") or {}).get(capability.value)
        sid = sheet_named("dashscope", self.model_for(capability), self.region)
        sheet = load_sheet("dashscope", sid, overrides, self.region)
        sheet = sheet.model_copy(update={"model": provider_model("dashscope", sid, self.region)})
        return for_capability("DashScope", sheet, capability)

    def _key(self) -> str:
        return tasks.require("dashscope", "api_key", "DASHSCOPE_API_KEY", "the DashScope API key")

    def check(self) -> str:
        self._key()
        return f"DashScope ({self.region}) at {self.base_url}: key found"

    def reachable(self) -> str:
        """Ask for a task that does not exist: proves the address, the region and the key without spending."""
        protocol.reply(self._send("GET", protocol.TASK_PATH.format(task_id="kaipai-check")), self.where)
        return f"DashScope ({self.region}) at {self.base_url}: reachable, key accepted"

    def close(self) -> None:
        self._api.close()
        self._files.close()

    def _headers(self, asynchronous: bool = False) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._key()}", "Content-Type": "application/json"}
        if asynchronous:
            headers["X-DashScope-Async"] = "enable"
        return headers

    def _send(self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        return tasks.send(
            self._api, method, path, PROVIDER, errors=self._errors, headers=headers or self._headers(), **kwargs
        )

    def _project_file(self, relative: str) -> Path:
        base = self.options.get("base_dir")
        path = Path(relative)
        if not path.is_absolute() and base:
            path = Path(base) / path
        if not path.is_file():
            raise BackendError(f"{relative} does not exist (looked in {path.parent}); add it to the project")
        return path

    # ------------------------------------------------------------------ tasks

    def _task(self, path: str, build: Any, ctx: JobContext) -> dict[str, Any]:
        """One task through the shared life; ``build`` makes the body (and uploads) only when submitting."""

        def submit() -> str:
            body, resolve = build()
            headers = {**self._headers(asynchronous=True), **(RESOLVE_HEADER if resolve else {})}
            data = protocol.reply(self._send("POST", path, headers=headers, json=body), self.where)
            return str((data.get("output") or {}).get("task_id") or "")

        def look(task_id: str) -> tasks.Poll:
            data = protocol.reply(self._send("GET", protocol.TASK_PATH.format(task_id=task_id)), self.where)
            return protocol.look(data, task_id)

        return tasks.run_task(ctx, PROVIDER, self.settings, submit=submit, look=look, failure=protocol.failure).payload

    def _fetch(self, url: str, out_dir: Path, stem: str, default: str) -> Path:
        return tasks.download(
            self._files, url, out_dir / f"{stem}{tasks.suffix_for(url, default=default)}", PROVIDER, self.settings
        )

    def _metadata(self, data: dict[str, Any], ctx: JobContext, sheet: CapabilitySheet, unit: str) -> dict[str, Any]:
        return {
            "provider": "dashscope",
            "region": self.region,
            "task_id": ctx.job_id,
            "request_id": data.get("request_id", ""),
            "cost_unit": unit,
            "currency": sheet.currency,
        }

    # ------------------------------------------------------------------ keyframes

    def generate_image(self, request: ImageRequest, ctx: JobContext) -> Result:
        sheet = self.sheet(Capability.image)
        width, height = image_size(request.width, request.height)
        body: dict[str, Any] = {
            "model": sheet.model,
            "input": {
                "prompt": request.prompt,
                **({"negative_prompt": request.negative_prompt} if request.negative_prompt else {}),
            },
            "parameters": {
                "size": f"{width}*{height}",
                "n": 1,
                "seed": request.seed % MAX_SEED,
                "prompt_extend": bool(self.options.get("prompt_extend", False)),
                "watermark": bool(self.options.get("watermark", False)),
            },
        }
        data = self._task(protocol.IMAGE_PATH, lambda: (body, False), ctx)
        output = data.get("output") or {}
        urls = [r for r in output.get("results") or [] if r.get("url")]
        if not urls:
            failed = next((r for r in output.get("results") or [] if r.get("code")), None)
            if failed and protocol.is_refusal(str(failed.get("code"))):
                raise RefusedError(
                    f"DashScope refused the image ({failed.get('code')}): {failed.get('message', '')}",
                    provider_reason=str(failed.get("message", "")),
                )
            raise TransientError(f"DashScope task {ctx.job_id} succeeded without an image: {str(output)[:200]}")
        path = self._fetch(urls[0]["url"], ctx.out_dir, "keyframe", ".png")
        units = float((data.get("usage") or {}).get("image_count", 1))
        metadata = self._metadata(data, ctx, sheet, "image") | {"actual_prompt": urls[0].get("actual_prompt", "")}
        return tasks.probe(path).result(
            [path], cost_units=units, cost=units * sheet.cost_per_unit, model=sheet.model, metadata=metadata
        )

    # ------------------------------------------------------------------ clips

    def _video_body(self, request: VideoRequest, sheet: CapabilitySheet) -> tuple[str, Any]:
        """The endpoint and a body builder for the model's kind of clip; what it cannot take is refused here."""
        model, takes = sheet.model, set(sheet.parameters or [])
        if request.last_image is not None and not sheet.first_last_frame:
            raise UnsupportedRequest(
                f"DashScope {model} takes no end frame; choose a first-and-last-frame model "
                "(wan2.2-kf2v-flash, wanx2.1-kf2v-plus) for a shot that says where it ends"
            )
        if len(request.reference_images) > sheet.max_reference_images:
            raise UnsupportedRequest(
                f"DashScope {model} takes {sheet.max_reference_images or 'no'} reference images and the shot has "
                f"{len(request.reference_images)}; choose wan2.6-r2v for references, or fewer of them"
            )
        if request.audio is not None and not sheet.audio_input:
            raise UnsupportedRequest(f"DashScope {model} does not animate a voice; lip-sync the clip instead")
        if sheet.audio_input and request.audio is None:
            raise UnsupportedRequest(
                f"DashScope {model} makes a clip speak its line: it needs the shot's dialogue, and this shot has none"
            )
        parameters: dict[str, Any] = {}
        if "resolution" in takes:
            parameters["resolution"] = video_tier(request.width, request.height)
        if "size" in takes:
            parameters["size"] = f"{request.width}*{request.height}"
        if "duration" in takes:
            parameters["duration"] = round(request.duration)
        if "seed" in takes:
            parameters["seed"] = request.seed % MAX_SEED
        for flag in ("prompt_extend", "watermark"):
            if flag in takes:
                parameters[flag] = bool(self.options.get(flag, False))
        text: dict[str, Any] = {"prompt": request.prompt}
        if request.negative_prompt and "negative_prompt" in takes:
            text["negative_prompt"] = request.negative_prompt
        image = request.image
        assert image is not None

        def build() -> tuple[dict[str, Any], bool]:
            up = self.uploads.url
            if sheet.audio_input:
                assert request.audio is not None
                self._check_face(image)
                media = {"image_url": up(model, image), "audio_url": up(model, request.audio)}
                return {"model": model, "input": media, "parameters": parameters}, True
            if "kf2v" in model:
                frames = {"first_frame_url": up(model, image)}
                if request.last_image is not None:
                    frames["last_frame_url"] = up(model, request.last_image)
                return {"model": model, "input": {**text, **frames}, "parameters": parameters}, True
            if sheet.max_reference_images:
                refs = [up(model, p) for p in request.reference_images] or [up(model, image)]
                return {"model": model, "input": {**text, "reference_urls": refs}, "parameters": parameters}, True
            return {"model": model, "input": {**text, "img_url": up(model, image)}, "parameters": parameters}, True

        path = protocol.IMAGE2VIDEO_PATH if sheet.audio_input or "kf2v" in model else protocol.VIDEO_PATH
        return path, build

    def _check_face(self, image: Path) -> None:
        """wan2.2-s2v's face check (synchronous, billed per image): a keyframe it cannot animate stops here."""
        body = {"model": FACE_CHECK_MODEL, "input": {"image_url": self.uploads.url(FACE_CHECK_MODEL, image)}}
        data = protocol.reply(
            self._send("POST", protocol.FACE_DETECT_PATH, headers={**self._headers(), **RESOLVE_HEADER}, json=body),
            self.where,
        )
        output = data.get("output") or {}
        if not (output.get("check_pass") and output.get("humanoid", True)):
            raise BackendError(
                "DashScope's face check found no face wan2.2-s2v can animate in the keyframe; circle a keyframe "
                "with one clear, front-facing person, or choose an image-to-video model and lip-sync the clip"
            )

    def generate_video(self, request: VideoRequest, ctx: JobContext) -> Result:
        if request.image is None:
            raise BackendError("DashScope image-to-video needs the shot's keyframe; render the keyframe stage first")
        sheet = self.sheet(Capability.video)
        path, build = self._video_body(request, sheet)
        data = self._task(path, build, ctx)
        return self._clip_result(data, ctx, sheet, "clip", request.duration)

    def _clip_result(
        self, data: dict[str, Any], ctx: JobContext, sheet: CapabilitySheet, stem: str, asked: float
    ) -> Result:
        output = data.get("output") or {}
        url = output.get("video_url")
        if not url:
            raise TransientError(f"DashScope task {ctx.job_id} succeeded without a video: {str(output)[:200]}")
        path = self._fetch(str(url), ctx.out_dir, stem, ".mp4")
        media = tasks.probe(path)
        units = protocol.billed_seconds(data.get("usage") or {}, media.duration or asked)
        metadata = self._metadata(data, ctx, sheet, "second") | {
            "actual_prompt": output.get("actual_prompt", ""),
            "url": str(url),
            "expires_at": time.time() + LINK_SECONDS - 600,
        }
        return media.result(
            [path], cost_units=units, cost=units * sheet.cost_per_unit, model=sheet.model, metadata=metadata
        )

    # ------------------------------------------------------------------ lip sync (VideoRetalk)

    def lipsync(self, request: LipsyncRequest, ctx: JobContext) -> Result:
        sheet = self.sheet(Capability.lipsync)
        clip_seconds = tasks.probe(request.video).duration or 0.0
        voice_seconds = tasks.probe(request.audio).duration or 0.0
        low, high = sheet.min_duration, sheet.max_duration or 120.0
        for what, seconds in (("clip", clip_seconds), ("voice", voice_seconds)):
            if not low <= seconds <= high:
                raise UnsupportedRequest(
                    f"VideoRetalk takes a {what} of {low:g}-{high:g} s, and this one is {seconds:.1f} s"
                )
        speaker = next((c for c in request.characters if request.speakers and c.id == request.speakers[0][0]), None)
        face = speaker.reference_images[0] if speaker is not None and speaker.reference_images else None

        def build() -> tuple[dict[str, Any], bool]:
            up = self.uploads.url
            media = {"video_url": up(sheet.model, request.video), "audio_url": up(sheet.model, request.audio)}
            if face is not None and self.options.get("base_dir"):
                media["ref_image_url"] = up(sheet.model, self._project_file(face))  # whose lips move
            return {"model": sheet.model, "input": media, "parameters": {"video_extension": False}}, True

        data = self._task(protocol.IMAGE2VIDEO_PATH, build, ctx)
        return self._clip_result(data, ctx, sheet, "lipsync", voice_seconds)

    # ------------------------------------------------------------------ voices

    def voice_for(self, request: SpeechRequest, model: str) -> str:
        """The voice a line is spoken with: the project's choice, the character's own or clone, else a default."""
        voices = self.options.get("voices") or {}
        if request.speaker in voices:
            return str(voices[request.speaker])
        own = request.character.voice if request.character is not None else None
        if own is not None and own.backend in (None, self.name):
            if own.voice:
                return own.voice
            if own.sample:
                if self.region != "beijing":
                    raise NotConfigured(
                        f"DashScope clones voices in the Beijing region only, and this backend is set to {self.region}"
                    )
                return self.enrollment.voice_for(self._project_file(own.sample), model)
        if self.options.get("voice"):
            return str(self.options["voice"])
        return default_voice(model, request.character, request.cast)

    def synthesize(self, request: SpeechRequest, ctx: JobContext) -> Result:
        sheet = self.sheet(Capability.speech)
        voice = self.voice_for(request, sheet.model)
        path = ctx.out_dir / "voice.wav"
        if self.speech_protocol == "http":
            if self.region != "beijing":
                raise NotConfigured("CosyVoice over HTTP is served in Beijing only; use speech_protocol: websocket")
            url, characters, request_id = speech.synthesize_http(
                self._send, self.where, sheet.model, voice, request.text, request.sample_rate
            )
            path = self._fetch(url, ctx.out_dir, "voice", ".wav")
        else:
            spoken = speech.synthesize_ws(
                self.ws_url,
                self._key(),
                sheet.model,
                voice,
                request.text,
                request.sample_rate,
                request.seed,
                self.settings.timeout,
            )
            with wave.open(str(path), "wb") as fh:
                fh.setnchannels(1)
                fh.setsampwidth(2)
                fh.setframerate(request.sample_rate)
                fh.writeframes(spoken.pcm)
            characters, request_id = spoken.characters, spoken.task_id
        metadata = {
            "provider": "dashscope",
            "region": self.region,
            "request_id": request_id,
            "voice": voice,
            "protocol": self.speech_protocol,
            "cost_unit": "character",
            "currency": sheet.currency,
        }
        return tasks.probe(path).result(
            [path],
            cost_units=float(characters),
            cost=characters * sheet.cost_per_unit,
            model=sheet.model,
            metadata=metadata,
        )
