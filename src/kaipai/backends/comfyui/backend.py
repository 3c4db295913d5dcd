"""``comfyui``: generate with the director's own ComfyUI workflows (keyframes, clips, lip sync, voices, sound).

The director gives an API-format workflow and binds shot fields to its nodes (see
:mod:`kaipai.backends.comfyui.workflow` and ``workflows/README.md``). For each job kaipai uploads
the inputs, queues the prompt under a prompt id and a client id derived from the job, records the
prompt id with the engine, follows the ``/ws`` progress messages, and downloads the outputs from
``/history`` and ``/view``. After a restart the recorded prompt id — or, when the render died before
recording it, the job's own id — is looked up in ``/queue`` and ``/history``: a prompt still queued
or running is waited for, a finished one is collected, and only a prompt the server has forgotten
is queued again. A prompt ComfyUI queues with some outputs left out (HTTP 200 with ``node_errors``)
is followed like any other, and the take says what was left out.

Options: ``url`` (or ``KAIPAI_COMFYUI_URL`` / ``[comfyui] url``), ``workflow``, ``bind``,
``output``, ``sheet`` — or ``workflows: {image: {workflow, bind, output, sheet}, video: …}`` —
``base_dir`` for relative workflow paths, and the polling figures of
:class:`~kaipai.backends.remote.tasks.PollSettings`.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from pathlib import Path
from typing import Any

from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection

from kaipai.backends.base import (
    Backend,
    BackendError,
    Capability,
    CapabilitySheet,
    ImageRequest,
    JobContext,
    LipsyncRequest,
    NotConfigured,
    Request,
    Result,
    SoundRequest,
    SpeechRequest,
    TransientError,
    UnsupportedRequest,
    VideoRequest,
    snap_frames,
)
from kaipai.backends.comfyui.client import ComfyClient, describe_node_errors
from kaipai.backends.comfyui.server_check import missing_on_server
from kaipai.backends.comfyui.workflow import Workflow, configure, load_workflow
from kaipai.backends.remote import tasks
from kaipai.backends.remote.sheets import load_sheet

DEFAULT_URL = "http://127.0.0.1:8188"
EXTENSIONS = {
    "image": (".png", ".jpg", ".jpeg", ".webp"),
    "video": (".mp4", ".webm", ".mov", ".mkv", ".gif"),
    "lipsync": (".mp4", ".webm", ".mov", ".mkv"),
    "speech": (".wav", ".flac", ".mp3", ".ogg"),
    "sound": (".wav", ".flac", ".mp3", ".ogg", ".opus"),
}
MAX_SEED = 2**53 - 1


MAX_ATTEMPTS = 20


def client_id_for(job_key: str) -> str:
    """The same client id for the same job, so a resumed job receives its prompt's messages."""
    return "kaipai-" + str(uuid.uuid5(uuid.NAMESPACE_URL, "kaipai:" + (job_key or uuid.uuid4().hex)))


def prompt_id_for(job_key: str, attempt: int) -> str:
    """Our own prompt id for one attempt at a job: found again after a crash, new after a failed attempt."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"kaipai-prompt:{job_key}:{attempt}"))


class ComfyUIBackend(Backend):
    name = "comfyui"
    capabilities = frozenset(
        {Capability.image, Capability.video, Capability.lipsync, Capability.speech, Capability.sound}
    )
    version = "1"
    reads_project_files = True

    def __init__(self, model: str | None = None, **options: Any) -> None:
        super().__init__(model=model, **options)
        self.settings = tasks.PollSettings.from_options(options, interval=1.0, max_interval=5.0, deadline=3600.0)
        self.url = str(
            options.get("url") or tasks.setting("comfyui", "url", "KAIPAI_COMFYUI_URL") or DEFAULT_URL
        ).rstrip("/")
        if not self.url.startswith(("http://", "https://")):
            raise NotConfigured(f"comfyui url {self.url!r} must start with http:// or https://")
        self.client = ComfyClient(self.url, self.settings)
        self._workflows: dict[str, Workflow] = {}

    # ------------------------------------------------------------------ configuration

    def workflow(self, capability: Capability) -> Workflow:
        cap = capability.value
        if cap not in self._workflows:
            per_cap = (self.options.get("workflows") or {}).get(cap) or {}
            spec = per_cap.get("workflow", self.options.get("workflow"))
            base = self.options.get("base_dir")
            wf = load_workflow(spec, Path(base) if base else None)
            configure(
                wf,
                per_cap.get("bind", self.options.get("bind")),
                per_cap.get("output", self.options.get("output")),
                per_cap.get("sheet", self.options.get("sheet")),
            )
            wf.check_required(cap)
            self._workflows[cap] = wf
        return self._workflows[cap]

    def describe(self, capability: Capability) -> CapabilitySheet:
        wf = self.workflow(capability)
        sheet = load_sheet("comfyui", capability.value, wf.sheet)
        # A workflow takes what it has inputs for: references up to its bound image inputs, a last frame
        # when one is bound. Anything else would be dropped, so the engine must not send it.
        bound = len(wf.targets("reference_images"))
        update: dict[str, Any] = {
            "model": self.model or Path(wf.name).name.removesuffix(".json"),
            "max_reference_images": min(bound, int(wf.sheet.get("max_reference_images", bound))),
        }
        if capability == Capability.video:
            update["first_last_frame"] = bool(wf.targets("last_image"))
        return sheet.model_copy(update=update)

    def check(self) -> str:
        return f"ComfyUI at {self.url}"

    def configured_workflows(self) -> dict[str, Workflow]:
        """The workflow of each capability the options name (none named: none to check)."""
        found: dict[str, Workflow] = {}
        per_cap = self.options.get("workflows") or {}
        for cap in sorted(type(self).capabilities, key=lambda c: c.value):
            if (per_cap.get(cap.value) or {}).get("workflow") or self.options.get("workflow"):
                try:
                    found[cap.value] = self.workflow(cap)
                except NotConfigured:
                    if cap.value in per_cap:
                        raise
        return found

    def reachable(self) -> str:
        """The server answers, and has every node class and model file the configured workflows name."""
        stats = self.client.system_stats()
        version = (stats.get("system") or {}).get("comfyui_version", "")
        devices = ", ".join(str(d.get("name", "?")) for d in stats.get("devices") or []) or "no device listed"
        workflows = self.configured_workflows()
        if workflows:
            info = self.client.object_info()
            missing = [f"{wf.name}: {p}" for wf in workflows.values() for p in missing_on_server(wf, info)]
            if missing:
                raise NotConfigured(f"ComfyUI at {self.url} cannot run the workflows as written: " + "; ".join(missing))
        names = ", ".join(sorted({Path(wf.name).name.removesuffix(".json") for wf in workflows.values()}))
        checked = f"; workflows {names}: every node and model present" if names else ""
        return f"ComfyUI {version} at {self.url}: reachable ({devices}){checked}".replace("  ", " ")

    def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------------ capabilities

    def generate_image(self, request: ImageRequest, ctx: JobContext) -> Result:
        wf = self.workflow(Capability.image)
        values = self._common(request, wf) | {
            "prompt": request.prompt,
            "negative": request.negative_prompt,
            "width": request.width,
            "height": request.height,
        }
        if wf.targets("reference_images"):
            values["reference_images"] = [
                self.client.upload(p) for p in request.reference_images[: len(wf.targets("reference_images"))]
            ]
        return self._run(Capability.image, wf, values, ctx)

    def generate_video(self, request: VideoRequest, ctx: JobContext) -> Result:
        wf = self.workflow(Capability.video)
        sheet = self.sheet(Capability.video)
        frames = snap_frames(sheet, max(1, round(request.duration * request.fps)))
        values = self._common(request, wf) | {
            "prompt": request.prompt,
            "negative": request.negative_prompt,
            "width": request.width,
            "height": request.height,
            "fps": request.fps,
            "frames": frames,
            "duration": request.duration,
        }
        if request.image is not None and wf.targets("image"):
            values["image"] = self.client.upload(request.image)
        if request.last_image is not None and wf.targets("last_image"):
            values["last_image"] = self.client.upload(request.last_image)
        return self._run(Capability.video, wf, values, ctx)

    def lipsync(self, request: LipsyncRequest, ctx: JobContext) -> Result:
        wf = self.workflow(Capability.lipsync)
        values = self._common(request, wf) | {
            "fps": request.fps,
            "video": self.client.upload(request.video),
            "audio": self.client.upload(request.audio),
        }
        return self._run(Capability.lipsync, wf, values, ctx)

    def synthesize(self, request: SpeechRequest, ctx: JobContext) -> Result:
        wf = self.workflow(Capability.speech)
        voice = (
            request.character.voice.voice
            if request.character is not None and request.character.voice.voice
            else request.speaker
        )
        values = self._common(request, wf) | {"text": request.text, "speaker": voice}
        return self._run(Capability.speech, wf, values, ctx)

    def generate_sound(self, request: SoundRequest, ctx: JobContext) -> Result:
        """Sound from a description, and from the shot's clip where the workflow takes one (video-to-audio,
        such as the bundled ``mmaudio_v2a``)."""
        wf = self.workflow(Capability.sound)
        values = self._common(request, wf) | {"prompt": request.prompt}
        if request.duration is not None or wf.targets("duration"):
            values["duration"] = float(request.duration or self.sheet(Capability.sound).max_duration or 8.0)
        if wf.targets("video"):
            if request.video is None:
                raise UnsupportedRequest(
                    f"the ComfyUI workflow {wf.name!r} makes sound from a clip, and a {request.kind} has none; "
                    "give ambience a text-to-sound backend under backends.sound"
                )
            values["video"] = self.client.upload(request.video)
        return self._run(Capability.sound, wf, values, ctx)

    def _common(self, request: Request, wf: Workflow) -> dict[str, Any]:
        return {"seed": request.seed % MAX_SEED}

    # ------------------------------------------------------------------ one prompt, start to finish

    def _run(self, capability: Capability, wf: Workflow, values: dict[str, Any], ctx: JobContext) -> Result:
        graph = wf.apply(values)
        client_id = client_id_for(ctx.key)
        skipped: dict[str, Any] = {}
        with contextlib.ExitStack() as stack:
            socket = self.client.open_socket(client_id, stack)
            prompt_id = ctx.job_id
            entry: dict[str, Any] | None = None
            if prompt_id:
                state, entry = self._resumable(wf, prompt_id)
                if state in ("unknown", "failed"):
                    prompt_id, entry = None, None  # forgotten (server restarted) or interrupted: queue it again
            if not prompt_id:
                prompt_id, entry, fresh = self._find(wf, ctx.key)  # a prompt queued before a crash is ours
                if fresh:
                    skipped = self.client.queue(graph, client_id, wf, prompt_id)
                ctx.record_job_id(prompt_id)
                if skipped:
                    self._stop_if_wanted_output_broke(wf, prompt_id, skipped)
            if entry is None:
                entry = self._follow(socket, prompt_id, wf, len(graph), ctx)
        return self._collect(capability, wf, prompt_id, entry, ctx, skipped)

    def _resumable(self, wf: Workflow, prompt_id: str) -> tuple[str, dict[str, Any] | None]:
        state, entry = self.client.state(prompt_id)
        if state == "failed" and not self._interrupted(entry or {}):
            self._raise_failure(wf, prompt_id, entry or {})
        return state, entry

    def _find(self, wf: Workflow, job_key: str) -> tuple[str, dict[str, Any] | None, bool]:
        """(prompt id, its history entry when finished, whether to queue it): our own ids are looked up
        in /queue and /history first, because ComfyUI queues a client-chosen id twice if sent twice."""
        if not job_key:
            return str(uuid.uuid4()), None, True
        for attempt in range(MAX_ATTEMPTS):
            prompt_id = prompt_id_for(job_key, attempt)
            state, entry = self.client.state(prompt_id)
            if state == "unknown":
                return prompt_id, None, True
            if state != "failed":  # queued, running or done: follow or collect it
                return prompt_id, entry, False
            # an attempt that failed or was interrupted: this is a new attempt, under the next id
        raise BackendError(f"ComfyUI was asked for this job {MAX_ATTEMPTS} times; look at the server's log")

    def _stop_if_wanted_output_broke(self, wf: Workflow, prompt_id: str, skipped: dict[str, Any]) -> None:
        """A prompt queued without the output kaipai wants is cancelled at once, with ComfyUI's reasons."""
        wanted = wf.output_nodes()
        if wanted is not None and set(wanted) <= set(skipped):
            self.client.interrupt(prompt_id)
            raise NotConfigured(
                f"ComfyUI queued workflow {wf.name} without its output: "
                f"{describe_node_errors(wf, {'node_errors': skipped})} — fix the workflow or its bindings"
            )

    def _follow(
        self, socket: ClientConnection | None, prompt_id: str, wf: Workflow, total: int, ctx: JobContext
    ) -> dict[str, Any]:
        """Wait for the prompt, reporting progress from the socket; /history is checked every interval."""
        start = last_check = time.monotonic()
        tracker = _Progress(prompt_id, wf, total, ctx)
        failures = 0
        while True:
            if ctx.cancelled:
                self.client.interrupt(prompt_id)
                raise TransientError(f"ComfyUI prompt {prompt_id} stopped: the render was cancelled")
            if time.monotonic() - start > self.settings.deadline:
                raise TransientError(
                    f"ComfyUI prompt {prompt_id} is still running after {self.settings.deadline:g} s; "
                    "the next render picks it up without queueing again"
                )
            messages, alive = self._receive(socket)
            if not alive:
                socket = None  # the socket dropped: carry on by polling
            for message in messages:
                error = tracker.take(message)
                if error is not None:
                    self._raise_error(wf, prompt_id, error)
            if socket is None:
                time.sleep(self.settings.interval)
            if tracker.finished or time.monotonic() - last_check >= self.settings.interval:
                last_check = time.monotonic()
                try:
                    state, entry = self.client.state(prompt_id)
                    failures = 0
                except TransientError as exc:
                    # a blip (a proxy's 429 or 502, a restart of the web server): the prompt keeps
                    # running, so wait it out; only a run of failures hands it back to the engine,
                    # which resumes the same prompt later
                    failures += 1
                    if failures >= self.settings.max_poll_failures:
                        raise TransientError(
                            f"ComfyUI prompt {prompt_id}: {failures} failed status checks in a row, last: {exc}",
                            retry_after=exc.retry_after,
                        ) from None
                    time.sleep(max(0.0, (exc.retry_after or 0.0) - self.settings.interval))
                    continue
                if state == "done" and entry is not None:
                    self._read_to_the_end(socket, tracker)
                    return entry
                if state == "failed":
                    self._raise_failure(wf, prompt_id, entry or {})
                if state == "unknown":
                    raise TransientError(
                        f"ComfyUI lost prompt {prompt_id} (the server restarted?); it will be queued again"
                    )

    def _read_to_the_end(self, socket: ClientConnection | None, tracker: _Progress) -> None:
        """Report the prompt's last messages before its outputs are collected.

        ComfyUI writes ``/history`` before its socket has delivered the messages sent ahead of it, so
        a prompt seen done may still have progress on the way (or waiting, already received): read up
        to the prompt's end message, for no longer than one request may take. A socket that never
        delivered anything, not even the greeting sent on connecting (a proxy that drops its frames),
        is not waited on.
        """
        until = time.monotonic() + self.settings.timeout
        while socket is not None and tracker.heard and not tracker.finished and time.monotonic() < until:
            messages, alive = self._receive(socket)
            for message in messages:
                tracker.take(message)  # the prompt is done: a late error message changes nothing
            if not alive:
                return

    def _receive(self, socket: ClientConnection | None) -> tuple[list[dict[str, Any]], bool]:
        """Every message waiting on the socket (blocking up to one interval for the first); False once it is closed."""
        if socket is None:
            return [], False
        messages: list[dict[str, Any]] = []
        timeout: float = self.settings.interval
        while True:
            try:
                raw = socket.recv(timeout=timeout)
            except TimeoutError:
                return messages, True
            except (WebSocketException, OSError):
                return messages, False
            timeout = 0
            if isinstance(raw, bytes):  # preview images
                continue
            try:
                message = json.loads(raw)
            except ValueError:
                continue
            if isinstance(message, dict):
                messages.append(message)

    def _raise_error(self, wf: Workflow, prompt_id: str, data: dict[str, Any]) -> None:
        nid = str(data.get("node_id", "?"))
        kind = str(data.get("exception_type", "error"))
        text = (
            f"ComfyUI failed at node {nid} '{wf.title(nid)}' ({data.get('node_type', '?')}) in prompt {prompt_id}: "
            f"{kind}: {str(data.get('exception_message', '')).strip()}"
        )
        if "OutOfMemory" in kind:
            raise TransientError(text + " (out of GPU memory; retrying)")
        raise BackendError(text, provider_reason=str(data.get("exception_message", "")))

    @staticmethod
    def _interrupted(entry: dict[str, Any]) -> bool:
        return any(kind == "execution_interrupted" for kind, _ in (entry.get("status") or {}).get("messages") or [])

    def _raise_failure(self, wf: Workflow, prompt_id: str, entry: dict[str, Any]) -> None:
        messages = (entry.get("status") or {}).get("messages") or []
        for kind, data in messages:
            if kind == "execution_error":
                self._raise_error(wf, prompt_id, data)
            if kind == "execution_interrupted":
                raise TransientError(
                    f"ComfyUI prompt {prompt_id} was interrupted on the server; it will be queued again"
                )
        raise BackendError(f"ComfyUI prompt {prompt_id} ended in an error without details")

    # ------------------------------------------------------------------ outputs

    def _collect(
        self,
        capability: Capability,
        wf: Workflow,
        prompt_id: str,
        entry: dict[str, Any],
        ctx: JobContext,
        skipped: dict[str, Any] | None = None,
    ) -> Result:
        outputs: dict[str, Any] = entry.get("outputs") or {}
        wanted = wf.output_nodes()
        items: list[dict[str, Any]] = []
        for nid, output in outputs.items():
            if wanted is not None and nid not in wanted:
                continue
            for group in output.values():
                if isinstance(group, list):
                    items.extend(i for i in group if isinstance(i, dict) and "filename" in i)
        chosen = [i for i in items if i.get("type", "output") == "output"] or items
        exts = EXTENSIONS[capability.value]
        matching = [i for i in chosen if Path(str(i["filename"])).suffix.lower() in exts]
        if not matching:
            names = ", ".join(str(i["filename"]) for i in chosen) or "nothing"
            left_out = f" ComfyUI left out: {describe_node_errors(wf, {'node_errors': skipped})}." if skipped else ""
            raise BackendError(
                f"ComfyUI prompt {prompt_id} produced no {capability.value} file ({'/'.join(exts)}); "
                f"it produced {names}.{left_out} "
                "Check the workflow's save node, or name it with options.output"
            )
        files = [self.client.download(item, ctx.out_dir) for item in matching]
        metadata = {"provider": "comfyui", "prompt_id": prompt_id, "server": self.url, "workflow": wf.name}
        if skipped:
            metadata["outputs_left_out"] = describe_node_errors(wf, {"node_errors": skipped})
        return tasks.probe(files[0]).result(
            files, model=self.model or Path(wf.name).name.removesuffix(".json"), metadata=metadata
        )


class _Progress:
    """Turns ComfyUI's websocket messages for one prompt into a progress fraction and a note."""

    def __init__(self, prompt_id: str, wf: Workflow, total: int, ctx: JobContext) -> None:
        self.prompt_id, self.wf, self.total, self.ctx = prompt_id, wf, total, ctx
        self.executed: set[str] = set()
        self.cached: set[str] = set()
        self.current: str | None = None
        self.finished = False
        self.heard = False  # anything at all arrived on the socket

    def fraction(self, within: float) -> float:
        work = max(1, self.total - len(self.cached))
        return min(0.99, (len(self.executed - self.cached) + within) / work)

    def take(self, message: dict[str, Any]) -> dict[str, Any] | None:
        """Account for one message; returns the error data of an ``execution_error`` for this prompt."""
        self.heard = True
        kind, data = message.get("type"), message.get("data") or {}
        if data.get("prompt_id") not in (self.prompt_id, None):
            return None
        if kind == "execution_cached":
            self.cached.update(str(n) for n in data.get("nodes") or [])
        elif kind == "executing":
            if self.current is not None:
                self.executed.add(self.current)
            self.current = data.get("node")
            if self.current is None:
                self.finished = data.get("prompt_id") == self.prompt_id or self.finished
            else:
                self.ctx.progress(self.fraction(0.0), f"node {self.current} {self.wf.title(str(self.current))}")
        elif kind == "progress" and data.get("max"):
            node = str(data.get("node") or self.current)
            self.ctx.progress(
                self.fraction(float(data.get("value", 0)) / float(data["max"])),
                f"{self.wf.title(node)} {data.get('value')}/{data.get('max')}",
            )
        elif kind == "execution_error" and data.get("prompt_id") == self.prompt_id:
            return data
        elif kind == "execution_success" and data.get("prompt_id") == self.prompt_id:
            self.finished = True
        return None
