"""A Runway developer API protocol double: image-to-video tasks, task status, ephemeral uploads.

Follows what ``runwayml`` 5.24.0 sends and parses (the SDK drives it in tests/backends/test_runway.py)
and docs.dev.runwayml.com (API reference "Start a new image-to-video task", "Get task detail",
"Task failures", "Errors"): every call carries ``Authorization: Bearer <key>`` and
``X-Runway-Version: 2024-11-06`` (400 without it); ``POST /v1/image_to_video`` takes ``model``,
``promptImage`` (a URI — https, ``data:`` up to 5 MB, or ``runway://`` — or a list of
``{uri, position: first|last}``), ``promptText``, ``ratio`` (pixels, e.g. ``1280:720``, per model),
``duration``, ``seed`` and, on Runway's Veo models, ``audio``; it returns ``{"id": uuid}``.
``GET /v1/tasks/{id}`` walks ``PENDING`` → ``THROTTLED`` (queued behind the account's concurrency)
→ ``RUNNING`` (``progress``) → ``SUCCEEDED`` (``output`` URLs that expire, ``cost.credits``) or
``FAILED`` (``failure``, ``failureCode`` such as ``SAFETY.INPUT.TEXT`` or
``INTERNAL.BAD_OUTPUT.CODE01``). ``GET /v1/organization`` reports the credit balance.
``POST /v1/uploads`` hands out a pre-signed upload form and a ``runway://`` URI. Errors are
``{"error": "…"}``: 400 (validation, not enough credits), 401, 404, 429, 502–504.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.backends.doubles.server import mp4_bytes, mp4_with_sound_bytes
from tests.backends.doubles.task_double import TaskDouble

KEY = "key_test_runway"
VERSION = "2024-11-06"
CREDITS = {"gen4_turbo": 5, "gen4.5": 12, "veo3.1": 40, "veo3.1_fast": 15}
RATIOS = {
    "gen4_turbo": {"1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672"},
    "gen4.5": {"1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672"},
    "veo3.1": {"1280:720", "720:1280", "1080:1920", "1920:1080"},
    "veo3.1_fast": {"1280:720", "720:1280", "1080:1920", "1920:1080"},
}


def error(status: int, message: str, headers: dict[str, str] | None = None, **extra: Any) -> Response:
    return JSONResponse({"error": message, **extra}, status_code=status, headers=headers)


@dataclass
class RunwayDouble(TaskDouble):
    polls_to_finish: int = 3
    failure_code: str | None = None
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: dict[str, int] = field(default_factory=dict)

    garbage: ClassVar[str] = '{"id": "5c66'

    def failure(self, kind: str) -> Response | None:
        if kind == "429":
            message = "You have exceeded the rate limit for this model. Please try again later."
            return error(429, message, {"Retry-After": "3"})
        if kind == "credits":
            return error(400, "You do not have enough credits to run this task.")
        if kind == "502":
            return error(502, "Bad gateway")
        return None

    def app(self) -> FastAPI:
        app = FastAPI()

        def refuse(request: Request) -> Response | None:
            if request.headers.get("authorization") != f"Bearer {KEY}":
                return error(401, "Invalid API key")
            if request.headers.get("x-runway-version") != VERSION:
                return error(400, f"X-Runway-Version header must be set to {VERSION}")
            return None

        self.guard(app, refuse, open_paths=("/outputs/", "/upload-bucket"))

        @app.post("/v1/image_to_video")
        async def create(request: Request) -> Response:
            return self._create(await request.json())

        @app.get("/v1/tasks/{task_id}")
        def retrieve(task_id: str) -> Response:
            return self._retrieve(task_id)

        @app.delete("/v1/tasks/{task_id}")
        def delete(task_id: str) -> Response:
            with self.lock:
                if self.tasks.pop(task_id, None) is None:
                    return error(404, "Task not found")
            return Response(status_code=204)

        @app.get("/v1/organization")
        def organization() -> Response:
            tier = {"maxMonthlyCreditSpend": 10000, "models": {"gen4_turbo": {"maxConcurrentGenerations": 2}}}
            usage = {"models": {"gen4_turbo": {"dailyGenerations": 3}}}
            return JSONResponse({"creditBalance": 1250, "tier": tier, "usage": usage})

        @app.post("/v1/uploads")
        async def uploads(request: Request) -> Response:
            body = await request.json()
            key = f"uploads/{uuid.uuid4()}/{body.get('filename', 'file')}"
            return JSONResponse(
                {
                    "uploadUrl": f"{self.base_url}/upload-bucket",
                    "fields": {"key": key, "policy": "double", "x-amz-signature": "double"},
                    "runwayUri": f"runway://{key}",
                }
            )

        @app.post("/upload-bucket")
        async def bucket(request: Request) -> Response:
            form = await request.form()
            upload = form.get("file")
            size = len(await upload.read()) if upload is not None and hasattr(upload, "read") else 0
            self.uploads[str(form.get("key"))] = size
            return Response(status_code=204)

        @app.get("/outputs/{name}")
        def output(name: str, request: Request) -> Response:
            task = self.tasks.get(name.split(".")[0])
            if task is None or time.time() > float(request.query_params.get("expires", "0")):
                return Response("<Error><Code>AccessDenied</Code></Error>", status_code=403)
            self.downloads.append((name, time.time()))
            return Response(mp4_with_sound_bytes() if task["sound"] else mp4_bytes(), media_type="video/mp4")

        return app

    def _create(self, body: dict[str, Any]) -> Response:
        model = str(body.get("model") or "")
        if model not in CREDITS:
            return error(400, f"Invalid model {model!r}")
        image = body.get("promptImage")
        positions = [p.get("position") for p in image] if isinstance(image, list) else ["first"]
        uris = [p.get("uri") for p in image] if isinstance(image, list) else [image]
        if not image or any(not str(u).startswith(("https://", "data:image/", "runway://")) for u in uris):
            return error(400, "Validation of body failed", issues=[{"message": "promptImage is invalid"}])
        if any(str(u).startswith("data:") and len(str(u)) > 5 * 1024 * 1024 for u in uris):
            return error(400, "Data URIs are limited to 5 MB; upload the file instead")
        if "last" in positions and not model.startswith("veo"):
            return error(400, f"{model} only supports a single promptImage with position 'first'")
        if body.get("ratio") not in RATIOS[model]:
            return error(400, f"Invalid ratio {body.get('ratio')!r} for model {model}")
        seconds = int(body.get("duration") or 5)
        allowed = {4, 6, 8} if model.startswith("veo") else set(range(2, 11))
        if seconds not in allowed:
            return error(400, f"Invalid duration {seconds} for model {model}")
        if len(str(body.get("promptText") or "")) > 1000:
            return error(400, "promptText must be at most 1000 characters")
        sound = model.startswith("veo") and body.get("audio", True) is not False
        with self.lock:
            self.submissions += 1
            task_id = str(uuid.UUID(int=next(self._ids)))
            self.tasks[task_id] = {
                "body": body,
                "polls": 0,
                "sound": sound,
                "credits": CREDITS[model] * seconds // (2 if model.startswith("veo") and not sound else 1),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                "done_at": None,
            }
        return JSONResponse({"id": task_id})

    def _retrieve(self, task_id: str) -> Response:
        with self.lock:
            task = self.tasks.get(task_id)
            if task is None:
                return error(404, "Task not found")
            task["polls"] += 1
            polls = task["polls"]
        base = {"id": task_id, "createdAt": task["created"]}
        estimate = {"estimatedCost": {"credits": task["credits"]}}
        if polls < self.polls_to_finish:
            state = "THROTTLED" if polls == 1 else "RUNNING"
            extra = {"progress": round(polls / self.polls_to_finish, 2)} if state == "RUNNING" else {}
            return JSONResponse({**base, **estimate, "status": state, **extra})
        if "outcome" not in task:  # a task's fate is sealed when it ends
            flagged = "FORBIDDEN" in str(task["body"].get("promptText"))
            task["outcome"] = self.failure_code or ("SAFETY.INPUT.TEXT" if flagged else "")
        if task["outcome"]:
            code = task["outcome"]
            reason = "An unexpected error occurred." if code.startswith("INTERNAL") else "Your prompt was flagged."
            failed = {"status": "FAILED", "cost": {"credits": 0}, "failure": reason, "failureCode": code}
            return JSONResponse({**base, **failed})
        if task["done_at"] is None:
            task["done_at"] = time.time()
        url = f"{self.base_url}/outputs/{task_id}.mp4?expires={task['done_at'] + self.url_ttl}"
        return JSONResponse({**base, "status": "SUCCEEDED", "cost": {"credits": task["credits"]}, "output": [url]})
