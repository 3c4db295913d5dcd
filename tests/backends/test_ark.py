"""The ark backend (Seedance clips, Seedream keyframes) through the official volcengine-ark-runtime SDK,
against a local Ark protocol double."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kaipai.backends.base import (
    AccountError,
    BackendError,
    Capability,
    ImageRequest,
    NotConfigured,
    RefusedError,
    TransientError,
    UnsupportedRequest,
    VideoRequest,
    check_request,
    snap_request,
)
from kaipai.backends.remote.inputs import at_least
from tests.backends.doubles.ark_double import KEY, ArkDouble
from tests.backends.doubles.jobs import job_context
from tests.backends.task_checks import (
    CUT_OFF_AND_STALLED,
    FAST,
    expired_link_is_final,
    killed_and_resumed,
    picture,
    serving,
    trouble_on_submit,
    wrong_and_missing_key,
)

pytest.importorskip("volcenginesdkarkruntime")

from kaipai.backends.ark import ArkBackend

PRO = "doubao-seedance-1-0-pro-250528"
SOUND = "doubao-seedance-1-5-pro-251215"


@pytest.fixture
def double(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ArkDouble]:
    yield from serving(ArkDouble(), monkeypatch, tmp_path, {"ARK_API_KEY": KEY})


def backend(double: ArkDouble, **options: Any) -> ArkBackend:
    return ArkBackend(**{"base_url": double.base_url + "/api/v3", **FAST, **options})


def clip(tmp_path: Path, prompt: str = "她转身走进雨里", **fields: Any) -> VideoRequest:
    base: dict[str, Any] = {
        "prompt": prompt,
        "image": picture(tmp_path),
        "width": 1248,
        "height": 704,
        "fps": 24,
        "duration": 5,
        "seed": 7,
    }
    return VideoRequest(**{**base, **fields})


def posts(double: ArkDouble) -> int:
    return sum(1 for method, path in double.requests if method == "POST" and path.endswith("/tasks"))


def test_a_clip_is_submitted_once_recorded_before_waiting_and_downloaded(double: ArkDouble, tmp_path: Path) -> None:
    statuses: list[str] = []
    ctx, recorded, progress = job_context(tmp_path, on_job_id=lambda t: statuses.append(double.tasks[t]["status"]))
    result = backend(double, model=PRO).generate_video(clip(tmp_path), ctx)
    assert len(recorded) == 1 and recorded[0].startswith("cgt-") and statuses == ["queued"] and progress
    body = double.tasks[recorded[0]]["body"]
    assert body["model"] == PRO and body["resolution"] == "720p" and body["ratio"] == "16:9"
    assert (body["duration"], body["seed"], body["watermark"], body["generate_audio"]) == (5, 7, False, None)
    assert [c.get("role") for c in body["content"]] == [None, "first_frame"]
    assert body["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert result.files[0].suffix == ".mp4" and result.fps == pytest.approx(16)
    assert result.cost_units == 1248 * 704 * 24 * 5 // 1024 and result.metadata["cost_unit"] == "token"
    assert result.cost == pytest.approx(5 * 0.3089) and result.metadata["currency"] == "CNY"
    assert result.metadata["audio"] is False


def test_first_and_last_frame_and_reference_modes(double: ArkDouble, tmp_path: Path) -> None:
    last = picture(tmp_path, "last.png")
    ctx, recorded, _ = job_context(tmp_path)
    backend(double, model=PRO).generate_video(clip(tmp_path, last_image=last), ctx)
    assert double.tasks[recorded[0]]["roles"] == ["first_frame", "last_frame"]
    refs = [picture(tmp_path, f"ref{i}.png") for i in range(3)]
    lite = backend(double, model="doubao-seedance-1-0-lite-i2v-250428", references=True)
    ctx, recorded, _ = job_context(tmp_path)
    lite.generate_video(clip(tmp_path, reference_images=refs), ctx)
    assert double.tasks[recorded[0]]["roles"] == ["reference_image"] * 4  # the keyframe and three sheets
    fast = ArkBackend(model="doubao-seedance-1-0-pro-fast-251015").sheet(Capability.video)
    with pytest.raises(UnsupportedRequest, match="last frame"):
        check_request(fast, snap_request(fast, clip(tmp_path, last_image=last)))


def test_a_model_with_its_own_sound_keeps_it_in_the_clip(double: ArkDouble, tmp_path: Path) -> None:
    ctx, recorded, _ = job_context(tmp_path)
    result = backend(double, model=SOUND).generate_video(clip(tmp_path), ctx)
    assert double.tasks[recorded[0]]["body"]["generate_audio"] is True
    with av.open(io.BytesIO(result.files[0].read_bytes())) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]
    assert result.metadata["audio"] is True
    assert ArkBackend(model=SOUND).sheet(Capability.video).native_audio
    silent = backend(double, model=SOUND, audio=False)
    assert not silent.sheet(Capability.video).native_audio
    assert silent.sheet(Capability.video).cost_per_unit == pytest.approx(0.3295 / 2)
    ctx, recorded, _ = job_context(tmp_path)
    assert silent.generate_video(clip(tmp_path), ctx).metadata["audio"] is False
    assert double.tasks[recorded[0]]["body"]["generate_audio"] is False


def test_a_killed_render_resumes_the_task_without_a_second_submission(double: ArkDouble, tmp_path: Path) -> None:
    again_recorded = killed_and_resumed(lambda: backend(double), clip(tmp_path), tmp_path)
    assert double.submissions == 1 == posts(double) and again_recorded == []


def test_a_resumed_task_that_no_longer_exists_is_submitted_afresh(double: ArkDouble, tmp_path: Path) -> None:
    ctx, recorded, _ = job_context(tmp_path, job_id="cgt-20250101000000-gone1")
    assert backend(double).generate_video(clip(tmp_path), ctx).files
    assert double.submissions == 1 and recorded and recorded[0] != "cgt-20250101000000-gone1"


def test_the_clip_is_fetched_at_once_and_an_expired_link_is_a_clear_error(double: ArkDouble, tmp_path: Path) -> None:
    double.url_ttl = 0.5
    ctx, recorded, _ = job_context(tmp_path)
    backend(double).generate_video(clip(tmp_path), ctx)
    assert double.downloads[0][1] - double.tasks[recorded[0]]["succeeded_at"] < 0.5
    double.url_ttl = -1
    expired_link_is_final(lambda: backend(double), clip(tmp_path), tmp_path)


@pytest.mark.parametrize(
    ("fault", "error", "pattern"),
    [
        ("429", TransientError, "EndpointRPMExceeded.*wait 3 s"),
        ("500", TransientError, "InternalServiceError"),
        *CUT_OFF_AND_STALLED,
        ("limit", AccountError, "SetLimitExceeded"),
        ("overdue", AccountError, "AccountOverdueError"),
    ],
)
def test_provider_trouble_on_submit_is_sent_once_and_classified(
    double: ArkDouble, tmp_path: Path, fault: str, error: type, pattern: str
) -> None:
    error_raised = trouble_on_submit(
        double, lambda **o: backend(double, **o), clip(tmp_path), tmp_path, fault, error, pattern
    )
    assert posts(double) == 1  # the SDK's own retries are off: one POST, never a second task
    assert error_raised.transient == (error is TransientError)


def test_trouble_while_polling_is_ridden_out(double: ArkDouble, tmp_path: Path) -> None:
    ctx, _, _ = job_context(tmp_path, on_job_id=lambda t: double.next_faults.extend(["500", "garbage", "slow"]))
    assert backend(double, timeout=1).generate_video(clip(tmp_path), ctx).files and double.submissions == 1


def test_refusals_on_submit_and_in_the_task_are_never_retried(double: ArkDouble, tmp_path: Path) -> None:
    ctx, _, _ = job_context(tmp_path)
    with pytest.raises(RefusedError, match="InputTextSensitiveContentDetected") as info:
        backend(double).generate_video(clip(tmp_path, prompt="FORBIDDEN"), ctx)
    assert "sensitive" in info.value.provider_reason
    double.fail_task_code = "OutputVideoSensitiveContentDetected"
    ctx, recorded, _ = job_context(tmp_path)
    with pytest.raises(RefusedError, match="OutputVideoSensitiveContentDetected"):
        backend(double).generate_video(clip(tmp_path), ctx)
    again, _, _ = job_context(tmp_path, job_id=recorded[0])
    with pytest.raises(RefusedError):
        backend(double).generate_video(clip(tmp_path), again)
    assert double.submissions == 1


def test_a_plain_task_failure_is_retried_with_a_fresh_task(double: ArkDouble, tmp_path: Path) -> None:
    double.fail_task_code = "InternalServiceError"
    ctx, recorded, _ = job_context(tmp_path)
    with pytest.raises(TransientError, match="InternalServiceError"):
        backend(double).generate_video(clip(tmp_path), ctx)
    double.fail_task_code = None
    again, again_recorded, _ = job_context(tmp_path, job_id=recorded[0])
    assert backend(double).generate_video(clip(tmp_path), again).files and len(again_recorded) == 1


def test_a_wrong_key_or_model_is_not_configured(
    double: ArkDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx, _, _ = job_context(tmp_path)
    with pytest.raises(NotConfigured, match="doubao"):
        backend(double, model="seedance-1-0-pro-250528").generate_video(clip(tmp_path), ctx)  # a BytePlus id in cn
    wrong_and_missing_key(
        lambda: backend(double),
        lambda: backend(double).reachable(),
        monkeypatch,
        "ARK_API_KEY",
        "ark-wrong-key",
        "refused the API key",
    )


def test_check_and_reachable_cost_nothing(double: ArkDouble) -> None:
    assert "key found" in backend(double).check()
    assert "key accepted" in backend(double).reachable()
    assert double.submissions == 0 and not double.images


def test_the_region_decides_model_ids_prices_and_currency(double: ArkDouble, tmp_path: Path) -> None:
    intl = backend(double, region="intl", model=PRO, resolution="1080p")
    sheet = intl.sheet(Capability.video)
    assert (sheet.currency, sheet.cost_per_unit, sheet.resolutions[0]) == ("USD", 0.1224, (1920, 1088))
    ctx, recorded, _ = job_context(tmp_path)
    intl.generate_video(clip(tmp_path, width=1920, height=1088), ctx)
    assert double.tasks[recorded[0]]["body"]["model"] == "seedance-1-0-pro-250528"
    assert double.tasks[recorded[0]]["body"]["resolution"] == "1080p"
    with pytest.raises(NotConfigured, match="region"):
        ArkBackend(region="mars")


def test_tiers_snap_sizes_and_durations() -> None:
    sheet = ArkBackend(model=PRO, resolution="480p").sheet(Capability.video)
    request = VideoRequest(prompt="x", width=320, height=180, fps=12, duration=2.4)
    snapped = snap_request(sheet, request)
    assert (snapped.width, snapped.height, snapped.fps, snapped.duration) == (864, 480, 24, 3)
    vertical = snap_request(sheet, request.model_copy(update={"width": 1080, "height": 1920}))
    assert (vertical.width, vertical.height) == (480, 864)
    with pytest.raises(NotConfigured, match="resolution"):
        ArkBackend(resolution="4k")


def test_a_seedream_keyframe_carries_the_references_and_is_scaled_up(double: ArkDouble, tmp_path: Path) -> None:
    refs = [picture(tmp_path, "anna.png"), picture(tmp_path, "pier.png")]
    request = ImageRequest(prompt="雨夜码头，灯笼", width=640, height=360, reference_images=refs, seed=3)
    ctx, recorded, _ = job_context(tmp_path)
    result = backend(double).generate_image(request, ctx)
    body = double.images[0]
    assert body["model"] == "doubao-seedream-4-0-250828" and body["watermark"] is False and recorded == []
    assert body["size"] == "1280x720" and len(body["image"]) == 2 and body["image"][0].startswith("data:image/png")
    assert result.files[0].is_file() and result.cost == pytest.approx(0.2) and result.metadata["currency"] == "CNY"
    ctx, _, _ = job_context(tmp_path)
    with pytest.raises(RefusedError, match="OutputImageSensitiveContentDetected"):
        backend(double).generate_image(request.model_copy(update={"prompt": "FORBIDDEN"}), ctx)
    double.url_ttl = -1
    with pytest.raises(BackendError, match="expire"):
        backend(double).generate_image(request, job_context(tmp_path)[0])


def test_the_sdk_lists_and_deletes_tasks_on_the_double(double: ArkDouble, tmp_path: Path) -> None:
    """The double answers the SDK's other task calls as Ark does: repeated filter keys, ``{}`` on delete."""
    from volcenginesdkarkruntime import Ark

    client = Ark(base_url=double.base_url + "/api/v3", api_key=KEY, max_retries=0)
    first = client.content_generation.tasks.create(
        model=PRO, content=[{"type": "text", "text": "dawn --rs 480p --dur 3"}]
    )
    second = client.content_generation.tasks.create(model=PRO, content=[{"type": "text", "text": "dusk"}])
    assert (
        double.tasks[first.id]["params"]["resolution"] == "480p" and double.tasks[first.id]["params"]["duration"] == "3"
    )
    listed = client.content_generation.tasks.list(page_size=10, task_ids=[first.id, second.id], status="queued")
    assert listed.total == 2 and {t.id for t in listed.items} == {first.id, second.id}
    client.content_generation.tasks.delete(first.id)
    assert client.content_generation.tasks.get(task_id=first.id).status == "cancelled"
    client.close()


@given(st.integers(16, 4096), st.integers(16, 4096), st.integers(100_000, 2_000_000))
def test_scaling_up_reaches_the_minimum_and_keeps_the_shape(width: int, height: int, least: int) -> None:
    w, h = at_least(width, height, least)
    if width * height >= least:
        assert (w, h) == (width, height)
        return
    scale = (least / (width * height)) ** 0.5
    assert w * h >= least and w % 8 == 0 and h % 8 == 0
    assert 0 <= w - width * scale < 8 and 0 <= h - height * scale < 8


@pytest.mark.parametrize(
    ("fault", "error"),
    [("429", TransientError), ("500", TransientError), ("garbage", TransientError), ("limit", AccountError)],
)
def test_provider_trouble_on_a_keyframe(double: ArkDouble, tmp_path: Path, fault: str, error: type) -> None:
    double.next_faults = [fault]
    with pytest.raises(error):
        backend(double).generate_image(ImageRequest(prompt="dawn", width=1280, height=720), job_context(tmp_path)[0])
    assert sum(1 for m, p in double.requests if m == "POST" and p.endswith("/images/generations")) == 1
