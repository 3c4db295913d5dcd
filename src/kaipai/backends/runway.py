"""``runway``: Runway image-to-video (Gen-4 Turbo, Gen-4.5, and Veo 3.1 through Runway) with the ``runwayml`` SDK.

``image_to_video.create`` returns a task id, recorded with the engine at once; ``tasks.retrieve``
is polled until ``SUCCEEDED`` (``THROTTLED`` only means the account's concurrency is full) and
the clip downloaded before its signed link expires. Every request carries ``X-Runway-Version``
(the SDK sends the version it was built for). The keyframe goes inline as a data URI, or through
an ephemeral upload when it is over Runway's 5 MB data-URI limit; a last frame is sent on the
models that take one (Runway's Veo). Runway's Veo models make their own sound, kept in the clip
and marked in ``Result.metadata["audio"]``. The credits a task cost are read from the task.

The SDK retries a POST after a 429 or 5xx by default; the client is built with ``max_retries=0``
so the task layer decides and a paid task is never sent twice.

Key: ``RUNWAYML_API_SECRET`` or ``api_key`` under ``[runway]`` in ~/.config/kaipai/config.toml
(the ``kaipai[runway]`` extra installs the SDK). Options: ``audio`` (Runway's Veo), ``base_url``,
``sheet`` overrides and the polling figures of :class:`~kaipai.backends.remote.tasks.PollSettings`.
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
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
from kaipai.backends.remote.inputs import data_uri, image_type, read_image
from kaipai.backends.remote.sdk import HttpFailure, failure_from, guarded, status_error

PROVIDER = "Runway"
KEY_ENV = "RUNWAYML_API_SECRET"
DATA_URI_LIMIT = 5 * 1024 * 1024
PROMPT_LIMIT = 1000
USD_PER_CREDIT = 0.01
WAITING = ("PENDING", "THROTTLED", "RUNNING")


def classify(failure: HttpFailure) -> BackendError:
    if failure.status == 400 and "credit" in failure.message.lower():
        return AccountError(
            f"{PROVIDER} account cannot run the task: {failure.message}; buy credits in the developer portal",
            provider_reason=failure.message,
        )
    return status_error(PROVIDER, failure, KEY_ENV)


def translate(exc: Exception) -> BackendError | None:
    import runwayml

    if isinstance(exc, runwayml.APITimeoutError):
        return TransientError(f"{PROVIDER} did not answer in time")
    if isinstance(exc, runwayml.APIConnectionError):
        return TransientError(f"{PROVIDER} could not be reached")
    if isinstance(exc, runwayml.APIStatusError):
        return classify(failure_from(exc.status_code, exc.response.content, exc.response.headers))
    return None


def is_refusal(code: str) -> bool:
    return code.startswith(("SAFETY.", "INPUT_PREPROCESSING.SAFETY"))


class RunwayBackend(Backend):
    name = "runway"
    capabilities = frozenset({Capability.video})
    version = "1"

    def __init__(self, model: str | None = None, **options: Any) -> None:
        super().__init__(model=model, **options)
        self.settings = tasks.PollSettings.from_options(options, interval=6.0)
        self.base_url = options.get("base_url") or tasks.setting("runway", "base_url", "RUNWAYML_BASE_URL")
        self._files = httpx.Client(timeout=self.settings.download_timeout, follow_redirects=True)

    # ------------------------------------------------------------------ configuration

    def sheet_id(self) -> str:
        return self.model or sheets.default_model("runway", Capability.video)

    def describe(self, capability: Capability) -> CapabilitySheet:
        overrides = dict((self.options.get("sheet") or {}).get(capability.value) or {})
        sheet = sheets.load_sheet("runway", self.sheet_id(), overrides)
        return sheets.silenced("runway", self.sheet_id(), sheet, self.options, overrides)

    def _key(self) -> str:
        return tasks.require("runway", "api_key", KEY_ENV, "the Runway API secret")

    def _client(self) -> closing[Any]:
        try:
            from runwayml import RunwayML
        except ImportError:
            raise NotConfigured("the Runway SDK is not installed: pip install 'kaipai[runway]' (runwayml)") from None
        return closing(
            RunwayML(api_key=self._key(), base_url=self.base_url, max_retries=0, timeout=self.settings.http_timeout())
        )

    def check(self) -> str:
        self._key()
        with self._client():
            pass
        return "Runway: key found"

    def reachable(self) -> str:
        """Read the organisation's credit balance: proves the key without spending."""
        with self._client() as client:
            org = guarded(PROVIDER, lambda: client.organization.retrieve(), translate)
        return f"Runway: reachable, key accepted, {org.credit_balance} credits left"

    def close(self) -> None:
        self._files.close()

    # ------------------------------------------------------------------ protocol

    def _uri(self, client: Any, path: Path) -> str:
        """A data URI, or a ``runway://`` upload for a picture over the data-URI limit."""
        uri = data_uri(path)
        if len(uri) <= DATA_URI_LIMIT:
            return uri
        upload = client.uploads.create_ephemeral(file=(path.name, read_image(path), image_type(path)))
        return str(upload.uri)

    def _submit(self, client: Any, request: VideoRequest, sheet: CapabilitySheet) -> str:
        assert request.image is not None
        first = self._uri(client, request.image)
        prompt_image: Any = first
        if request.last_image is not None and sheet.first_last_frame:
            last = self._uri(client, request.last_image)
            prompt_image = [{"uri": first, "position": "first"}, {"uri": last, "position": "last"}]
        fields: dict[str, Any] = {
            "model": sheet.model,
            "prompt_image": prompt_image,
            "ratio": f"{request.width}:{request.height}",
            "duration": round(request.duration),
            "seed": request.seed % 4294967295,
        }
        if request.prompt:
            fields["prompt_text"] = request.prompt[:PROMPT_LIMIT]
        known = sheets.entry("runway", self.sheet_id())
        if (known or {}).get("native_audio"):
            fields["audio"] = sheet.native_audio
        task = client.image_to_video.create(**fields)
        return str(task.id or "")

    @staticmethod
    def _look(client: Any, task_id: str) -> tasks.Poll:
        import runwayml

        try:
            task = client.tasks.retrieve(task_id)
        except runwayml.NotFoundError:  # cancelled and deleted: submit afresh
            return tasks.Poll("failed", {"id": task_id, "status": "GONE"})
        payload = task.model_dump(by_alias=False)
        status = str(payload.get("status") or "")
        if status == "SUCCEEDED":
            return tasks.Poll("done", payload)
        if status in ("FAILED", "CANCELLED"):
            return tasks.Poll("failed", payload)
        if status in WAITING:
            progress = payload.get("progress")
            return tasks.Poll(
                "waiting", payload, fraction=float(progress) if progress is not None else None, message=status
            )
        raise TransientError(f"{PROVIDER} task {task_id} has an unknown status {status!r}")

    @staticmethod
    def _failure(task_id: str, poll: tasks.Poll) -> BackendError:
        code = str(poll.payload.get("failure_code") or "")
        reason = str(poll.payload.get("failure") or poll.payload.get("status") or "no reason given")
        if is_refusal(code):
            return RefusedError(f"{PROVIDER} refused task {task_id} ({code}): {reason}", provider_reason=reason)
        return TransientError(f"{PROVIDER} task {task_id} failed ({code or poll.payload.get('status')}): {reason}")

    # ------------------------------------------------------------------ capability

    def generate_video(self, request: VideoRequest, ctx: JobContext) -> Result:
        if request.image is None:
            raise BackendError("Runway image-to-video needs the shot's keyframe; render the keyframe stage first")
        sheet = self.sheet(Capability.video)
        with self._client() as client:
            final = tasks.run_task(
                ctx,
                PROVIDER,
                self.settings,
                submit=lambda: guarded(PROVIDER, lambda: self._submit(client, request, sheet), translate),
                look=lambda task_id: guarded(PROVIDER, lambda: self._look(client, task_id), translate),
                failure=self._failure,
            )
        outputs = final.payload.get("output") or []
        if not outputs:
            raise TransientError(f"{PROVIDER} task {ctx.job_id} succeeded without a video")
        url = str(outputs[0])
        path = tasks.download(
            self._files, url, ctx.out_dir / f"clip{tasks.suffix_for(url, default='.mp4')}", PROVIDER, self.settings
        )
        media = tasks.probe(path)
        credits = float((final.payload.get("cost") or {}).get("credits") or 0)
        seconds = float(media.duration or request.duration)
        return media.result(
            [path],
            cost_units=credits or seconds,
            cost=credits * USD_PER_CREDIT if credits else seconds * sheet.cost_per_unit,
            model=sheet.model,
            metadata={
                "provider": "runway",
                "task_id": ctx.job_id,
                "audio": media.audio,
                "cost_unit": "credit" if credits else "second",
                "currency": "USD",
            },
        )
