"""``elevenlabs``: ambience beds and sound effects from ElevenLabs' text-to-sound model.

Follows the API reference of ``POST /v1/sound-generation`` (the ``elevenlabs`` Python SDK 2.x,
``client.text_to_sound_effects.convert``, sends the same request): header ``xi-api-key``, query
``output_format``, JSON body ``text``, ``duration_seconds`` (0.5–30 s; omitted, the model picks the
length an effect wants), ``prompt_influence``, ``loop`` (a bed that repeats without a seam) and
``model_id``; the reply is the audio itself. Errors are JSON ``{"detail": {"status", "message"}}``:
``invalid_api_key`` and ``quota_exceeded`` (HTTP 401), ``too_many_concurrent_requests`` and
``system_busy`` (429), validation errors (422).

Options: ``base_url``, ``prompt_influence`` (0.3), ``output_format`` (``mp3_44100_128``), ``timeout``;
the key from ``ELEVENLABS_API_KEY`` or ``api_key`` under ``[elevenlabs]`` in the user config.
"""

from __future__ import annotations

from typing import Any

import httpx

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
    SoundRequest,
    TransientError,
    UnsupportedRequest,
)
from kaipai.backends.remote import tasks
from kaipai.backends.remote.sheets import default_model, load_sheet

BASE_URL = "https://api.elevenlabs.io"
PROVIDER = "ElevenLabs"
SUFFIX = {"mp3": ".mp3", "pcm": ".pcm", "opus": ".opus", "ulaw": ".ulaw", "alaw": ".alaw", "wav": ".wav"}


class ElevenLabsBackend(Backend):
    name = "elevenlabs"
    capabilities = frozenset({Capability.sound})
    version = "1"

    def __init__(self, model: str | None = None, **options: Any) -> None:
        super().__init__(model=model, **options)
        self.base_url = str(options.get("base_url") or BASE_URL).rstrip("/")
        self.settings = tasks.PollSettings.from_options(options, timeout=120.0)
        self.output_format = str(options.get("output_format", "mp3_44100_128"))
        if self.output_format.split("_")[0] not in ("mp3", "opus", "wav"):
            raise NotConfigured(
                f"elevenlabs output_format {self.output_format!r}: choose an mp3_…, opus_… or wav_… format "
                "(raw pcm has no header to read it by)"
            )
        self._client: httpx.Client | None = None

    def describe(self, capability: Capability) -> CapabilitySheet:
        model = self.model or default_model("elevenlabs", capability)
        return load_sheet("elevenlabs", model, self.options.get("sheet"))

    def _key(self) -> str:
        return tasks.require("elevenlabs", "api_key", "ELEVENLABS_API_KEY", "the ElevenLabs API key")

    def check(self) -> str:
        self._key()
        return f"ElevenLabs at {self.base_url}"

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                base_url=self.base_url, headers={"xi-api-key": self._key()}, timeout=self.settings.timeout
            )
        return self._client

    def generate_sound(self, request: SoundRequest, ctx: JobContext) -> Result:
        model = request.model or self.model or default_model("elevenlabs", Capability.sound)
        body: dict[str, Any] = {
            "text": request.prompt,
            "prompt_influence": float(
                request.options.get("prompt_influence", self.options.get("prompt_influence", 0.3))
            ),
            "model_id": model,
        }
        if request.duration is not None:
            body["duration_seconds"] = round(float(request.duration), 2)
        if request.kind == "ambience":
            body["loop"] = True  # the edit runs a bed under a whole scene
        response = tasks.send(
            self.client(),
            "POST",
            "/v1/sound-generation",
            PROVIDER,
            errors=_error,
            params={"output_format": self.output_format},
            json=body,
        )
        if response.status_code >= 400:
            raise BackendError(f"{PROVIDER} answered HTTP {response.status_code}: {response.text[:200]}")
        kind = response.headers.get("content-type", "")
        if not response.content or kind.startswith(("application/json", "text/")):
            raise TransientError(f"{PROVIDER} sent no audio (content-type {kind or 'none'}): {response.text[:120]}")
        out = ctx.out_dir / f"{request.kind}{SUFFIX.get(self.output_format.split('_')[0], '.bin')}"
        out.write_bytes(response.content)
        try:
            media = tasks.probe(out)
        except BackendError:
            media = tasks.Media()
        if media.duration is None:  # a reply cut off on the way: asking again is worth it
            raise TransientError(f"{PROVIDER} sent audio that cannot be read ({len(response.content)} bytes)")
        seconds = request.duration or media.duration
        cost = float(self.sheet(Capability.sound).cost_per_unit) * seconds
        return media.result(
            [out],
            model=model,
            cost=round(cost, 6),
            cost_units=seconds,
            metadata={"provider": "elevenlabs", "request_id": response.headers.get("request-id", "")},
        )


def _error(response: httpx.Response) -> BackendError | None:
    """The provider's own error from its ``detail``: account trouble is not retried, a busy system is."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return None
    if isinstance(detail, list):  # a validation error
        where = "; ".join(f"{'.'.join(str(x) for x in d.get('loc', []))}: {d.get('msg', '')}" for d in detail[:3])
        return UnsupportedRequest(f"{PROVIDER} refused the request's fields: {where}", provider_reason=where)
    if not isinstance(detail, dict):
        return None
    status, message = str(detail.get("status", "")), str(detail.get("message", ""))
    reason = f"{status}: {message}".strip(": ")
    if status in ("invalid_api_key", "missing_api_key"):
        return NotConfigured(
            f"{PROVIDER} does not accept the API key ({reason}); check ELEVENLABS_API_KEY", provider_reason=reason
        )
    if status in ("quota_exceeded", "payment_required", "insufficient_credits"):
        return AccountError(f"{PROVIDER}: the account cannot pay for this ({reason})", provider_reason=reason)
    if status in ("too_many_concurrent_requests", "system_busy", "rate_limit_exceeded"):
        wait = tasks.retry_after_seconds(response.headers.get("Retry-After"))
        return TransientError(f"{PROVIDER} is busy ({reason})", retry_after=wait, provider_reason=reason)
    if response.status_code in (400, 403) and status:
        return RefusedError(f"{PROVIDER} refused the prompt ({reason})", provider_reason=reason)
    return None


__all__ = ["ElevenLabsBackend"]
