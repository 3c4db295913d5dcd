"""A client for any OpenAI-compatible chat-completions endpoint (OpenAI, DeepSeek, DashScope, vLLM, Ollama…).

It owns the wire protocol and its failures: timeouts, 429 (honouring ``Retry-After``) and
5xx are retried with exponential backoff; a rejected key or an unknown model ends in one
clear :class:`NotConfigured`; a ``response_format`` the server does not know is reported
as :class:`FormatRejected` so the caller can step down to a simpler structured mode.
The API key is sent in a header and never appears in a message or an error.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from kaipai.backends.base import (
    BackendError,
    NotConfigured,
    RefusedError,
    TransientError,
)

#: A chat message: ``content`` is text, or a list of parts (text and ``image_url`` parts, for vision models).
Message = dict[str, Any]

#: HTTP statuses worth another attempt.
RETRYABLE = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})


class FormatRejected(BackendError):
    """The endpoint answered 400/422 to a request carrying ``response_format``: it may not support that mode."""


@dataclass(frozen=True)
class ChatReply:
    content: str
    finish_reason: str
    refusal: str = ""


@dataclass
class ChatClient:
    """One endpoint and model. ``sleep`` is injectable so waiting can be observed."""

    base_url: str
    model: str
    api_key: str = ""
    timeout: float = 120.0
    max_retries: int = 4
    backoff: float = 2.0
    max_backoff: float = 60.0
    max_tokens: int | None = 4096
    temperature: float | None = 0.7
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        self._http = httpx.Client(
            base_url=self.base_url.rstrip("/") + "/", timeout=httpx.Timeout(self.timeout), headers=headers
        )

    @property
    def where(self) -> str:
        return f"{self.model} at {self.base_url}"

    def close(self) -> None:
        self._http.close()

    def chat(self, messages: list[Message], response_format: dict[str, Any] | None = None) -> ChatReply:
        """One completion; retried on transient failures, raised as a kaipai error otherwise."""
        body: dict[str, Any] = {"model": self.model, "messages": messages}
        if self.max_tokens:
            body["max_tokens"] = self.max_tokens
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if response_format is not None:
            body["response_format"] = response_format
        last: TransientError | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                assert last is not None
                self.sleep(self._wait(attempt, last.retry_after))
            try:
                return self._post(body)
            except TransientError as exc:
                last = exc
        assert last is not None
        raise TransientError(
            f"{self.where} kept failing after {self.max_retries + 1} attempts: {last}", retry_after=last.retry_after
        ) from None

    def models(self) -> list[str]:
        """The model ids the server lists (``GET /models``, free): proves the server answers and takes the key."""
        try:
            response = self._http.get("models")
        except httpx.TimeoutException:
            raise TransientError(f"no reply from {self.base_url} within {self.timeout:g} s") from None
        except httpx.TransportError as exc:
            raise NotConfigured(
                f"cannot reach {self.base_url} ({type(exc).__name__}); "
                "check the base URL and that the server is running"
            ) from None
        if response.status_code in (401, 403):
            raise NotConfigured(
                f"{self.base_url} refused the API key ({response.status_code}); "
                "set OPENAI_API_KEY (or the variable named by the planner's api_key_env option)"
            )
        if response.status_code == 404:
            return []  # a server without the route still answered
        if response.status_code != 200:
            raise TransientError(f"{self.base_url} answered {response.status_code} {_error_text(response)}".rstrip())
        try:
            return [str(m["id"]) for m in response.json().get("data") or []]
        except (ValueError, KeyError, TypeError, AttributeError):
            return []

    def _wait(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(0.0, retry_after), self.max_backoff)
        return min(self.max_backoff, self.backoff * 2 ** (attempt - 1)) * random.uniform(0.8, 1.0)

    def _post(self, body: dict[str, Any]) -> ChatReply:
        try:
            response = self._http.post("chat/completions", json=body)
        except httpx.TimeoutException:
            raise TransientError(f"no reply from {self.where} within {self.timeout:g} s") from None
        except httpx.TransportError as exc:
            raise TransientError(
                f"cannot reach {self.base_url} ({type(exc).__name__}); "
                "check the base URL and that the server is running"
            ) from None
        status = response.status_code
        if status == 200:
            return _reply(response, self.where)
        reason = _error_text(response)
        if status in RETRYABLE:
            raise TransientError(
                f"{self.where} answered {status} {reason}".rstrip(),
                retry_after=_retry_after(response),
                provider_reason=reason,
            )
        if status in (401, 403):
            raise NotConfigured(
                f"{self.base_url} refused the API key ({status}); "
                "set OPENAI_API_KEY (or the variable named by the planner's api_key_env option)"
            )
        if status == 404:
            raise NotConfigured(
                f"{self.base_url} has no model {self.model!r} or no chat-completions route (404 {reason}); "
                "check backends.planner.model and base_url"
            )
        if status in (400, 422) and "response_format" in body and not _content_policy(reason):
            raise FormatRejected(
                f"{self.where} rejected the response format ({status} {reason})", provider_reason=reason
            )
        raise RefusedError(f"{self.where} refused the request ({status} {reason})", provider_reason=reason)


def _reply(response: httpx.Response, where: str) -> ChatReply:
    try:
        data = response.json()
        choice = data["choices"][0]
        message = choice.get("message") or {}
        content = message.get("content") or ""
        return ChatReply(
            content=str(content),
            finish_reason=str(choice.get("finish_reason") or ""),
            refusal=str(message.get("refusal") or ""),
        )
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        raise TransientError(f"{where} sent a reply that is not a chat completion: {response.text[:200]!r}") from None


def _error_text(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
        if isinstance(error, dict):
            return str(error.get("message") or error.get("code") or "")[:300]
        if error:
            return str(error)[:300]
    except (ValueError, AttributeError):
        pass
    return response.text.strip()[:300]


def _content_policy(reason: str) -> bool:
    low = reason.lower()
    return "content" in low and ("policy" in low or "filter" in low or "safety" in low or "inappropriate" in low)


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after", "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(raw).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
