"""A Kling API protocol double: JWT auth, image-to-video, multi-image references and lip sync.

Follows the Kling API documentation (the Chinese developer docs at app.klingai.com/cn/dev/document-api:
"通用信息" — auth and the error-code table; "图生视频", "多图参考生视频", "对口型" — request and reply
fields; "3-0 能力地图" — which model and mode take an end frame), not kaipai's client:

- every request carries ``Authorization: Bearer <JWT>`` (HS256, ``iss`` = access key, ``exp``, ``nbf``);
  anything else is 401 with code 1000–1004;
- replies are ``{"code", "message", "request_id", "data"}``; errors use the documented table: 1201 (HTTP
  400) for bad fields, 1301 (400) for a content refusal, 1302/1303 (429) for rate and concurrency
  limits, **1100–1102 and 1304 also with HTTP 429** (account abnormal, arrears, packs used up, IP
  allow-list), 5000 (500); a task that fails says why in ``task_status_msg``;
- ``image``/``image_tail`` are raw base64 (a ``data:`` prefix is refused) or URLs, JPEG or PNG, each side
  at least 300 px; ``duration`` is the string "5" or "10"; ``mode`` std or pro; an end frame only where
  the capability map allows it; ``cfg_scale`` is refused for kling-v2.x models (the docs say they do
  not take it — whether the real service refuses or ignores it is not documented, so ``strict_params``
  can be turned off);
- ``external_task_id`` is echoed in ``task_info`` and must be unique per user; the task list
  (``GET /v1/videos/{kind}?pageNum&pageSize``) is newest first;
- lip sync (``/v1/videos/lip-sync``, ``audio2video``) takes ``video_id`` (a video this double made) or
  ``video_url``, and ``audio_file`` (base64, at most 5 MB) or ``audio_url``; its result carries the sent
  voice as the clip's sound, and ``task_info.parent_video``;
- result links expire (``url_ttl``; the real service keeps files 30 days).

Injected failures (``next_faults``, one per request in order): "429" (1303), "1102" and the other
account codes (with HTTP 429), "500", "garbage" (cut-off JSON), "slow" (no answer for ``slow_seconds``),
"lost-reply" (a submission is taken but its reply comes ``slow_seconds`` late, past the client's timeout).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import io
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.backends.doubles.server import mp4_bytes, talking_mp4

ACCESS_KEY = "ak-test-kling"
SECRET_KEY = "sk-test-kling-secret"
MODELS = {"kling-v1", "kling-v1-5", "kling-v1-6", "kling-v2-master", "kling-v2-1", "kling-v2-1-master"}
MODELS |= {"kling-v2-5-turbo", "kling-v2-6"}
#: (model, mode) pairs that take image_tail, from the capability map.
TAIL = {("kling-v1", "std"), ("kling-v1", "pro"), ("kling-v1-5", "pro"), ("kling-v1-6", "pro")}
TAIL |= {("kling-v2-1", "pro"), ("kling-v2-5-turbo", "pro"), ("kling-v2-6", "pro")}
ACCOUNT = {
    "1100": "account abnormal",
    "1101": "account arrears",
    "1102": "resource pack exhausted",
    "1304": "ip not in whitelist",
}


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


def bad(message: str) -> JSONResponse:
    return reply(1201, message, status=400)


def image_problem(value: Any, name: str) -> str | None:
    """Why an image field would be refused, or None (URLs are taken as they are)."""
    if not isinstance(value, str) or not value:
        return f"{name}: must not be empty"
    if value.startswith(("http://", "https://")):
        return None
    if value.startswith("data:"):
        return f"{name}: base64 must not carry a data: prefix"
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error:
        return f"{name}: invalid base64"
    from PIL import Image

    try:
        with Image.open(io.BytesIO(raw)) as img:
            kind, size = img.format, img.size
    except OSError:
        return f"{name}: not an image"
    if kind not in ("PNG", "JPEG"):
        return f"{name}: only jpg, jpeg and png are supported"
    if min(size) < 300:
        return f"{name}: width and height must be at least 300px"
    return None


@dataclass
class Task:
    id: str
    kind: str
    body: dict[str, Any]
    external: str | None = None
    status: str = "submitted"
    polls: int = 0
    succeeded_at: float | None = None
    created: float = field(default_factory=time.time)
    video_id: str = ""
    media: bytes = b""


@dataclass
class KlingDouble:
    polls_to_finish: int = 2
    url_ttl: float = 60.0
    next_faults: list[str] = field(default_factory=list)
    slow_seconds: float = 1.0
    fail_task_msg: str | None = None
    strict_params: bool = True
    tasks: dict[str, Task] = field(default_factory=dict)
    submissions: int = 0
    bodies: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    downloads: list[tuple[str, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Any = field(default_factory=lambda: itertools.count(1001))
    base_url: str = ""

    def fault(self) -> Response | None:
        with self.lock:
            if self.next_faults[:1] == ["lost-reply"]:
                return None  # only a submission loses its reply
            kind = self.next_faults.pop(0) if self.next_faults else None
        if kind == "429":
            return reply(1303, "parallel task over resource pack limit", status=429, headers={"Retry-After": "3"})
        if kind in ACCOUNT:
            return reply(int(kind), ACCOUNT[kind], status=429)
        if kind == "500":
            return reply(5000, "server internal error", status=500)
        if kind == "garbage":
            return Response('{"code": 0, "data": {"task_id"', media_type="application/json")
        if kind == "slow":
            time.sleep(self.slow_seconds)
        return None

    def _new(self, kind: str, body: dict[str, Any]) -> Response:
        external = body.get("external_task_id")
        with self.lock:
            if external and any(t.external == external for t in self.tasks.values()):
                return bad("external_task_id: already exists")
            self.submissions += 1
            task = Task(id=str(next(self._ids)), kind=kind, body=body, external=external)
            self.tasks[task.id] = task
        return reply(0, "SUCCEED", self._data(task, brief=True))

    def _data(self, task: Task, brief: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "task_id": task.id,
            "task_status": task.status,
            "created_at": int(task.created * 1000),
            "updated_at": int(time.time() * 1000),
            "task_info": {"external_task_id": task.external} if task.external else {},
        }
        if brief:
            return data
        data["task_status_msg"] = self.fail_task_msg if task.status == "failed" else ""
        if task.kind == "lip-sync":
            source = task.body["input"]
            data["task_info"] = {"parent_video": {"id": source.get("video_id", ""), "url": source.get("video_url", "")}}
        if task.status == "succeed":
            expires = (task.succeeded_at or 0) + self.url_ttl
            seconds = task.body.get("duration", "5")
            data["task_result"] = {
                "videos": [
                    {
                        "id": task.video_id,
                        "url": f"{self.base_url}/cdn/{task.id}.mp4?x-expires={expires}",
                        "duration": seconds,
                    }
                ]
            }
            data["final_unit_deduction"] = "2" if seconds == "10" else "1"
            data["watermark_info"] = {"enabled": False}
        return data

    # ------------------------------------------------------------------ validation, per the docs

    def check_clip(self, kind: str, body: dict[str, Any]) -> str | None:
        model = body.get("model_name", "kling-v1")
        mode = body.get("mode", "std")
        if model not in MODELS:
            return f"model_name: allowed values: {', '.join(sorted(MODELS))}"
        if mode not in ("std", "pro") or body.get("duration", "5") not in ("5", "10"):
            return "mode or duration: invalid value"
        if self.strict_params and model.startswith("kling-v2") and "cfg_scale" in body:
            return "cfg_scale: kling-v2.x models do not support this parameter"
        if kind == "multi-image2video":
            images = body.get("image_list") or []
            if model != "kling-v1-6":
                return "model_name: allowed values: kling-v1-6"
            if not 1 <= len(images) <= 4:
                return "image_list: size must be between 1 and 4"
            return next((p for i in images if (p := image_problem(i.get("image"), "image_list.image"))), None)
        if not body.get("image") and not body.get("image_tail"):
            return "image or image_tail is required"
        if body.get("image_tail") and (model, mode) not in TAIL:
            return f"image_tail: not supported by {model} in {mode} mode"
        for name in ("image", "image_tail"):
            if body.get(name) and (problem := image_problem(body[name], name)):
                return problem
        return None

    def check_lipsync(self, body: dict[str, Any]) -> str | None:
        data = body.get("input") or {}
        if data.get("mode") not in ("text2video", "audio2video"):
            return "input.mode: must not be null" if not data.get("mode") else "allowed values: text2video, audio2video"
        if bool(data.get("video_id")) == bool(data.get("video_url")):
            return "video_id or video_url is required"
        if data.get("video_id") and not any(t.video_id == data["video_id"] for t in self.tasks.values()):
            return "video_id: video not found"
        if data.get("mode") == "audio2video":
            if data.get("audio_type") not in ("file", "url"):
                return "Audio type is null" if not data.get("audio_type") else "allowed values: file, url"
            if data["audio_type"] == "file":
                try:
                    audio = base64.b64decode(data.get("audio_file") or "", validate=True)
                except binascii.Error:
                    return "audio_file: invalid base64"
                if not audio or len(audio) > 5 * 1024 * 1024:
                    return "audio_file: size must not exceed 5MB"
        return None

    # ------------------------------------------------------------------ the app

    def app(self) -> FastAPI:
        app = FastAPI()

        def auth(request: Request) -> Response | None:
            header = request.headers.get("authorization", "")
            if not header:
                return reply(1001, "Authorization is empty", status=401)
            why = verify_jwt(header.removeprefix("Bearer ")) if header.startswith("Bearer ") else "no token"
            return reply(1002, f"Authorization is invalid: {why}", status=401) if why else None

        @app.post("/v1/videos/{kind}")
        async def submit(kind: str, request: Request) -> Response:
            if kind not in ("image2video", "multi-image2video", "lip-sync"):
                return reply(1202, "invalid request method", status=404)
            if (denied := auth(request)) is not None:
                return denied
            body = await request.json()
            late = self.next_faults[:1] == ["lost-reply"]
            if late:  # the task is taken, and the reply comes too late for the client
                self.next_faults.pop(0)
            elif (failed := self.fault()) is not None:
                return failed
            self.bodies.append((kind, body))
            problem = self.check_lipsync(body) if kind == "lip-sync" else self.check_clip(kind, body)
            if problem:
                return bad(problem)
            if "FORBIDDEN" in str(body.get("prompt", "")):
                return reply(1301, "Trust & Safety: the input contains content that is not allowed", status=400)
            answer = self._new(kind, body)
            if late:
                await asyncio.sleep(self.slow_seconds)
            return answer

        @app.get("/v1/videos/{kind}")
        def listing(kind: str, request: Request, pageNum: int = 1, pageSize: int = 30) -> Response:
            if (denied := auth(request)) is not None:
                return denied
            if (failed := self.fault()) is not None:
                return failed
            with self.lock:
                mine = sorted((t for t in self.tasks.values() if t.kind == kind), key=lambda t: -t.created)
            page = mine[(pageNum - 1) * pageSize : pageNum * pageSize]
            return reply(0, "SUCCEED", [self._data(t) for t in page])

        @app.get("/v1/videos/{kind}/{task_id}")
        def query(kind: str, task_id: str, request: Request) -> Response:
            if (denied := auth(request)) is not None:
                return denied
            if (failed := self.fault()) is not None:
                return failed
            with self.lock:
                task = self.tasks.get(task_id) or next((t for t in self.tasks.values() if t.external == task_id), None)
                if task is None or task.kind != kind:
                    return reply(1203, "task not found", status=404)
                task.polls += 1
                if task.status in ("submitted", "processing"):
                    done = task.polls >= self.polls_to_finish
                    task.status = ("failed" if self.fail_task_msg else "succeed") if done else "processing"
                    if task.status == "succeed":
                        self._finish(task)
            return reply(0, "SUCCEED", self._data(task))

        @app.get("/cdn/{name}")
        def cdn(name: str, request: Request) -> Response:
            if time.time() > float(request.query_params.get("x-expires", "0")):
                return Response("<Error><Code>AccessDenied</Code><Message>expired</Message></Error>", status_code=403)
            task = self.tasks.get(name.removesuffix(".mp4"))
            if task is None:
                return Response(status_code=404)
            self.downloads.append((name, time.time()))
            return Response(task.media, media_type="video/mp4")

        return app

    def _finish(self, task: Task) -> None:
        task.succeeded_at = time.time()
        task.video_id = f"v-{task.id}"
        if task.kind != "lip-sync":
            task.media = mp4_bytes()
            return
        data = task.body["input"]
        source = next((t for t in self.tasks.values() if t.video_id and t.video_id == data.get("video_id")), None)
        audio = base64.b64decode(data["audio_file"]) if data.get("audio_type") == "file" else None
        task.media = talking_mp4(audio, video=source.media if source else mp4_bytes()) if audio else mp4_bytes()
