"""An ElevenLabs sound-effects protocol double, following the API reference of ``POST /v1/sound-generation``
(the request the ``elevenlabs`` SDK 2.x sends from ``text_to_sound_effects.convert``).

``xi-api-key`` header; query ``output_format``; JSON ``text`` (required), ``duration_seconds`` (0.5–30 or
null), ``prompt_influence`` (0–1), ``loop``, ``model_id``. The reply is the audio (``audio/mpeg``), as
long as asked (2 s when the model picks). Errors are ``{"detail": {"status", "message"}}``: 401
``invalid_api_key`` / ``quota_exceeded``, 429 ``too_many_concurrent_requests`` with ``Retry-After``,
422 with a list of field errors, 500; and what a client must survive: a reply cut off mid-file, a
JSON body where audio should be, and an answer slower than the client's timeout.
"""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from kaipai.post.ffmpeg import ffmpeg

KEY = "el-test-key"


@cache
def mp3_bytes(seconds: float) -> bytes:
    done = subprocess.run(
        [ffmpeg(), "-v", "error", "-f", "lavfi", "-i", f"anoisesrc=c=pink:a=0.2:d={seconds}", "-ar", "44100",
         "-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3", "-"],
        check=True, capture_output=True,
    )  # fmt: skip
    return done.stdout


def detail(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": {"status": code, "message": message}}, status_code=status, headers=headers)


@dataclass
class ElevenLabsDouble:
    next_faults: list[str] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    slow: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fault(self) -> Response | None:
        with self.lock:
            kind = self.next_faults.pop(0) if self.next_faults else None
        if kind == "429":
            return detail(429, "too_many_concurrent_requests", "Too many concurrent requests", {"Retry-After": "1"})
        if kind == "500":
            return JSONResponse({"detail": "Internal Server Error"}, status_code=500)
        if kind == "quota":
            return detail(401, "quota_exceeded", "This request exceeds your quota of 10000. You have 12 credits left.")
        if kind == "cut":
            return Response(mp3_bytes(2.0)[:300], media_type="audio/mpeg")
        if kind == "json":
            return JSONResponse({"status": "ok"})
        if kind == "slow":
            time.sleep(3)
        return None

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/sound-generation")
        async def generate(request: Request) -> Response:
            if request.headers.get("xi-api-key") != KEY:
                return detail(401, "invalid_api_key", "Invalid API key")
            if (bad := self.fault()) is not None:
                return bad
            body = await request.json()
            with self.lock:
                self.requests.append({**body, "output_format": request.query_params.get("output_format")})
            errors = []
            if not isinstance(body.get("text"), str) or not body["text"]:
                errors.append({"loc": ["body", "text"], "msg": "Field required", "type": "missing"})
            seconds = body.get("duration_seconds")
            if seconds is not None and not 0.5 <= float(seconds) <= 30:
                errors.append({"loc": ["body", "duration_seconds"], "msg": "must be between 0.5 and 30"})
            if not 0 <= float(body.get("prompt_influence", 0.3)) <= 1:
                errors.append({"loc": ["body", "prompt_influence"], "msg": "must be between 0 and 1"})
            if errors:
                return JSONResponse({"detail": errors}, status_code=422)
            if "FORBIDDEN" in body["text"]:
                return detail(400, "content_policy_violation", "The prompt violates our terms of service")
            return Response(mp3_bytes(float(seconds or 2.0)), media_type="audio/mpeg", headers={"request-id": "r-1"})

        return app
