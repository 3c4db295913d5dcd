"""MiniMax's v1 protocol: a Bearer key, JSON replies that carry their outcome in ``base_resp``.

MiniMax answers HTTP 200 for most errors and puts the verdict in ``base_resp.status_code``
(platform.minimax.io/docs/api-reference/errorcode); the gateway in front can still send 429 and
5xx. Every call goes through the shared :func:`~kaipai.backends.remote.tasks.send`, and every
reply is read here: rate limits and internal errors are transient, a bad key is a configuration
problem, an empty balance or an exhausted plan an account problem, sensitive input or output a
refusal — never retried.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from kaipai.backends.base import AccountError, BackendError, NotConfigured, RefusedError, TransientError
from kaipai.backends.remote import tasks

PROVIDER = "MiniMax"
TRANSIENT = frozenset({1000, 1001, 1002, 1013, 1024, 1033, 1039, 1041, 2045})
AUTH = frozenset({1004, 2049})
ACCOUNT = frozenset({1008, 1028, 1030, 2038, 2056, 2061})
REFUSED = frozenset({1026, 1027})


def error_for(code: int, message: str, doing: str = "the request") -> BackendError:
    """The kaipai error for a ``base_resp`` code."""
    said = f"({code}: {message})"
    if code in REFUSED:
        return RefusedError(f"{PROVIDER} refused {doing} as sensitive {said}", provider_reason=message)
    if code in AUTH:
        return NotConfigured(
            f"{PROVIDER} refused the API key {said}; check MINIMAX_API_KEY and the region (cn and global keys differ)",
            provider_reason=message,
        )
    if code in ACCOUNT:
        return AccountError(
            f"{PROVIDER} account cannot run {doing} {said}; top up, verify the account or check the plan",
            provider_reason=message,
        )
    if code in TRANSIENT:
        return TransientError(f"{PROVIDER} is busy or failed inside {said}", provider_reason=message)
    return BackendError(f"{PROVIDER} rejected {doing} {said}", provider_reason=message)


def base_resp(body: dict[str, Any]) -> tuple[int, str]:
    verdict = body.get("base_resp") or {}
    try:
        code = int(verdict.get("status_code") or 0)
    except (TypeError, ValueError):
        code = 1000
    return code, str(verdict.get("status_msg") or "")


class Api:
    """One MiniMax host and key."""

    def __init__(self, base_url: str, key: Callable[[], str], settings: tasks.PollSettings) -> None:
        self.base_url = base_url
        self._key = key
        self._http = httpx.Client(base_url=base_url, timeout=settings.timeout)

    def _errors(self, response: httpx.Response) -> BackendError | None:
        """A 4xx whose body names a MiniMax code (the upload route answers 400 with one) is read as that code."""
        try:
            body = response.json()
        except ValueError:
            return None
        if isinstance(body, dict) and base_resp(body)[0]:
            return error_for(*base_resp(body))
        return None

    def reply(self, method: str, path: str, **kwargs: Any) -> tuple[httpx.Response, dict[str, Any]]:
        """One call and its JSON body, ``base_resp`` unread (a task's status carries its failure there)."""
        headers = {"Authorization": f"Bearer {self._key()}", **kwargs.pop("headers", {})}
        response = tasks.send(self._http, method, path, PROVIDER, errors=self._errors, headers=headers, **kwargs)
        return response, tasks.json_body(response, PROVIDER)

    def call(self, method: str, path: str, doing: str, **kwargs: Any) -> dict[str, Any]:
        """One call; its reply's ``base_resp`` checked (a non-zero code raised as the right error)."""
        response, body = self.reply(method, path, **kwargs)
        code, message = base_resp(body)
        if code:
            raise error_for(code, message, doing)
        if response.status_code >= 400:
            raise BackendError(
                f"{PROVIDER} rejected {doing} (HTTP {response.status_code}): {tasks.short(response.text)}"
            )
        return body

    def close(self) -> None:
        self._http.close()
