"""The async-task layer every cloud backend uses: keys, HTTP errors, one task's life, its result.

Remote generation is slow, rate-limited and paid, and every provider's task runs the same life,
which :func:`run_task` owns: a recorded task is resumed (after a crash the engine hands its id
back), otherwise it is submitted once and its id recorded at once, before any waiting; it is then
polled with backoff up to a deadline, riding out brief outages; a refusal is reported with the
provider's reason and never retried, an account or quota error is reported, not retried; and the
result is downloaded the moment it exists, because result links expire. A key is read from the
environment or the user's config file and never written anywhere; 429 and 5xx become
:class:`TransientError` carrying ``Retry-After`` — unless the provider's own error code says the
429 is an empty account (``send``'s ``errors`` hook reads the body first).
"""

from __future__ import annotations

import email.utils
import os
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx

from kaipai.backends.base import (
    BackendError,
    JobContext,
    NotConfigured,
    Result,
    TransientError,
)
from kaipai.project import config_path

# --------------------------------------------------------------------------- keys and settings


def user_config(section: str) -> dict[str, Any]:
    """One ``[section]`` of the user config (read only; kaipai never writes it)."""
    path = config_path()
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise NotConfigured(f"{path}: cannot read the kaipai config ({exc}); fix the TOML or remove the file") from None
    value = data.get(section, {})
    return value if isinstance(value, dict) else {}


def setting(section: str, key: str, env: str) -> str | None:
    """A secret or address: the environment variable first, then ``[section] key`` in the user config."""
    value = os.environ.get(env)
    if value:
        return value.strip()
    found = user_config(section).get(key)
    return str(found).strip() if found else None


def require(section: str, key: str, env: str, what: str) -> str:
    value = setting(section, key, env)
    if not value:
        raise NotConfigured(
            f'{what} is not set: export {env}=… or add `{key} = "…"` under [{section}] in {config_path()}'
        )
    return value


@dataclass(frozen=True)
class PollSettings:
    """How patiently a job is waited for. Tests shrink every figure so the suite stays fast."""

    interval: float = 3.0
    max_interval: float = 30.0
    backoff: float = 1.5
    deadline: float = 1800.0
    timeout: float = 60.0
    download_timeout: float = 600.0
    max_poll_failures: int = 6

    @classmethod
    def from_options(cls, options: dict[str, Any], **defaults: float) -> PollSettings:
        merged: dict[str, Any] = {**defaults}
        for name in (
            "interval",
            "max_interval",
            "backoff",
            "deadline",
            "timeout",
            "download_timeout",
            "max_poll_failures",
        ):
            key = "poll_" + name if name in ("interval", "max_interval", "backoff") else name
            if key in options:
                merged[name] = options[key]
        return cls(**{k: (int(v) if k == "max_poll_failures" else float(v)) for k, v in merged.items()})

    def http_timeout(self) -> httpx.Timeout:
        """An SDK client's timeout: ``timeout`` for each call, at most 10 s of it to connect."""
        return httpx.Timeout(self.timeout, connect=min(10.0, self.timeout))


# --------------------------------------------------------------------------- HTTP


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


ErrorReader = Callable[[httpx.Response], BackendError | None]


def send(
    client: httpx.Client, method: str, url: str, provider: str, *, errors: ErrorReader | None = None, **kwargs: Any
) -> httpx.Response:
    """One HTTP call; network trouble, 429 and 5xx become :class:`TransientError`.

    ``errors`` reads a failed reply first (status 400 and up) and returns the provider's own error
    when its body names one — so a 429 that means "account exhausted" is an :class:`AccountError`,
    not a rate limit to wait out. Other statuses are returned for the backend to read.
    """
    try:
        response = client.request(method, url, **kwargs)
    except httpx.TimeoutException:
        raise TransientError(f"{provider} did not answer in time ({method} {_path(url)})") from None
    except httpx.TransportError as exc:
        target = client.base_url.join(url)
        raise TransientError(
            f"{provider} at {target.scheme}://{target.netloc.decode()} could not be reached "
            f"({type(exc).__name__}: {exc})"
        ) from None
    if errors is not None and response.status_code >= 400:
        known = errors(response)
        if known is not None:
            raise known
    if response.status_code == 429 or response.status_code >= 500:
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        detail = short(response.text)
        kind = (
            "is rate-limiting requests"
            if response.status_code == 429
            else f"had a server error (HTTP {response.status_code})"
        )
        hint = f"; asked to wait {wait:g} s" if wait is not None else ""
        raise TransientError(f"{provider} {kind}{hint}: {detail}", retry_after=wait, provider_reason=detail)
    return response


def json_body(response: httpx.Response, provider: str) -> dict[str, Any]:
    """The reply as a JSON object; anything else (an HTML error page, a cut-off body) is transient."""
    try:
        data = response.json()
    except ValueError:
        raise TransientError(
            f"{provider} sent a reply that is not JSON (HTTP {response.status_code}): {short(response.text)}"
        ) from None
    if not isinstance(data, dict):
        raise TransientError(
            f"{provider} sent an unexpected reply (HTTP {response.status_code}): {short(response.text)}"
        )
    return data


def short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _path(url: str) -> str:
    return httpx.URL(url).path


# --------------------------------------------------------------------------- polling

State = Literal["waiting", "done", "failed"]


@dataclass
class Poll:
    """One look at a job: its state, a progress fraction when known, and the provider's payload."""

    state: State
    payload: dict[str, Any]
    fraction: float | None = None
    message: str = ""


def wait_for(
    job_id: str,
    provider: str,
    look: Callable[[], Poll],
    ctx: JobContext,
    settings: PollSettings,
    sleep: Callable[[float], None] = time.sleep,
) -> Poll:
    """Poll ``look`` with backoff until the job is done or failed, or the deadline passes.

    A transient error while polling (a 429, a blip) is waited out — the job keeps running
    at the provider — and only after ``max_poll_failures`` in a row is it raised, with the
    job id still recorded so the next attempt resumes it rather than paying again.
    """
    start = time.monotonic()
    interval = settings.interval
    failures = 0
    while True:
        if ctx.cancelled:
            raise TransientError(
                f"stopped waiting for {provider} job {job_id}: the render was cancelled; it resumes on the next render"
            )
        wait = interval
        try:
            poll = look()
            failures = 0
        except TransientError as exc:
            failures += 1
            if failures >= settings.max_poll_failures:
                raise TransientError(
                    f"{provider} job {job_id}: {failures} failed status checks in a row, last: {exc}",
                    retry_after=exc.retry_after,
                ) from None
            wait = max(interval, exc.retry_after or 0.0)
        else:
            if poll.state != "waiting":
                return poll
            ctx.progress(
                poll.fraction
                if poll.fraction is not None
                else min(0.95, (time.monotonic() - start) / max(1.0, settings.deadline)),
                poll.message,
            )
        elapsed = time.monotonic() - start
        if elapsed + wait > settings.deadline:
            raise TransientError(
                f"{provider} job {job_id} is still running after {elapsed:.0f} s (deadline {settings.deadline:g} s); "
                "it is not lost: the next render picks it up without submitting again"
            )
        sleep(wait)
        interval = min(settings.max_interval, interval * settings.backoff)


# --------------------------------------------------------------------------- one task's life


def run_task(
    ctx: JobContext,
    provider: str,
    settings: PollSettings,
    *,
    submit: Callable[[], str],
    look: Callable[[str], Poll],
    failure: Callable[[str, Poll], BackendError],
    find: Callable[[], str | None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Poll:
    """Resume the recorded task if it can still finish, else submit once and record it; wait for it.

    ``submit`` sends the task and returns the provider's task id (recorded before any waiting, so a
    killed render resumes it instead of paying twice); ``look`` is one status check; ``failure``
    turns a failed task into the error to raise. A recorded task that failed at the provider for a
    reason other than a refusal or the account (expired, cancelled, an internal error: not billed)
    is submitted afresh; a refusal or an account error is raised, never retried.

    ``find`` closes the last gap: a render killed after the provider accepted a task but before its
    id was recorded. Where the provider keeps a client-chosen id (Kling's ``external_task_id``),
    ``find`` looks this job's id up and returns the task it names, which is then resumed like a
    recorded one instead of being paid for again.
    """
    task_id = ctx.job_id
    if not task_id and find is not None:
        task_id = find()
        if task_id:
            ctx.record_job_id(task_id)
    if task_id:
        first = look(task_id)
        if first.state == "failed":
            error = failure(task_id, first)
            if not error.transient:
                raise error
            task_id = None
        elif first.state == "done":
            return first
    if not task_id:
        task_id = submit()
        if not task_id:
            raise TransientError(f"{provider} accepted the task but sent no task id")
        ctx.record_job_id(task_id)
    final = wait_for(task_id, provider, lambda: look(task_id), ctx, settings, sleep)
    if final.state == "failed":
        raise failure(task_id, final)
    return final


# --------------------------------------------------------------------------- results


class ExpiredResult(BackendError):
    """A result link that no longer works. Providers that can hand out a fresh link catch it and ask again."""


def expired_result(provider: str, status: int, reason: str = "") -> BackendError:
    """The error for a result whose link has expired (or was never ours): clear, and not retried."""
    return ExpiredResult(
        f"{provider}'s result link no longer works (HTTP {status}); result links expire soon after a job "
        "finishes, so the file is lost — render again to regenerate it",
        provider_reason=reason,
    )


def download(client: httpx.Client, url: str, dest: Path, provider: str, settings: PollSettings) -> Path:
    """Fetch a result file now (provider URLs expire); an expired or missing URL is a clear error.

    ``client`` must carry no provider credentials: result links are pre-signed storage URLs.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    try:
        with client.stream("GET", url, timeout=settings.download_timeout) as response:
            if response.status_code in (401, 403, 404, 410):
                response.read()
                raise expired_result(provider, response.status_code, short(response.text))
            if response.status_code == 429 or response.status_code >= 500:
                raise TransientError(
                    f"{provider} could not serve the result file (HTTP {response.status_code})",
                    retry_after=retry_after_seconds(response.headers.get("Retry-After")),
                )
            if response.status_code >= 400:
                raise BackendError(
                    f"{provider} refused the result download (HTTP {response.status_code}): "
                    f"{short(response.read().decode(errors='replace'))}"
                )
            with open(part, "wb") as fh:
                for chunk in response.iter_bytes():
                    fh.write(chunk)
    except httpx.TimeoutException:
        part.unlink(missing_ok=True)
        raise TransientError(f"{provider}'s result download timed out") from None
    except httpx.TransportError as exc:
        part.unlink(missing_ok=True)
        raise TransientError(f"{provider}'s result download broke off ({type(exc).__name__})") from None
    if part.stat().st_size == 0:
        part.unlink()
        raise TransientError(f"{provider} sent an empty result file")
    part.replace(dest)
    return dest


def suffix_for(url: str, content_type: str = "", default: str = ".bin") -> str:
    """A file extension for a result from its URL path (or content type)."""
    name = httpx.URL(url).path.rsplit("/", 1)[-1]
    if "." in name:
        ext = "." + name.rsplit(".", 1)[-1].lower()
        if 1 < len(ext) <= 6:
            return ext
    for kind, ext in (
        ("png", ".png"),
        ("jpeg", ".jpg"),
        ("webp", ".webp"),
        ("mp4", ".mp4"),
        ("wav", ".wav"),
        ("mpeg", ".mp3"),
        ("webm", ".webm"),
    ):
        if kind in content_type:
            return ext
    return default


@dataclass
class Media:
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    fps: float | None = None
    audio: bool = False  # the file carries a sound stream (a clip with its own generated sound)

    def result(self, files: list[Path], **fields: Any) -> Result:
        """The result of a generation whose first file this is: its size, length and rate as probed."""
        return Result(files=files, duration=self.duration, width=self.width, height=self.height, fps=self.fps, **fields)


def probe(path: Path) -> Media:
    """Size, duration and frame rate of a downloaded file, read with PyAV (Pillow for stills)."""
    if path.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp"):
        from PIL import Image

        try:
            with Image.open(path) as img:
                return Media(width=img.width, height=img.height)
        except OSError as exc:
            raise BackendError(f"the result {path.name} is not a readable image ({exc})") from None
    import av

    try:
        with av.open(str(path)) as container:
            media = Media()
            if container.duration is not None:
                media.duration = float(container.duration) / 1_000_000
            video = next(iter(container.streams.video), None)
            if video is not None:
                media.width, media.height = video.codec_context.width, video.codec_context.height
                if video.average_rate:
                    media.fps = float(video.average_rate)
            audio = next(iter(container.streams.audio), None)
            media.audio = audio is not None
            if (
                media.duration is None
                and audio is not None
                and audio.duration is not None
                and audio.time_base is not None
            ):
                media.duration = float(audio.duration * audio.time_base)
            return media
    except av.error.FFmpegError as exc:
        raise BackendError(f"the result {path.name} is not readable media ({exc})") from None
