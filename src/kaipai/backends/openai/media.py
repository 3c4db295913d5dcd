"""What the OpenAI-compatible speech and image backends share: the SDK client, the key, the sheet, the errors.

Both speak the OpenAI media API through the official ``openai`` SDK (the ``kaipai[openai]``
extra), so OpenAI itself and the servers that copy its routes — Kokoro-FastAPI, CosyVoice
wrappers, openedai-speech, LocalAI and Stable Diffusion servers — plug in with a ``base_url``, a
``model`` and voice names as options, without new code. The SDK retries 429s and 5xx by itself;
its retries are off here so the engine's backoff is the only one. Error bodies differ between
servers (``{"error": …}`` from OpenAI, ``{"detail": …}`` from FastAPI servers); the message is
read from whichever is there.
"""

from __future__ import annotations

import os
import threading
from typing import Any
from urllib.parse import urlparse

from kaipai.backends.base import (
    AccountError,
    Backend,
    BackendError,
    Capability,
    CapabilitySheet,
    NotConfigured,
    RefusedError,
    TransientError,
)
from kaipai.backends.remote import sheets
from kaipai.backends.remote.sdk import HttpFailure, failure_from, guarded, status_error

DEFAULT_BASE_URL = "https://api.openai.com/v1"
REFUSAL_CODES = ("content_policy_violation", "moderation_blocked")
#: Options every media backend takes (the key itself never: it stays in the environment).
COMMON_OPTIONS = frozenset({"base_url", "api_key_env", "timeout", "sheet", "extra_body"})


def is_local(base_url: str) -> bool:
    host = urlparse(base_url).hostname or ""
    return host in ("localhost", "127.0.0.1", "::1", "0.0.0.0") or host.endswith(".local")


def is_openai(base_url: str) -> bool:
    return (urlparse(base_url).hostname or "") == "api.openai.com"


def classify(failure: HttpFailure, where: str, key_hint: str) -> BackendError:
    """OpenAI's error codes (and the plain statuses local servers send) as kaipai errors."""
    code = failure.code
    if code == "insufficient_quota":
        return AccountError(
            f"{where}: the account has no quota left ({failure.message}); check the plan and billing",
            provider_reason=failure.message,
        )
    if code in REFUSAL_CODES or "safety system" in failure.message.lower():
        return RefusedError(
            f"{where} refused the request ({code or failure.status}): {failure.message}",
            provider_reason=failure.message,
        )
    if failure.status == 404:
        return NotConfigured(
            f"{where} has no such model or route ({failure.reason}); check the backend's model and base_url "
            "(it must end in /v1)",
            provider_reason=failure.message,
        )
    return status_error(where, failure, key_hint)


class OpenAIMediaBackend(Backend):
    """The shared half of ``openai-speech`` and ``openai-image``: one endpoint, one model, the SDK client."""

    capability: Capability = Capability.speech
    known_options: frozenset[str] = COMMON_OPTIONS

    def __init__(self, model: str | None = None, **options: Any) -> None:
        if "api_key" in options:
            raise NotConfigured(
                "keep API keys out of kaipai.yaml: set OPENAI_API_KEY, or name another variable with api_key_env"
            )
        unknown = sorted(set(options) - self.known_options)
        if unknown:
            known = ", ".join(sorted(self.known_options))
            raise NotConfigured(f"{self.name} has no option {', '.join(map(repr, unknown))}; known: {known}")
        super().__init__(model=model or sheets.default_model("openai", self.capability), **options)
        self.base_url = str(
            options.get("base_url") or os.environ.get("KAIPAI_OPENAI_BASE_URL") or DEFAULT_BASE_URL
        ).rstrip("/")
        self.key_variable = str(options.get("api_key_env") or "OPENAI_API_KEY")
        self.timeout = float(options.get("timeout", 120.0))
        self.where = f"{self.model} at {self.base_url}"
        self._client: Any = None
        self._lock = threading.Lock()

    def describe(self, capability: Capability) -> CapabilitySheet:
        overrides = (self.options.get("sheet") or {}).get(capability.value)
        model = str(self.model)
        if sheets.entry("openai", model) is not None or (overrides and "capability" in overrides):
            return sheets.load_sheet("openai", model, overrides)
        generic = sheets.load_sheet("openai", f"local-{capability.value}", overrides)
        return generic.model_copy(update={"model": model})

    def _key(self) -> str:
        key = os.environ.get(self.key_variable, "").strip()
        if not key and not is_local(self.base_url):
            raise NotConfigured(f"{self.name} needs an API key for {self.base_url}: set {self.key_variable}")
        return key or "not-needed"  # the SDK wants a key even for servers that take none

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                try:
                    from openai import OpenAI
                except ImportError:
                    raise NotConfigured("the OpenAI SDK is not installed: pip install 'kaipai[openai]'") from None
                self._client = OpenAI(api_key=self._key(), base_url=self.base_url, max_retries=0, timeout=self.timeout)
            return self._client

    def translate(self, exc: Exception) -> BackendError | None:
        import openai

        if isinstance(exc, openai.APITimeoutError):
            return TransientError(f"{self.where} did not answer within {self.timeout:g} s")
        if isinstance(exc, openai.APIConnectionError):
            return TransientError(f"cannot reach {self.base_url}; check the base URL and that the server is running")
        if isinstance(exc, openai.APIStatusError):
            failure = failure_from(exc.status_code, exc.response.content, exc.response.headers)
            return classify(failure, self.where, self.key_variable)
        return None

    def call(self, fn: Any) -> Any:
        return guarded(self.where, fn, self.translate)

    def check(self) -> str:
        self._key()
        self.client()
        return f"{self.where}: key found" if not is_local(self.base_url) else f"{self.where} (a local server)"

    def reachable(self) -> str:
        """List the server's models (free); a server without the route is still reachable."""
        try:
            models = self.call(lambda: self.client().models.list())
        except NotConfigured as exc:
            if "no such model or route" not in str(exc):
                raise
            return f"{self.where}: reachable (the server lists no models)"
        names = {m.id for m in getattr(models, "data", [])}
        listed = "listed" if self.model in names else "not in the server's list" if names else "reachable"
        return f"{self.where}: reachable, key accepted, model {listed}"

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
