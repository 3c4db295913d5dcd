"""``dashscope``: Alibaba Cloud Model Studio (百炼) — Wan keyframes, Wan image-to-video, CosyVoice voices.

Wan runs as DashScope asynchronous tasks: a POST with ``X-DashScope-Async: enable`` returns a
``task_id``, which is recorded with the engine at once, then ``GET /api/v1/tasks/{task_id}``
is polled until ``SUCCEEDED`` or ``FAILED``. Result URLs expire (24 h), so files are fetched
the moment the task succeeds. CosyVoice uses the synchronous HTTP speech API.

Key: ``DASHSCOPE_API_KEY`` or ``api_key`` under ``[dashscope]`` in ~/.config/kaipai/config.toml.
Region: ``options.base_url`` / ``DASHSCOPE_BASE_URL`` (default Beijing; the international
endpoint is https://dashscope-intl.aliyuncs.com). Options: ``prompt_extend`` (false),
``watermark`` (false), ``voice``, ``voices`` ({character id: voice}), ``sheet`` overrides,
and the polling figures of :class:`~kaipai.backends.remote.tasks.PollSettings`.
"""

from __future__ import annotations

import base64
import mimetypes
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
    NotConfigured,
    RefusedError,
    Result,
    SpeechRequest,
    TransientError,
    VideoRequest,
)
from kaipai.backends.remote import tasks
from kaipai.backends.remote.sheets import default_model, load_sheet

PROVIDER = "DashScope"
DEFAULT_BASE_URL = "https://dashscope.aliyuncs.com"
IMAGE_PATH = "/api/v1/services/aigc/text2image/image-synthesis"
VIDEO_PATH = "/api/v1/services/aigc/video-generation/video-synthesis"
SPEECH_PATH = "/api/v1/services/audio/tts/SpeechSynthesizer"
TASK_PATH = "/api/v1/tasks/{task_id}"
#: Error codes that mean the content was refused: never retried, reported with the provider's reason.
REFUSAL_MARKERS = ("DataInspection", "IPInfringement", "InappropriateContent", "ContentModeration")
DEFAULT_VOICES = {"cosyvoice-v2": "longxiaochun_v2", "cosyvoice-v1": "longxiaochun"}
MAX_SEED = 2**31 - 1
MAX_IMAGE_SIDE = 1440


def is_refusal(code: str) -> bool:
    return any(marker.lower() in code.lower() for marker in REFUSAL_MARKERS)


def data_uri(path: Path) -> str:
    kind = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode()}"


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


class DashScopeBackend(Backend):
    name = "dashscope"
    capabilities = frozenset({Capability.image, Capability.video, Capability.speech})
    version = "1"

    def __init__(self, model: str | None = None, **options: Any) -> None:
        super().__init__(model=model, **options)
        self.settings = tasks.PollSettings.from_options(options)
        self.base_url = str(
            options.get("base_url") or tasks.setting("dashscope", "base_url", "DASHSCOPE_BASE_URL") or DEFAULT_BASE_URL
        ).rstrip("/")
        self._api = httpx.Client(base_url=self.base_url, timeout=self.settings.timeout)
        self._files = httpx.Client(timeout=self.settings.download_timeout, follow_redirects=True)

    # ------------------------------------------------------------------ configuration

    def model_for(self, capability: Capability) -> str:
        if self.model:
            return self.model
        return default_model("dashscope", capability)

    def describe(self, capability: Capability) -> CapabilitySheet:
        overrides = (self.options.get("sheet") or {}).get(capability.value)
        sheet = load_sheet("dashscope", self.model_for(capability), overrides)
        if sheet.capability != capability:
            raise NotConfigured(
                f"DashScope model {sheet.model!r} does {sheet.capability.value}, not {capability.value}; "
                f"choose a {capability.value} model"
            )
        return sheet

    def _key(self) -> str:
        return tasks.require("dashscope", "api_key", "DASHSCOPE_API_KEY", "the DashScope API key")

    def check(self) -> str:
        self._key()
        return f"DashScope at {self.base_url}: key found"

    def reachable(self) -> str:
        """Ask for a task that does not exist: proves the address and the key without spending."""
        response = tasks.send(
            self._api, "GET", TASK_PATH.format(task_id="kaipai-check"), PROVIDER, headers=self._headers()
        )
        if response.status_code in (401, 403):
            raise NotConfigured(
                f"DashScope refused the API key (HTTP {response.status_code}); "
                "check DASHSCOPE_API_KEY and the region of base_url"
            )
        return f"DashScope at {self.base_url}: reachable, key accepted"

    def close(self) -> None:
        self._api.close()
        self._files.close()

    def _headers(self, asynchronous: bool = False) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._key()}", "Content-Type": "application/json"}
        if asynchronous:
            headers["X-DashScope-Async"] = "enable"
        return headers

    # ------------------------------------------------------------------ protocol

    def _reply(self, response: httpx.Response) -> dict[str, Any]:
        """The JSON body of a reply, or the provider's error as the right kind of exception."""
        if response.status_code in (401, 403):
            raise NotConfigured(
                f"DashScope refused the API key (HTTP {response.status_code}): {response.text[:200]}; "
                "check DASHSCOPE_API_KEY and the region of base_url"
            )
        data = tasks.json_body(response, PROVIDER)
        if response.status_code >= 400 or (data.get("code") and not data.get("output")):
            code, message = str(data.get("code") or f"HTTP {response.status_code}"), str(data.get("message") or "")
            if is_refusal(code):
                raise RefusedError(f"DashScope refused the request ({code}): {message}", provider_reason=message)
            raise BackendError(f"DashScope rejected the request ({code}): {message}", provider_reason=message)
        return data

    def _submit(self, path: str, body: dict[str, Any]) -> str:
        data = self._reply(
            tasks.send(self._api, "POST", path, PROVIDER, json=body, headers=self._headers(asynchronous=True))
        )
        task_id = (data.get("output") or {}).get("task_id")
        if not task_id:
            raise TransientError(f"DashScope accepted the task but sent no task_id: {str(data)[:200]}")
        return str(task_id)

    def _look(self, task_id: str) -> tasks.Poll:
        data = self._reply(
            tasks.send(self._api, "GET", TASK_PATH.format(task_id=task_id), PROVIDER, headers=self._headers())
        )
        output = data.get("output") or {}
        status = str(output.get("task_status", "")).upper()
        if status == "SUCCEEDED":
            return tasks.Poll("done", data)
        if status in ("FAILED", "CANCELED", "UNKNOWN"):
            return tasks.Poll("failed", data)
        if status in ("PENDING", "RUNNING", "SUSPENDED"):
            return tasks.Poll("waiting", data, message=status.lower())
        raise TransientError(f"DashScope task {task_id} has an unknown status {status!r}")

    def _failure(self, task_id: str, poll: tasks.Poll) -> BackendError:
        output = poll.payload.get("output") or {}
        status = str(output.get("task_status", "")).upper()
        code, message = str(output.get("code") or status), str(output.get("message") or "")
        if is_refusal(code):
            return RefusedError(f"DashScope refused task {task_id} ({code}): {message}", provider_reason=message)
        return TransientError(f"DashScope task {task_id} ended {status} ({code}): {message}", provider_reason=message)

    def _task(self, path: str, body: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
        """One task through the shared life: resumed if recorded, else submitted once; its final reply."""
        final = tasks.run_task(
            ctx,
            PROVIDER,
            self.settings,
            submit=lambda: self._submit(path, body),
            look=self._look,
            failure=self._failure,
        )
        return final.payload

    def _fetch(self, url: str, out_dir: Path, stem: str, default: str) -> Path:
        return tasks.download(
            self._files, url, out_dir / f"{stem}{tasks.suffix_for(url, default=default)}", PROVIDER, self.settings
        )

    # ------------------------------------------------------------------ capabilities

    def generate_image(self, request: ImageRequest, ctx: JobContext) -> Result:
        model = request.model or self.model_for(Capability.image)
        width, height = image_size(request.width, request.height)
        body: dict[str, Any] = {
            "model": model,
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
        data = self._task(IMAGE_PATH, body, ctx)
        output = data.get("output") or {}
        urls = [r for r in output.get("results") or [] if r.get("url")]
        if not urls:
            failed = next((r for r in output.get("results") or [] if r.get("code")), None)
            if failed and is_refusal(str(failed.get("code"))):
                raise RefusedError(
                    f"DashScope refused the image ({failed.get('code')}): {failed.get('message', '')}",
                    provider_reason=str(failed.get("message", "")),
                )
            raise TransientError(f"DashScope task {ctx.job_id} succeeded without an image: {str(output)[:200]}")
        path = self._fetch(urls[0]["url"], ctx.out_dir, "keyframe", ".png")
        media = tasks.probe(path)
        units = float((data.get("usage") or {}).get("image_count", 1))
        sheet = self.sheet(Capability.image)
        return media.result(
            [path],
            cost_units=units,
            cost=units * sheet.cost_per_unit,
            model=model,
            metadata={
                "provider": "dashscope",
                "task_id": ctx.job_id,
                "request_id": data.get("request_id", ""),
                "actual_prompt": urls[0].get("actual_prompt", ""),
                "cost_unit": "image",
                "currency": sheet.currency,
            },
        )

    def generate_video(self, request: VideoRequest, ctx: JobContext) -> Result:
        if request.image is None:
            raise BackendError("DashScope image-to-video needs the shot's keyframe; render the keyframe stage first")
        model = request.model or self.model_for(Capability.video)
        body: dict[str, Any] = {
            "model": model,
            "input": {
                "prompt": request.prompt,
                "img_url": data_uri(request.image),
                **({"negative_prompt": request.negative_prompt} if request.negative_prompt else {}),
            },
            "parameters": {
                "resolution": video_tier(request.width, request.height),
                "duration": round(request.duration),
                "seed": request.seed % MAX_SEED,
                "prompt_extend": bool(self.options.get("prompt_extend", False)),
                "watermark": bool(self.options.get("watermark", False)),
            },
        }
        data = self._task(VIDEO_PATH, body, ctx)
        output = data.get("output") or {}
        url = output.get("video_url")
        if not url:
            raise TransientError(f"DashScope task {ctx.job_id} succeeded without a video: {str(output)[:200]}")
        path = self._fetch(str(url), ctx.out_dir, "clip", ".mp4")
        media = tasks.probe(path)
        usage = data.get("usage") or {}
        units = float(usage.get("video_duration") or media.duration or request.duration)
        sheet = self.sheet(Capability.video)
        return media.result(
            [path],
            cost_units=units,
            cost=units * sheet.cost_per_unit,
            model=model,
            metadata={
                "provider": "dashscope",
                "task_id": ctx.job_id,
                "request_id": data.get("request_id", ""),
                "actual_prompt": output.get("actual_prompt", ""),
                "cost_unit": "second",
                "currency": sheet.currency,
            },
        )

    def _voice(self, request: SpeechRequest, model: str) -> str:
        voices = self.options.get("voices") or {}
        if request.speaker in voices:
            return str(voices[request.speaker])
        character_voice = request.character.voice if request.character is not None else None
        if character_voice is not None and character_voice.voice and character_voice.backend in (None, self.name):
            return character_voice.voice
        return str(self.options.get("voice") or DEFAULT_VOICES.get(model, "longxiaochun_v2"))

    def synthesize(self, request: SpeechRequest, ctx: JobContext) -> Result:
        model = request.model or self.model_for(Capability.speech)
        body = {
            "model": model,
            "input": {
                "text": request.text,
                "voice": self._voice(request, model),
                "format": "wav",
                "sample_rate": request.sample_rate,
            },
        }
        data = self._reply(tasks.send(self._api, "POST", SPEECH_PATH, PROVIDER, json=body, headers=self._headers()))
        audio = (data.get("output") or {}).get("audio") or {}
        path = ctx.out_dir / "voice.wav"
        if audio.get("url"):
            path = self._fetch(str(audio["url"]), ctx.out_dir, "voice", ".wav")
        elif audio.get("data"):
            try:
                path.write_bytes(base64.b64decode(audio["data"], validate=True))
            except ValueError:
                raise TransientError("DashScope sent speech audio that is not valid base64") from None
        else:
            raise TransientError(f"DashScope speech reply has no audio: {str(data)[:200]}")
        media = tasks.probe(path)
        units = float((data.get("usage") or {}).get("characters") or len(request.text))
        sheet = self.sheet(Capability.speech)
        return media.result(
            [path],
            cost_units=units,
            cost=units * sheet.cost_per_unit,
            model=model,
            metadata={
                "provider": "dashscope",
                "request_id": data.get("request_id", ""),
                "voice": body["input"]["voice"],
                "cost_unit": "character",
                "currency": sheet.currency,
            },
        )
