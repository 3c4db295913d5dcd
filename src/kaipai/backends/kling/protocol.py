"""The Kling API's wire protocol: the signed token, the reply envelope, and its error codes.

Every reply is ``{"code", "message", "request_id", "data"}`` and ``code == 0`` is success. The
error table (Kling API docs, "通用信息 › 错误码") is why this module exists: 1100–1102 (account
abnormal, in arrears, resource packs used up) and 1304 (IP allow-list) come with **HTTP 429** like
the rate limits 1302/1303, but waiting refills nothing, so they are account errors and never
retried; 1000–1004 are the keys; 1301 is a content refusal; 5000–5002 are the server's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx

from kaipai.backends.base import (
    AccountError,
    BackendError,
    NotConfigured,
    RefusedError,
    TransientError,
)
from kaipai.backends.remote import tasks

PROVIDER = "Kling"
TOKEN_SECONDS = 1800
AUTH_CODES = {1000, 1001, 1002, 1003, 1004}
#: HTTP 429 (and 403 for 1103) that no amount of waiting fixes.
ACCOUNT_CODES = {
    1100: "the account is abnormal",
    1101: "the account is in arrears",
    1102: "the resource packs are used up or expired",
    1103: "the account has no permission for this API or model",
    1304: "the request came from an address outside the account's IP allow-list",
}
#: Rate limits and the server's own trouble: retried with backoff.
TRANSIENT_CODES = {1302, 1303, 5000, 5001, 5002}
CONTENT_REFUSED = {1300, 1301}
NOT_FOUND = 1203
#: Words in ``task_status_msg`` that mark a failed task as a content refusal.
REFUSAL_WORDS = ("risk", "safety", "sensitive", "inappropriate", "policy", "违规", "审核", "风控")


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def api_token(access_key: str, secret_key: str, now: float | None = None) -> str:
    """The JWT Kling expects: HS256, issued by the access key, valid for 30 minutes."""
    now = time.time() if now is None else now
    header = {"alg": "HS256", "typ": "JWT"}
    payload = {"iss": access_key, "exp": int(now) + TOKEN_SECONDS, "nbf": int(now) - 5}
    signing_input = (
        _b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64url(json.dumps(payload, separators=(",", ":")).encode())
    )
    signature = hmac.new(secret_key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + _b64url(signature)


def is_refusal_message(message: str) -> bool:
    return any(word in message.lower() for word in REFUSAL_WORDS)


def _envelope(response: httpx.Response) -> tuple[int | None, str]:
    try:
        body = response.json()
    except ValueError:
        return None, ""
    if not isinstance(body, dict):
        return None, ""
    code = body.get("code")
    return (code if isinstance(code, int) else None), str(body.get("message") or "")


def error_for(status: int, code: int | None, message: str, region_hint: str = "") -> BackendError | None:
    """Kling's own error for a reply, by its business code first (a 429 may be an empty account)."""
    if code in AUTH_CODES or (status == 401 and code is None):
        return NotConfigured(
            f"Kling refused the keys ({code}: {message}); check KLING_ACCESS_KEY and KLING_SECRET_KEY"
            + (f" and the region ({region_hint}): China and global keys do not mix" if region_hint else "")
        )
    if code in ACCOUNT_CODES:
        return AccountError(
            f"Kling cannot run the task: {ACCOUNT_CODES[code]} ({code}: {message}); "
            "top up or fix the account on Kling's developer console, then render again",
            provider_reason=message,
        )
    if code in CONTENT_REFUSED:
        return RefusedError(f"Kling refused the request ({code}): {message}", provider_reason=message)
    if code in TRANSIENT_CODES:
        return None  # the HTTP status (429, 5xx) makes it a TransientError in tasks.send
    if status >= 400 and status != 429 and status < 500:
        return BackendError(f"Kling rejected the request ({code}): {message}", provider_reason=message)
    return None


def errors_hook(region_hint: str = "") -> tasks.ErrorReader:
    """``tasks.send``'s reader of a failed reply: the account codes become AccountError before any 429 logic."""

    def read(response: httpx.Response) -> BackendError | None:
        code, message = _envelope(response)
        return error_for(response.status_code, code, message, region_hint)

    return read


def data_of(response: httpx.Response, region_hint: str = "") -> dict[str, Any] | list[Any]:
    """``data`` of a successful reply; a 200 that carries an error code is that error."""
    body = tasks.json_body(response, PROVIDER)
    code = body.get("code", 0)
    message = str(body.get("message") or "")
    if code != 0 or response.status_code >= 400:
        known = error_for(response.status_code, code if isinstance(code, int) else None, message, region_hint)
        raise known or TransientError(f"Kling answered code {code}: {message}", provider_reason=message)
    data = body.get("data")
    if not isinstance(data, dict | list):
        raise TransientError(f"Kling sent a reply without data: {str(body)[:200]}")
    return data
