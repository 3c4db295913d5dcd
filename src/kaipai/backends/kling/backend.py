"""``kling``: Kling (可灵) image-to-video, multi-image references and lip sync through the Kling API.

Clips: ``POST /v1/videos/image2video`` (the keyframe, and ``image_tail`` for a shot that says where
it ends), or ``/v1/videos/multi-image2video`` when the shot has references and the model takes them
(kling-v1-6: up to four). Lip sync: ``POST /v1/videos/lip-sync`` in ``audio2video`` mode with the
shot's circled voice; it works on a clip Kling holds — one Kling made (its video id, kept 30 days)
or one whose provider link is still valid — since Kling takes no upload.

Every task runs the shared life of :func:`~kaipai.backends.remote.tasks.run_task`. Clip tasks carry
an ``external_task_id`` derived from the job, so a render killed between Kling accepting a task and
kaipai recording it finds that task again (in the task list) instead of paying for a second one.
Each optional parameter is sent only to models whose sheet lists it (``cfg_scale``: v1 only).

Keys: ``KLING_ACCESS_KEY`` / ``KLING_SECRET_KEY``, or ``access_key`` / ``secret_key`` under
``[kling]`` in ~/.config/kaipai/config.toml. Region: ``options.region`` (``cn``, the default, or
``global``), else ``KLING_REGION`` or ``region`` under ``[kling]``; ``base_url`` overrides the host.
Options: ``mode`` (std | pro), ``cfg_scale``, ``sheet`` overrides and the polling figures of
:class:`~kaipai.backends.remote.tasks.PollSettings`.
"""

from __future__ import annotations

import base64
import hashlib
import time
from pathlib import Path
from typing import Any

import httpx

from kaipai.backends.base import (
    Backend,
    BackendError,
    Capability,
    CapabilitySheet,
    JobContext,
    LipsyncRequest,
    NotConfigured,
    RefusedError,
    Result,
    TransientError,
    UnsupportedRequest,
    VideoRequest,
)
from kaipai.backends.kling import protocol
from kaipai.backends.kling.protocol import PROVIDER
from kaipai.backends.remote import media, tasks
from kaipai.backends.remote.sheets import default_model, load_sheet, located

#: How long Kling keeps a generated video for lip sync and downloads (its docs: 30 days).
RETENTION_SECONDS = 30 * 24 * 3600
LIPSYNC_AUDIO_BYTES = 5 * 1024 * 1024
#: Attempts of one job under distinct external ids (a failed task's id cannot be reused).
MAX_EXTERNAL_ATTEMPTS = 20


def external_id(job_key: str, attempt: int) -> str:
    """The client-chosen task id of one attempt at one job: stable across restarts, unique per attempt."""
    return f"kaipai-{hashlib.sha256(job_key.encode()).hexdigest()[:24]}-{attempt}"


class KlingBackend(Backend):
    name = "kling"
    capabilities = frozenset({Capability.video, Capability.lipsync})
    version = "2"

    def __init__(self, model: str | None = None, **options: Any) -> None:
        super().__init__(model=model, **options)
        self.settings = tasks.PollSettings.from_options(options, interval=5.0)
        self.region, self.base_url = located("kling", options)
        self.mode = str(options.get("mode", "std"))
        if self.mode not in ("std", "pro"):
            raise NotConfigured(f"kling mode {self.mode!r} is not one of std, pro")
        self._api = httpx.Client(base_url=self.base_url, timeout=self.settings.timeout)
        self._files = httpx.Client(timeout=self.settings.download_timeout, follow_redirects=True)
        self._errors = protocol.errors_hook(f"region {self.region} at {self.base_url}")

    # ------------------------------------------------------------------ configuration

    def sheet_id(self, capability: Capability = Capability.video) -> str:
        if capability == Capability.lipsync:
            return default_model("kling", capability, self.region)
        if self.model:
            return self.model if "@" in self.model else f"{self.model}@{self.mode}"
        return default_model("kling", capability, self.region).split("@")[0] + "@" + self.mode

    def describe(self, capability: Capability) -> CapabilitySheet:
        overrides = (self.options.get("sheet") or {}).get(capability.value)
        return load_sheet("kling", self.sheet_id(capability), overrides, self.region)

    def _keys(self) -> tuple[str, str]:
        return (
            tasks.require("kling", "access_key", "KLING_ACCESS_KEY", "the Kling access key"),
            tasks.require("kling", "secret_key", "KLING_SECRET_KEY", "the Kling secret key"),
        )

    def check(self) -> str:
        self._keys()
        return f"Kling ({self.region}) at {self.base_url}: keys found"

    def reachable(self) -> str:
        """List one task: proves the address, the region and the keys without spending."""
        response = self._send("GET", "/v1/videos/image2video", params={"pageNum": 1, "pageSize": 1})
        protocol.data_of(response, self.region or "")
        return f"Kling ({self.region}) at {self.base_url}: reachable, keys accepted"

    def close(self) -> None:
        self._api.close()
        self._files.close()

    # ------------------------------------------------------------------ protocol

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {protocol.api_token(*self._keys())}", "Content-Type": "application/json"}
        return tasks.send(self._api, method, path, PROVIDER, errors=self._errors, headers=headers, **kwargs)

    def _data(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        data = protocol.data_of(self._send(method, path, **kwargs), self.region or "")
        if not isinstance(data, dict):
            raise TransientError(f"Kling sent a list where a task was expected: {str(data)[:200]}")
        return data

    def _look(self, endpoint: str, task_id: str) -> tasks.Poll:
        data = self._data("GET", f"{endpoint}/{task_id}")
        status = str(data.get("task_status", ""))
        if status == "succeed":
            return tasks.Poll("done", data)
        if status == "failed":
            return tasks.Poll("failed", data)
        if status in ("submitted", "processing"):
            return tasks.Poll("waiting", data, message=status)
        raise TransientError(f"Kling task {task_id} has an unknown status {status!r}")

    @staticmethod
    def _failure(task_id: str, poll: tasks.Poll) -> BackendError:
        message = str(poll.payload.get("task_status_msg") or "no reason given")
        if protocol.is_refusal_message(message):
            return RefusedError(f"Kling refused task {task_id}: {message}", provider_reason=message)
        return TransientError(f"Kling task {task_id} failed: {message}", provider_reason=message)

    def _run(self, endpoint: str, body: dict[str, Any], ctx: JobContext, idempotent: bool) -> dict[str, Any]:
        """One task at ``endpoint`` through the shared life; with ``idempotent``, under an external id."""
        attempt: list[int] = []  # the next free attempt number, once the task list was read

        def find() -> str | None:
            """This job's latest task by its external ids (newest first in the list), noting the next free id."""
            listed = protocol.data_of(
                self._send("GET", endpoint, params={"pageNum": 1, "pageSize": 500}), self.region or ""
            )
            mine = {
                str((t.get("task_info") or {}).get("external_task_id")): t
                for t in (listed if isinstance(listed, list) else [])
                if isinstance(t, dict)
            }
            latest, n = None, 0
            while n < MAX_EXTERNAL_ATTEMPTS and external_id(ctx.key, n) in mine:
                latest, n = mine[external_id(ctx.key, n)], n + 1
            attempt[:] = [n]
            return str(latest["task_id"]) if latest else None

        def submit() -> str:
            sent = dict(body)
            if idempotent and ctx.key:
                if not attempt:  # resuming a recorded task that failed: its id is taken, find the next
                    find()
                sent["external_task_id"] = external_id(ctx.key, attempt[0])
                attempt[0] += 1
            return str(self._data("POST", endpoint, json=sent).get("task_id") or "")

        final = tasks.run_task(
            ctx,
            PROVIDER,
            self.settings,
            submit=submit,
            look=lambda task_id: self._look(endpoint, task_id),
            failure=self._failure,
            find=find if idempotent and ctx.key else None,
        )
        return final.payload

    # ------------------------------------------------------------------ clips

    @staticmethod
    def _image(path: Path) -> str:
        """Raw base64, no ``data:`` prefix (the docs call a prefix wrong); JPEG or PNG."""
        return base64.b64encode(media.image_bytes(path)).decode()

    def _clip_body(self, request: VideoRequest, sheet: CapabilitySheet) -> tuple[str, dict[str, Any]]:
        assert request.image is not None
        takes = set(sheet.parameters or [])
        body: dict[str, Any] = {
            "model_name": sheet.model,
            "mode": self.mode,
            "duration": str(round(request.duration)),
            "prompt": request.prompt[:2500],
        }
        if request.negative_prompt and "negative_prompt" in takes:
            body["negative_prompt"] = request.negative_prompt[:2500]
        if "cfg_scale" in takes and "cfg_scale" in self.options:
            body["cfg_scale"] = float(self.options["cfg_scale"])
        references = request.reference_images
        if references and request.last_image is None:
            # multi-image2video: the keyframe leads (it holds the composition), then who and what is in shot
            body["image_list"] = [{"image": self._image(p)} for p in [request.image, *references]]
            body["aspect_ratio"] = _aspect(request.width, request.height)
            return "/v1/videos/multi-image2video", body
        body["image"] = self._image(request.image)
        if request.last_image is not None:
            body["image_tail"] = self._image(request.last_image)
        return "/v1/videos/image2video", body

    def generate_video(self, request: VideoRequest, ctx: JobContext) -> Result:
        if request.image is None:
            raise BackendError("Kling image-to-video needs the shot's keyframe; render the keyframe stage first")
        sheet = self.sheet(Capability.video)
        if request.last_image is not None and not sheet.first_last_frame:
            raise UnsupportedRequest(
                f"Kling {sheet.model} in {self.mode} mode cannot take an end frame; "
                "choose a model and mode whose sheet says first_last_frame (e.g. kling-v2-5-turbo, mode: pro)"
            )
        if request.audio is not None:
            raise UnsupportedRequest(f"Kling {sheet.model} does not animate a voice; lip-sync the clip instead")
        if len(request.reference_images) > sheet.max_reference_images:
            raise UnsupportedRequest(
                f"Kling {sheet.model} takes {sheet.max_reference_images or 'no'} reference images besides the "
                f"keyframe, and the shot has {len(request.reference_images)}; choose kling-v1-6 (multi-image, up "
                "to 3) or fewer references"
            )
        endpoint, body = self._clip_body(request, sheet)
        payload = self._run(endpoint, body, ctx, idempotent=True)
        result = self._collect(payload, ctx, sheet, "clip", request.duration, len(body.get("image_list", [])))
        if request.reference_images and "image_list" not in body:
            # an end frame and references cannot go together (image2video has no references): the end
            # frame is the director's constraint, the references only guidance — and the take says so
            result.metadata["references_not_sent"] = len(request.reference_images)
        return result

    # ------------------------------------------------------------------ lip sync

    def _source(self, request: LipsyncRequest) -> dict[str, str]:
        """Where Kling finds the clip: its own video id, else a provider link that still works."""
        source = request.clip_source
        now = time.time()
        made = float(source.get("created_at") or 0)
        if source.get("provider") == "kling" and source.get("video_id") and now - made < RETENTION_SECONDS - 3600:
            return {"video_id": str(source["video_id"])}
        if source.get("url") and float(source.get("expires_at") or 0) > now + 600:
            return {"video_url": str(source["url"])}
        made_by = source.get("provider") or "a backend that keeps no copy online"
        raise UnsupportedRequest(
            f"Kling lip sync works on a clip Kling can fetch: one Kling made (kept 30 days) or one whose "
            f"provider link is still valid; this clip was made by {made_by}. Render the clip with kling, "
            "or choose dashscope (VideoRetalk uploads the clip) under backends.lipsync"
        )

    def lipsync(self, request: LipsyncRequest, ctx: JobContext) -> Result:
        sheet = self.sheet(Capability.lipsync)
        audio, suffix = media.audio_within(request.audio, LIPSYNC_AUDIO_BYTES)
        body = {
            "input": {
                "mode": "audio2video",
                **self._source(request),
                "audio_type": "file",
                "audio_file": base64.b64encode(audio).decode(),
            }
        }
        seconds = tasks.probe(request.audio).duration or 0.0
        return self._collect(
            self._run("/v1/videos/lip-sync", body, ctx, idempotent=False), ctx, sheet, "lipsync", seconds, 0, suffix
        )

    # ------------------------------------------------------------------ results

    def _collect(
        self,
        payload: dict[str, Any],
        ctx: JobContext,
        sheet: CapabilitySheet,
        stem: str,
        asked_seconds: float,
        references: int,
        audio_suffix: str = "",
    ) -> Result:
        task_id = ctx.job_id
        videos = (payload.get("task_result") or {}).get("videos") or []
        if not videos or not videos[0].get("url"):
            raise TransientError(f"Kling task {task_id} succeeded without a video: {str(payload)[:200]}")
        video = videos[0]
        url = str(video["url"])
        path = tasks.download(
            self._files, url, ctx.out_dir / f"{stem}{tasks.suffix_for(url, default='.mp4')}", PROVIDER, self.settings
        )
        probed = tasks.probe(path)
        seconds = float(video.get("duration") or probed.duration or asked_seconds)
        deducted = payload.get("final_unit_deduction")
        units = float(deducted) if deducted not in (None, "") else seconds
        created = float(payload.get("created_at") or 0) / 1000 or time.time()
        metadata: dict[str, Any] = {
            "provider": "kling",
            "region": self.region,
            "task_id": task_id,
            "video_id": str(video.get("id") or ""),
            "url": url,
            "created_at": created,
            "expires_at": created + RETENTION_SECONDS,
            "mode": self.mode,
            "cost_unit": "resource unit" if deducted not in (None, "") else "second",
            "currency": sheet.currency,
        }
        if references:
            metadata["images_sent"] = references
        if audio_suffix:
            metadata["audio_sent"] = audio_suffix
        return probed.result(
            [path], cost_units=units, cost=seconds * sheet.cost_per_unit, model=sheet.model, metadata=metadata
        )


def _aspect(width: int, height: int) -> str:
    """The multi-image endpoint's aspect ratio nearest the shot's (16:9, 9:16 or 1:1)."""
    ratio = width / max(1, height)
    return min(("16:9", 16 / 9), ("9:16", 9 / 16), ("1:1", 1.0), key=lambda r: abs(r[1] - ratio))[0]
