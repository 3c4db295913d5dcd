"""A Kling API protocol double: JWT (HS256) auth and image-to-video tasks.

Follows the documented protocol: every request carries ``Authorization: Bearer <JWT>`` signed
with the secret key (``iss`` = access key, ``exp``, ``nbf``); ``POST /v1/videos/image2video``
returns ``data.task_id`` (``submitted``); ``GET /v1/videos/image2video/{id}`` walks
``submitted`` → ``processing`` → ``succeed`` (``task_result.videos[].url``) or ``failed``
(``task_status_msg``). Replies are ``{"code", "message", "request_id", "data"}``; code 1301 is a
content-safety refusal, 1302/1303 rate limits (HTTP 429), 5000 a server error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.backends.doubles.server import mp4_bytes

ACCESS_KEY = "ak-test-kling"
SECRET_KEY = "sk-test-kling-secret"


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def verify_jwt(token: str) -> str | None:
    """None when valid, else why not (checked independently of the client's signing code)."""
    try:
        header_b64, payload_b64, sig_b64 = token.split(".")
        header, payload = json.loads(_unb64(header_b64)), json.loads(_unb64(payload_b64))
    except (ValueError, binascii.Error):
        return "malformed token"
    if header != {"alg": "HS256", "typ": "JWT"}:
        return "bad header"
    expected = hmac.new(SECRET_KEY.encode(), f"{header_b64}.{payload_b64}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, _unb64(sig_b64)):
        return "bad signature"
    now = time.time()
    if payload.get("iss") != ACCESS_KEY or not payload.get("exp", 0) > now or not payload.get("nbf", now + 1) <= now:
        return "bad claims"
    return None


def reply(
    code: int, message: str, data: Any = None, status: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"code": code, "message": message, "request_id": "req-1", "data": data}, status_code=status, headers=headers
    )


@dataclass
class KlingDouble:
    polls_to_finish: int = 2
    url_ttl: float = 60.0
    next_faults: list[str] = field(default_factory=list)
    fail_task_msg: str | None = None
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    submissions: int = 0
    downloads: list[tuple[str, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Any = field(default_factory=lambda: itertools.count(1001))
    base_url: str = ""

    def fault(self) -> Response | None:
        with self.lock:
            kind = self.next_faults.pop(0) if self.next_faults else None
        if kind == "429":
            return reply(1303, "parallel task over resource pack limit", status=429, headers={"Retry-After": "3"})
        if kind == "500":
            return reply(5000, "server internal error", status=500)
        if kind == "garbage":
            return Response('{"code": 0, "data": {"task_id"', media_type="application/json")
        return None

    def app(self) -> FastAPI:
        app = FastAPI()

        def auth(request: Request) -> Response | None:
            header = request.headers.get("authorization", "")
            why = verify_jwt(header.removeprefix("Bearer ")) if header.startswith("Bearer ") else "no token"
            return reply(1004, f"Authorization failed: {why}", status=401) if why else None

        @app.post("/v1/videos/image2video")
        async def submit(request: Request) -> Response:
            if (denied := auth(request)) is not None:
                return denied
            if (bad := self.fault()) is not None:
                return bad
            body = await request.json()
            try:
                image = base64.b64decode(body.get("image", ""), validate=True)
            except binascii.Error:
                image = b""
            if (
                not image.startswith(b"\x89PNG")
                or body.get("duration") not in ("5", "10")
                or body.get("mode") not in ("std", "pro")
            ):
                return reply(1201, "Invalid request parameters: image, duration or mode", status=400)
            if "FORBIDDEN" in body.get("prompt", ""):
                return reply(1301, "Trust & Safety: the input contains content that is not allowed", status=400)
            with self.lock:
                self.submissions += 1
                task_id = str(next(self._ids))
                self.tasks[task_id] = {"status": "submitted", "polls": 0, "body": body, "succeeded_at": None}
            return reply(
                0, "SUCCEED", {"task_id": task_id, "task_status": "submitted", "created_at": 1, "updated_at": 1}
            )

        @app.get("/v1/videos/image2video/{task_id}")
        def query(task_id: str, request: Request) -> Response:
            if (denied := auth(request)) is not None:
                return denied
            if (bad := self.fault()) is not None:
                return bad
            with self.lock:
                task = self.tasks.get(task_id)
                if task is None:
                    return reply(1203, "task not found", status=404)
                task["polls"] += 1
                if task["status"] in ("submitted", "processing"):
                    done = task["polls"] >= self.polls_to_finish
                    task["status"] = ("failed" if self.fail_task_msg else "succeed") if done else "processing"
                    if task["status"] == "succeed":
                        task["succeeded_at"] = time.time()
            data: dict[str, Any] = {"task_id": task_id, "task_status": task["status"], "created_at": 1, "updated_at": 2}
            if task["status"] == "failed":
                data["task_status_msg"] = self.fail_task_msg
            if task["status"] == "succeed":
                expires = task["succeeded_at"] + self.url_ttl
                data["task_result"] = {
                    "videos": [
                        {
                            "id": "v1",
                            "url": f"{self.base_url}/cdn/{task_id}.mp4?x-expires={expires}",
                            "duration": task["body"]["duration"],
                        }
                    ]
                }
                data["final_unit_deduction"] = "1" if task["body"]["duration"] == "5" else "2"
            return reply(0, "SUCCEED", data)

        @app.get("/cdn/{name}")
        def cdn(name: str, request: Request) -> Response:
            if time.time() > float(request.query_params.get("x-expires", "0")):
                return Response("expired", status_code=403)
            self.downloads.append((name, time.time()))
            return Response(mp4_bytes(), media_type="video/mp4")

        return app
