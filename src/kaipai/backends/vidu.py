"""``vidu``: Vidu (生数科技) clips through the enterprise API: image, start-end and reference to video.

One endpoint per mode: the shot's keyframe alone goes to ``/ent/v2/img2video``, a keyframe and a
last frame to ``/ent/v2/start-end2video``, and reference pictures (the characters' sheets, the
location; with ``options: {references: true}`` the keyframe first among them) to
``/ent/v2/reference2video``. The reply's ``task_id`` is recorded with the engine at once; ``GET
/ent/v2/tasks/{id}/creations`` is polled until ``success`` (any state Vidu adds on the way —
``scheduled`` and the like — is waited through) and the clip downloaded before its link expires.
Vidu says what a task cost in credits; those are recorded. viduq3 makes its own sound, kept in
the clip and marked in ``Result.metadata["audio"]``.

Key: ``VIDU_API_KEY`` or ``api_key`` under ``[vidu]`` in ~/.config/kaipai/config.toml, sent as
``Authorization: Token …``. Options: ``region`` (``cn``, default, or ``global``), ``base_url``,
``resolution`` (360p | 540p | 720p | 1080p, per model), ``references``, ``audio`` (viduq3),
``movement_amplitude``, ``sheet`` overrides and the polling figures of
:class:`~kaipai.backends.remote.tasks.PollSettings`.
"""

from __future__ import annotations

from typing import Any

import httpx

from kaipai.backends.base import (
    AccountError,
    Backend,
    BackendError,
    Capability,
    CapabilitySheet,
    JobContext,
    NotConfigured,
    RefusedError,
    Result,
    TransientError,
    VideoRequest,
)
from kaipai.backends.remote import sheets, tasks
from kaipai.backends.remote.inputs import data_uri, nearest_ratio

PROVIDER = "Vidu"
REFUSALS = ("TaskPromptPolicyViolation", "AuditSubmitIllegal", "CreationPolicyViolation")
ACCOUNT = ("CreditInsufficient",)
TRANSIENT = ("OperationInProcess", "Conflict", "Canceled", "InternalServiceFailure")
DONE, FAILED = ("success",), ("failed", "canceled", "cancelled")
MAX_SEED = 2**31 - 1


def error_for(reason: str, message: str, status: int) -> BackendError | None:
    """Vidu's ``reason`` (or a failed task's ``err_code``) as a kaipai error; None leaves it to the status."""
    said = f"({reason}: {message})" if message else f"({reason})"
    if reason in REFUSALS:
        return RefusedError(f"{PROVIDER} refused the clip {said}", provider_reason=message or reason)
    if reason in ACCOUNT:
        return AccountError(f"{PROVIDER} account cannot pay for the clip {said}; buy credits", provider_reason=message)
    if status in (401, 403) or reason in ("Unauthorized", "Forbidden"):
        return NotConfigured(
            f"{PROVIDER} refused the API key {said}; check VIDU_API_KEY and the region (cn and global keys differ)",
            provider_reason=message,
        )
    if reason == "ModelUnavailable":
        return NotConfigured(f"{PROVIDER} does not offer that model for this kind of clip {said}; choose another")
    if reason in TRANSIENT:
        return TransientError(f"{PROVIDER} is busy {said}", provider_reason=message)
    if status == 429 or status >= 500:
        return None  # the shared layer reads Retry-After
    return BackendError(f"{PROVIDER} rejected the request {said}", provider_reason=message)


def read_error(response: httpx.Response) -> BackendError | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    return error_for(str(body.get("reason") or ""), str(body.get("message") or ""), response.status_code)


class ViduBackend(Backend):
    name = "vidu"
    capabilities = frozenset({Capability.video})
    version = "1"

    def __init__(self, model: str | None = None, **options: Any) -> None:
        super().__init__(model=model, **options)
        self.settings = tasks.PollSettings.from_options(options, interval=5.0)
        self.region, self.base_url = sheets.located("vidu", options)
        self.tier = str(options.get("resolution", "720p")).lower()
        self._api = httpx.Client(base_url=self.base_url, timeout=self.settings.timeout)
        self._files = httpx.Client(timeout=self.settings.download_timeout, follow_redirects=True)

    # ------------------------------------------------------------------ configuration

    def sheet_id(self) -> str:
        model = self.model or sheets.default_model("vidu", Capability.video)
        return sheets.variant_id("vidu", model, self.tier, chosen="resolution" in self.options)

    def describe(self, capability: Capability) -> CapabilitySheet:
        overrides = dict((self.options.get("sheet") or {}).get(capability.value) or {})
        sheet = sheets.load_sheet("vidu", self.sheet_id(), overrides, self.region)
        return sheets.silenced("vidu", self.sheet_id(), sheet, self.options, overrides)

    def _key(self) -> str:
        return tasks.require("vidu", "api_key", "VIDU_API_KEY", "the Vidu API key")

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self._key()}", "Content-Type": "application/json"}

    def check(self) -> str:
        self._key()
        return f"Vidu ({self.region}) at {self.base_url}: key found"

    def reachable(self) -> str:
        """Look up a task that does not exist: proves the address and the key without spending."""
        response = tasks.send(
            self._api, "GET", "/ent/v2/tasks/0/creations", PROVIDER, headers=self._headers(), errors=self._quiet_404
        )
        tasks.json_body(response, PROVIDER)
        return f"Vidu ({self.region}) at {self.base_url}: reachable, key accepted"

    @staticmethod
    def _quiet_404(response: httpx.Response) -> BackendError | None:
        return None if response.status_code == 404 else read_error(response)

    def close(self) -> None:
        self._api.close()
        self._files.close()

    # ------------------------------------------------------------------ protocol

    def _request(self, request: VideoRequest, sheet: CapabilitySheet, ctx: JobContext) -> tuple[str, dict[str, Any]]:
        """The endpoint and body for the mode the request calls for."""
        body: dict[str, Any] = {
            "model": sheet.model,
            "prompt": request.prompt,
            "duration": round(request.duration),
            "seed": request.seed % MAX_SEED or 1,
            "resolution": self.sheet_id().partition("@")[2] or self.tier,
            "movement_amplitude": str(self.options.get("movement_amplitude", "auto")),
            "payload": ctx.key,
        }
        known = sheets.entry("vidu", self.sheet_id()) or {}
        if known.get("native_audio"):
            body["audio"] = sheet.native_audio
        else:
            body["bgm"] = False
        references = [*([request.image] if request.image else []), *request.reference_images]
        if references and sheet.max_reference_images and (request.image is None or self.options.get("references")):
            body["images"] = [data_uri(p) for p in references[: sheet.max_reference_images]]
            body["aspect_ratio"] = nearest_ratio(request.width, request.height, ["16:9", "9:16", "1:1", "4:3", "3:4"])
            return "/ent/v2/reference2video", body
        if request.image is None:
            raise BackendError("Vidu needs the shot's keyframe or reference pictures; render the keyframe stage first")
        if request.last_image is not None:
            body["images"] = [data_uri(request.image), data_uri(request.last_image)]
            return "/ent/v2/start-end2video", body
        body["images"] = [data_uri(request.image)]
        return "/ent/v2/img2video", body

    def _submit(self, path: str, body: dict[str, Any]) -> str:
        response = tasks.send(self._api, "POST", path, PROVIDER, json=body, headers=self._headers(), errors=read_error)
        reply = tasks.json_body(response, PROVIDER)
        return str(reply.get("task_id") or "")

    def _look(self, task_id: str) -> tasks.Poll:
        response = tasks.send(
            self._api,
            "GET",
            f"/ent/v2/tasks/{task_id}/creations",
            PROVIDER,
            headers=self._headers(),
            errors=self._quiet_404,
        )
        if response.status_code == 404:  # not ours, or gone: submit afresh
            return tasks.Poll("failed", {"id": task_id, "state": "gone", "err_code": ""})
        reply = tasks.json_body(response, PROVIDER)
        state = str(reply.get("state") or "")
        if state in DONE:
            return tasks.Poll("done", reply)
        if state in FAILED:
            return tasks.Poll("failed", reply)
        return tasks.Poll("waiting", reply, message=state or "created")  # scheduled, queueing… all still going

    @staticmethod
    def _failure(task_id: str, poll: tasks.Poll) -> BackendError:
        code, state = str(poll.payload.get("err_code") or ""), str(poll.payload.get("state") or "")
        message = str(poll.payload.get("err_msg") or "")
        known = error_for(code, message, 200) if code else None
        if isinstance(known, (RefusedError, AccountError)):
            return known  # never retried
        return TransientError(f"{PROVIDER} task {task_id} ended {state} ({code or 'no code'})", provider_reason=code)

    # ------------------------------------------------------------------ capability

    def generate_video(self, request: VideoRequest, ctx: JobContext) -> Result:
        sheet = self.sheet(Capability.video)
        path, body = self._request(request, sheet, ctx)
        final = tasks.run_task(
            ctx,
            PROVIDER,
            self.settings,
            submit=lambda: self._submit(path, body),
            look=self._look,
            failure=self._failure,
        )
        creations = [c for c in final.payload.get("creations") or [] if c.get("url")]
        if not creations:
            raise TransientError(f"{PROVIDER} task {ctx.job_id} succeeded without a clip")
        url = str(creations[0]["url"])
        clip = tasks.download(
            self._files, url, ctx.out_dir / f"clip{tasks.suffix_for(url, default='.mp4')}", PROVIDER, self.settings
        )
        media = tasks.probe(clip)
        seconds = float(body["duration"])
        credits = float(final.payload.get("credits") or 0)
        return media.result(
            [clip],
            cost_units=credits or seconds,
            cost=seconds * sheet.cost_per_unit,
            model=sheet.model,
            metadata={
                "provider": "vidu",
                "region": self.region,
                "task_id": ctx.job_id,
                "mode": path.rsplit("/", 1)[-1],
                "audio": media.audio,
                "cost_unit": "credit" if credits else "second",
                "currency": sheet.currency,
            },
        )
