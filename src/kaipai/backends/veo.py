"""``veo``: Google Veo 3.1 on the Gemini Developer API, through the official ``google-genai`` SDK.

A clip is a long-running operation: ``models.generate_videos`` returns the operation's name,
recorded with the engine at once; ``operations.get`` is polled until it is done; the clip is
fetched with ``files.download`` (generated files are deleted after about two days). The shot's
keyframe is the first frame and a last frame makes it an interpolation; with no keyframe, or
with ``options: {references: true}``, up to three reference images (the characters' sheets,
the location) guide it instead — Veo takes one or the other, and reference runs are 8 s. Veo
3.1 always generates its own sound (dialogue, effects, ambience); the clip keeps it and
``Result.metadata["audio"]`` says so. A clip the safety filters stopped is a refusal (and is
not charged). Veo on the Developer API takes no seed: its takes are not reproducible.

google-genai 3.x refuses ``generate_videos`` with an API key (Veo moved to Vertex there), so the
``kaipai[veo]`` extra pins ``google-genai>=2.30,<3``. The SDK does not retry unless told to.

Key: ``GEMINI_API_KEY`` (or ``GOOGLE_API_KEY``), or ``api_key`` under ``[veo]`` in
~/.config/kaipai/config.toml. Options: ``resolution`` (720p | 1080p), ``references``,
``person_generation`` (``allow_adult`` by default; ``allow_all`` for text-only clips where
allowed), ``enhance_prompt``, ``base_url``, ``sheet`` overrides and the polling figures of
:class:`~kaipai.backends.remote.tasks.PollSettings`.
"""

from __future__ import annotations

import os
import re
from contextlib import closing
from pathlib import Path
from typing import Any

from kaipai.backends.base import (
    AccountError,
    Backend,
    BackendError,
    Capability,
    CapabilitySheet,
    JobContext,
    NotConfigured,
    RefusedError,
    Result,
    TransientError,
    VideoRequest,
)
from kaipai.backends.remote import sheets, tasks
from kaipai.backends.remote.inputs import image_type, nearest_ratio, read_image
from kaipai.backends.remote.sdk import HttpFailure, guarded, status_error

PROVIDER = "Google Veo"
TIERS = ("720p", "1080p")
KEY_HINT = "GEMINI_API_KEY"
INSTALL = "pip install 'kaipai[veo]' (google-genai>=2.30,<3)"


def _retry_delay(details: Any) -> float | None:
    """``RetryInfo.retryDelay`` ("37s") from a google.rpc.Status body."""
    error = details.get("error", {}) if isinstance(details, dict) else {}
    for item in error.get("details") or []:
        if isinstance(item, dict) and str(item.get("@type", "")).endswith("RetryInfo"):
            match = re.fullmatch(r"([\d.]+)s", str(item.get("retryDelay", "")))
            if match:
                return float(match[1])
    return None


def classify(failure: HttpFailure) -> BackendError:
    """Google's status names first (a bad key, billing, a missing model), then the HTTP status."""
    body = failure.body if isinstance(failure.body, dict) else {}
    reasons = {
        str(d.get("reason", ""))
        for d in (body.get("error") or {}).get("details") or []
        if isinstance(d, dict) and d.get("reason")
    }
    if "API_KEY_INVALID" in reasons or failure.code in ("PERMISSION_DENIED", "UNAUTHENTICATED"):
        return NotConfigured(
            f"{PROVIDER} refused the API key ({failure.reason}); check {KEY_HINT}", provider_reason=failure.message
        )
    if failure.code == "FAILED_PRECONDITION":
        return AccountError(
            f"{PROVIDER} account cannot run Veo ({failure.reason}); enable billing on the Google AI Studio project",
            provider_reason=failure.message,
        )
    if failure.status == 404:
        return NotConfigured(
            f"{PROVIDER} has no such model ({failure.message}); preview model ids are retired over time — name "
            "another with `model:`",
            provider_reason=failure.message,
        )
    return status_error(PROVIDER, failure, KEY_HINT)


def translate(exc: Exception) -> BackendError | None:
    """google-genai's exceptions (and its client-side refusals) as kaipai errors."""
    from google.genai import errors

    if isinstance(exc, errors.APIError):
        headers = getattr(getattr(exc, "response", None), "headers", None)
        header = tasks.retry_after_seconds(headers.get("retry-after")) if headers is not None else None
        retry = _retry_delay(exc.details) or header
        return classify(
            HttpFailure(int(exc.code or 0), str(exc.status or ""), str(exc.message or ""), retry, exc.details)
        )
    if isinstance(exc, ValueError):  # the SDK refuses a request before sending it
        return BackendError(f"google-genai refused the request: {exc}")
    return None


class VeoBackend(Backend):
    name = "veo"
    capabilities = frozenset({Capability.video})
    version = "1"

    def __init__(self, model: str | None = None, **options: Any) -> None:
        super().__init__(model=model, **options)
        self.settings = tasks.PollSettings.from_options(options, interval=10.0)
        self.base_url = options.get("base_url") or tasks.setting("veo", "base_url", "KAIPAI_VEO_BASE_URL")
        self.tier = str(options.get("resolution", "720p"))
        if self.tier not in TIERS:
            raise NotConfigured(f"veo resolution {self.tier!r} is not one of {', '.join(TIERS)}")

    # ------------------------------------------------------------------ configuration

    def sheet_id(self) -> str:
        model = self.model or sheets.default_model("veo", Capability.video)
        return model if "@" in model else f"{model}@{self.tier}"

    def describe(self, capability: Capability) -> CapabilitySheet:
        overrides = (self.options.get("sheet") or {}).get(capability.value)
        return sheets.load_sheet("veo", self.sheet_id(), overrides)

    def _key(self) -> str:
        for env in ("GEMINI_API_KEY", "GOOGLE_API_KEY"):
            if os.environ.get(env):
                return os.environ[env].strip()
        return tasks.require("veo", "api_key", KEY_HINT, "the Gemini API key for Veo")

    def _client(self) -> closing[Any]:
        try:
            from google import genai
            from google.genai import types
        except ImportError:
            raise NotConfigured(f"the google-genai SDK is not installed: {INSTALL}") from None
        if int(genai.__version__.split(".")[0]) >= 3:
            raise NotConfigured(
                f"google-genai {genai.__version__} cannot run Veo with an API key (3.x moved it to Vertex): {INSTALL}"
            )
        http = types.HttpOptions(timeout=int(self.settings.timeout * 1000), base_url=self.base_url or None)
        return closing(genai.Client(api_key=self._key(), vertexai=False, http_options=http))

    def check(self) -> str:
        self._key()
        with self._client():
            pass
        return "Google Veo (Gemini API): key found"

    def reachable(self) -> str:
        """Read the model's card: proves the key and the model without spending."""
        model = self.sheet(Capability.video).model
        with self._client() as client:
            guarded(PROVIDER, lambda: client.models.get(model=model), translate)
        return f"Google Veo (Gemini API): reachable, key accepted, {model} available"

    # ------------------------------------------------------------------ protocol

    @staticmethod
    def _image(path: Path) -> Any:
        from google.genai import types

        return types.Image(image_bytes=read_image(path), mime_type=image_type(path))

    def _submit(self, client: Any, request: VideoRequest, sheet: CapabilitySheet, model: str) -> str:
        from google.genai import types

        references = [*([request.image] if request.image else []), *request.reference_images]
        by_reference = bool(references) and (request.image is None or bool(self.options.get("references")))
        config: dict[str, Any] = {
            "number_of_videos": 1,
            "duration_seconds": 8 if by_reference else round(request.duration),
            "aspect_ratio": nearest_ratio(request.width, request.height, sheet.aspect_ratios or ["16:9", "9:16"]),
            "resolution": self.tier,
            "person_generation": str(self.options.get("person_generation", "allow_adult")),
        }
        if request.negative_prompt:
            config["negative_prompt"] = request.negative_prompt
        if "enhance_prompt" in self.options:
            config["enhance_prompt"] = bool(self.options["enhance_prompt"])
        source: dict[str, Any] = {"prompt": request.prompt or None}
        if by_reference:
            config["reference_images"] = [
                types.VideoGenerationReferenceImage(image=self._image(p), reference_type="asset")
                for p in references[: sheet.max_reference_images]
            ]
        elif request.image is not None:
            source["image"] = self._image(request.image)
            if request.last_image is not None:
                config["last_frame"] = self._image(request.last_image)
        operation = client.models.generate_videos(
            model=model,
            source=types.GenerateVideosSource(**source),
            config=types.GenerateVideosConfig(**config),
        )
        return str(operation.name or "")

    @staticmethod
    def _look(client: Any, name: str) -> tasks.Poll:
        from google.genai import types

        operation = client.operations.get(types.GenerateVideosOperation(name=name))
        if not operation.done:
            return tasks.Poll("waiting", {"name": name}, message="running")
        if operation.error:
            return tasks.Poll("failed", {"name": name, "error": dict(operation.error)})
        response = operation.response
        videos = [v.video.uri for v in (response.generated_videos or []) if v.video and v.video.uri] if response else []
        if not videos:
            reasons = list(response.rai_media_filtered_reasons or []) if response else []
            return tasks.Poll("failed", {"name": name, "filtered": reasons or ["no video came back"]})
        return tasks.Poll("done", {"name": name, "videos": videos})

    @staticmethod
    def _failure(name: str, poll: tasks.Poll) -> BackendError:
        if "filtered" in poll.payload:
            reason = "; ".join(poll.payload["filtered"])
            return RefusedError(f"{PROVIDER} filtered the clip ({name}): {reason}", provider_reason=reason)
        error = poll.payload.get("error") or {}
        code, message = error.get("code"), str(error.get("message") or "")
        if code == 3:  # INVALID_ARGUMENT: sending it again would fail the same way
            return BackendError(f"{PROVIDER} operation {name} failed: {message}", provider_reason=message)
        return TransientError(f"{PROVIDER} operation {name} failed ({code}): {message}", provider_reason=message)

    def _fetch(self, client: Any, uri: str, dest: Path) -> Path:
        from google.genai import errors, types

        part = dest.with_name(dest.name + ".part")
        try:
            guarded(PROVIDER, lambda: client.files.download(file=types.Video(uri=uri), destination=str(part)), _raw)
        except errors.ClientError as exc:
            part.unlink(missing_ok=True)
            if exc.code in (403, 404, 410):
                raise tasks.expired_result(PROVIDER, int(exc.code), str(exc.message or "")) from None
            raise translate(exc) or BackendError(str(exc)) from None
        except BackendError:
            part.unlink(missing_ok=True)
            raise
        if not part.is_file() or part.stat().st_size == 0:
            part.unlink(missing_ok=True)
            raise TransientError(f"{PROVIDER} sent an empty clip")
        part.replace(dest)
        return dest

    # ------------------------------------------------------------------ capability

    def generate_video(self, request: VideoRequest, ctx: JobContext) -> Result:
        sheet = self.sheet(Capability.video)
        model = sheet.model
        with self._client() as client:
            final = tasks.run_task(
                ctx,
                PROVIDER,
                self.settings,
                submit=lambda: guarded(PROVIDER, lambda: self._submit(client, request, sheet, model), translate),
                look=lambda name: guarded(PROVIDER, lambda: self._look(client, name), translate),
                failure=self._failure,
            )
            path = self._fetch(client, str(final.payload["videos"][0]), ctx.out_dir / "clip.mp4")
        media = tasks.probe(path)
        seconds = float(media.duration or request.duration)
        return media.result(
            [path],
            cost_units=seconds,
            cost=seconds * sheet.cost_per_unit,
            model=model,
            metadata={
                "provider": "veo",
                "operation": ctx.job_id,
                "resolution": self.tier,
                "audio": media.audio,
                "seed": None,  # Veo on the Gemini API takes no seed
                "cost_unit": "second",
                "currency": sheet.currency,
            },
        )


def _raw(exc: Exception) -> BackendError | None:
    """Leave the SDK's HTTP errors to the caller (a download's 404 means an expired file)."""
    from google.genai import errors

    return None if isinstance(exc, errors.APIError) else translate(exc)
