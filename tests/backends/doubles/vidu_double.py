"""A Vidu enterprise API (``/ent/v2``) protocol double: image, start-end and reference clips.

Vidu has no official Python SDK; this follows the documentation pages on platform.vidu.com
(platform.vidu.cn for China): "Image to Video", "Start End to Video", "Reference to Video", "Get
Generation", "Cancel Generation" and "Error Code":

- ``Authorization: Token <key>`` — the word ``Token``, not ``Bearer`` (401 ``Unauthorized``);
- ``POST /ent/v2/img2video`` (exactly one image), ``/ent/v2/start-end2video`` (two, start then
  end), ``/ent/v2/reference2video`` (1–7, with ``aspect_ratio``); ``model``, ``prompt``,
  ``duration``, ``seed`` (0 = random; the reply says which was used), ``resolution`` (lower-case
  ``720p``), ``movement_amplitude``, ``bgm``, ``audio`` (viduq3), ``payload`` (echoed);
  fields an endpoint does not take are ``FieldUnwanted`` (``aspect_ratio`` on img2video), a wrong
  image count ``FieldItemCountOutOfRange``; the reply is the task with a decimal-string
  ``task_id``, ``state: created`` and its ``credits``;
- ``GET /ent/v2/tasks/{id}/creations`` walks ``created`` → ``queueing`` → ``scheduled`` →
  ``processing`` → ``success`` (``creations[].url``, a link that expires) or ``failed``
  (``err_code``); ``POST /ent/v2/tasks/{id}/cancel`` works before processing;
- errors are ``{"code", "reason", "message", "metadata": {"trace_id"}}``: 400
  ``CreditInsufficient``, ``TaskPromptPolicyViolation``, ``AuditSubmitIllegal``; 404
  ``TaskNotFound``; 429 ``QuotaExceeded`` (the account's concurrency) and ``TooManyRequests``;
  500 ``InternalServiceFailure``.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.backends.doubles.server import mp4_bytes, mp4_with_sound_bytes
from tests.backends.doubles.task_double import TaskDouble

KEY = "vda_test_key"
#: model → (seconds allowed, resolutions, endpoints)
MODELS: dict[str, tuple[range, set[str], set[str]]] = {
    "viduq2-pro": (range(1, 11), {"540p", "720p", "1080p"}, {"img2video", "start-end2video", "reference2video"}),
    "viduq2-turbo": (range(1, 11), {"540p", "720p", "1080p"}, {"img2video", "start-end2video", "reference2video"}),
    "viduq3-pro": (range(1, 17), {"540p", "720p", "1080p"}, {"img2video", "start-end2video", "reference2video"}),
    "viduq1": (range(5, 6), {"1080p"}, {"img2video", "start-end2video", "reference2video"}),
    "vidu2.0": (range(4, 9, 4), {"360p", "720p", "1080p"}, {"img2video", "start-end2video", "reference2video"}),
}
IMAGES = {"img2video": (1, 1), "start-end2video": (2, 2), "reference2video": (1, 7)}
TAKES = {
    "img2video": {
        "model",
        "images",
        "prompt",
        "duration",
        "seed",
        "resolution",
        "movement_amplitude",
        "bgm",
        "audio",
        "payload",
        "callback_url",
        "off_peak",
        "watermark",
    },
}
TAKES["start-end2video"] = TAKES["img2video"]
TAKES["reference2video"] = TAKES["img2video"] | {"aspect_ratio", "subjects"}


def error(status: int, reason: str, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"code": status, "reason": reason, "message": message, "metadata": {"trace_id": "04e5c2fe159ff7c5"}}
    return JSONResponse(body, status_code=status, headers=headers)


@dataclass
class ViduDouble(TaskDouble):
    polls_to_finish: int = 4
    url_ttl: float = 3600.0
    fail_code: str | None = None
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(809387572068364288))

    garbage: ClassVar[str] = '{"task_id": "8093'

    def failure(self, kind: str) -> Response | None:
        if kind == "429":
            return error(429, "QuotaExceeded", "exceeded concurrency limit, contact sales", {"Retry-After": "3"})
        if kind == "credits":
            return error(400, "CreditInsufficient", "insufficient credits")
        if kind == "500":
            return error(500, "InternalServiceFailure", "internal service failure")
        return None

    def app(self) -> FastAPI:
        app = FastAPI()

        def refuse(request: Request) -> Response | None:
            if request.headers.get("authorization") != f"Token {KEY}":
                return error(401, "Unauthorized", "unauthorized")
            return None

        self.guard(app, refuse, open_paths=("/cdn/",))

        @app.post("/ent/v2/{endpoint}")
        async def create(endpoint: str, request: Request) -> Response:
            if endpoint not in IMAGES:
                return error(404, "NotFound", "not found")
            if len(await request.body()) > 20 * 1024 * 1024:
                return error(400, "BadRequest", "request body is larger than 20 MB")
            return self._create(endpoint, await request.json())

        @app.get("/ent/v2/tasks/{task_id}/creations")
        def creations(task_id: str) -> Response:
            return self._creations(task_id)

        @app.post("/ent/v2/tasks/{task_id}/cancel")
        def cancel(task_id: str) -> Response:
            task = self.tasks.get(task_id)
            if task is None:
                return error(404, "TaskNotFound", "task not found")
            if task["state"] not in ("created", "queueing"):
                return error(400, "BadRequest", f"task state is {task['state']}, can not cancel")
            task["state"] = "canceled"
            return JSONResponse({})

        @app.get("/cdn/{name}")
        def cdn(name: str, request: Request) -> Response:
            task = self.tasks.get(name.split(".")[0])
            if task is None or time.time() > float(request.query_params.get("expires", "0")):
                return Response("<Error><Code>AccessDenied</Code></Error>", status_code=403)
            self.downloads.append((name, time.time()))
            return Response(mp4_with_sound_bytes() if task["sound"] else mp4_bytes(), media_type="video/mp4")

        return app

    def _create(self, endpoint: str, body: dict[str, Any]) -> Response:
        model = str(body.get("model") or "")
        if model not in MODELS or endpoint not in MODELS[model][2]:
            return error(400, "ModelUnavailable", "model unavailable")
        unwanted = sorted(set(body) - TAKES[endpoint])
        if unwanted:
            return error(400, "FieldUnwanted", f"unwanted field: {', '.join(unwanted)}")
        images = body.get("images") or []
        low, high = IMAGES[endpoint]
        if not low <= len(images) <= high:
            return error(400, "FieldItemCountOutOfRange", "field item count out of range: images")
        if any(not str(i).startswith(("https://", "data:image/")) for i in images):
            return error(400, "ImageFormatInvalid", "invalid image format")
        seconds, tiers, _ = MODELS[model]
        if int(body.get("duration") or 4) not in seconds or str(body.get("resolution") or "720p") not in tiers:
            return error(400, "FieldInvalid", "invalid field: duration, resolution")
        if "FORBIDDEN" in str(body.get("prompt") or ""):
            return error(400, "TaskPromptPolicyViolation", "prompt policy violation")
        with self.lock:
            self.submissions += 1
            task_id = str(next(self._ids))
            seed = int(body.get("seed") or 0) or 1432215431
            credits = 10 * int(body.get("duration") or 4)
            sound = model.startswith("viduq3") and body.get("audio", True) is not False
            self.tasks[task_id] = {
                "endpoint": endpoint,
                "body": body,
                "state": "created",
                "polls": 0,
                "credits": credits,
                "sound": sound,
                "done_at": None,
            }
        reply = {k: v for k, v in body.items() if k != "images"}
        return JSONResponse(
            {
                **reply,
                "task_id": task_id,
                "state": "created",
                "seed": seed,
                "credits": credits,
                "created_at": "2026-11-30T06:45:07.002012956Z",
            }
        )

    def _creations(self, task_id: str) -> Response:
        with self.lock:
            task = self.tasks.get(task_id)
            if task is None:
                return error(404, "TaskNotFound", "task not found")
            task["polls"] += 1
            if task["state"] not in ("success", "failed", "canceled"):
                steps = ["created", "queueing", "scheduled", "processing"]
                if task["polls"] >= self.polls_to_finish:
                    task["state"] = "failed" if self.fail_code else "success"
                    task["err_code"] = self.fail_code or ""
                    task["done_at"] = time.time()
                else:
                    task["state"] = steps[min(task["polls"], 3)]
        reply: dict[str, Any] = {
            "id": task_id,
            "state": task["state"],
            "err_code": task.get("err_code", ""),
            "credits": task["credits"] if task["state"] == "success" else 0,
            "payload": task["body"].get("payload", ""),
            "creations": [],
        }
        if task["state"] == "success":
            expires = task["done_at"] + self.url_ttl
            url = f"{self.base_url}/cdn/{task_id}.mp4?expires={expires}"
            reply["creations"] = [{"id": "809387613445517312", "url": url, "cover_url": url.replace(".mp4", ".jpeg")}]
        return JSONResponse(reply)
