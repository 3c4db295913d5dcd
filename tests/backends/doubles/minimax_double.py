"""A MiniMax API protocol double: Hailuo video tasks, file retrieval, T2A v2 speech, voice cloning.

MiniMax has no official Python SDK; this follows the documentation pages on platform.minimax.io
(platform.minimaxi.com for China): "Video Generation" (``POST /v1/video_generation``, ``GET
/v1/query/video_generation``), "File Management" (``POST /v1/files/upload``, ``GET
/v1/files/retrieve``), "T2A v2" (``POST /v1/t2a_v2``), "Voice Cloning" (``POST /v1/voice_clone``),
"Get Voice" (``POST /v1/get_voice``) and "Error Codes" (api-reference/errorcode):

- ``Authorization: Bearer <key>``; v1 answers **HTTP 200** even for errors, with
  ``base_resp.status_code`` (1004 a bad key, 1002 rate limit, 1008 insufficient balance, 1026 /
  1027 sensitive input / output, 2013 invalid parameters, 2037 a clone sample too short or long,
  2039 a duplicate voice id, 2042 a voice the account cannot use); a ``?GroupId=`` is ignored;
- a video task's ``task_id`` is a string of digits; its status walks ``Preparing`` →
  ``Queueing`` → ``Processing`` → ``Success`` (with ``file_id``, ``video_width``/``height``) or
  ``Fail``; ``files/retrieve`` hands out a ``download_url`` valid for a while (an hour), and
  asking again gives a fresh one; the model × resolution × duration matrix and the modes (first
  and last frame on Hailuo-02 only, subject reference on S2V-01 only) are checked;
- speech replies carry the audio **hex-encoded** in ``data.audio`` and ``extra_info``
  (``audio_length`` in ms, ``usage_characters``); a cloned voice can be used once
  ``voice_clone`` registered it.
"""

from __future__ import annotations

import io
import itertools
import re
import time
import wave
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.backends.doubles.server import mp4_bytes
from tests.backends.doubles.task_double import TaskDouble

KEY = "sk-api-minimax-test"
#: model → {resolution: durations} (and the modes it takes)
VIDEO = {
    "MiniMax-Hailuo-02": {"512P": (6, 10), "768P": (6, 10), "1080P": (6,)},
    "MiniMax-Hailuo-2.3": {"768P": (6, 10), "1080P": (6,)},
    "MiniMax-Hailuo-2.3-Fast": {"768P": (6, 10), "1080P": (6,)},
    "S2V-01": {"720P": (6,)},
}
SPEECH = {"speech-2.8-hd", "speech-2.8-turbo", "speech-02-hd", "speech-02-turbo"}
SYSTEM_VOICES = {"male-qn-qingse", "female-shaonv", "female-yujie", "English_Graceful_Lady", "English_Trustworthy_Man"}
VOICE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{6,254}[A-Za-z0-9]$")


def base(code: int = 0, message: str = "success", **body: Any) -> JSONResponse:
    return JSONResponse({**body, "base_resp": {"status_code": code, "status_msg": message}})


def wav_seconds(data: bytes) -> float:
    try:
        with wave.open(io.BytesIO(data)) as fh:
            return fh.getnframes() / fh.getframerate()
    except (wave.Error, EOFError):
        return 0.0


@dataclass
class MiniMaxDouble(TaskDouble):
    polls_to_finish: int = 3
    url_ttl: float = 3600.0
    expire_first_links: int = 0
    fail_task_code: int | None = None
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[int, dict[str, Any]] = field(default_factory=dict)
    cloned: dict[str, int] = field(default_factory=dict)
    speech: list[dict[str, Any]] = field(default_factory=list)
    uploads: int = 0
    _ids: Any = field(default_factory=lambda: itertools.count(106916112212032))
    colour: tuple[int, int, int] | None = None  # the clips' tint, to tell providers apart in a film

    garbage: ClassVar[str] = '{"task_id": "1069'

    def failure(self, kind: str) -> Response | None:
        if kind == "429":  # the gateway's own 429, with a Retry-After
            return JSONResponse({"error": "too many requests"}, status_code=429, headers={"Retry-After": "3"})
        if kind == "rate":
            return base(1002, "rate limit")
        if kind == "balance":
            return base(1008, "insufficient balance")
        if kind == "500":
            return Response("<html>502 Bad Gateway</html>", status_code=502)
        return None

    def app(self) -> FastAPI:
        app = FastAPI()

        def refuse(request: Request) -> Response | None:
            if request.headers.get("authorization") != f"Bearer {KEY}":
                message = (
                    "login fail: Please carry the API secret key in the 'Authorization' field of the request header"
                )
                return base(1004, message)
            return None

        self.guard(app, refuse, open_paths=("/cdn/",))

        @app.post("/v1/video_generation")
        async def create(request: Request) -> Response:
            return self._create(await request.json())

        @app.get("/v1/query/video_generation")
        def query(task_id: str) -> Response:
            return self._query(task_id)

        @app.get("/v1/files/retrieve")
        def retrieve(file_id: int) -> Response:
            found = self.files.get(file_id)
            if found is None:
                return base(1013, "file not found")
            with self.lock:
                expired = self.expire_first_links > 0
                self.expire_first_links -= 1 if expired else 0
            expires = time.time() + (-1 if expired else self.url_ttl)
            url = f"{self.base_url}/cdn/output_aigc_{file_id}.mp4?Expires={expires}&Signature=double"
            file = {"file_id": file_id, "bytes": 0, "created_at": found["created_at"], "filename": "output_aigc.mp4"}
            return base(file={**file, "purpose": "video_generation", "download_url": url})

        @app.get("/cdn/{name}")
        def cdn(name: str, request: Request) -> Response:
            if time.time() > float(request.query_params.get("Expires", "0")):
                return Response("<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>", 403)
            self.downloads.append((name, time.time()))
            return Response(mp4_bytes(colour=self.colour), media_type="video/mp4")

        @app.post("/v1/t2a_v2")
        async def t2a(request: Request) -> Response:
            return self._speech(await request.json())

        @app.post("/v1/files/upload")
        async def upload(request: Request) -> Response:
            form = await request.form()
            sample = form.get("file")
            data = await sample.read() if sample is not None and hasattr(sample, "read") else b""
            if form.get("purpose") != "voice_clone" or not data:
                return JSONResponse({"base_resp": {"status_code": 2013, "status_msg": "invalid params"}}, 400)
            with self.lock:
                self.uploads += 1
                file_id = 300000000000000 + self.uploads
                self.files[file_id] = {"seconds": wav_seconds(data), "created_at": int(time.time())}
            name = getattr(sample, "filename", "sample.wav")
            file = {"file_id": file_id, "bytes": len(data), "created_at": int(time.time()), "filename": name}
            return base(file={**file, "purpose": "voice_clone"})

        @app.post("/v1/voice_clone")
        async def clone(request: Request) -> Response:
            body = await request.json()
            voice_id, file_id = str(body.get("voice_id") or ""), body.get("file_id")
            if not VOICE_ID.match(voice_id):
                return base(2013, "invalid params, voice_id")
            if voice_id in self.cloned:
                return base(2039, "voice clone voice id duplicate")
            sample = self.files.get(int(file_id or 0))
            if sample is None:
                return base(20132, "invalid samples or voice_id")
            if not 10 <= sample["seconds"] <= 300:
                return base(2037, "voice duration too short" if sample["seconds"] < 10 else "voice duration too long")
            self.cloned[voice_id] = int(file_id)
            return base(input_sensitive=False, input_sensitive_type=0, demo_audio="")

        @app.post("/v1/get_voice")
        async def voices(request: Request) -> Response:
            kind = (await request.json()).get("voice_type", "all")
            system = [{"voice_id": v, "voice_name": v, "description": []} for v in sorted(SYSTEM_VOICES)]
            cloned = [{"voice_id": v, "description": [], "created_time": "2026-11-30"} for v in self.cloned]
            return base(
                system_voice=system if kind in ("system", "all") else [],
                voice_cloning=cloned if kind in ("voice_cloning", "all") else [],
            )

        return app

    # ------------------------------------------------------------------ video

    def _create(self, body: dict[str, Any]) -> Response:
        model = str(body.get("model") or "")
        if model not in VIDEO:
            return base(2013, f"invalid params, model {model}")
        resolution = str(body.get("resolution") or next(iter(VIDEO[model])))
        seconds = int(body.get("duration") or 6)
        if seconds not in VIDEO[model].get(resolution, ()):
            return base(2013, f"invalid params, {model} does not make {seconds} s at {resolution}")
        if body.get("last_frame_image") and (model != "MiniMax-Hailuo-02" or resolution == "512P"):
            return base(2013, "invalid params, last_frame_image")
        if body.get("subject_reference") and model != "S2V-01":
            return base(2013, "invalid params, subject_reference")
        if model == "S2V-01" and len((body.get("subject_reference") or [{}])[0].get("image") or []) != 1:
            return base(2013, "invalid params, subject_reference needs one image")
        for name in ("first_frame_image", "last_frame_image"):
            if body.get(name) and not str(body[name]).startswith(("https://", "data:image/")):
                return base(2013, f"invalid params, {name}")
        if len(str(body.get("prompt") or "")) > 2000:
            return base(2013, "invalid params, prompt is longer than 2000 characters")
        if "FORBIDDEN" in str(body.get("prompt") or ""):
            return base(1026, "input new_sensitive", task_id="")
        with self.lock:
            self.submissions += 1
            task_id = str(next(self._ids))
            self.tasks[task_id] = {"body": body, "polls": 0, "status": "Preparing", "done_at": None}
        return base(task_id=task_id)

    def _query(self, task_id: str) -> Response:
        with self.lock:
            task = self.tasks.get(task_id)
            if task is None:
                return base(2013, "invalid params, task_id")
            task["polls"] += 1
            if task["status"] not in ("Success", "Fail"):
                steps = ["Preparing", "Queueing", "Processing"]
                if task["polls"] >= self.polls_to_finish:
                    task["status"] = "Fail" if self.fail_task_code is not None else "Success"
                    task["code"] = self.fail_task_code or 0
                    task["done_at"] = time.time()
                    if task["status"] == "Success":
                        file_id = 205258526306433 + len(self.files)
                        self.files[file_id] = {"created_at": int(time.time())}
                        task["file_id"] = file_id
                else:
                    task["status"] = steps[min(task["polls"], 2)]
        if task["status"] == "Fail":
            message = {1027: "output new_sensitive", 1024: "internal error"}.get(task["code"], "failed")
            return base(task["code"], message, task_id=task_id, status="Fail")
        reply: dict[str, Any] = {"task_id": task_id, "status": task["status"]}
        if task["status"] == "Success":
            reply.update(file_id=str(task["file_id"]), video_width=1366, video_height=768)
        return base(**reply)

    # ------------------------------------------------------------------ speech

    def _speech(self, body: dict[str, Any]) -> Response:
        voice = str((body.get("voice_setting") or {}).get("voice_id") or "")
        text = str(body.get("text") or "")
        audio = body.get("audio_setting") or {}
        if body.get("model") not in SPEECH or not text or len(text) >= 10000:
            return base(2013, "invalid params")
        if voice not in SYSTEM_VOICES and voice not in self.cloned:
            return base(2042, "You don't have access to this voice_id")
        if audio.get("format") not in ("mp3", "pcm", "flac", "wav"):
            return base(2013, "invalid params, audio_setting.format")
        if "FORBIDDEN" in text:
            return base(1026, "input new_sensitive")
        self.speech.append(body)
        rate = int(audio.get("sample_rate") or 32000)
        seconds = max(0.3, 0.25 * len(text))
        tone = (4000 * np.sin(2 * np.pi * 220 * np.arange(int(rate * seconds)) / rate)).astype("<i2")
        buf = io.BytesIO()
        with wave.open(buf, "wb") as fh:
            fh.setnchannels(1)
            fh.setsampwidth(2)
            fh.setframerate(rate)
            fh.writeframes(tone.tobytes())
        data = buf.getvalue()
        extra = {
            "audio_length": int(seconds * 1000),
            "audio_sample_rate": rate,
            "audio_size": len(data),
            "usage_characters": len(text),
            "audio_format": audio.get("format"),
            "audio_channel": 1,
        }
        return base(data={"audio": data.hex(), "status": 2, "subtitle_file": ""}, extra_info=extra, trace_id="01b8bf")
