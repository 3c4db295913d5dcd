"""CosyVoice: speech over DashScope's WebSocket (every model), over HTTP (Beijing), and voice cloning.

The WebSocket protocol is what dashscope SDK 2.0.2's ``tts_v2.SpeechSynthesizer`` speaks (Model
Studio, "CosyVoice WebSocket API"): ``run-task`` (task_group ``audio``, task ``tts``, function
``SpeechSynthesizer``) → ``task-started``; ``continue-task`` with the text; ``finish-task``; then
binary audio frames and ``result-generated`` events until ``task-finished`` (or ``task-failed``).
HTTP (``HttpSpeechSynthesizer``, Beijing only) answers one POST with a link to the audio.

Cloning follows ``VoiceEnrollmentService``: the sample is uploaded (``voice-enrollment``), a voice is
created for the target model under a prefix derived from the sample, and polled until it is ``OK``.
Before creating one, the account's voices under that prefix are listed, so the same sample is never
cloned twice — the lookup that makes a killed render resume instead of paying again.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.exceptions import InvalidStatus, WebSocketException
from websockets.sync.client import connect

from kaipai.backends.base import (
    BackendError,
    NotConfigured,
    TransientError,
)
from kaipai.backends.dashscope import protocol
from kaipai.backends.dashscope.uploads import RESOLVE_HEADER, Uploader
from kaipai.backends.remote import tasks

START_SECONDS = 10.0  # the SDK's wait for task-started
SERVER_TROUBLE = ("InternalError", "SystemError", "ModelServiceFailed", "ModelServingError", "RequestTimeOut")
ENROLL_MODEL = "voice-enrollment"
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")


def billable_characters(text: str) -> int:
    """CosyVoice's count: a Chinese character is two, anything else one."""
    return len(text) + len(CJK.findall(text))


@dataclass
class Spoken:
    pcm: bytes
    characters: int
    task_id: str


def synthesize_ws(
    url: str, key: str, model: str, voice: str, text: str, sample_rate: int, seed: int, timeout: float
) -> Spoken:
    """One line over the WebSocket, as 16-bit mono PCM at ``sample_rate``."""
    task_id = uuid.uuid4().hex
    header = {"task_id": task_id, "streaming": "duplex"}
    payload = {"model": model, "task_group": "audio", "task": "tts", "function": "SpeechSynthesizer"}
    parameters = {
        "voice": voice,
        "volume": 50,
        "text_type": "PlainText",
        "sample_rate": sample_rate,
        "rate": 1.0,
        "format": "pcm",
        "pitch": 1.0,
        "seed": seed % 65536,
    }
    audio = bytearray()
    characters = 0
    try:
        with connect(
            url, additional_headers={"Authorization": f"Bearer {key}"}, open_timeout=timeout, close_timeout=1
        ) as ws:
            ws.send(
                json.dumps(
                    {
                        "header": {"action": "run-task", **header},
                        "payload": {**payload, "input": {}, "parameters": parameters},
                    }
                )
            )
            _until(ws, "task-started", min(START_SECONDS, timeout), audio)
            ws.send(
                json.dumps(
                    {"header": {"action": "continue-task", **header}, "payload": {**payload, "input": {"text": text}}}
                )
            )
            ws.send(json.dumps({"header": {"action": "finish-task", **header}, "payload": {"input": {}}}))
            finished = _until(ws, "task-finished", timeout, audio)
            characters = int(((finished.get("payload") or {}).get("usage") or {}).get("characters") or 0)
    except InvalidStatus as exc:
        status = exc.response.status_code
        if status in (401, 403):
            raise NotConfigured(
                f"DashScope refused the API key for speech (HTTP {status}); check DASHSCOPE_API_KEY and its region"
            ) from None
        raise TransientError(f"DashScope's speech socket answered HTTP {status}") from None
    except (OSError, WebSocketException) as exc:
        raise TransientError(f"DashScope's speech socket broke off ({type(exc).__name__}: {exc})") from None
    if not audio:
        raise TransientError("DashScope finished the speech task without sending audio")
    if len(audio) % 2:
        audio = audio[:-1]
    return Spoken(bytes(audio), characters or billable_characters(text), task_id)


def _until(ws: Any, event: str, timeout: float, audio: bytearray) -> dict[str, Any]:
    """Read frames (keeping audio) until ``event``; a ``task-failed`` is raised as its error."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TransientError(f"DashScope's speech task sent no {event} within {timeout:g} s")
        try:
            frame = ws.recv(timeout=left)
        except TimeoutError:
            raise TransientError(f"DashScope's speech task sent no {event} within {timeout:g} s") from None
        if isinstance(frame, bytes):
            audio.extend(frame)
            deadline = time.monotonic() + timeout  # audio is progress
            continue
        try:
            message = json.loads(frame)
        except ValueError:
            raise TransientError(f"DashScope's speech socket sent a frame that is not JSON: {frame[:100]!r}") from None
        head = message.get("header") or {}
        if head.get("event") == "task-failed":
            code, text = str(head.get("error_code") or ""), str(head.get("error_message") or "")
            raise _speech_error(code, text)
        if head.get("event") == event:
            return message


def _speech_error(code: str, message: str) -> BackendError:
    """A ``task-failed`` as the error it means: the server's trouble and rate limits are retried."""
    if "418" in message:
        return BackendError(
            f"DashScope refused the voice ({code}): {message} — a CosyVoice voice belongs to one model; "
            "name a voice of the chosen model under voice.voice, or none for a default one",
            provider_reason=message,
        )
    if not code or code.startswith(SERVER_TROUBLE) or code in protocol.RATE_LIMITS:
        return TransientError(f"DashScope's speech task failed ({code}): {message}", provider_reason=message)
    known = protocol.error_for(400, code, message, "speech")
    return known or TransientError(f"DashScope's speech task failed ({code}): {message}", provider_reason=message)


def synthesize_http(
    send: protocol.Send, where: str, model: str, voice: str, text: str, sample_rate: int
) -> tuple[str, int, str]:
    """One line over HTTP (``HttpSpeechSynthesizer``): (the audio link, billed characters, request id)."""
    body = {"model": model, "input": {"text": text, "voice": voice, "format": "wav", "sample_rate": sample_rate}}
    data = protocol.reply(send("POST", protocol.SPEECH_PATH, json=body), where)
    audio = (data.get("output") or {}).get("audio") or {}
    if not audio.get("url"):
        raise TransientError(f"DashScope's speech reply has no audio link: {str(data)[:200]}")
    usage = int((data.get("usage") or {}).get("characters") or billable_characters(text))
    return str(audio["url"]), usage, str(data.get("request_id", ""))


# --------------------------------------------------------------------------- cloning


def clone_prefix(sample: bytes, model: str) -> str:
    """The voice prefix for a sample and model: digits and lowercase letters, under 10 characters."""
    return "kp" + hashlib.sha256(sample + model.encode()).hexdigest()[:7]


class Enrollment:
    """Voices cloned from the characters' samples, through ``/api/v1/services/audio/tts/customization``."""

    def __init__(
        self, send: protocol.Send, headers: Any, uploader: Uploader, settings: tasks.PollSettings, where: str
    ) -> None:
        self.send, self.headers, self.uploader, self.settings, self.where = send, headers, uploader, settings, where
        self._voices: dict[tuple[str, str], str] = {}

    def _call(self, action: str, **fields: Any) -> dict[str, Any]:
        body = {"model": ENROLL_MODEL, "input": {"action": action, **fields}, "parameters": {}}
        response = self.send("POST", protocol.ENROLL_PATH, headers={**self.headers(), **RESOLVE_HEADER}, json=body)
        return protocol.reply(response, self.where).get("output") or {}

    def voices(self, prefix: str | None = None) -> list[dict[str, Any]]:
        """The account's cloned voices (under ``prefix``): ``voice_id``, ``status``, dates."""
        fields: dict[str, Any] = {"page_index": 0, "page_size": 100, **({"prefix": prefix} if prefix else {})}
        listed = self._call("list_voice", **fields).get("voice_list") or []
        return [v for v in listed if isinstance(v, dict)]

    def voice_for(self, sample: Path, model: str) -> str:
        """The voice cloned from ``sample`` for ``model``: found among the account's voices, else created."""
        try:
            raw = sample.read_bytes()
        except OSError as exc:
            raise BackendError(f"cannot read the voice sample {sample} ({exc})") from None
        key = (hashlib.sha256(raw).hexdigest(), model)
        if key not in self._voices:
            self._voices[key] = self._find_or_create(sample, raw, model)
        return self._voices[key]

    def _find_or_create(self, sample: Path, raw: bytes, model: str) -> str:
        prefix = clone_prefix(raw, model)
        mine = [v for v in self.voices(prefix) if model in str(v.get("voice_id", ""))]
        usable = next((v for v in mine if v.get("status") in ("OK", "DEPLOYING")), None)
        if usable is not None:
            voice_id = str(usable["voice_id"])
        else:
            for broken in mine:  # an earlier clone that failed: cleared so the prefix names one voice
                self._call("delete_voice", voice_id=broken["voice_id"])
            url = self.uploader.url(ENROLL_MODEL, sample)
            voice_id = str(self._call("create_voice", target_model=model, prefix=prefix, url=url).get("voice_id") or "")
            if not voice_id:
                raise TransientError("DashScope accepted the voice sample but sent no voice id")
        return self._ready(voice_id, sample)

    def _ready(self, voice_id: str, sample: Path) -> str:
        """Wait for the cloned voice to deploy (DEPLOYING → OK); UNDEPLOYED means the sample was not usable."""
        start, wait = time.monotonic(), self.settings.interval
        while True:
            status = str(self._call("query_voice", voice_id=voice_id).get("status") or "")
            if status == "OK":
                return voice_id
            if status == "UNDEPLOYED":
                raise BackendError(
                    f"DashScope could not clone a voice from {sample.name}; use 10-20 s of clean speech "
                    "(WAV, MP3 or M4A, at least 16 kHz, under 10 MB)"
                )
            if time.monotonic() - start > self.settings.deadline:
                raise TransientError(f"DashScope's clone of {sample.name} is still deploying; the next render waits on")
            time.sleep(wait)
            wait = min(self.settings.max_interval, wait * self.settings.backoff)
