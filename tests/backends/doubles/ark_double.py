"""A Volcengine Ark protocol double: Seedance content-generation tasks and Seedream images, under ``/api/v3``.

Follows what ``volcengine-ark-runtime`` 5.0.54 (module ``volcenginesdkarkruntime``) sends and parses
and the Ark API pages 创建视频生成任务 / 查询视频生成任务 / 图片生成 (volcengine.com/docs/82379, with
the BytePlus ModelArk 1520757 mirror) and 公共错误码 (82379/1299023):

- ``Authorization: Bearer <key>``; a wrong key is 401 ``AuthenticationError``;
- ``POST /contents/generations/tasks`` with ``model``, ``content`` (text; ``image_url`` items with
  ``role`` ``first_frame`` / ``last_frame`` / ``reference_image``), body fields that may be JSON
  ``null`` (the SDK sends every unset field as null) or ``--`` commands in the text (older clients;
  the body wins), replying ``{"id": "cgt-…"}``; modes are exclusive (a first frame with reference
  images is a 400), a last frame needs a first frame, durations and modes are checked per model;
- ``GET …/tasks/{id}`` walks ``queued`` → ``running`` → ``succeeded`` (``content.video_url``, a
  pre-signed link that expires, ``usage.completion_tokens`` by the token rule) or ``failed``
  (``error.code``/``message``); ``GET …/tasks`` lists with ``filter.*``; ``DELETE`` replies ``{}``;
- ``POST /images/generations`` answers at once with ``data[].url`` (or ``b64_json``) and ``usage``;
- every error is ``{"error": {"code", "message", "param", "type"}}`` with its HTTP status: 400
  ``InputTextSensitiveContentDetected`` (a refusal), 429 ``RateLimitExceeded.EndpointRPMExceeded``
  (with Retry-After), 429 ``SetLimitExceeded`` (the account's own spending cap), 403
  ``AccountOverdueError``, 500 ``InternalServiceError``. A retried POST makes a new task: there is
  no idempotency key, so the double counts every submission.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.backends.doubles.server import mp4_bytes, mp4_with_sound_bytes, png_bytes
from tests.backends.doubles.task_double import TaskDouble

KEY = "ark-test-key"

#: What each Seedance model takes: seconds, first+last frame, reference images, its own sound.
MODELS: dict[str, dict[str, Any]] = {
    "doubao-seedance-1-0-pro-250528": {"seconds": (2, 12), "first_last": True, "refs": 0, "audio": False},
    "doubao-seedance-1-0-pro-fast-251015": {"seconds": (2, 12), "first_last": False, "refs": 0, "audio": False},
    "doubao-seedance-1-0-lite-i2v-250428": {"seconds": (2, 12), "first_last": True, "refs": 4, "audio": False},
    "doubao-seedance-1-5-pro-251215": {"seconds": (4, 12), "first_last": True, "refs": 0, "audio": True},
    "doubao-seedance-2-0-260128": {"seconds": (4, 15), "first_last": True, "refs": 9, "audio": True},
}
MODELS.update({name.removeprefix("doubao-"): spec for name, spec in list(MODELS.items())})
IMAGE_MODELS = {"doubao-seedream-4-0-250828": 10, "doubao-seedream-3-0-t2i-250415": 0, "seedream-4-0-250828": 10}
TIER_PIXELS = {"480p": 864 * 480, "720p": 1248 * 704, "1080p": 1920 * 1088}
COMMAND = re.compile(r"--(resolution|rs|ratio|rt|duration|dur|seed|camerafixed|cf|watermark|wm)\s+(\S+)")
COMMAND_FIELDS = {"rs": "resolution", "rt": "ratio", "dur": "duration", "cf": "camerafixed", "wm": "watermark"}


def error(status: int, code: str, message: str, param: str = "", headers: dict[str, str] | None = None) -> Response:
    kind = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 429: "TooManyRequests"}
    body = {
        "error": {"code": code, "message": f"{message} Request ID: 0217", "param": param, "type": kind.get(status, "")}
    }
    return JSONResponse(body, status_code=status, headers=headers)


def present(body: dict[str, Any], name: str) -> Any:
    """A body field, JSON null counting as absent (the SDK sends every unset field as null)."""
    value = body.get(name)
    return None if value is None else value


@dataclass
class ArkDouble(TaskDouble):
    fail_task_code: str | None = None
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    images: list[dict[str, Any]] = field(default_factory=list)
    colour: tuple[int, int, int] | None = None  # the clips' tint, to tell providers apart in a film

    garbage: ClassVar[str] = '{"id": "cgt-2025'

    def failure(self, kind: str) -> Response | None:
        if kind == "429":
            return error(
                429,
                "RateLimitExceeded.EndpointRPMExceeded",
                "The request rate exceeds the RPM limit.",
                headers={"Retry-After": "3"},
            )
        if kind == "limit":
            return error(429, "SetLimitExceeded", "Your account has reached the safe experience limit you set.")
        if kind == "overdue":
            return error(403, "AccountOverdueError", "Your account has an overdue balance.")
        if kind == "500":
            return error(500, "InternalServiceError", "The service encountered an unexpected internal error.")
        return None

    def app(self) -> FastAPI:
        app = FastAPI()

        def refuse(request: Request) -> Response | None:
            if request.headers.get("authorization") != f"Bearer {KEY}":
                return error(401, "AuthenticationError", "The API key in the request is missing or invalid.")
            return None

        self.guard(app, refuse, open_paths=("/cdn/",))

        @app.post("/api/v3/contents/generations/tasks")
        async def create(request: Request) -> Response:
            raw = await request.body()
            if len(raw) > 64 * 1024 * 1024:
                return error(400, "InvalidParameter", "The request body exceeds 64 MB.")
            body = await request.json()
            return self._create(body)

        @app.get("/api/v3/contents/generations/tasks/{task_id}")
        def get(task_id: str) -> Response:
            return self._get(task_id)

        @app.get("/api/v3/contents/generations/tasks")
        def listing(request: Request) -> Response:
            ids = request.query_params.getlist("filter.task_ids")
            status = request.query_params.get("filter.status")
            size = int(request.query_params.get("page_size") or 10)
            found = [self._view(t) for t in self.tasks.values() if (not ids or t["id"] in ids)]
            found = [t for t in found if not status or t["status"] == status]
            return JSONResponse({"total": len(found), "items": found[:size]})

        @app.delete("/api/v3/contents/generations/tasks/{task_id}")
        def delete(task_id: str) -> Response:
            with self.lock:
                task = self.tasks.get(task_id)
                if task is None:
                    return error(404, "ResourceNotFound", f"The task {task_id} does not exist.")
                if task["status"] == "running":
                    return error(400, "InvalidAction.TaskRunning", "A running task cannot be cancelled.")
                if task["status"] == "queued":
                    task["status"] = "cancelled"
                else:
                    del self.tasks[task_id]
            return JSONResponse({})

        @app.post("/api/v3/images/generations")
        async def images(request: Request) -> Response:
            return self._image(await request.json())

        @app.get("/cdn/{name}")
        def cdn(name: str, request: Request) -> Response:
            if time.time() > float(request.query_params.get("x-expires", "0")):
                return Response("<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>", 403)
            self.downloads.append((name, time.time()))
            if name.endswith(".jpeg"):
                return Response(png_bytes(96, 54), media_type="image/png")
            sound = request.query_params.get("sound") == "1"
            return Response(
                mp4_with_sound_bytes(colour=self.colour) if sound else mp4_bytes(colour=self.colour),
                media_type="video/mp4",
            )

        return app

    # ------------------------------------------------------------------ Seedance

    def _create(self, body: dict[str, Any]) -> Response:
        model = str(body.get("model") or "")
        spec = MODELS.get(model)
        if spec is None:
            return error(404, "InvalidEndpointOrModel.NotFound", f"The model or endpoint {model} does not exist.")
        content = body.get("content") or []
        texts = [c.get("text", "") for c in content if c.get("type") == "text"]
        text = " ".join(texts)
        params = {COMMAND_FIELDS.get(k, k): v for k, v in COMMAND.findall(text)}  # the older way
        for name in ("resolution", "ratio", "duration", "seed", "camera_fixed", "watermark", "generate_audio"):
            if present(body, name) is not None:
                params[name] = body[name]  # body fields are authoritative
        roles = [c.get("role") or "first_frame" for c in content if c.get("type") == "image_url"]
        for c in content:
            if c.get("type") == "image_url":
                url = str((c.get("image_url") or {}).get("url") or "")
                if url.startswith("data:"):
                    head, _, data = url.partition(",")
                    try:
                        decoded = base64.b64decode(data, validate=True)
                    except binascii.Error:
                        decoded = b""
                    if not head.startswith("data:image/") or not decoded.startswith(b"\x89PNG"):
                        return error(400, "InvalidParameter", "The image could not be decoded.", "content")
        if "reference_image" in roles and ("first_frame" in roles or "last_frame" in roles):
            return error(
                400, "InvalidParameter", "reference_image cannot be combined with first or last frame.", "content"
            )
        if "last_frame" in roles and "first_frame" not in roles:
            return error(400, "InvalidParameter", "last_frame requires first_frame.", "content")
        if "last_frame" in roles and not spec["first_last"]:
            return error(400, "InvalidParameter", f"{model} does not support first and last frame.", "content")
        if roles.count("reference_image") > spec["refs"]:
            return error(400, "InvalidParameter", f"{model} takes at most {spec['refs']} reference images.", "content")
        seconds = int(params.get("duration") or 5)
        low, high = spec["seconds"]
        if not low <= seconds <= high:
            return error(400, "InvalidParameter", f"duration {seconds} is out of range [{low}, {high}].", "duration")
        if str(params.get("resolution") or "720p") not in TIER_PIXELS:
            return error(400, "InvalidParameter", "resolution must be 480p, 720p or 1080p.", "resolution")
        if "FORBIDDEN" in text:
            return error(
                400,
                "InputTextSensitiveContentDetected",
                "The request failed because the input text may contain sensitive information.",
            )
        with self.lock:
            self.submissions += 1
            task_id = f"cgt-{time.strftime('%Y%m%d%H%M%S')}-{next(self._ids):05d}"
            self.tasks[task_id] = {
                "id": task_id,
                "model": model,
                "status": "queued",
                "polls": 0,
                "body": body,
                "params": params,
                "roles": roles,
                "sound": bool(spec["audio"] and params.get("generate_audio", True) is not False),
                "succeeded_at": None,
                "created_at": int(time.time()),
            }
        return JSONResponse({"id": task_id})

    def _get(self, task_id: str) -> Response:
        with self.lock:
            task = self.tasks.get(task_id)
            if task is None:
                return error(404, "ResourceNotFound", f"The task {task_id} does not exist.")
            task["polls"] += 1
            if task["status"] in ("queued", "running"):
                if task["polls"] >= self.polls_to_finish:
                    task["status"] = "failed" if self.fail_task_code else "succeeded"
                    task["error"] = self.fail_task_code
                    task["succeeded_at"] = time.time()
                else:
                    task["status"] = "running"
        return JSONResponse(self._view(task))

    def _view(self, task: dict[str, Any]) -> dict[str, Any]:
        params = task["params"]
        seconds = int(params.get("duration") or 5)
        tier = str(params.get("resolution") or "720p")
        view: dict[str, Any] = {
            "id": task["id"],
            "model": task["model"],
            "status": task["status"],
            "created_at": task["created_at"],
            "updated_at": int(time.time()),
            "seed": int(params.get("seed") if params.get("seed") not in (None, -1) else 1276),
            "resolution": tier,
            "ratio": str(params.get("ratio") or "16:9"),
            "duration": seconds,
            "framespersecond": 24,
            "generate_audio": task["sound"],
            "error": None,
        }
        if task["status"] == "succeeded":
            expires = task["succeeded_at"] + self.url_ttl
            sound = "1" if task["sound"] else "0"
            view["content"] = {"video_url": f"{self.base_url}/cdn/{task['id']}.mp4?x-expires={expires}&sound={sound}"}
            tokens = TIER_PIXELS[tier] * 24 * seconds // 1024
            view["usage"] = {"completion_tokens": tokens, "total_tokens": tokens}
        if task["status"] == "failed":
            view["error"] = {"code": task["error"], "message": f"The request failed: {task['error']}."}
        return view

    # ------------------------------------------------------------------ Seedream

    def _image(self, body: dict[str, Any]) -> Response:
        model = str(body.get("model") or "")
        if model not in IMAGE_MODELS:
            return error(404, "InvalidEndpointOrModel.NotFound", f"The model or endpoint {model} does not exist.")
        refs = body.get("image") or []
        refs = [refs] if isinstance(refs, str) else refs
        if len(refs) > IMAGE_MODELS[model]:
            return error(400, "InvalidParameter", f"{model} takes at most {IMAGE_MODELS[model]} images.", "image")
        size = str(body.get("size") or "2048x2048")
        match = re.fullmatch(r"(\d+)x(\d+)", size)
        if match and int(match[1]) * int(match[2]) < 1280 * 720 and "seedream-4" in model:
            return error(400, "InvalidParameter", "size must be at least 1280x720 pixels.", "size")
        if "FORBIDDEN" in str(body.get("prompt") or ""):
            return error(
                400,
                "OutputImageSensitiveContentDetected",
                "The request failed because the output image may contain sensitive information.",
            )
        with self.lock:
            self.images.append(body)
        expires = time.time() + self.url_ttl
        item: dict[str, Any] = {"size": size}
        if body.get("response_format") == "b64_json":
            item["b64_json"] = base64.b64encode(png_bytes(96, 54)).decode()
        else:
            item["url"] = f"{self.base_url}/cdn/image-{len(self.images)}.jpeg?x-expires={expires}"
        return JSONResponse(
            {
                "model": model,
                "created": int(time.time()),
                "data": [item],
                "usage": {"generated_images": 1, "output_tokens": 16384, "total_tokens": 16384},
            }
        )
