"""DashScope's HTTP protocol: endpoints, the reply envelope and what each error code means for a render.

Errors come as ``{"code", "message", "request_id"}`` with an HTTP status (Model Studio's error-code
page). The status alone misleads: a 429 ``Throttling.AllocationQuota`` ("Free allocated quota
exceeded") or a 400 ``Arrearage`` is an account that waiting will not refill, a 403 may be a model
the account has not enabled, and refusals of content come as 400s with their own codes. So the body
is read first (``tasks.send``'s ``errors`` hook) and only plain rate limits and server errors are
left to be retried.
"""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from kaipai.backends.base import (
    AccountError,
    BackendError,
    NotConfigured,
    RefusedError,
    TransientError,
)
from kaipai.backends.remote import tasks

PROVIDER = "DashScope"
IMAGE_PATH = "/api/v1/services/aigc/text2image/image-synthesis"
VIDEO_PATH = "/api/v1/services/aigc/video-generation/video-synthesis"
IMAGE2VIDEO_PATH = "/api/v1/services/aigc/image2video/video-synthesis"
FACE_DETECT_PATH = "/api/v1/services/aigc/image2video/face-detect"
SPEECH_PATH = "/api/v1/services/audio/tts/SpeechSynthesizer"
ENROLL_PATH = "/api/v1/services/audio/tts/customization"
UPLOAD_POLICY_PATH = "/api/v1/uploads"
TASK_PATH = "/api/v1/tasks/{task_id}"

#: Codes (or their prefixes) that mean the content was refused: never retried.
REFUSALS = ("DataInspection", "IPInfringement", "InappropriateContent", "CustomRoleBlocked", "FaqRuleBlocked")
#: The account cannot run the job: arrears, quota, a model not bought or not enabled.
ACCOUNT = (
    "Arrearage",
    "Throttling.AllocationQuota",
    "AllocationQuota",
    "CommodityNotPurchased",
    "PrepaidBillOverdue",
    "PostpaidBillOverdue",
    "AccessDenied.Unpurchased",
    "Model.AccessDenied",
    "Workspace.AccessDenied",
    "Endpoint.AccessDenied",
)
#: Plain rate limits: waited out with backoff.
RATE_LIMITS = ("Throttling", "Throttling.RateQuota", "Throttling.BurstRate")


class Send(Protocol):
    """The backend's one call of DashScope's API: its own key unless ``headers`` are given, errors read by code."""

    def __call__(
        self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response: ...


def is_refusal(code: str) -> bool:
    """A content refusal (``InvalidParameter.DataInspection`` is a download failure, not one)."""
    return code != "InvalidParameter.DataInspection" and any(marker in code for marker in REFUSALS)


def error_for(status: int, code: str, message: str, where: str = "") -> BackendError | None:
    """The error a reply stands for, from its code first; None leaves 429/5xx to ``tasks.send`` (transient)."""
    short = f"({code}): {message}"
    if status == 401 or code in ("InvalidApiKey", "NOT AUTHORIZED"):
        return NotConfigured(
            f"DashScope refused the API key {short}; check DASHSCOPE_API_KEY, and that the key belongs to the "
            f"region you chose ({where}): Beijing, Singapore and Virginia keys do not mix"
        )
    if code in ACCOUNT or any(code.startswith(a + ".") for a in ACCOUNT):
        return AccountError(
            f"DashScope's account cannot run this {short}; settle the account, buy or enable the model in the "
            "Model Studio console, or turn off 'stop when the free quota is used up', then render again",
            provider_reason=message,
        )
    if is_refusal(code):
        return RefusedError(f"DashScope refused the request {short}", provider_reason=message)
    if code in RATE_LIMITS or status == 429 or status >= 500:
        return None
    if code == "ModelNotFound" or status == 404:
        return NotConfigured(f"DashScope does not know this model in {where or 'this region'} {short}")
    if code == "InvalidParameter.DataInspection":
        return BackendError(
            f"DashScope could not download an input {short}; uploads are bound to the model and region they "
            "were made for",
            provider_reason=message,
        )
    if status == 403:
        return AccountError(f"DashScope denied access {short}", provider_reason=message)
    if status >= 400:
        return BackendError(f"DashScope rejected the request {short}", provider_reason=message)
    return None


def errors_hook(where: str) -> tasks.ErrorReader:
    def read(response: httpx.Response) -> BackendError | None:
        try:
            body = response.json()
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        return error_for(response.status_code, str(body.get("code") or ""), str(body.get("message") or ""), where)

    return read


def reply(response: httpx.Response, where: str = "") -> dict[str, Any]:
    """The JSON body of a successful reply; a 200 that carries an error code is that error."""
    data = tasks.json_body(response, PROVIDER)
    code = str(data.get("code") or "")
    if response.status_code >= 400 or (code and not data.get("output")):
        known = error_for(response.status_code, code, str(data.get("message") or ""), where)
        raise known or TransientError(f"DashScope answered HTTP {response.status_code} ({code})")
    return data


def look(data: dict[str, Any], task_id: str) -> tasks.Poll:
    """One status check of an asynchronous task (``GET /api/v1/tasks/{id}``)."""
    output = data.get("output") or {}
    status = str(output.get("task_status", "")).upper()
    if status == "SUCCEEDED":
        return tasks.Poll("done", data)
    if status in ("FAILED", "CANCELED", "UNKNOWN"):
        return tasks.Poll("failed", data)
    if status in ("PENDING", "RUNNING", "SUSPENDED"):
        return tasks.Poll("waiting", data, message=status.lower())
    raise TransientError(f"DashScope task {task_id} has an unknown status {status!r}")


def failure(task_id: str, poll: tasks.Poll) -> BackendError:
    """A failed task: a refusal or the account stands; anything else (expired, internal) is tried afresh."""
    output = poll.payload.get("output") or {}
    status = str(output.get("task_status", "")).upper()
    code, message = str(output.get("code") or status), str(output.get("message") or "")
    if is_refusal(code):
        return RefusedError(f"DashScope refused task {task_id} ({code}): {message}", provider_reason=message)
    if code in ACCOUNT:
        return AccountError(f"DashScope task {task_id} ({code}): {message}", provider_reason=message)
    if code.startswith(("InvalidParameter", "InvalidFile", "InvalidImage", "InvalidURL", "Audio.", "BadRequest")):
        return BackendError(f"DashScope could not use the inputs of task {task_id} ({code}): {message}")
    return TransientError(f"DashScope task {task_id} ended {status} ({code}): {message}", provider_reason=message)


def billed_seconds(usage: dict[str, Any], fallback: float) -> float:
    """Seconds billed: ``duration`` (wan2.2 and later), else ``video_duration`` (wan2.1, s2v, VideoRetalk)."""
    for name in ("duration", "video_duration"):
        value = usage.get(name)
        if isinstance(value, int | float) and value > 0:
            return float(value)
    return fallback
