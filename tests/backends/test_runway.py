"""The runway backend through the official runwayml SDK, against a local Runway API double."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from kaipai.backends.base import (
    AccountError,
    Capability,
    RefusedError,
    TransientError,
    UnsupportedRequest,
    VideoRequest,
    check_request,
    snap_request,
)
from tests.backends.doubles.jobs import job_context
from tests.backends.doubles.runway_double import KEY, VERSION, RunwayDouble
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

runwayml = pytest.importorskip("runwayml")

from kaipai.backends.runway import RunwayBackend  # noqa: E402


@pytest.fixture
def double(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[RunwayDouble]:
    yield from serving(
        RunwayDouble(), monkeypatch, tmp_path, {"RUNWAYML_API_SECRET": KEY}, unset=("RUNWAYML_BASE_URL",)
    )


def backend(double: RunwayDouble, **options: Any) -> RunwayBackend:
    return RunwayBackend(**{"base_url": double.base_url, **FAST, **options})


def clip(tmp_path: Path, prompt: str = "the keeper climbs the stairs", **fields: Any) -> VideoRequest:
    base: dict[str, Any] = {
        "prompt": prompt,
        "image": picture(tmp_path),
        "width": 1280,
        "height": 720,
        "fps": 24,
        "duration": 5,
        "seed": 42,
    }
    return VideoRequest(**{**base, **fields})


def posts(double: RunwayDouble) -> int:
    return sum(1 for method, path in double.requests if method == "POST" and path == "/v1/image_to_video")


def test_a_clip_is_submitted_once_polled_through_throttling_and_downloaded(
    double: RunwayDouble, tmp_path: Path
) -> None:
    ctx, recorded, progress = job_context(tmp_path)
    result = backend(double).generate_video(clip(tmp_path), ctx)
    body = double.tasks[recorded[0]]["body"]
    assert body["model"] == "gen4_turbo" and body["ratio"] == "1280:720" and body["duration"] == 5
    assert body["seed"] == 42 and body["promptImage"].startswith("data:image/png;base64,") and "audio" not in body
    assert result.cost_units == 25 and result.cost == pytest.approx(0.25) and result.metadata["cost_unit"] == "credit"
    assert result.metadata["audio"] is False and any(m == "THROTTLED" for _, m in progress)
    assert any(f == pytest.approx(0.67) for f, _ in progress)  # Runway's own progress figure


def test_runways_veo_takes_a_last_frame_and_keeps_its_sound(double: RunwayDouble, tmp_path: Path) -> None:
    ctx, recorded, _ = job_context(tmp_path)
    request = clip(tmp_path, last_image=picture(tmp_path, "last.png"), duration=8)
    result = backend(double, model="veo3.1").generate_video(request, ctx)
    body = double.tasks[recorded[0]]["body"]
    assert [p["position"] for p in body["promptImage"]] == ["first", "last"] and body["audio"] is True
    with av.open(io.BytesIO(result.files[0].read_bytes())) as container:
        assert sorted(s.type for s in container.streams) == ["audio", "video"]
    assert result.metadata["audio"] is True and result.cost == pytest.approx(3.20)
    silent = backend(double, model="veo3.1", audio=False)
    assert silent.sheet(Capability.video).cost_per_unit == pytest.approx(0.20)
    ctx, recorded, _ = job_context(tmp_path)
    assert silent.generate_video(request, ctx).metadata["audio"] is False
    assert double.tasks[recorded[0]]["body"]["audio"] is False
    gen4 = RunwayBackend().sheet(Capability.video)
    with pytest.raises(UnsupportedRequest, match="last frame"):
        check_request(gen4, snap_request(gen4, request))


def test_a_keyframe_over_the_data_uri_limit_goes_through_an_upload(double: RunwayDouble, tmp_path: Path) -> None:
    noise = np.random.default_rng(1).integers(0, 255, (1600, 1600, 3), dtype=np.uint8)
    big = tmp_path / "big.png"
    Image.fromarray(noise).save(big)
    assert big.stat().st_size * 4 / 3 > 5 * 1024 * 1024
    ctx, recorded, _ = job_context(tmp_path)
    backend(double).generate_video(clip(tmp_path, image=big), ctx)
    uri = double.tasks[recorded[0]]["body"]["promptImage"]
    assert uri.startswith("runway://uploads/") and double.uploads[uri.removeprefix("runway://")] == big.stat().st_size


def test_a_killed_render_resumes_without_a_second_submission(double: RunwayDouble, tmp_path: Path) -> None:
    again_recorded = killed_and_resumed(lambda: backend(double), clip(tmp_path), tmp_path)
    assert double.submissions == 1 == posts(double) and again_recorded == []


def test_a_deleted_task_is_submitted_afresh(double: RunwayDouble, tmp_path: Path) -> None:
    ctx, recorded, _ = job_context(tmp_path, job_id="00000000-0000-0000-0000-00000000dead")
    assert backend(double).generate_video(clip(tmp_path), ctx).files and len(recorded) == 1


def test_the_clip_is_fetched_at_once_and_an_expired_link_is_a_clear_error(double: RunwayDouble, tmp_path: Path) -> None:
    ctx, recorded, _ = job_context(tmp_path)
    backend(double).generate_video(clip(tmp_path), ctx)
    assert double.downloads[0][1] - double.tasks[recorded[0]]["done_at"] < 1
    double.url_ttl = -1
    expired_link_is_final(lambda: backend(double), clip(tmp_path), tmp_path)


@pytest.mark.parametrize(
    ("fault", "error", "pattern"),
    [
        ("429", TransientError, "rate-limiting.*wait 3 s"),
        ("502", TransientError, "502"),
        *CUT_OFF_AND_STALLED,
        ("credits", AccountError, "enough credits"),
    ],
)
def test_provider_trouble_on_submit_is_sent_once(
    double: RunwayDouble, tmp_path: Path, fault: str, error: type, pattern: str
) -> None:
    trouble_on_submit(double, lambda **o: backend(double, **o), clip(tmp_path), tmp_path, fault, error, pattern)
    assert posts(double) == 1  # the SDK's retries are off


def test_trouble_while_polling_is_ridden_out(double: RunwayDouble, tmp_path: Path) -> None:
    ctx, _, _ = job_context(tmp_path, on_job_id=lambda task: double.next_faults.extend(["502", "garbage", "slow"]))
    assert backend(double, timeout=1).generate_video(clip(tmp_path), ctx).files and double.submissions == 1


def test_a_safety_failure_is_a_refusal_and_an_internal_one_is_submitted_afresh(
    double: RunwayDouble, tmp_path: Path
) -> None:
    ctx, recorded, _ = job_context(tmp_path)
    with pytest.raises(RefusedError, match=r"SAFETY\.INPUT\.TEXT"):
        backend(double).generate_video(clip(tmp_path, prompt="FORBIDDEN"), ctx)
    double.failure_code = "INTERNAL.BAD_OUTPUT.CODE01"
    ctx, recorded, _ = job_context(tmp_path)
    with pytest.raises(TransientError, match=r"INTERNAL\.BAD_OUTPUT"):
        backend(double).generate_video(clip(tmp_path), ctx)
    double.failure_code = None
    again, again_recorded, _ = job_context(tmp_path, job_id=recorded[0])
    assert backend(double).generate_video(clip(tmp_path), again).files and len(again_recorded) == 1


def test_keys_are_checked_without_spending(double: RunwayDouble, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "1250 credits left" in backend(double).reachable() and double.submissions == 0
    wrong_and_missing_key(
        lambda: backend(double),
        lambda: backend(double).reachable(),
        monkeypatch,
        "RUNWAYML_API_SECRET",
        "key_wrong",
        "refused the API key",
    )


def test_sizes_snap_to_runways_pixel_ratios(tmp_path: Path) -> None:
    sheet = RunwayBackend().sheet(Capability.video)
    snapped = snap_request(sheet, clip(tmp_path, width=1920, height=1080, duration=3.2))
    assert (snapped.width, snapped.height, snapped.duration) == (1280, 720, 4)
    square = snap_request(sheet, clip(tmp_path, width=1000, height=1000))
    assert (square.width, square.height) == (960, 960)


def test_the_sdk_drives_the_double(double: RunwayDouble) -> None:
    """The double answers runwayml as Runway does: version header, task union, its own wait helper."""
    from runwayml.lib import polling

    client = runwayml.RunwayML(api_key=KEY, base_url=double.base_url, max_retries=0)
    assert client.runway_version == VERSION
    task = client.image_to_video.create(
        model="gen4.5", prompt_image="https://example.com/a.png", ratio="960:960", duration=10, prompt_text="x"
    )
    saved = polling.POLL_TIME, polling.POLL_JITTER
    polling.POLL_TIME, polling.POLL_JITTER = 0.01, 0
    try:
        done = task.wait_for_task_output(timeout=5)
    finally:
        polling.POLL_TIME, polling.POLL_JITTER = saved
    assert done.status == "SUCCEEDED" and ".mp4?expires=" in done.output[0]
    assert client.organization.retrieve().credit_balance == 1250
    client.tasks.delete(task.id)
    with pytest.raises(runwayml.NotFoundError):
        client.tasks.retrieve(task.id)
    client.close()
