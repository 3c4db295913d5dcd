"""A DashScope protocol double: Wan async tasks and the CosyVoice HTTP speech API.

Follows the documented protocol: ``POST /api/v1/services/aigc/...`` with ``Authorization: Bearer``
and ``X-DashScope-Async: enable`` returns ``output.task_id`` (PENDING); ``GET /api/v1/tasks/{id}``
walks PENDING → RUNNING → SUCCEEDED (or FAILED with ``code``/``message``); results are signed
storage URLs that expire (403 after). Errors come as ``{"code", "message", "request_id"}``.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.backends.doubles.server import mp4_bytes, png_bytes, wav_bytes

KEY = "sk-test-dashscope"


@dataclass
class Task:
    id: str
    kind: str
    body: dict[str, Any]
    polls: int = 0
    status: str = "PENDING"
    succeeded_at: float | None = None


@dataclass
class DashScopeDouble:
    polls_to_finish: int = 2
    url_ttl: float = 60.0
    #: Queued misbehaviours for the next requests: "429", "500", "garbage", "slow".
    next_faults: list[str] = field(default_factory=list)
    retry_after: str = "1"
    slow_seconds: float = 1.0
    fail_task_with: tuple[str, str] | None = None
    tasks: dict[str, Task] = field(default_factory=dict)
    submissions: int = 0
    downloads: list[tuple[str, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    base_url: str = ""

    def fault(self) -> Response | None:
        with self.lock:
            kind = self.next_faults.pop(0) if self.next_faults else None
        if kind == "429":
            return JSONResponse(
                {
                    "code": "Throttling.RateQuota",
                    "message": "Requests rate limit exceeded, please try again later.",
                    "request_id": "r",
                },
                status_code=429,
                headers={"Retry-After": self.retry_after},
            )
        if kind == "500":
            return JSONResponse(
                {
                    "code": "InternalError",
                    "message": "An internal error has occured, please try again later.",
                    "request_id": "r",
                },
                status_code=500,
            )
        if kind == "garbage":
            return Response("<html><body>502 Bad Gateway</body>", status_code=200, media_type="application/json")
        if kind == "slow":
            time.sleep(self.slow_seconds)
        return None

    def app(self) -> FastAPI:
        app = FastAPI()

        def auth(request: Request) -> Response | None:
            if request.headers.get("authorization") != f"Bearer {KEY}":
                return JSONResponse(
                    {"code": "InvalidApiKey", "message": "Invalid API-key provided.", "request_id": "r"},
                    status_code=401,
                )
            return None

        async def submit(request: Request, kind: str) -> Response:
            if (denied := auth(request)) is not None:
                return denied
            if request.headers.get("x-dashscope-async") != "enable":
                return JSONResponse(
                    {
                        "code": "AccessDenied",
                        "message": "current user api does not support synchronous calls",
                        "request_id": "r",
                    },
                    status_code=403,
                )
            if (bad := self.fault()) is not None:
                return bad
            body = await request.json()
            prompt = body.get("input", {}).get("prompt", "")
            if not body.get("model") or not prompt:
                return JSONResponse(
                    {"code": "InvalidParameter", "message": "Field required: input.prompt", "request_id": "r"},
                    status_code=400,
                )
            if kind == "video" and not str(body["input"].get("img_url", "")).startswith("data:image/"):
                return JSONResponse(
                    {
                        "code": "InvalidParameter",
                        "message": "img_url must be a URL or a base64 data URI",
                        "request_id": "r",
                    },
                    status_code=400,
                )
            if "FORBIDDEN" in prompt:
                return JSONResponse(
                    {
                        "code": "DataInspectionFailed",
                        "message": "Input data may contain inappropriate content.",
                        "request_id": "r",
                    },
                    status_code=400,
                )
            with self.lock:
                self.submissions += 1
                task = Task(id=f"task-{next(self._ids)}", kind=kind, body=body)
                self.tasks[task.id] = task
            return JSONResponse({"output": {"task_status": "PENDING", "task_id": task.id}, "request_id": "r-submit"})

        @app.post("/api/v1/services/aigc/text2image/image-synthesis")
        async def image(request: Request) -> Response:
            return await submit(request, "image")

        @app.post("/api/v1/services/aigc/video-generation/video-synthesis")
        async def video(request: Request) -> Response:
            return await submit(request, "video")

        @app.get("/api/v1/tasks/{task_id}")
        def task(task_id: str, request: Request) -> Response:
            if (denied := auth(request)) is not None:
                return denied
            if (bad := self.fault()) is not None:
                return bad
            with self.lock:
                t = self.tasks.get(task_id)
                if t is None:
                    return JSONResponse({"request_id": "r", "output": {"task_id": task_id, "task_status": "UNKNOWN"}})
                t.polls += 1
                if t.status in ("PENDING", "RUNNING"):
                    t.status = "RUNNING" if t.polls < self.polls_to_finish else "SUCCEEDED"
                    if t.status == "SUCCEEDED" and self.fail_task_with:
                        t.status = "FAILED"
                    if t.status == "SUCCEEDED":
                        t.succeeded_at = time.time()
            output: dict[str, Any] = {
                "task_id": t.id,
                "task_status": t.status,
                "submit_time": "2025-01-01 00:00:00.000",
            }
            usage: dict[str, Any] = {}
            if t.status == "FAILED" and self.fail_task_with:
                output.update(code=self.fail_task_with[0], message=self.fail_task_with[1])
            if t.status == "SUCCEEDED":
                expires = (t.succeeded_at or 0) + self.url_ttl
                if t.kind == "image":
                    output["results"] = [
                        {
                            "orig_prompt": t.body["input"]["prompt"],
                            "actual_prompt": "extended: " + t.body["input"]["prompt"],
                            "url": f"{self.base_url}/oss/{t.id}.png?Expires={expires}",
                        }
                    ]
                    output["task_metrics"] = {"TOTAL": 1, "SUCCEEDED": 1, "FAILED": 0}
                    usage = {"image_count": 1}
                else:
                    output["video_url"] = f"{self.base_url}/oss/{t.id}.mp4?Expires={expires}"
                    usage = {
                        "video_duration": t.body["parameters"]["duration"],
                        "video_ratio": "832*480",
                        "video_count": 1,
                    }
            reply: dict[str, Any] = {"request_id": "r-task", "output": output}
            if usage:
                reply["usage"] = usage
            return JSONResponse(reply)

        @app.post("/api/v1/services/audio/tts/SpeechSynthesizer")
        async def speech(request: Request) -> Response:
            if (denied := auth(request)) is not None:
                return denied
            if (bad := self.fault()) is not None:
                return bad
            body = await request.json()
            text = body.get("input", {}).get("text", "")
            if not text or not body["input"].get("voice"):
                return JSONResponse(
                    {"code": "InvalidParameter", "message": "text and voice are required", "request_id": "r"},
                    status_code=400,
                )
            if "FORBIDDEN" in text:
                return JSONResponse(
                    {
                        "code": "DataInspectionFailed",
                        "message": "Input text data may contain inappropriate content.",
                        "request_id": "r",
                    },
                    status_code=400,
                )
            with self.lock:
                self.submissions += 1
            expires = time.time() + self.url_ttl
            return JSONResponse(
                {
                    "request_id": "r-tts",
                    "output": {
                        "finish_reason": "stop",
                        "audio": {
                            "id": "audio-1",
                            "url": f"{self.base_url}/oss/speech.wav?Expires={expires}",
                            "expires_at": int(expires),
                            "data": "",
                        },
                    },
                    "usage": {"characters": len(text)},
                }
            )

        @app.get("/oss/{name}")
        def oss(name: str, request: Request) -> Response:
            if request.headers.get("authorization"):
                return Response(
                    "<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>",
                    status_code=400,
                )
            expires = float(request.query_params.get("Expires", "0"))
            if time.time() > expires:
                return Response(
                    "<Error><Code>AccessDenied</Code><Message>Request has expired.</Message></Error>",
                    status_code=403,
                    media_type="application/xml",
                )
            self.downloads.append((name, time.time()))
            if name.endswith(".png"):
                return Response(png_bytes(), media_type="image/png")
            if name.endswith(".wav"):
                return Response(wav_bytes(), media_type="audio/wav")
            return Response(mp4_bytes(), media_type="video/mp4")

        return app


def task_log(double: DashScopeDouble) -> str:
    return json.dumps({k: (t.status, t.polls) for k, t in double.tasks.items()})
