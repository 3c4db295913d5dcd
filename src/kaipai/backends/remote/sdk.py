"""Calling a provider's official SDK inside the task layer: its exceptions become kaipai's errors.

The official SDKs (Volcengine Ark, google-genai, runwayml, openai) raise their own exception
classes and some retry by themselves — Ark and the Stainless-built SDKs re-send a POST after a
5xx or a 429, which can create a paid task twice. Backends build those clients with retries off
and pass every call through :func:`guarded`: a dropped connection, a timeout or a reply that is
not JSON becomes a :class:`TransientError`, and an HTTP error is read as an :class:`HttpFailure`
(status, the provider's own error code and message, ``Retry-After``) that the backend classifies
first — a refusal, an empty account — before :func:`status_error` applies the common meaning of
the status. The task's life itself stays with :func:`~kaipai.backends.remote.tasks.run_task`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from kaipai.backends.base import BackendError, NotConfigured, TransientError
from kaipai.backends.remote.tasks import retry_after_seconds, short

T = TypeVar("T")

#: Statuses worth another attempt later (the task layer and the engine do the waiting).
TRANSIENT_STATUSES = frozenset({408, 409, 425, 429, 499, 500, 502, 503, 504, 520, 522, 524, 529})


@dataclass(frozen=True)
class HttpFailure:
    """An HTTP error as the provider sent it, whatever the envelope its body uses."""

    status: int
    code: str = ""
    message: str = ""
    retry_after: float | None = None
    body: Any = None

    @property
    def reason(self) -> str:
        return " ".join(p for p in (self.code, self.message) if p) or f"HTTP {self.status}"


def failure_from(status: int, body: Any, headers: Any = None) -> HttpFailure:
    """Read the error code and message from the envelopes providers use.

    ``{"error": {"code", "message"}}`` (OpenAI, Ark, Google), ``{"error": "…"}`` (Runway),
    ``{"detail": …}`` (FastAPI servers such as Kokoro or CosyVoice), ``{"code", "message"}`` or
    ``{"reason", "message"}`` (Vidu), or plain text.
    """
    if isinstance(body, (bytes, str)):
        text = body.decode(errors="replace") if isinstance(body, bytes) else body
        try:
            body = json.loads(text)
        except ValueError:
            body = text
    code, message = "", ""
    if isinstance(body, dict):
        inner: Any = body.get("error", body.get("detail", body))
        if isinstance(inner, dict):
            code = _name(inner)
            message = str(inner.get("message") or inner.get("msg") or "")
        elif isinstance(inner, list):  # FastAPI validation errors
            message = "; ".join(str(i.get("msg", i)) if isinstance(i, dict) else str(i) for i in inner)
        elif inner is not None:
            message = str(inner)
        if not code and inner is not body:
            code = _name(body, ("code", "reason", "status"))
    elif body is not None:
        message = str(body)
    retry = None
    if headers is not None:
        retry = retry_after_seconds(headers.get("retry-after"))
    return HttpFailure(status, code, short(message, 300), retry, body)


def _name(fields: dict[str, Any], keys: tuple[str, ...] = ("code", "reason", "status", "error")) -> str:
    """The error's name: a word (``RESOURCE_EXHAUSTED``, ``FieldUnwanted``) before a number (``429``)."""
    found = [fields.get(k) for k in keys]
    found = [v for v in found if v not in (None, "") and not isinstance(v, (dict, list, bool))]
    words = [str(v) for v in found if not str(v).lstrip("-").isdigit()]
    return (words or [str(v) for v in found] or [""])[0]


def status_error(provider: str, failure: HttpFailure, key_hint: str = "") -> BackendError:
    """What an HTTP status means when the provider's code says nothing more specific."""
    if failure.status in (401, 403):
        hint = f"; check {key_hint}" if key_hint else ""
        return NotConfigured(
            f"{provider} refused the API key (HTTP {failure.status}): {failure.reason}{hint}",
            provider_reason=failure.message,
        )
    if failure.status in TRANSIENT_STATUSES or failure.status >= 500:
        kind = "is rate-limiting requests" if failure.status == 429 else f"is unavailable (HTTP {failure.status})"
        wait = f"; asked to wait {failure.retry_after:g} s" if failure.retry_after is not None else ""
        return TransientError(
            f"{provider} {kind}{wait}: {failure.reason}",
            retry_after=failure.retry_after,
            provider_reason=failure.message,
        )
    return BackendError(
        f"{provider} rejected the request (HTTP {failure.status}): {failure.reason}", provider_reason=failure.message
    )


Translate = Callable[[Exception], BackendError | None]


def guarded(provider: str, call: Callable[[], T], translate: Translate) -> T:
    """Run one SDK call; what it raises comes out as a kaipai error (``translate`` reads the SDK's own)."""
    try:
        return call()
    except BackendError:
        raise
    except json.JSONDecodeError as exc:
        raise TransientError(f"{provider} sent a reply that is not JSON ({exc.msg})") from None
    except httpx.TimeoutException:
        raise TransientError(f"{provider} did not answer in time") from None
    except httpx.TransportError as exc:
        raise TransientError(f"{provider} could not be reached ({type(exc).__name__})") from None
    except Exception as exc:
        error = translate(exc)
        if error is None:
            raise
        raise error from None
