"""``ark``: Volcengine Ark (火山方舟) and BytePlus ModelArk — Seedance clips and Seedream keyframes.

Seedance runs as a content-generation task through the official SDK (``volcengine-ark-runtime``,
the ``kaipai[ark]`` extra): ``tasks.create`` returns a ``cgt-…`` id, recorded with the engine at
once, then ``tasks.get`` is polled until ``succeeded`` and the clip downloaded before its link
expires (24 h). A shot's keyframe is the first frame; a last frame makes it a first-and-last-frame
clip; with no keyframe, or with ``options: {references: true}`` on models that take them, the
shot's reference images guide it instead (the modes are exclusive). Models with their own sound
(Seedance 1.5 pro and 2.0) return it muxed into the MP4; it is kept, and ``Result.metadata["audio"]``
says so (``options: {audio: false}`` asks for a silent, cheaper clip). Seedream keyframes are one
synchronous request, with the characters' reference images.

The SDK retries a POST after a 5xx or 429 by default, which would create a paid task twice: the
client is built with ``max_retries=0`` and every call goes through the shared task layer.

Key: ``ARK_API_KEY`` or ``api_key`` under ``[ark]`` in ~/.config/kaipai/config.toml. Options:
``region`` (``cn`` Volcengine, default; ``intl`` BytePlus — prices and model ids follow),
``base_url``, ``resolution`` (480p | 720p | 1080p), ``audio``, ``references``, ``camera_fixed``,
``endpoint`` (an ``ep-…`` endpoint id to call instead of the model id), ``sheet`` overrides and
the polling figures of :class:`~kaipai.backends.remote.tasks.PollSettings`.
"""

from __future__ import annotations

from contextlib import closing
from typing import Any

import httpx

from kaipai.backends.base import (
    AccountError,
    Backend,
    BackendError,
    Capability,
    CapabilitySheet,
    ImageRequest,
    JobContext,
    NotConfigured,
    RefusedError,
    Result,
    TransientError,
    VideoRequest,
)
from kaipai.backends.remote import sheets, tasks
from kaipai.backends.remote.inputs import at_least, data_uri, nearest_ratio
from kaipai.backends.remote.sdk import HttpFailure, failure_from, guarded, status_error

PROVIDER = "Volcengine Ark"
EXTRA = "ark"
TIERS = ("480p", "720p", "1080p")
RATIOS = ["16:9", "4:3", "1:1", "3:4", "9:16", "21:9"]
#: Error codes that mean the account cannot pay or is not allowed to run the model.
ACCOUNT_CODES = ("AccountOverdueError", "ModelNotOpen", "QuotaExceeded", "SetLimitExceeded", "ServiceNotOpen")
#: Error codes worth waiting out (beside 429 and 5xx).
TRANSIENT_CODES = ("ServerOverloaded", "ModelLoadingError", "InvalidEndpoint.ClosedEndpoint", "InternalServiceError")
MAX_SEED = 2**32 - 1


def classify(failure: HttpFailure) -> BackendError:
    """Ark's error code first (refusal, account, model), then what the HTTP status means."""
    code = failure.code
    if "SensitiveContent" in code:
        return RefusedError(
            f"{PROVIDER} refused the request ({code}): {failure.message}", provider_reason=failure.message
        )
    if code in ACCOUNT_CODES:
        return AccountError(
            f"{PROVIDER} account cannot run the task ({code}): {failure.message}; top up, raise the spending "
            "limit or activate the model in the console",
            provider_reason=failure.message,
        )
    if code == "InvalidEndpointOrModel.NotFound":
        return NotConfigured(
            f"{PROVIDER} has no model or endpoint by that name ({failure.message}); model ids differ between "
            "Volcengine (doubao-…) and BytePlus — check the model and the region",
            provider_reason=failure.message,
        )
    if code.startswith("RateLimitExceeded") or code.endswith("RateLimitExceeded") or code in TRANSIENT_CODES:
        wait = f"; asked to wait {failure.retry_after:g} s" if failure.retry_after is not None else ""
        return TransientError(
            f"{PROVIDER} is busy ({code}){wait}: {failure.message}",
            retry_after=failure.retry_after,
            provider_reason=failure.message,
        )
    return status_error(PROVIDER, failure, "ARK_API_KEY and the region")


def translate(exc: Exception) -> BackendError | None:
    """The SDK's exceptions as kaipai errors."""
    from volcenginesdkarkruntime._exceptions import ArkAPIConnectionError, ArkAPIStatusError, ArkAPITimeoutError

    if isinstance(exc, ArkAPITimeoutError):
        return TransientError(f"{PROVIDER} did not answer in time")
    if isinstance(exc, ArkAPIConnectionError):
        return TransientError(f"{PROVIDER} could not be reached ({exc.message})")
    if isinstance(exc, ArkAPIStatusError):
        return classify(failure_from(exc.status_code, exc.response.content, exc.response.headers))
    return None


class ArkBackend(Backend):
    name = "ark"
    capabilities = frozenset({Capability.video, Capability.image})
    version = "1"

    def __init__(self, model: str | None = None, **options: Any) -> None:
        super().__init__(model=model, **options)
        self.settings = tasks.PollSettings.from_options(options, interval=5.0)
        self.region, self.base_url = sheets.located("ark", options)
        self.tier = str(options.get("resolution", "720p"))
        if self.tier not in TIERS:
            raise NotConfigured(f"ark resolution {self.tier!r} is not one of {', '.join(TIERS)}")
        self._files = httpx.Client(timeout=self.settings.download_timeout, follow_redirects=True)

    # ------------------------------------------------------------------ configuration

    def sheet_id(self, capability: Capability) -> str:
        model = self.model or sheets.default_model("ark", capability)
        if capability == Capability.video and "@" not in model:
            return f"{model}@{self.tier}"
        return model

    def describe(self, capability: Capability) -> CapabilitySheet:
        overrides = dict((self.options.get("sheet") or {}).get(capability.value) or {})
        sid = self.sheet_id(capability)
        sheet = sheets.for_capability("Ark", sheets.load_sheet("ark", sid, overrides, self.region), capability)
        return sheets.silenced("ark", sid, sheet, self.options, overrides)

    def _key(self) -> str:
        return tasks.require("ark", "api_key", "ARK_API_KEY", "the Volcengine Ark API key")

    def _client(self) -> closing[Any]:
        """An SDK client for one job (the SDK's client is not thread-safe), with its retries off."""
        try:
            from volcenginesdkarkruntime import Ark
        except ImportError:
            raise NotConfigured(
                "the Volcengine Ark SDK is not installed: pip install 'kaipai[ark]' (volcengine-ark-runtime)"
            ) from None
        return closing(
            Ark(base_url=self.base_url, api_key=self._key(), max_retries=0, timeout=self.settings.http_timeout())
        )

    def check(self) -> str:
        self._key()
        with self._client():
            pass
        return f"Volcengine Ark ({self.region}) at {self.base_url}: key found"

    def reachable(self) -> str:
        """List one task: proves the address and the key without spending."""
        with self._client() as client:
            guarded(PROVIDER, lambda: client.content_generation.tasks.list(page_size=1), translate)
        return f"Volcengine Ark ({self.region}) at {self.base_url}: reachable, key accepted"

    def close(self) -> None:
        self._files.close()

    def _model_id(self, capability: Capability) -> str:
        endpoint = self.options.get("endpoint")
        if endpoint:
            return str(endpoint)
        return sheets.provider_model("ark", self.sheet_id(capability), self.region)

    # ------------------------------------------------------------------ Seedance

    def _content(self, request: VideoRequest, sheet: CapabilitySheet) -> list[dict[str, Any]]:
        """The text, then the pictures in the one mode the request calls for."""
        content: list[dict[str, Any]] = []
        if request.prompt:
            content.append({"type": "text", "text": request.prompt})
        references = [*([request.image] if request.image else []), *request.reference_images]
        by_reference = sheet.max_reference_images and (request.image is None or self.options.get("references"))
        if by_reference and references:
            for path in references[: sheet.max_reference_images]:
                content.append({"type": "image_url", "image_url": {"url": data_uri(path)}, "role": "reference_image"})
        elif request.image is not None:
            content.append({"type": "image_url", "image_url": {"url": data_uri(request.image)}, "role": "first_frame"})
            if request.last_image is not None:
                url = data_uri(request.last_image)
                content.append({"type": "image_url", "image_url": {"url": url}, "role": "last_frame"})
        return content

    def _look(self, client: Any, task_id: str) -> tasks.Poll:
        from volcenginesdkarkruntime._exceptions import ArkNotFoundError

        try:
            task = client.content_generation.tasks.get(task_id=task_id)
        except ArkNotFoundError:  # deleted, or past the 7 days a task is kept: submit afresh
            return tasks.Poll("failed", {"id": task_id, "status": "gone"})
        payload = task.model_dump() if hasattr(task, "model_dump") else dict(task)
        status = str(payload.get("status") or "")
        if status == "succeeded":
            return tasks.Poll("done", payload)
        if status in ("failed", "cancelled", "expired"):
            return tasks.Poll("failed", payload)
        return tasks.Poll("waiting", payload, message=status or "queued")

    def _failure(self, task_id: str, poll: tasks.Poll) -> BackendError:
        error = poll.payload.get("error") or {}
        code, message = str(error.get("code") or ""), str(error.get("message") or "")
        status = poll.payload.get("status")
        if "SensitiveContent" in code:
            return RefusedError(f"{PROVIDER} refused task {task_id} ({code}): {message}", provider_reason=message)
        if status == "gone":
            return TransientError(f"{PROVIDER} task {task_id} no longer exists; it will be submitted again")
        return TransientError(
            f"{PROVIDER} task {task_id} ended {status} ({code or 'no code'}): {message}", provider_reason=message
        )

    def generate_video(self, request: VideoRequest, ctx: JobContext) -> Result:
        sheet = self.sheet(Capability.video)
        model = self._model_id(Capability.video)
        content = self._content(request, sheet)
        if not content:
            raise BackendError("Seedance needs a prompt, a keyframe or reference images")
        known = sheets.entry("ark", self.sheet_id(Capability.video))
        has_sound = bool(known.get("native_audio")) if known is not None else sheet.native_audio
        audio = sheet.native_audio if has_sound else None  # models without sound do not take the switch
        ratio = nearest_ratio(request.width, request.height, sheet.aspect_ratios or RATIOS)
        fields: dict[str, Any] = {
            "model": model,
            "content": content,
            "resolution": self.tier,
            "ratio": ratio,
            "duration": round(request.duration),
            "seed": request.seed % MAX_SEED,
            "watermark": False,
            "generate_audio": audio,
        }
        if "camera_fixed" in self.options:
            fields["camera_fixed"] = bool(self.options["camera_fixed"])
        with self._client() as client:

            def submit() -> str:
                reply = guarded(PROVIDER, lambda: client.content_generation.tasks.create(**fields), translate)
                return str(getattr(reply, "id", "") or "")

            final = tasks.run_task(
                ctx,
                PROVIDER,
                self.settings,
                submit=submit,
                look=lambda task_id: guarded(PROVIDER, lambda: self._look(client, task_id), translate),
                failure=self._failure,
            )
        return self._clip(final.payload, ctx, sheet, request, model)

    def _clip(
        self, payload: dict[str, Any], ctx: JobContext, sheet: CapabilitySheet, request: VideoRequest, model: str
    ) -> Result:
        url = str((payload.get("content") or {}).get("video_url") or "")
        if not url:
            raise TransientError(f"{PROVIDER} task {ctx.job_id} succeeded without a video: {str(payload)[:200]}")
        path = tasks.download(self._files, url, ctx.out_dir / "clip.mp4", PROVIDER, self.settings)
        media = tasks.probe(path)
        seconds = float(payload.get("duration") or media.duration or request.duration)
        tokens = int((payload.get("usage") or {}).get("completion_tokens") or 0)
        return media.result(
            [path],
            cost_units=float(tokens) if tokens else seconds,
            cost=seconds * sheet.cost_per_unit,
            model=model,
            metadata={
                "provider": "ark",
                "region": self.region,
                "task_id": ctx.job_id,
                "seed": payload.get("seed"),
                "resolution": payload.get("resolution", self.tier),
                "audio": media.audio,
                "cost_unit": "token" if tokens else "second",
                "currency": sheet.currency,
            },
        )

    # ------------------------------------------------------------------ Seedream

    def generate_image(self, request: ImageRequest, ctx: JobContext) -> Result:
        sheet = self.sheet(Capability.image)
        model = self._model_id(Capability.image)
        least = int((sheets.entry("ark", self.sheet_id(Capability.image)) or {}).get("min_pixels") or 0)
        width, height = at_least(request.width, request.height, least)
        references = [data_uri(p) for p in request.reference_images[: sheet.max_reference_images]]
        fields: dict[str, Any] = {
            "model": model,
            "prompt": request.prompt,
            "size": f"{width}x{height}",
            "seed": request.seed % MAX_SEED,
            "watermark": False,
            "response_format": "url",
        }
        if references:
            fields["image"] = references
        with self._client() as client:
            reply = guarded(PROVIDER, lambda: client.images.generate(**fields), translate)
        data = reply.model_dump() if hasattr(reply, "model_dump") else dict(reply)
        items = data.get("data") or []
        item = items[0] if items else {}
        failed = item.get("error") if isinstance(item, dict) else None
        if failed:
            code, message = str(failed.get("code") or ""), str(failed.get("message") or "")
            if "SensitiveContent" in code:
                raise RefusedError(f"{PROVIDER} refused the image ({code}): {message}", provider_reason=message)
            raise TransientError(f"{PROVIDER} could not make the image ({code}): {message}")
        if not item.get("url"):
            raise TransientError(f"{PROVIDER} answered without an image: {str(data)[:200]}")
        url = str(item["url"])
        path = tasks.download(
            self._files, url, ctx.out_dir / f"keyframe{tasks.suffix_for(url, default='.jpeg')}", PROVIDER, self.settings
        )
        media = tasks.probe(path)
        count = float((data.get("usage") or {}).get("generated_images") or 1)
        return media.result(
            [path],
            cost_units=count,
            cost=count * sheet.cost_per_unit,
            model=model,
            metadata={"provider": "ark", "region": self.region, "cost_unit": "image", "currency": sheet.currency},
        )
