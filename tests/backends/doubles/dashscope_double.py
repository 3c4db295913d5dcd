"""A DashScope protocol double: Wan tasks, the temporary upload, CosyVoice (WebSocket and HTTP), cloning.

It follows the provider — Alibaba Cloud Model Studio's API references (image-to-video, first-and-last
frame, reference-to-video, wan-s2v and its face check, videoretalk, text-to-image, the task API, "get a
temporary URL for a file", the error-code page, CosyVoice WebSocket / HTTP / voice cloning) and what
**dashscope SDK 2.0.2** sends (its requests were recorded on loopback) — not kaipai's client, and a test
drives it with that SDK (tests/backends/test_dashscope_sdk.py):

- ``POST /api/v1/services/aigc/…`` needs ``Authorization: Bearer`` and ``X-DashScope-Async: enable``
  (else 403 ``AccessDenied``); the SDK's extra ``input.extend_prompt`` / ``input.function`` and a null
  prompt are accepted; media may be http(s) URLs, ``data:`` URIs (images) or ``oss://`` keys uploaded
  here **for the same model**, and an ``oss://`` key only with ``X-DashScope-OssResourceResolve: enable``;
  each model family has its path and fields (``img_url``; kf2v ``first_frame_url`` on
  ``image2video/video-synthesis``; r2v ``reference_urls``; s2v ``image_url`` + ``audio_url``;
  videoretalk ``video_url`` + ``audio_url``); wan2.2 takes no ``duration``; wan2.2-i2v-plus has no 720P;
- ``GET /api/v1/tasks/{id}`` walks PENDING → RUNNING → SUCCEEDED (or FAILED with ``code``/``message``;
  UNKNOWN for an id it never issued); ``usage`` is per model generation — ``video_duration`` for
  wan2.1, s2v and VideoRetalk, ``duration`` + ``SR`` for wan2.2 and later;
- ``POST /api/v1/services/aigc/image2video/face-detect`` answers at once (``check_pass``, ``humanoid``);
- ``GET /api/v1/uploads?action=getPolicy&model=M`` issues a form policy whose ``upload_host`` is this
  double's ``/oss-upload``, which takes the SDK's multipart form (no DashScope key) and remembers the key;
- speech and cloning: see :mod:`tests.backends.doubles.dashscope_speech_double`.

Injected failures (``next_faults``, one per HTTP request in order): "429" (``Throttling.RateQuota``),
"quota" (429 ``Throttling.AllocationQuota``), "arrearage" (400 ``Arrearage``), "500", "garbage" (not
JSON), "slow" (no answer for ``slow_seconds``), "policy-expired" (the storage refuses an upload);
``fail_task_with`` (a task that fails, e.g. ``DataInspectionFailed``); ``url_ttl`` (expired links);
a prompt or text containing FORBIDDEN is refused (400 ``DataInspectionFailed``).
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.backends.doubles.server import mp4_bytes, png_bytes, talking_mp4, wav_bytes

KEY = "sk-test-dashscope"
RESOLVE = "x-dashscope-ossresourceresolve"


def error(code: str, message: str, status: int = 400, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "request_id": "r-err"}, status_code=status, headers=headers)


def invalid(message: str) -> JSONResponse:
    return error("InvalidParameter", message)


@dataclass
class Task:
    id: str
    kind: str
    model: str
    body: dict[str, Any]
    polls: int = 0
    status: str = "PENDING"
    succeeded_at: float | None = None
    media: bytes = b""
    seconds: float = 5.0


@dataclass
class DashScopeDouble:
    polls_to_finish: int = 2
    url_ttl: float = 60.0
    policy_ttl: float = 300.0
    next_faults: list[str] = field(default_factory=list)
    retry_after: str | None = None
    slow_seconds: float = 1.0
    fail_task_with: tuple[str, str] | None = None
    faces: bool = True
    tasks: dict[str, Task] = field(default_factory=dict)
    submissions: int = 0
    requests: list[tuple[str, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    uploads: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)  # key -> (model, name, bytes)
    policies: dict[str, tuple[str, float]] = field(default_factory=dict)  # upload dir -> (model, issued)
    face_checks: int = 0
    downloads: list[tuple[str, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    base_url: str = ""
    # speech and cloning (dashscope_speech_double)
    voices: dict[str, dict[str, Any]] = field(default_factory=dict)
    deploy_polls: int = 1
    clone_fails: bool = False
    speech_sessions: list[list[dict[str, Any]]] = field(default_factory=list)
    ws_faults: list[str] = field(default_factory=list)
    speech_files: dict[str, bytes] = field(default_factory=dict)

    # ------------------------------------------------------------------ faults

    def fault(self) -> Response | None:
        with self.lock:
            kind = self.next_faults.pop(0) if self.next_faults else None
        if kind == "429":
            headers = {"Retry-After": self.retry_after} if self.retry_after else None
            return error("Throttling.RateQuota", "Requests rate limit exceeded, please try again later.", 429, headers)
        if kind == "quota":
            return error("Throttling.AllocationQuota", "Free allocated quota exceeded.", 429)
        if kind == "arrearage":
            return error("Arrearage", "Access denied, please make sure your account is in good standing.", 400)
        if kind == "500":
            return error("InternalError", "An internal error has occured, please try again later.", 500)
        if kind == "garbage":
            return Response("<html><body>502 Bad Gateway</body>", status_code=200, media_type="application/json")
        if kind == "slow":
            time.sleep(self.slow_seconds)
        if kind == "policy-expired":
            self.next_faults.insert(0, kind)  # for the storage, not for this request
        return None

    def denied(self, request: Request) -> Response | None:
        if request.headers.get("authorization") != f"Bearer {KEY}":
            return error("InvalidApiKey", "Invalid API-key provided.", 401)
        return None

    # ------------------------------------------------------------------ media

    def media(self, value: Any, model: str, headers: Any, name: str, image: bool = True) -> tuple[bytes, str | None]:
        """(the bytes a media field names, or why it is refused)."""
        if not isinstance(value, str) or not value:
            return b"", f"Field required: input.{name}"
        if value.startswith("oss://"):
            if headers.get(RESOLVE) != "enable":
                return b"", "The provided URL does not appear to be valid. Ensure it is correctly formatted."
            found = self.uploads.get(value.removeprefix("oss://"))
            if found is None or found[0] != model:
                return b"", f"Unable to download the media resource during the data inspection process: {name}"
            return found[2], None
        if value.startswith("data:"):
            if not image or ";base64," not in value:
                return b"", f"{name}: a base64 data URI is accepted for images only"
            return base64.b64decode(value.split(",", 1)[1]), None
        if value.startswith(("http://", "https://")):
            return (png_bytes() if image else wav_bytes(2.0)), None
        return b"", f"{name}: url error, please check url!"

    # ------------------------------------------------------------------ task submission

    def check(self, path: str, body: dict[str, Any], headers: Any) -> tuple[str, dict[str, bytes]] | Response:
        """(the task kind, its media) or the provider's refusal, per the model's documented fields."""
        model = str(body.get("model") or "")
        data, params = body.get("input") or {}, body.get("parameters") or {}
        image2video = path.endswith("image2video/video-synthesis")
        if not model:
            return invalid("Field required: model")
        if "FORBIDDEN" in str(data.get("prompt") or ""):
            return error("DataInspectionFailed", "Input data may contain inappropriate content.")
        fields: list[tuple[str, bool]]
        if path.endswith("image-synthesis"):
            if not data.get("prompt"):
                return invalid("Field required: input.prompt")
            return "image", {}
        if "s2v" in model:
            if not image2video:
                return invalid("Model not exist.")
            kind, fields = "s2v", [("image_url", True), ("audio_url", False)]
            if params.get("resolution", "480P") not in ("480P", "720P"):
                return invalid("resolution must be 480P or 720P")
        elif model == "videoretalk":
            kind, fields = "videoretalk", [("video_url", False), ("audio_url", False)]
            if not image2video:
                return invalid("Model not exist.")
        elif "kf2v" in model:
            kind, fields = (
                "kf2v",
                [("first_frame_url", True)] + ([("last_frame_url", True)] * bool(data.get("last_frame_url"))),
            )
            if not image2video:
                return invalid("Model not exist.")
        elif "r2v" in model:
            refs = data.get("reference_urls") or data.get("reference_video_urls") or []
            if not 1 <= len(refs) <= 3:
                return invalid("reference_urls: 1 to 3 references are required")
            media = {}
            for i, ref in enumerate(refs):
                raw, why = self.media(ref, model, headers, "reference_urls")
                if why:
                    return invalid(why)
                media[f"ref{i}"] = raw
            return "r2v", media
        else:
            kind, fields = "i2v", [("img_url", True)]
            if image2video:
                return invalid("Model not exist.")
            if model.startswith("wan2.2") and "duration" in params and params["duration"] != 5:
                return invalid("The duration of wan2.2 models is fixed at 5 seconds")
            if model == "wan2.2-i2v-plus" and params.get("resolution") == "720P":
                return invalid("resolution 720P is not supported by wan2.2-i2v-plus")
        media = {}
        for name, image in fields:
            raw, why = self.media(data.get(name), model, headers, name, image)
            if why:
                return invalid(why)
            media[name] = raw
        return kind, media

    async def submit(self, request: Request, path: str) -> Response:
        if (denied := self.denied(request)) is not None:
            return denied
        if request.headers.get("x-dashscope-async") != "enable":
            return error("AccessDenied", "current user api does not support synchronous calls", 403)
        if (bad := self.fault()) is not None:
            return bad
        body = await request.json()
        self.requests.append((path, body, dict(request.headers)))
        checked = self.check(path, body, request.headers)
        if isinstance(checked, Response):
            return checked
        kind, media = checked
        with self.lock:
            self.submissions += 1
            task = Task(id=str(uuid.UUID(int=next(self._ids))), kind=kind, model=body["model"], body=body)
            task.media = self._result_media(task, media)
            self.tasks[task.id] = task
        return JSONResponse({"output": {"task_status": "PENDING", "task_id": task.id}, "request_id": "r-submit"})

    def _result_media(self, task: Task, media: dict[str, bytes]) -> bytes:
        params = task.body.get("parameters") or {}
        task.seconds = float(params.get("duration") or 5)
        if task.kind == "image":
            return png_bytes()
        if task.kind in ("s2v", "videoretalk"):
            talking = talking_mp4(media["audio_url"], video=media.get("video_url"))
            import av

            with av.open(io.BytesIO(talking)) as probe:
                task.seconds = round(float(probe.duration or 0) / 1_000_000, 2)
            return talking
        return mp4_bytes(64, 48, frames=round(task.seconds * 16), fps=16)  # as long as the clip asked for

    def usage(self, task: Task) -> dict[str, Any]:
        tier = int(str((task.body.get("parameters") or {}).get("resolution", "720P")).rstrip("P") or 720)
        if task.kind == "image":
            return {"image_count": 1}
        if task.kind in ("s2v", "videoretalk") or task.model.startswith(("wanx2.1", "wan2.1")):
            return {"video_duration": task.seconds, "video_ratio": "standard", "video_count": 1}
        usage: dict[str, Any] = {"duration": task.seconds, "SR": tier, "video_count": 1}
        if task.model.startswith("wan2.6"):
            usage |= {"input_video_duration": 0, "output_video_duration": task.seconds}
        return usage

    # ------------------------------------------------------------------ the app

    def app(self) -> FastAPI:
        from tests.backends.doubles.dashscope_speech_double import add_speech

        app = FastAPI()

        for path in (
            "/api/v1/services/aigc/text2image/image-synthesis",
            "/api/v1/services/aigc/video-generation/video-synthesis",
            "/api/v1/services/aigc/image2video/video-synthesis",
            "/api/v1/services/aigc/image2video/video-synthesis/",
        ):
            app.add_api_route(path, self._route(path), methods=["POST"])

        @app.get("/api/v1/tasks/{task_id}")
        def task(task_id: str, request: Request) -> Response:
            if (denied := self.denied(request)) is not None:
                return denied
            if (bad := self.fault()) is not None:
                return bad
            return JSONResponse(self.task_reply(task_id))

        @app.post("/api/v1/services/aigc/image2video/face-detect")
        async def face_detect(request: Request) -> Response:
            if (denied := self.denied(request)) is not None:
                return denied
            if (bad := self.fault()) is not None:
                return bad
            body = await request.json()
            self.requests.append(("face-detect", body, dict(request.headers)))
            _, why = self.media(
                (body.get("input") or {}).get("image_url"), body.get("model", ""), request.headers, "image_url"
            )
            if why:
                return invalid(why)
            self.face_checks += 1
            output = {"check_pass": self.faces, "humanoid": self.faces}
            return JSONResponse({"output": output, "usage": {"image_count": 1}, "request_id": "r-face"})

        @app.get("/api/v1/uploads")
        def policy(request: Request, action: str = "", model: str = "") -> Response:
            if (denied := self.denied(request)) is not None:
                return denied
            if (bad := self.fault()) is not None:
                return bad
            if action != "getPolicy" or not model:
                return invalid("action getPolicy and a model are required")
            upload_dir = f"dashscope-instant/{uuid.uuid4().hex[:12]}/2026-12-01/{uuid.uuid4()}"
            self.policies[upload_dir] = (model, time.time())
            data = {
                "policy": base64.b64encode(json.dumps({"dir": upload_dir}).encode()).decode(),
                "signature": "c2lnbmF0dXJl",
                "upload_dir": upload_dir,
                "upload_host": f"{self.base_url}/oss-upload",
                "expire_in_seconds": int(self.policy_ttl),
                "max_file_size_mb": 100,
                "capacity_limit_mb": 999999999,
                "oss_access_key_id": "LTAI-test",
                "x_oss_object_acl": "private",
                "x_oss_forbid_overwrite": "true",
            }
            return JSONResponse({"request_id": "r-policy", "data": data})

        @app.post("/oss-upload")
        async def oss_upload(request: Request) -> Response:
            if self.next_faults[:1] == ["policy-expired"]:
                self.next_faults.pop(0)
                return Response(
                    "<Error><Code>AccessDenied</Code><Message>Invalid according to Policy: Policy expired.</Message>"
                    "</Error>",
                    status_code=403,
                    media_type="application/xml",
                )
            if request.headers.get("authorization"):
                return Response("<Error><Code>InvalidArgument</Code></Error>", status_code=400)
            form = await request.form()
            needed = ("OSSAccessKeyId", "Signature", "policy", "key", "x-oss-object-acl", "success_action_status")
            if any(not form.get(n) for n in needed) or "file" not in form:
                return Response("<Error><Code>InvalidArgument</Code><Message>form</Message></Error>", status_code=400)
            key = str(form["key"])
            upload_dir = key.rsplit("/", 1)[0]
            issued = self.policies.get(upload_dir)
            if issued is None or time.time() - issued[1] > self.policy_ttl:
                return Response("<Error><Code>AccessDenied</Code><Message>Policy expired.</Message></Error>", 403)
            upload = form["file"]
            raw = await upload.read()  # type: ignore[union-attr]
            self.uploads[key] = (issued[0], key.rsplit("/", 1)[1], raw)
            return Response(status_code=200)

        @app.get("/oss/{name}")
        def oss(name: str, request: Request) -> Response:
            if request.headers.get("authorization"):
                return Response("<Error><Code>InvalidArgument</Code></Error>", status_code=400)
            if time.time() > float(request.query_params.get("Expires", "0")):
                return Response(
                    "<Error><Code>AccessDenied</Code><Message>Request has expired.</Message></Error>",
                    status_code=403,
                    media_type="application/xml",
                )
            self.downloads.append((name, time.time()))
            stem = name.rsplit(".", 1)[0]
            if stem in self.speech_files:
                return Response(self.speech_files[stem], media_type="audio/wav")
            task = self.tasks.get(stem)
            if task is None:
                return Response(status_code=404)
            return Response(task.media, media_type="image/png" if task.kind == "image" else "video/mp4")

        add_speech(app, self)
        return app

    def _route(self, path: str) -> Any:
        async def route(request: Request) -> Response:
            return await self.submit(request, path)

        return route

    def task_reply(self, task_id: str) -> dict[str, Any]:
        with self.lock:
            t = self.tasks.get(task_id)
            if t is None:
                return {"request_id": "r", "output": {"task_id": task_id, "task_status": "UNKNOWN"}}
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
            "submit_time": "2026-12-01 10:00:00.000",
            "scheduled_time": "2026-12-01 10:00:01.000",
        }
        reply: dict[str, Any] = {"request_id": "r-task", "output": output}
        if t.status == "FAILED" and self.fail_task_with:
            output.update(code=self.fail_task_with[0], message=self.fail_task_with[1])
        if t.status == "SUCCEEDED":
            output["end_time"] = "2026-12-01 10:01:00.000"
            expires = (t.succeeded_at or 0) + self.url_ttl
            prompt = (t.body.get("input") or {}).get("prompt")
            if t.kind == "image":
                output["results"] = [
                    {
                        "orig_prompt": prompt,
                        "actual_prompt": f"extended: {prompt}",
                        "url": f"{self.base_url}/oss/{t.id}.png?Expires={expires}",
                    }
                ]
                output["task_metrics"] = {"TOTAL": 1, "SUCCEEDED": 1, "FAILED": 0}
            else:
                output["orig_prompt"] = prompt
                output["video_url"] = f"{self.base_url}/oss/{t.id}.mp4?Expires={expires}"
            reply["usage"] = self.usage(t)
        return reply
