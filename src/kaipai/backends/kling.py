"""``kling``: Kling (可灵) image-to-video through the Kling API.

Every request carries a short-lived JWT (HS256) signed with the secret key, issued by the access
key. ``POST /v1/videos/image2video`` returns a ``task_id`` that is recorded with the engine at
once; ``GET /v1/videos/image2video/{task_id}`` is polled until ``succeed`` or ``failed``, and
the video is downloaded the moment it exists (its URL expires).

Keys: ``KLING_ACCESS_KEY`` / ``KLING_SECRET_KEY``, or ``access_key`` / ``secret_key`` under
``[kling]`` in ~/.config/kaipai/config.toml. Options: ``mode`` (std | pro), ``cfg_scale``,
``base_url`` (or ``KLING_BASE_URL``), ``sheet`` overrides and the polling figures of
:class:`~kaipai.backends.remote.tasks.PollSettings`. The model is ``kling-v2-1`` unless chosen.
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
from kaipai.backends.remote import tasks
from kaipai.backends.remote.sheets import default_model, load_sheet

PROVIDER = "Kling"
DEFAULT_BASE_URL = "https://api-beijing.klingai.com"
SUBMIT_PATH = "/v1/videos/image2video"
TASK_PATH = "/v1/videos/image2video/{task_id}"
#: Kling's business code for a request refused by its content-safety review.
CONTENT_REFUSED = 1301
#: Words in ``task_status_msg`` that mark a failed task as a content refusal.
REFUSAL_WORDS = ("risk", "safety", "sensitive", "inappropriate", "policy", "违规", "审核", "风控")
TOKEN_SECONDS = 1800


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


class KlingBackend(Backend):
    name = "kling"
    capabilities = frozenset({Capability.video})
    version = "1"

    def __init__(self, model: str | None = None, **options: Any) -> None:
        super().__init__(model=model, **options)
        self.settings = tasks.PollSettings.from_options(options, interval=5.0)
        self.base_url = str(
            options.get("base_url") or tasks.setting("kling", "base_url", "KLING_BASE_URL") or DEFAULT_BASE_URL
        ).rstrip("/")
        self.mode = str(options.get("mode", "std"))
        if self.mode not in ("std", "pro"):
            raise NotConfigured(f"kling mode {self.mode!r} is not one of std, pro")
        self._api = httpx.Client(base_url=self.base_url, timeout=self.settings.timeout)
        self._files = httpx.Client(timeout=self.settings.download_timeout, follow_redirects=True)

    # ------------------------------------------------------------------ configuration

    def sheet_id(self) -> str:
        if self.model:
            return f"{self.model}@{self.mode}"
        default = default_model("kling", Capability.video)
        return default.split("@")[0] + "@" + self.mode

    def describe(self, capability: Capability) -> CapabilitySheet:
        overrides = (self.options.get("sheet") or {}).get(capability.value)
        return load_sheet("kling", self.sheet_id(), overrides)

    def _keys(self) -> tuple[str, str]:
        return (
            tasks.require("kling", "access_key", "KLING_ACCESS_KEY", "the Kling access key"),
            tasks.require("kling", "secret_key", "KLING_SECRET_KEY", "the Kling secret key"),
        )

    def check(self) -> str:
        self._keys()
        return f"Kling at {self.base_url}: keys found"

    def reachable(self) -> str:
        """Look up a task that does not exist: proves the address and the keys without spending."""
        response = tasks.send(self._api, "GET", TASK_PATH.format(task_id="0"), PROVIDER, headers=self._headers())
        if response.status_code == 401:
            raise NotConfigured(f"Kling refused the keys (HTTP 401): {response.text[:200]}")
        return f"Kling at {self.base_url}: reachable, keys accepted"

    def close(self) -> None:
        self._api.close()
        self._files.close()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_token(*self._keys())}", "Content-Type": "application/json"}

    # ------------------------------------------------------------------ protocol

    def _reply(self, response: httpx.Response) -> dict[str, Any]:
        """``data`` of a reply, or Kling's error (its ``code`` and ``message``) as the right exception."""
        body = tasks.json_body(response, PROVIDER)
        code = body.get("code", 0)
        message = str(body.get("message") or "")
        if response.status_code == 401 or code in (1000, 1001, 1002, 1003, 1004):
            raise NotConfigured(
                f"Kling refused the keys ({code}: {message}); check KLING_ACCESS_KEY and KLING_SECRET_KEY"
            )
        if code == CONTENT_REFUSED:
            raise RefusedError(f"Kling refused the request ({code}): {message}", provider_reason=message)
        if response.status_code >= 400 or code != 0:
            if code in (1102, 1101, 1103):
                raise NotConfigured(
                    f"Kling account cannot run the task ({code}: {message}); check the account's resource packs"
                )
            raise BackendError(f"Kling rejected the request ({code}): {message}", provider_reason=message)
        data = body.get("data")
        if not isinstance(data, dict):
            raise TransientError(f"Kling sent a reply without data: {str(body)[:200]}")
        return data

    def _look(self, task_id: str) -> tasks.Poll:
        data = self._reply(
            tasks.send(self._api, "GET", TASK_PATH.format(task_id=task_id), PROVIDER, headers=self._headers())
        )
        status = str(data.get("task_status", ""))
        if status == "succeed":
            return tasks.Poll("done", data)
        if status == "failed":
            return tasks.Poll("failed", data)
        if status in ("submitted", "processing"):
            return tasks.Poll("waiting", data, message=status)
        raise TransientError(f"Kling task {task_id} has an unknown status {status!r}")

    def _failure(self, task_id: str, poll: tasks.Poll) -> BackendError:
        message = str(poll.payload.get("task_status_msg") or "no reason given")
        if is_refusal_message(message):
            return RefusedError(f"Kling refused task {task_id}: {message}", provider_reason=message)
        return TransientError(f"Kling task {task_id} failed: {message}", provider_reason=message)

    def _submit(self, request: VideoRequest, model: str) -> str:
        data = self._reply(
            tasks.send(
                self._api, "POST", SUBMIT_PATH, PROVIDER, json=self._body(request, model), headers=self._headers()
            )
        )
        return str(data.get("task_id") or "")

    def _body(self, request: VideoRequest, model: str) -> dict[str, Any]:
        assert request.image is not None
        body: dict[str, Any] = {
            "model_name": model,
            "mode": self.mode,
            "duration": str(round(request.duration)),
            "image": base64.b64encode(request.image.read_bytes()).decode(),
            "prompt": request.prompt[:2500],
            "cfg_scale": float(self.options.get("cfg_scale", 0.5)),
        }
        if request.negative_prompt:
            body["negative_prompt"] = request.negative_prompt[:2500]
        if request.last_image is not None:
            body["image_tail"] = base64.b64encode(request.last_image.read_bytes()).decode()
        return body

    # ------------------------------------------------------------------ capability

    def generate_video(self, request: VideoRequest, ctx: JobContext) -> Result:
        if request.image is None:
            raise BackendError("Kling image-to-video needs the shot's keyframe; render the keyframe stage first")
        sheet = self.sheet(Capability.video)
        model = request.model or sheet.model
        final = tasks.run_task(
            ctx,
            PROVIDER,
            self.settings,
            submit=lambda: self._submit(request, model),
            look=self._look,
            failure=self._failure,
        )
        task_id = ctx.job_id
        videos = (final.payload.get("task_result") or {}).get("videos") or []
        if not videos or not videos[0].get("url"):
            raise TransientError(f"Kling task {task_id} succeeded without a video: {str(final.payload)[:200]}")
        url = str(videos[0]["url"])
        path = tasks.download(
            self._files, url, ctx.out_dir / f"clip{tasks.suffix_for(url, default='.mp4')}", PROVIDER, self.settings
        )
        media = tasks.probe(path)
        seconds = float(videos[0].get("duration") or media.duration or request.duration)
        deducted = final.payload.get("final_unit_deduction")
        units = float(deducted) if deducted not in (None, "") else seconds
        return media.result(
            [path],
            cost_units=units,
            cost=seconds * sheet.cost_per_unit,
            model=model,
            metadata={
                "provider": "kling",
                "task_id": task_id,
                "mode": self.mode,
                "cost_unit": "resource unit" if deducted not in (None, "") else "second",
                "currency": sheet.currency,
            },
        )
