"""``minimax``: MiniMax Hailuo clips (first and last frame, subject reference) and MiniMax voices.

A Hailuo clip is a task: ``POST /v1/video_generation`` returns a ``task_id``, recorded with the
engine at once; ``GET /v1/query/video_generation`` is polled until ``Success``; the clip's
``file_id`` is turned into a download link by ``/v1/files/retrieve`` and fetched at once (links
last about an hour; an expired one is asked for again, once). The keyframe is the first frame;
a last frame makes it a first-and-last-frame clip (Hailuo-02); S2V-01 animates a character from
one reference picture instead. Hailuo follows bracketed camera commands, so the shot's camera
move is added to the prompt (``[Push in]``, ``[Pan left]``…). Hailuo takes no seed and makes no
sound. Voices come from T2A v2 in one synchronous request, hex-encoded; a character with a
``voice.sample`` and no voice id speaks in a voice cloned from it (see :mod:`.voices`).

Key: ``MINIMAX_API_KEY`` or ``api_key`` under ``[minimax]`` in ~/.config/kaipai/config.toml (China
and global keys differ). Options: ``region`` (``cn``, default, or ``global``), ``base_url``,
``resolution`` (512P | 768P | 1080P; 720P for S2V-01), ``voice``, ``voices`` ({character id:
voice id}), ``speed``, ``emotion``, ``clone`` (false: never clone), ``prompt_optimizer``,
``sheet`` overrides and the polling figures of :class:`~kaipai.backends.remote.tasks.PollSettings`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from kaipai.backends.base import (
    Backend,
    BackendError,
    Capability,
    CapabilitySheet,
    JobContext,
    Result,
    SpeechRequest,
    TransientError,
    VideoRequest,
)
from kaipai.backends.minimax.api import PROVIDER, Api, base_resp, error_for
from kaipai.backends.minimax.voices import Voices
from kaipai.backends.remote import sheets, tasks
from kaipai.backends.remote.inputs import data_uri

CAMERA = {
    "static": "Static shot",
    "push_in": "Push in",
    "pull_out": "Pull out",
    "pan_left": "Pan left",
    "pan_right": "Pan right",
    "tilt_up": "Tilt up",
    "tilt_down": "Tilt down",
    "truck_left": "Truck left",
    "truck_right": "Truck right",
    "crane_up": "Pedestal up",
    "crane_down": "Pedestal down",
    "handheld": "Shake",
    "orbit": "Tracking shot",
}
PROMPT_LIMIT = 2000
LANGUAGE_BOOST = {"zh": "Chinese", "en": "English", "yue": "Chinese,Yue", "ja": "Japanese", "ko": "Korean"}
WAITING = ("Preparing", "Queueing", "Processing")


class MiniMaxBackend(Backend):
    name = "minimax"
    capabilities = frozenset({Capability.video, Capability.speech})
    version = "1"
    reads_project_files = True  # a character's voice.sample lives in the project

    def __init__(self, model: str | None = None, **options: Any) -> None:
        super().__init__(model=model, **options)
        self.settings = tasks.PollSettings.from_options(options, interval=10.0)
        self.region, self.base_url = sheets.located("minimax", options)
        self.tier = str(options.get("resolution", "768P")).upper()
        base_dir = options.get("base_dir")
        self.api = Api(self.base_url, self._key, self.settings)
        self.voices = Voices(self.api, options, Path(base_dir) if base_dir else None)
        self._files = httpx.Client(timeout=self.settings.download_timeout, follow_redirects=True)

    # ------------------------------------------------------------------ configuration

    def sheet_id(self, capability: Capability) -> str:
        model = self.model or sheets.default_model("minimax", capability)
        if capability != Capability.video:
            return model
        return sheets.variant_id("minimax", model, self.tier, chosen="resolution" in self.options)

    def describe(self, capability: Capability) -> CapabilitySheet:
        overrides = (self.options.get("sheet") or {}).get(capability.value)
        sheet = sheets.load_sheet("minimax", self.sheet_id(capability), overrides, self.region)
        return sheets.for_capability("MiniMax", sheet, capability)

    def _key(self) -> str:
        return tasks.require("minimax", "api_key", "MINIMAX_API_KEY", "the MiniMax API key")

    def check(self) -> str:
        self._key()
        return f"MiniMax ({self.region}) at {self.base_url}: key found"

    def reachable(self) -> str:
        """List the system voices: proves the address and the key without spending."""
        self.api.call("POST", "/v1/get_voice", "listing voices", json={"voice_type": "system"})
        return f"MiniMax ({self.region}) at {self.base_url}: reachable, key accepted"

    def close(self) -> None:
        self.api.close()
        self._files.close()

    # ------------------------------------------------------------------ Hailuo

    def _prompt(self, request: VideoRequest) -> str:
        prompt = request.prompt
        known = sheets.entry("minimax", self.sheet_id(Capability.video)) or {}
        move = request.shot.move.value if request.shot is not None else None
        if known.get("camera_commands") and move in CAMERA and f"[{CAMERA[move]}" not in prompt:
            prompt = f"{prompt} [{CAMERA[move]}]".strip()
        return prompt[:PROMPT_LIMIT]

    def _body(self, request: VideoRequest, sheet: CapabilitySheet) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": sheet.model,
            "prompt": self._prompt(request),
            "duration": round(request.duration),
            "resolution": self.sheet_id(Capability.video).partition("@")[2] or self.tier,
            "prompt_optimizer": bool(self.options.get("prompt_optimizer", False)),
            "aigc_watermark": False,
        }
        pictures = [*([request.image] if request.image else []), *request.reference_images]
        if sheet.max_reference_images and not sheet.first_last_frame:  # subject reference (S2V-01)
            if not pictures:
                raise BackendError(f"{sheet.model} animates a character from a picture; the shot has none")
            body["subject_reference"] = [{"type": "character", "image": [data_uri(pictures[-1])]}]
        elif request.image is not None:
            body["first_frame_image"] = data_uri(request.image)
            if request.last_image is not None:
                body["last_frame_image"] = data_uri(request.last_image)
        return body

    def _submit(self, body: dict[str, Any]) -> str:
        reply = self.api.call("POST", "/v1/video_generation", "the clip", json=body)
        return str(reply.get("task_id") or "")

    def _look(self, task_id: str) -> tasks.Poll:
        _, body = self.api.reply("GET", "/v1/query/video_generation", params={"task_id": task_id})
        status = str(body.get("status") or "")
        code, message = base_resp(body)
        if status in ("Fail", "Failed"):
            return tasks.Poll("failed", body)
        if code:
            raise error_for(code, message, f"task {task_id}")
        if status == "Success":
            return tasks.Poll("done", body)
        return tasks.Poll("waiting", body, message=status.lower() or "queued")  # any other state is still going

    @staticmethod
    def _failure(task_id: str, poll: tasks.Poll) -> BackendError:
        code, message = base_resp(poll.payload)
        error = error_for(code or 1024, message or "failed", f"task {task_id}")
        if type(error) is BackendError:  # a plain failure inside the provider: a fresh task may succeed
            return TransientError(f"{PROVIDER} task {task_id} failed ({code}: {message})", provider_reason=message)
        return error  # a refusal, an account problem or a transient failure, as it is

    def _fetch(self, file_id: str, ctx: JobContext) -> Path:
        """Ask for the clip's link and fetch it; an expired link is asked for once more (the file lasts)."""
        for attempt in (1, 2):
            reply = self.api.call("GET", "/v1/files/retrieve", "the clip's file", params={"file_id": file_id})
            url = str((reply.get("file") or {}).get("download_url") or "")
            if not url:
                raise TransientError(f"{PROVIDER} has no download link for file {file_id} yet")
            try:
                return tasks.download(self._files, url, ctx.out_dir / "clip.mp4", PROVIDER, self.settings)
            except tasks.ExpiredResult:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def generate_video(self, request: VideoRequest, ctx: JobContext) -> Result:
        sheet = self.sheet(Capability.video)
        body = self._body(request, sheet)
        final = tasks.run_task(
            ctx,
            PROVIDER,
            self.settings,
            submit=lambda: self._submit(body),
            look=self._look,
            failure=self._failure,
        )
        file_id = str(final.payload.get("file_id") or "")
        if not file_id:
            raise TransientError(f"{PROVIDER} task {ctx.job_id} succeeded without a file")
        path = self._fetch(file_id, ctx)
        media = tasks.probe(path)
        seconds = float(body["duration"])
        return media.result(
            [path],
            cost_units=1.0,
            cost=seconds * sheet.cost_per_unit,
            model=sheet.model,
            metadata={
                "provider": "minimax",
                "region": self.region,
                "task_id": ctx.job_id,
                "file_id": file_id,
                "resolution": body["resolution"],
                "audio": media.audio,
                "seed": None,  # Hailuo takes no seed
                "cost_unit": "clip",
                "currency": sheet.currency,
            },
        )

    # ------------------------------------------------------------------ voices

    def synthesize(self, request: SpeechRequest, ctx: JobContext) -> Result:
        sheet = self.sheet(Capability.speech)
        voice, cloned = self.voices.voice_for(request)
        setting: dict[str, Any] = {
            "voice_id": voice,
            "speed": float(self.options.get("speed", 1.0)),
            "vol": 1.0,
            "pitch": 0,
        }
        if self.options.get("emotion"):
            setting["emotion"] = str(self.options["emotion"])
        body = {
            "model": sheet.model,
            "text": request.text,
            "stream": False,
            "voice_setting": setting,
            "audio_setting": {"sample_rate": request.sample_rate, "format": "wav", "channel": 1},
            "language_boost": LANGUAGE_BOOST.get(request.language, "auto"),
            "output_format": "hex",
        }
        reply = self.api.call("POST", "/v1/t2a_v2", "the line", json=body)
        audio = str((reply.get("data") or {}).get("audio") or "")
        try:
            data = bytes.fromhex(audio)
        except ValueError:
            raise TransientError(f"{PROVIDER} sent speech audio that is not hex") from None
        if not data:
            raise TransientError(f"{PROVIDER} speech reply has no audio")
        path = ctx.out_dir / "voice.wav"
        path.write_bytes(data)
        media = tasks.probe(path)
        extra = reply.get("extra_info") or {}
        units = float(extra.get("usage_characters") or len(request.text))
        return media.result(
            [path],
            cost_units=units,
            cost=units * sheet.cost_per_unit,
            model=sheet.model,
            metadata={
                "provider": "minimax",
                "region": self.region,
                "voice": voice,
                "cloned": cloned,
                "trace_id": reply.get("trace_id", ""),
                "cost_unit": "character",
                "currency": sheet.currency,
            },
        )
