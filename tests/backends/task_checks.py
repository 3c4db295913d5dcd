"""What the task-API backends' tests share (Ark, Vidu, Runway, Veo, MiniMax; Kling's and DashScope's serve their
doubles here too): the double on a local port, fast polling, and the checks whose steps are the same at every
provider — a render killed after the provider took the task, an injected fault on submit, an expired download
link, a wrong or missing key.

Each test file keeps its own assertions on what the provider was sent and what it answered; these
helpers run the common steps and hand back what the test asserts on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kaipai.backends.base import Backend, BackendError, NotConfigured, TransientError, VideoRequest
from tests.backends.doubles.jobs import job_context
from tests.backends.doubles.server import png_bytes, serve

FAST = {"poll_interval": 0.01, "poll_max_interval": 0.02, "deadline": 5, "timeout": 5}

#: (fault, error, message) rows every provider answers alike: a reply cut off mid-way, an answer too late.
CUT_OFF_AND_STALLED = [("garbage", TransientError, "not JSON"), ("slow", TransientError, "in time")]


def stall(fault: str) -> dict[str, float]:
    """A client timeout shorter than the double's stall, only where the double stalls."""
    return {"timeout": 0.5} if fault == "slow" else {}


class Killed(Exception):
    """Stands in for the render process dying right after the task id was recorded."""


def picture(tmp_path: Path, name: str = "keyframe.png") -> Path:
    path = tmp_path / name
    path.write_bytes(png_bytes())
    return path


def serving(
    double: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, keys: dict[str, str], unset: tuple[str, ...] = ()
) -> Iterator[Any]:
    """The double on a local port, with no user config, the provider's key variables set and ``unset`` cleared."""
    monkeypatch.setenv("KAIPAI_CONFIG", str(tmp_path / "no-config.toml"))
    for name in unset:
        monkeypatch.delenv(name, raising=False)
    for name, value in keys.items():
        monkeypatch.setenv(name, value)
    with serve(double.app()) as url:
        double.base_url = url
        yield double


def killed_and_resumed(make: Callable[[], Backend], request: VideoRequest, tmp_path: Path) -> list[str]:
    """Kill a render right after the task id is recorded, resume it from that id and check it delivers a clip;
    returns the task ids the resumed attempt recorded (none when it resumed rather than submitted again)."""

    def die(task: str) -> None:
        raise Killed(task)

    ctx, recorded, _ = job_context(tmp_path, on_job_id=die)
    with pytest.raises(Killed):
        make().generate_video(request, ctx)
    again, again_recorded, _ = job_context(tmp_path, job_id=recorded[0])
    assert make().generate_video(request, again).files
    return again_recorded


def trouble_on_submit(
    double: Any,
    make: Callable[..., Backend],
    request: VideoRequest,
    tmp_path: Path,
    fault: str,
    error: type,
    pattern: str,
) -> BackendError:
    """Inject ``fault`` on the submission: the render fails with ``error`` matching ``pattern`` and records no task;
    a 429 carries the provider's wait. Returns the error for the provider's own checks."""
    double.next_faults = [fault]
    ctx, recorded, _ = job_context(tmp_path)
    with pytest.raises(error, match=pattern) as info:
        make(**stall(fault)).generate_video(request, ctx)
    assert recorded == []
    if fault == "429":
        assert info.value.retry_after == 3
    return info.value


def expired_link_is_final(make: Callable[[], Backend], request: VideoRequest, tmp_path: Path) -> Path:
    """A download link that has expired (the double set to ``url_ttl = -1``) is a clear error that is not retried;
    returns the job's folder."""
    ctx, _, _ = job_context(tmp_path)
    with pytest.raises(BackendError, match="expire") as info:
        make().generate_video(request, ctx)
    assert not info.value.transient
    return ctx.out_dir


def wrong_and_missing_key(
    make: Callable[[], Backend],
    check: Callable[[], Any],
    monkeypatch: pytest.MonkeyPatch,
    env: str,
    wrong: str,
    said: str,
) -> None:
    """A wrong key makes ``check`` fail as not configured, saying ``said`` and never showing the key; no key at
    all makes ``check()`` name the variable to set."""
    monkeypatch.setenv(env, wrong)
    with pytest.raises(NotConfigured, match=said) as info:
        check()
    assert wrong not in str(info.value)
    monkeypatch.delenv(env)
    with pytest.raises(NotConfigured, match=env):
        make().check()
