"""The kling backend against a local Kling API protocol double (JWT auth, image-to-video tasks)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kaipai.backends.base import (
    BackendError,
    Capability,
    NotConfigured,
    RefusedError,
    TransientError,
    UnsupportedRequest,
    VideoRequest,
    check_request,
    snap_request,
)
from kaipai.backends.kling import KlingBackend, api_token
from tests.backends.doubles.jobs import job_context
from tests.backends.doubles.kling_double import ACCESS_KEY, SECRET_KEY, KlingDouble, verify_jwt
from tests.backends.doubles.server import png_bytes, serve

FAST = {"poll_interval": 0.01, "poll_max_interval": 0.02, "deadline": 5, "timeout": 2}


class Killed(Exception):
    pass


@pytest.fixture
def double(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[KlingDouble]:
    monkeypatch.setenv("KAIPAI_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("KLING_ACCESS_KEY", ACCESS_KEY)
    monkeypatch.setenv("KLING_SECRET_KEY", SECRET_KEY)
    d = KlingDouble()
    with serve(d.app()) as url:
        d.base_url = url
        yield d


def backend(double: KlingDouble, **options: Any) -> KlingBackend:
    return KlingBackend(**{"base_url": double.base_url, **FAST, **options})


def request(tmp_path: Path, prompt: str = "镜头缓缓推近，她抬起头", duration: float = 5) -> VideoRequest:
    image = tmp_path / "keyframe.png"
    image.write_bytes(png_bytes())
    return VideoRequest(
        prompt=prompt, negative_prompt="blur", image=image, width=1280, height=720, fps=24, duration=duration, seed=1
    )


def test_token_is_a_valid_hs256_jwt_for_the_access_key() -> None:
    token = api_token(ACCESS_KEY, SECRET_KEY)
    assert verify_jwt(token) is None
    assert verify_jwt(api_token(ACCESS_KEY, "another-secret")) == "bad signature"
    assert verify_jwt(api_token(ACCESS_KEY, SECRET_KEY, now=time.time() - 3600)) == "bad claims"  # expired


def test_clip_end_to_end_records_units(double: KlingDouble, tmp_path: Path) -> None:
    statuses: list[str] = []
    ctx, recorded, _ = job_context(tmp_path, on_job_id=lambda job: statuses.append(double.tasks[job]["status"]))
    result = backend(double, mode="pro", model="kling-v1-6").generate_video(request(tmp_path, duration=10), ctx)
    assert recorded == ["1001"] and statuses == ["submitted"]
    body = double.tasks["1001"]["body"]
    assert (body["model_name"], body["mode"], body["duration"], body["negative_prompt"]) == (
        "kling-v1-6",
        "pro",
        "10",
        "blur",
    )
    assert result.files[0].suffix == ".mp4" and result.fps == pytest.approx(16)
    assert result.cost_units == 2 and result.metadata["cost_unit"] == "resource unit"
    assert result.cost == pytest.approx(10 * 0.098)


def test_killed_render_resumes_without_a_second_submission(double: KlingDouble, tmp_path: Path) -> None:
    def die(job: str) -> None:
        raise Killed(job)

    ctx, recorded, _ = job_context(tmp_path, on_job_id=die)
    with pytest.raises(Killed):
        backend(double).generate_video(request(tmp_path), ctx)
    again, again_recorded, _ = job_context(tmp_path, job_id=recorded[0])
    assert backend(double).generate_video(request(tmp_path), again).files
    assert double.submissions == 1 and again_recorded == []


def test_download_is_immediate_and_an_expired_link_is_clear(double: KlingDouble, tmp_path: Path) -> None:
    double.url_ttl = 0.5
    ctx, recorded, _ = job_context(tmp_path)
    backend(double).generate_video(request(tmp_path), ctx)
    assert double.downloads[0][1] - double.tasks[recorded[0]]["succeeded_at"] < 0.5
    double.url_ttl = -1
    ctx, _, _ = job_context(tmp_path)
    with pytest.raises(BackendError, match="expire") as info:
        backend(double).generate_video(request(tmp_path), ctx)
    assert not info.value.transient


@pytest.mark.parametrize(
    ("fault", "error", "pattern"),
    [
        ("429", TransientError, "rate-limiting.*wait 3 s"),
        ("500", TransientError, "server error"),
        ("garbage", TransientError, "not JSON"),
    ],
)
def test_provider_trouble_on_submit(double: KlingDouble, tmp_path: Path, fault: str, error: type, pattern: str) -> None:
    double.next_faults = [fault]
    ctx, recorded, _ = job_context(tmp_path)
    with pytest.raises(error, match=pattern) as info:
        backend(double).generate_video(request(tmp_path), ctx)
    assert recorded == []
    if fault == "429":
        assert info.value.retry_after == 3


def test_trouble_while_polling_is_ridden_out(double: KlingDouble, tmp_path: Path) -> None:
    ctx, _, _ = job_context(tmp_path, on_job_id=lambda job: double.next_faults.extend(["500", "garbage"]))
    assert backend(double).generate_video(request(tmp_path), ctx).files and double.submissions == 1


def test_timeout_and_deadline(double: KlingDouble, tmp_path: Path) -> None:
    double.polls_to_finish = 10_000
    ctx, recorded, _ = job_context(tmp_path)
    with pytest.raises(TransientError, match="still running"):
        backend(double, deadline=0.2).generate_video(request(tmp_path), ctx)
    assert recorded == ["1001"]


def test_content_refusal_on_submit_and_in_the_task(double: KlingDouble, tmp_path: Path) -> None:
    ctx, _, _ = job_context(tmp_path)
    with pytest.raises(RefusedError, match=r"1301.*Trust & Safety") as info:
        backend(double).generate_video(request(tmp_path, prompt="FORBIDDEN"), ctx)
    assert info.value.provider_reason.startswith("Trust & Safety")
    double.fail_task_msg = "Failure to pass the risk control system"
    ctx, _, _ = job_context(tmp_path)
    with pytest.raises(RefusedError, match="risk control"):
        backend(double).generate_video(request(tmp_path), ctx)


def test_a_plain_task_failure_is_retried_with_a_fresh_task(double: KlingDouble, tmp_path: Path) -> None:
    double.fail_task_msg = "generation failed, internal error"
    ctx, recorded, _ = job_context(tmp_path)
    with pytest.raises(TransientError, match="internal error"):
        backend(double).generate_video(request(tmp_path), ctx)
    double.fail_task_msg = None
    again, again_recorded, _ = job_context(tmp_path, job_id=recorded[0])
    assert backend(double).generate_video(request(tmp_path), again).files and again_recorded == ["1002"]


def test_bad_keys_are_not_configured(double: KlingDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLING_SECRET_KEY", "wrong-secret")
    ctx, _, _ = job_context(tmp_path)
    with pytest.raises(NotConfigured, match="refused the keys") as info:
        backend(double).generate_video(request(tmp_path), ctx)
    assert "wrong-secret" not in str(info.value)
    monkeypatch.delenv("KLING_SECRET_KEY")
    with pytest.raises(NotConfigured, match="KLING_SECRET_KEY"):
        backend(double).check()


def test_sheet_snaps_durations_and_refuses_a_last_frame_in_std_mode(tmp_path: Path) -> None:
    std = KlingBackend(model="kling-v2-1").sheet(Capability.video)
    snapped = snap_request(std, request(tmp_path, duration=6.2))
    assert snapped.duration == 10 and (snapped.width, snapped.height) == (1280, 720)
    with pytest.raises(UnsupportedRequest, match="last frame"):
        check_request(std, snapped.model_copy(update={"last_image": snapped.image}))
    pro = KlingBackend(model="kling-v2-1", mode="pro").sheet(Capability.video)
    check_request(pro, snap_request(pro, request(tmp_path)).model_copy(update={"last_image": snapped.image}))
    with pytest.raises(NotConfigured, match="mode"):
        KlingBackend(mode="turbo")


@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_any_key_pair_signs_a_token_the_provider_can_verify(access: str, secret: str) -> None:
    token = api_token(access, secret, now=1_700_000_000)
    header, payload, signature = token.split(".")
    expected = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)) == expected
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims == {"iss": access, "exp": 1_700_000_000 + 1800, "nbf": 1_700_000_000 - 5}
