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
    AccountError,
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
from tests.backends.doubles.server import png_bytes
from tests.backends.task_checks import serving

FAST = {"poll_interval": 0.01, "poll_max_interval": 0.02, "deadline": 5, "timeout": 2}


class Killed(Exception):
    pass


@pytest.fixture
def double(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[KlingDouble]:
    yield from serving(
        KlingDouble(), monkeypatch, tmp_path, {"KLING_ACCESS_KEY": ACCESS_KEY, "KLING_SECRET_KEY": SECRET_KEY}
    )


def backend(double: KlingDouble, **options: Any) -> KlingBackend:
    return KlingBackend(**{"base_url": double.base_url, **FAST, **options})


def still(tmp_path: Path, name: str = "keyframe.png", colour: tuple[int, int, int] = (200, 80, 40)) -> Path:
    """A picture Kling takes: PNG, at least 300 px on each side."""
    image = tmp_path / name
    image.write_bytes(png_bytes(400, 300, colour))
    return image


def request(tmp_path: Path, prompt: str = "镜头缓缓推近，她抬起头", duration: float = 5) -> VideoRequest:
    image = still(tmp_path)
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
    ctx, recorded, _ = job_context(tmp_path, on_job_id=lambda job: statuses.append(double.tasks[job].status))
    result = backend(double, mode="pro", model="kling-v1-6", region="global").generate_video(
        request(tmp_path, duration=10), ctx
    )
    assert recorded == ["1001"] and statuses == ["submitted"]
    body = double.tasks["1001"].body
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
    assert double.downloads[0][1] - (double.tasks[recorded[0]].succeeded_at or 0) < 0.5
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


# --------------------------------------------------------------------------- account errors


@pytest.mark.parametrize("code", ["1100", "1101", "1102", "1304"])
def test_an_empty_or_blocked_account_comes_with_429_and_is_reported_never_retried(
    double: KlingDouble, tmp_path: Path, code: str
) -> None:
    double.next_faults = [code]
    ctx, recorded, _ = job_context(tmp_path)
    with pytest.raises(AccountError, match=rf"Kling cannot run the task.*\({code}:") as info:
        backend(double).generate_video(request(tmp_path), ctx)
    assert not info.value.transient and info.value.retry_after is None
    assert recorded == [] and double.submissions == 0
    # while a task runs: the first such answer ends the wait (a rate limit would be waited out)
    double.next_faults = []
    ctx, recorded, _ = job_context(tmp_path, on_job_id=lambda job: double.next_faults.extend([code] * 3))
    with pytest.raises(AccountError):
        backend(double).generate_video(request(tmp_path), ctx)
    assert len(double.next_faults) == 2 and recorded == ["1001"]


def test_a_rate_limit_429_is_still_waited_out(double: KlingDouble, tmp_path: Path) -> None:
    ctx, _, _ = job_context(tmp_path, on_job_id=lambda job: double.next_faults.extend(["429"]))
    assert backend(double, poll_interval=0.01).generate_video(request(tmp_path), ctx).files


# --------------------------------------------------------------------------- parameters per model


def test_cfg_scale_goes_only_to_the_models_whose_sheet_takes_it(double: KlingDouble, tmp_path: Path) -> None:
    for model in ("kling-v2-5-turbo", "kling-v2-1", "kling-v1-6"):
        ctx, _, _ = job_context(tmp_path, key=model)
        backend(double, model=model, cfg_scale=0.7).generate_video(request(tmp_path), ctx)
    sent = {body["model_name"]: body for _, body in double.bodies}
    assert "cfg_scale" not in sent["kling-v2-5-turbo"] and "cfg_scale" not in sent["kling-v2-1"]
    assert sent["kling-v1-6"]["cfg_scale"] == 0.7
    assert all(body["negative_prompt"] == "blur" for body in sent.values())
    assert KlingBackend(model="kling-v2-5-turbo").sheet(Capability.video).parameters == ["negative_prompt"]


# --------------------------------------------------------------------------- regions


def test_the_region_picks_the_host_the_prices_and_the_currency(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KAIPAI_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.delenv("KLING_BASE_URL", raising=False)
    monkeypatch.delenv("KLING_REGION", raising=False)
    china, world = KlingBackend(), KlingBackend(region="global")
    assert china.base_url == "https://api-beijing.klingai.com" and china.region == "cn"
    assert world.base_url == "https://api-singapore.klingai.com" and world.region == "global"
    assert KlingBackend(region="singapore").region == "global"
    cn_sheet, global_sheet = china.sheet(Capability.video), world.sheet(Capability.video)
    assert cn_sheet.model == global_sheet.model == "kling-v2-5-turbo"
    assert (cn_sheet.cost_per_unit, cn_sheet.currency) == (0.3, "unit")
    assert (global_sheet.cost_per_unit, global_sheet.currency) == (0.042, "USD")
    monkeypatch.setenv("KLING_REGION", "intl")
    assert KlingBackend().base_url == "https://api-singapore.klingai.com"
    monkeypatch.delenv("KLING_REGION")
    (tmp_path / "config.toml").write_text('[kling]\nregion = "global"\n')
    monkeypatch.setenv("KAIPAI_CONFIG", str(tmp_path / "config.toml"))
    assert KlingBackend().region == "global"
    monkeypatch.setenv("KAIPAI_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("KLING_BASE_URL", "https://api-singapore.klingai.com/")  # the host says the region
    assert KlingBackend().region == "global" and KlingBackend().sheet(Capability.video).currency == "USD"
    with pytest.raises(NotConfigured, match=r"no region 'mars'.*cn.*global"):
        KlingBackend(region="mars")


def test_a_key_of_the_other_region_is_named_as_the_likely_cause(
    double: KlingDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KLING_ACCESS_KEY", "ak-of-the-china-console")
    with pytest.raises(NotConfigured, match=r"1002.*region global.*China and global keys do not mix"):
        backend(double, region="global").reachable()


# --------------------------------------------------------------------------- idempotent submission


def test_a_task_whose_reply_was_lost_is_found_by_its_external_id_not_paid_again(
    double: KlingDouble, tmp_path: Path
) -> None:
    double.next_faults, double.slow_seconds = ["lost-reply"], 0.6  # Kling takes the task; the reply is lost
    ctx, recorded, _ = job_context(tmp_path, key="take-key-7")
    with pytest.raises(TransientError, match="did not answer in time"):
        backend(double, timeout=0.2).generate_video(request(tmp_path), ctx)
    deadline = time.monotonic() + 5
    while double.submissions == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert recorded == [] and double.submissions == 1
    (task,) = double.tasks.values()
    assert task.external and task.external.startswith("kaipai-")
    again, again_recorded, _ = job_context(tmp_path, key="take-key-7")  # the engine's retry, or a new render
    result = backend(double).generate_video(request(tmp_path), again)
    assert double.submissions == 1 and again_recorded == [task.id] and result.metadata["task_id"] == task.id


def test_a_failed_attempt_is_submitted_again_under_a_new_external_id(double: KlingDouble, tmp_path: Path) -> None:
    double.fail_task_msg = "generation failed, internal error"
    with pytest.raises(TransientError):
        backend(double).generate_video(request(tmp_path), job_context(tmp_path, key="k")[0])
    double.fail_task_msg = None
    result = backend(double).generate_video(request(tmp_path), job_context(tmp_path, key="k")[0])
    externals = [t.external or "" for t in double.tasks.values()]
    assert [e.rsplit("-", 1)[1] for e in externals] == ["0", "1"] and result.metadata["task_id"] == "1002"


# --------------------------------------------------------------------------- end frames and references


def test_an_end_frame_goes_as_image_tail_where_the_model_takes_it(double: KlingDouble, tmp_path: Path) -> None:
    end = still(tmp_path, "end.png", (10, 20, 200))
    shot = request(tmp_path).model_copy(update={"last_image": end})
    backend(double, model="kling-v2-5-turbo", mode="pro").generate_video(shot, job_context(tmp_path)[0])
    (_, body), *_ = double.bodies
    assert base64.b64decode(body["image_tail"]) == end.read_bytes() and not body["image_tail"].startswith("data:")
    with pytest.raises(UnsupportedRequest, match=r"cannot take an end frame.*first_last_frame"):
        backend(double, model="kling-v2-5-turbo").generate_video(shot, job_context(tmp_path)[0])
    assert double.submissions == 1


def test_references_go_to_multi_image2video_with_the_keyframe_first(double: KlingDouble, tmp_path: Path) -> None:
    refs = [still(tmp_path, f"ref{i}.png", (i * 60, 100, 50)) for i in range(3)]
    shot = request(tmp_path).model_copy(update={"reference_images": refs})
    result = backend(double, model="kling-v1-6").generate_video(shot, job_context(tmp_path)[0])
    ((kind, body),) = double.bodies
    assert kind == "multi-image2video" and body["aspect_ratio"] == "16:9"
    sent = [base64.b64decode(i["image"]) for i in body["image_list"]]
    assert sent == [p.read_bytes() for p in [shot.image, *refs]] and result.metadata["images_sent"] == 4
    with pytest.raises(UnsupportedRequest, match=r"kling-v2-5-turbo takes no reference images.*kling-v1-6"):
        backend(double).generate_video(shot, job_context(tmp_path)[0])
    too_many = shot.model_copy(update={"reference_images": [*refs, refs[0]]})
    with pytest.raises(UnsupportedRequest, match="has 4"):
        backend(double, model="kling-v1-6").generate_video(too_many, job_context(tmp_path)[0])


def test_webp_keyframes_are_sent_as_png(double: KlingDouble, tmp_path: Path) -> None:
    from PIL import Image

    webp = tmp_path / "keyframe.webp"
    Image.new("RGB", (400, 300), (1, 2, 3)).save(webp)
    shot = request(tmp_path).model_copy(update={"image": webp})
    assert backend(double).generate_video(shot, job_context(tmp_path)[0]).files
    assert base64.b64decode(double.bodies[0][1]["image"]).startswith(b"\x89PNG")
