"""A Gemini Developer API protocol double for Veo 3.1's long-running video operations.

Follows what google-genai 2.34.0 sends and parses (the SDK drives it in tests/backends/test_veo.py)
and the Gemini API pages "Generate videos with Veo 3.1" and "Long-running operations"
(ai.google.dev/gemini-api/docs/video): the key travels in ``x-goog-api-key``;
``POST /v1beta/models/{model}:predictLongRunning`` with ``instances[0]`` (``prompt``, ``image``,
``lastFrame``, ``referenceImages[{image, referenceType: ASSET}]``, each picture as
``bytesBase64Encoded`` + ``mimeType``) and ``parameters`` (``durationSeconds`` 4/6/8 — 8 only at
1080p and with references —, ``aspectRatio`` 16:9/9:16, ``resolution``, ``negativePrompt``,
``personGeneration``) returns ``{"name": "models/{model}/operations/{id}"}``;
``GET /v1beta/{name}`` has no ``done`` while running, then ``done: true`` with
``response.generateVideoResponse.generatedSamples[].video.uri`` — or, for a clip the safety
filters stopped, ``raiMediaFilteredCount``/``raiMediaFilteredReasons`` and no samples — or an
``error`` (google.rpc.Status); ``GET /v1beta/files/{id}:download?alt=media`` serves the MP4 (with
its sound) until the file is deleted (about two days; ``url_ttl`` here). Errors are
``{"error": {"code", "message", "status", "details"}}``: 429 ``RESOURCE_EXHAUSTED`` with a
``RetryInfo`` detail, 400 ``INVALID_ARGUMENT`` (a bad key carries ``API_KEY_INVALID``), 403
``PERMISSION_DENIED``, 400 ``FAILED_PRECONDITION`` (billing not enabled), 500 ``INTERNAL``.
"""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.backends.doubles.server import mp4_with_sound_bytes
from tests.backends.doubles.task_double import TaskDouble

KEY = "veo-test-key"
MODELS = ("veo-3.1-generate-preview", "veo-3.1-fast-generate-preview")


def status(
    code: int, name: str, message: str, details: list[Any] | None = None, headers: dict[str, str] | None = None
) -> Response:
    error: dict[str, Any] = {"code": code, "message": message, "status": name}
    if details is not None:
        error["details"] = details
    return JSONResponse({"error": error}, status_code=code, headers=headers)


def picture_ok(part: Any) -> bool:
    if not isinstance(part, dict) or not str(part.get("mimeType", "")).startswith("image/"):
        return False
    try:
        return base64.b64decode(part.get("bytesBase64Encoded", ""), validate=True).startswith(b"\x89PNG")
    except binascii.Error:
        return False


@dataclass
class VeoDouble(TaskDouble):
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, float] = field(default_factory=dict)
    colour: tuple[int, int, int] | None = None  # the clips' tint, to tell providers apart in a film

    garbage: ClassVar[str] = '{"name": "models/veo'

    def failure(self, kind: str) -> Response | None:
        if kind == "429":
            retry = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "3s"}
            message = "Resource has been exhausted (e.g. check quota)."
            return status(429, "RESOURCE_EXHAUSTED", message, [retry], {"Retry-After": "3"})
        if kind == "billing":
            return status(
                400,
                "FAILED_PRECONDITION",
                "Gemini API free tier is not available in your country. Please enable billing.",
            )
        if kind == "500":
            return status(500, "INTERNAL", "An internal error has occurred.")
        return None

    def app(self) -> FastAPI:
        app = FastAPI()

        def refuse(request: Request) -> Response | None:
            key = request.headers.get("x-goog-api-key")
            if key is None:
                return status(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers.")
            if key != KEY:
                info = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
                return status(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [info])
            return None

        self.guard(app, refuse, fault_free=(":download",))

        @app.post("/v1beta/models/{model}:predictLongRunning")
        async def submit(model: str, request: Request) -> Response:
            return self._submit(model, await request.json())

        @app.get("/v1beta/models/{model}/operations/{op}")
        def operation(model: str, op: str) -> Response:
            return self._operation(f"models/{model}/operations/{op}")

        @app.get("/v1beta/models/{model}")
        def model_info(model: str) -> Response:
            if model not in MODELS:
                return status(404, "NOT_FOUND", f"models/{model} is not found for API version v1beta.")
            return JSONResponse({"name": f"models/{model}", "displayName": "Veo 3.1", "version": "3.1"})

        @app.get("/v1beta/files/{file_id}:download")
        def download(file_id: str, request: Request) -> Response:
            made = self.files.get(file_id)
            if request.query_params.get("alt") != "media":
                return status(400, "INVALID_ARGUMENT", "alt=media is required.")
            if made is None or time.time() > made + self.url_ttl:
                return status(404, "NOT_FOUND", f"File files/{file_id} does not exist.")
            self.downloads.append((file_id, time.time()))
            return Response(mp4_with_sound_bytes(colour=self.colour), media_type="video/mp4")

        return app

    def _submit(self, model: str, body: dict[str, Any]) -> Response:
        if model not in MODELS:
            return status(404, "NOT_FOUND", f"models/{model} is not found for API version v1beta.")
        instance = (body.get("instances") or [{}])[0]
        params = body.get("parameters") or {}
        prompt = str(instance.get("prompt") or "")
        refs = instance.get("referenceImages") or []
        if not prompt and not instance.get("image"):
            return status(400, "INVALID_ARGUMENT", "A prompt or an image is required.")
        for part in [instance.get("image"), instance.get("lastFrame"), *[r.get("image") for r in refs]]:
            if part is not None and not picture_ok(part):
                return status(400, "INVALID_ARGUMENT", "Unable to process input image.")
        if refs and (instance.get("image") or instance.get("lastFrame")):
            return status(400, "INVALID_ARGUMENT", "referenceImages cannot be combined with image or lastFrame.")
        if instance.get("lastFrame") and not instance.get("image"):
            return status(400, "INVALID_ARGUMENT", "lastFrame requires image.")
        if len(refs) > 3 or any(r.get("referenceType") != "ASSET" for r in refs):
            return status(400, "INVALID_ARGUMENT", "At most 3 ASSET reference images are supported.")
        seconds = int(params.get("durationSeconds") or 8)
        resolution = str(params.get("resolution") or "720p")
        if seconds not in (4, 6, 8) or (seconds != 8 and (resolution == "1080p" or refs)):
            return status(400, "INVALID_ARGUMENT", f"durationSeconds {seconds} is not supported here.")
        if str(params.get("aspectRatio") or "16:9") not in ("16:9", "9:16"):
            return status(400, "INVALID_ARGUMENT", "aspectRatio must be 16:9 or 9:16.")
        with self.lock:
            self.submissions += 1
            name = f"models/{model}/operations/{next(self._ids):012x}"
            self.operations[name] = {"body": body, "polls": 0, "prompt": prompt, "done_at": None}
        return JSONResponse({"name": name})

    def _operation(self, name: str) -> Response:
        with self.lock:
            op = self.operations.get(name)
            if op is None:
                return status(404, "NOT_FOUND", f"Operation {name} not found.")
            op["polls"] += 1
            if op["polls"] < self.polls_to_finish:
                return JSONResponse({"name": name})  # the real service leaves ``done`` out while running
            if op["done_at"] is None:
                op["done_at"] = time.time()
                op["file"] = f"{len(self.files) + 1:012x}"
                self.files[op["file"]] = op["done_at"]
        prompt = op["prompt"]
        if "[opfail]" in prompt:
            return JSONResponse(
                {"name": name, "done": True, "error": {"code": 13, "message": "Video generation failed internally."}}
            )
        if "FORBIDDEN" in prompt:
            reason = "The prompt could not be submitted. You have not been charged for this request."
            result: dict[str, Any] = {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": [reason]}
        else:
            uri = f"https://generativelanguage.googleapis.com/v1beta/files/{op['file']}:download?alt=media"
            result = {"generatedSamples": [{"video": {"uri": uri}}]}
        response = {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
            "generateVideoResponse": result,
        }
        return JSONResponse({"name": name, "done": True, "response": response})
