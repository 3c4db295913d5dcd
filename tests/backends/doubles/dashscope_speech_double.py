"""The speech half of the DashScope double: CosyVoice over WebSocket and HTTP, and voice cloning.

Follows Model Studio's CosyVoice pages (WebSocket API and its server events, the HTTP API, the voice
list, voice cloning) and what dashscope SDK 2.0.2's ``tts_v2.SpeechSynthesizer``,
``HttpSpeechSynthesizer`` and ``VoiceEnrollmentService`` send:

- WebSocket ``/api-ws/v1/inference``: ``run-task`` (``task_group`` audio, ``task`` tts, ``function``
  SpeechSynthesizer) is answered ``task-started``; ``continue-task`` carries text (the SDK repeats the
  model fields, the protocol page does not: both are accepted); after ``finish-task`` come
  ``result-generated`` events (sentence-begin, sentence-synthesis followed by binary audio,
  sentence-end) and ``task-finished`` with ``usage.characters`` (a Chinese character counts twice);
  failures are ``task-failed`` with ``error_code``/``error_message`` — a voice of another model is
  ``[tts:]Engine return error code: 418``, a bad key ``InvalidApiKey``;
- ``format`` pcm is raw 16-bit mono at ``sample_rate``; wav a WAV file; other formats (mp3, the SDK's
  "Default") are answered with WAV bytes too, which the SDK passes through unread;
- HTTP ``POST /api/v1/services/audio/tts/SpeechSynthesizer`` answers ``output.audio.url``;
- ``POST /api/v1/services/audio/tts/customization`` (model ``voice-enrollment``): ``create_voice``
  (a sample URL, ``oss://`` uploaded for voice-enrollment with the resolve header), ``list_voice``,
  ``query_voice`` (DEPLOYING, then OK — or UNDEPLOYED with ``clone_fails``), ``delete_voice``.

Voices: v2 models take ``*_v2`` system voices, v3 models the others, v3.5 models cloned voices only;
a cloned voice only on the model it was cloned for. ``ws_faults`` (one per speech task): "fail"
(``InternalError``), "throttle" (``Throttling.RateQuota``), "drop" (the socket closes mid-stream),
"silent" (no ``task-started``).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import re
import time
import uuid
import wave
from typing import TYPE_CHECKING, Any

import numpy as np
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response

if TYPE_CHECKING:
    from tests.backends.doubles.dashscope_double import DashScopeDouble

MODELS = ("cosyvoice-v2", "cosyvoice-v3-flash", "cosyvoice-v3-plus", "cosyvoice-v3.5-flash", "cosyvoice-v3.5-plus")
CJK = re.compile(r"[\u4e00-\u9fff]")


def characters(text: str) -> int:
    return len(text) + len(CJK.findall(text))


def voice_problem(double: DashScopeDouble, model: str, voice: str) -> str | None:
    if model not in MODELS:
        return f"Model not found: {model}"
    cloned = double.voices.get(voice)
    if cloned is not None:
        return (
            None
            if cloned["target_model"] == model and cloned["status"] == "OK"
            else "[tts:]Engine return error code: 418"
        )
    if not voice or model.startswith("cosyvoice-v3.5") or voice.endswith("_v2") != (model == "cosyvoice-v2"):
        return "[tts:]Engine return error code: 418"
    return None


def line_pcm(text: str, rate: int) -> bytes:
    """A voice-like sound for ``text``: one syllable per character, pitched by the text, 16-bit mono."""
    seconds = max(0.5, 0.18 * len(text))
    t = np.arange(int(seconds * rate)) / rate
    pitch = 150 + int(hashlib.sha256(text.encode()).hexdigest(), 16) % 100
    envelope = np.abs(np.sin(np.pi * t / 0.18))
    pcm = 0.4 * np.sin(2 * np.pi * pitch * t) * envelope
    return (pcm * 32767).astype("<i2").tobytes()


def as_format(pcm: bytes, rate: int, kind: str) -> bytes:
    if kind == "pcm":
        return pcm
    buf = io.BytesIO()
    with wave.open(buf, "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(rate or 22050)
        fh.writeframes(pcm)
    return buf.getvalue()


def add_speech(app: FastAPI, double: DashScopeDouble) -> None:
    from tests.backends.doubles.dashscope_double import KEY, error, invalid

    def event(task_id: str, name: str, payload: dict[str, Any] | None = None, **header: Any) -> str:
        return json.dumps(
            {"header": {"task_id": task_id, "event": name, "attributes": {}, **header}, "payload": payload or {}}
        )

    @app.websocket("/api-ws/v1/inference")
    async def inference(websocket: WebSocket) -> None:
        await websocket.accept()
        frames: list[dict[str, Any]] = []
        double.speech_sessions.append(frames)
        authorised = websocket.headers.get("authorization") == f"Bearer {KEY}"
        started: dict[str, Any] = {}
        text: list[str] = []
        fault: str | None = None
        try:
            while True:
                message = json.loads(await websocket.receive_text())
                frames.append(message)
                head, payload = message.get("header") or {}, message.get("payload") or {}
                task_id, action = str(head.get("task_id", "")), head.get("action")
                if action == "run-task":
                    fault = double.ws_faults.pop(0) if double.ws_faults else None
                    parameters = payload.get("parameters") or {}
                    why = None if authorised else ("InvalidApiKey", "Invalid API-key provided.")
                    kind = (payload.get("task_group"), payload.get("task"), payload.get("function"))
                    if why is None and kind != ("audio", "tts", "SpeechSynthesizer"):
                        why = ("InvalidParameter", "task_group, task or function is invalid")
                    if why is None and (
                        problem := voice_problem(double, str(payload.get("model")), str(parameters.get("voice", "")))
                    ):
                        why = ("InvalidParameter", problem)
                    if why is not None:
                        await websocket.send_text(
                            event(task_id, "task-failed", error_code=why[0], error_message=why[1])
                        )
                        continue
                    if fault == "silent":
                        continue
                    started = {"task_id": task_id, **parameters}
                    await websocket.send_text(event(task_id, "task-started"))
                elif action == "continue-task":
                    text.append(str((payload.get("input") or {}).get("text") or ""))
                elif action == "finish-task" and started:
                    await finish(websocket, task_id, "".join(text), started, fault)
                    started, text = {}, []
        except WebSocketDisconnect:
            return

    async def finish(websocket: WebSocket, task_id: str, text: str, params: dict[str, Any], fault: str | None) -> None:
        if "FORBIDDEN" in text:
            await websocket.send_text(
                event(
                    task_id,
                    "task-failed",
                    error_code="DataInspectionFailed",
                    error_message="Input text data may contain inappropriate content.",
                )
            )
            return
        if fault in ("fail", "throttle"):
            code = "InternalError" if fault == "fail" else "Throttling.RateQuota"
            await websocket.send_text(event(task_id, "task-failed", error_code=code, error_message="please retry"))
            return
        rate = int(params.get("sample_rate") or 22050) or 22050
        audio = as_format(line_pcm(text, rate), rate, str(params.get("format", "mp3")).lower())
        sentence = {"index": 0, "words": []}
        usage = {"characters": characters(text)}
        await websocket.send_text(
            event(
                task_id,
                "result-generated",
                {"output": {"sentence": sentence, "type": "sentence-begin", "original_text": text}},
            )
        )
        await websocket.send_text(
            event(task_id, "result-generated", {"output": {"sentence": sentence, "type": "sentence-synthesis"}})
        )
        for start in range(0, len(audio), 4096):
            await websocket.send_bytes(audio[start : start + 4096])
            if fault == "drop":
                await websocket.close(code=1011)
                return
            await asyncio.sleep(0)
        await websocket.send_text(
            event(
                task_id,
                "result-generated",
                {"output": {"sentence": sentence, "type": "sentence-end", "original_text": text}, "usage": usage},
            )
        )
        await websocket.send_text(
            event(task_id, "task-finished", {"output": {"sentence": {"words": []}}, "usage": usage})
        )

    @app.post("/api/v1/services/audio/tts/SpeechSynthesizer")
    async def http_speech(request: Request) -> Response:
        if (denied := double.denied(request)) is not None:
            return denied
        if (bad := double.fault()) is not None:
            return bad
        body = await request.json()
        double.requests.append(("tts-http", body, dict(request.headers)))
        data = body.get("input") or {}
        text = str(data.get("text") or "")
        if not text:
            return invalid("Field required: input.text")
        if problem := voice_problem(double, str(body.get("model")), str(data.get("voice") or "")):
            return invalid(problem)
        if "FORBIDDEN" in text:
            return error("DataInspectionFailed", "Input text data may contain inappropriate content.")
        rate = int(data.get("sample_rate") or 24000)
        name = f"speech-{uuid.uuid4().hex[:8]}"
        double.speech_files[name] = as_format(line_pcm(text, rate), rate, "wav")
        expires = time.time() + double.url_ttl
        audio = {
            "url": f"{double.base_url}/oss/{name}.wav?Expires={expires}",
            "id": name,
            "expires_at": int(expires),
            "data": "",
        }
        return JSONResponse(
            {
                "request_id": "r-tts",
                "output": {"finish_reason": "stop", "audio": audio},
                "usage": {"characters": characters(text)},
            }
        )

    @app.post("/api/v1/services/audio/tts/customization")
    async def customization(request: Request) -> Response:
        if (denied := double.denied(request)) is not None:
            return denied
        if (bad := double.fault()) is not None:
            return bad
        body = await request.json()
        double.requests.append(("customization", body, dict(request.headers)))
        if body.get("model") != "voice-enrollment":
            return invalid("model must be voice-enrollment")
        data = body.get("input") or {}
        action = data.get("action")
        if action == "create_voice":
            prefix = str(data.get("prefix") or "")
            if not re.fullmatch(r"[a-z0-9]{1,9}", prefix) or data.get("target_model") not in MODELS:
                return invalid("prefix: digits and lowercase letters, under 10 characters; target_model required")
            sample, why = double.media(data.get("url"), "voice-enrollment", request.headers, "url", image=False)
            if why:
                return invalid(why)
            if len(sample) < 1000:
                return error("Audio.AudioShortError", "the audio is too short")
            voice_id = f"{data['target_model']}-{prefix}-{uuid.uuid4().hex[:12]}"
            double.voices[voice_id] = {
                "voice_id": voice_id,
                "target_model": data["target_model"],
                "prefix": prefix,
                "status": "DEPLOYING",
                "queries": 0,
                "gmt_create": "2026-12-01 10:00:00",
                "gmt_modified": "2026-12-01 10:00:00",
            }
            return JSONResponse({"request_id": "r-enroll", "output": {"voice_id": voice_id}, "usage": {"count": 1}})
        if action == "list_voice":
            prefix = data.get("prefix")
            listed = [
                {k: v[k] for k in ("voice_id", "gmt_create", "gmt_modified", "status")}
                for v in double.voices.values()
                if not prefix or v["prefix"] == prefix
            ]
            return JSONResponse({"request_id": "r-list", "output": {"voice_list": listed}, "usage": {"count": 1}})
        voice = double.voices.get(str(data.get("voice_id")))
        if voice is None:
            return error("BadRequest.ResourceNotExist", "The voice does not exist.")
        if action == "query_voice":
            voice["queries"] += 1
            if voice["status"] == "DEPLOYING" and voice["queries"] >= double.deploy_polls:
                voice["status"] = "UNDEPLOYED" if double.clone_fails else "OK"
            shown = {k: v for k, v in voice.items() if k != "queries"}
            return JSONResponse({"request_id": "r-query", "output": shown, "usage": {"count": 1}})
        if action == "delete_voice":
            del double.voices[voice["voice_id"]]
            return JSONResponse({"request_id": "r-delete", "output": {}, "usage": {"count": 1}})
        return invalid(f"unknown action {action!r}")
