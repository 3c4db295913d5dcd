"""A protocol double for OpenAI-compatible speech and images, as OpenAI and as a local Kokoro-style server.

Follows the OpenAI API reference (platform.openai.com/docs/api-reference/audio/createSpeech,
images/create, images/createEdit) as the ``openai`` SDK 3.57 sends it (the SDK drives the double
in tests/backends/test_openai_media.py), and, with ``flavour="kokoro"``, the differences of the
local servers people run (Kokoro-FastAPI's ``api/src/routers/openai_compatible.py``):

- ``POST /v1/audio/speech`` (JSON ``model``, ``input``, ``voice``, ``response_format``,
  ``speed``, ``instructions``) answers the audio itself — a RIFF WAV at 24 kHz for ``wav``; the
  Kokoro flavour streams it chunked (no Content-Length) and takes no key;
- ``POST /v1/images/generations`` (JSON) and ``POST /v1/images/edits`` (multipart: ``image`` for
  one picture, ``image[]`` repeated for several, ``prompt``, ``model``, ``n``, ``size``) answer
  ``{"created", "data": [{"b64_json"}]}`` — or ``[{"url"}]`` for ``response_format: url``, a link
  that expires;
- ``GET /v1/models`` lists the models; ``GET /v1/audio/voices`` (Kokoro) the voices;
- errors are ``{"error": {"message", "type", "param", "code"}}`` on OpenAI — 429
  ``rate_limit_exceeded`` (with Retry-After), 429 ``insufficient_quota`` (not a rate limit: the
  account is empty), 400 ``content_policy_violation`` / ``moderation_blocked``, 401
  ``invalid_api_key``, 500 ``server_error`` — and FastAPI's ``{"detail": {...}}`` on Kokoro.
"""

from __future__ import annotations

import asyncio
import base64
import io
import threading
import time
import uuid
import wave
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from tests.backends.doubles.server import png_bytes

KEY = "sk-test-media"
RATE = 24000
OPENAI_MODELS = {"tts-1", "tts-1-hd", "gpt-4o-mini-tts", "gpt-image-1", "dall-e-3"}
OPENAI_VOICES = {"alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse"}
KOKORO_MODELS = {"kokoro", "tts-1", "tts-1-hd", "gpt-4o-mini-tts", "sd-turbo"}
KOKORO_VOICES = {"af_heart", "af_bella", "am_adam", "bf_emma", "bm_george", "zf_xiaobei", "zm_yunjian"}


def spoken(text: str, speed: float = 1.0) -> bytes:
    """A WAV whose length follows the text (60 ms a character), with a quiet tone so it is not silence."""
    frames = int(RATE * max(0.2, 0.06 * len(text) / speed))
    samples = (3000 * np.sign(np.sin(2 * np.pi * 300 * np.arange(frames) / RATE))).astype("<i2").tobytes()
    buf = io.BytesIO()
    with wave.open(buf, "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(RATE)
        fh.writeframes(samples)
    return buf.getvalue()


@dataclass
class MediaDouble:
    flavour: str = "openai"
    url_ttl: float = 60.0
    next_faults: list[str] = field(default_factory=list)
    slow_seconds: float = 1.5
    log: list[dict[str, Any]] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)
    files: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""

    def error(self, status: int, message: str, kind: str, code: str | None, **headers: str) -> Response:
        if self.flavour == "kokoro":
            return JSONResponse({"detail": {"error": code or kind, "message": message, "type": kind}}, status)
        body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
        return JSONResponse(body, status, headers={k.replace("_", "-"): v for k, v in headers.items()} or None)

    async def fault(self, text: str) -> Response | None:
        with self.lock:
            kind = self.next_faults.pop(0) if self.next_faults else None
        if kind == "429":
            return self.error(
                429, "Rate limit reached for requests", "requests", "rate_limit_exceeded", Retry_After="3"
            )
        if kind == "quota":
            message = "You exceeded your current quota, please check your plan and billing details."
            return self.error(429, message, "insufficient_quota", "insufficient_quota")
        if kind == "500":
            return self.error(500, "The server had an error while processing your request.", "server_error", None)
        if kind == "garbage":
            return Response("<html><body>502 Bad Gateway</body></html>", media_type="application/json")
        if kind == "slow":
            await asyncio.sleep(self.slow_seconds)
        if "FORBIDDEN" in text:
            message = "Your request was rejected as a result of our safety system."
            return self.error(400, message, "invalid_request_error", "content_policy_violation")
        return None

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def gate(request: Request, call_next: Any) -> Response:
            keyed = self.flavour == "openai" and not request.url.path.startswith("/files/")
            if keyed and request.headers.get("authorization") != f"Bearer {KEY}":
                return self.error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
            return await call_next(request)

        @app.post("/v1/audio/speech")
        async def speech(request: Request) -> Response:
            body = await request.json()
            self.log.append({"path": "speech", "json": body})
            if (bad := await self.fault(str(body.get("input", "")))) is not None:
                return bad
            models, voices = (
                (OPENAI_MODELS, OPENAI_VOICES) if self.flavour == "openai" else (KOKORO_MODELS, KOKORO_VOICES)
            )
            if body.get("model") not in models:
                return self.error(
                    404 if self.flavour == "openai" else 400,
                    "Unsupported model",
                    "invalid_request_error",
                    "model_not_found",
                )
            if any(v.split("(")[0] not in voices for v in str(body.get("voice", "")).split("+")):
                return self.error(
                    400, f"Voice '{body.get('voice')}' not found", "invalid_request_error", "invalid_value"
                )
            if not 0.25 <= float(body.get("speed", 1.0)) <= 4.0:
                return self.error(400, "speed must be between 0.25 and 4.0", "invalid_request_error", "invalid_value")
            if body.get("response_format", "mp3") != "wav":
                return Response(b"ID3\x04" + bytes(256), media_type="audio/mpeg")  # not what kaipai asks for
            audio = spoken(str(body["input"]), float(body.get("speed", 1.0)))
            if self.flavour == "kokoro":  # Kokoro streams by default: chunked, no Content-Length
                return StreamingResponse(
                    iter([audio[i : i + 4096] for i in range(0, len(audio), 4096)]), media_type="audio/wav"
                )
            return Response(audio, media_type="audio/wav")

        @app.post("/v1/images/generations")
        async def generations(request: Request) -> Response:
            body = await request.json()
            self.log.append({"path": "generations", "json": body})
            return await self._image(body, [])

        @app.post("/v1/images/edits")
        async def edits(request: Request) -> Response:
            form = await request.form()
            parts: list[dict[str, Any]] = []
            fields: dict[str, Any] = {}
            for name, value in form.multi_items():
                if hasattr(value, "read"):
                    data = await value.read()
                    parts.append(
                        {"name": name, "filename": value.filename, "type": value.content_type, "size": len(data)}
                    )
                else:
                    fields[name] = value
            self.log.append({"path": "edits", "json": fields, "parts": parts})
            images = [p for p in parts if p["name"] in ("image", "image[]")]
            if not images:
                return self.error(400, "image is required", "invalid_request_error", "missing_required_parameter")
            if any(p["type"] not in ("image/png", "image/jpeg", "image/webp") for p in images):
                return self.error(400, "Invalid file: unsupported mimetype", "invalid_request_error", "invalid_value")
            return await self._image(fields, images)

        @app.get("/v1/models")
        def models() -> Response:
            names = OPENAI_MODELS if self.flavour == "openai" else KOKORO_MODELS
            return JSONResponse(
                {"object": "list", "data": [{"id": m, "object": "model", "owned_by": "double"} for m in sorted(names)]}
            )

        @app.get("/v1/audio/voices")
        def voices() -> Response:
            return JSONResponse({"voices": [{"id": v, "name": v} for v in sorted(KOKORO_VOICES)]})

        @app.get("/files/{name}")
        def files(name: str) -> Response:
            made = self.files.get(name)
            if made is None or time.time() > made + self.url_ttl:
                return Response("expired", status_code=403)
            self.downloads.append(name)
            return Response(png_bytes(96, 54), media_type="image/png")

        return app

    async def _image(self, body: dict[str, Any], images: list[dict[str, Any]]) -> Response:
        if (bad := await self.fault(str(body.get("prompt", "")))) is not None:
            return bad
        models = OPENAI_MODELS if self.flavour == "openai" else KOKORO_MODELS
        if body.get("model") not in models:
            return self.error(
                404, f"The model {body.get('model')} does not exist", "invalid_request_error", "model_not_found"
            )
        if self.flavour == "openai" and "seed" in body:
            return self.error(400, "Unrecognized request argument supplied: seed", "invalid_request_error", None)
        item: dict[str, Any]
        if body.get("response_format") == "url":
            name = f"{uuid.uuid4().hex}.png"
            self.files[name] = time.time()
            item = {"url": f"{self.base_url}/files/{name}"}
        else:
            item = {"b64_json": base64.b64encode(png_bytes(96, 54)).decode()}
        return JSONResponse({"created": int(time.time()), "data": [item]})
