"""The vidu backend against a local Vidu /ent/v2 protocol double."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import pytest

from kaipai.backends.base import (
    AccountError,
    Capability,
    NotConfigured,
    RefusedError,
    TransientError,
    VideoRequest,
    check_request,
    snap_request,
)
from kaipai.backends.vidu import ViduBackend
from tests.backends.doubles.jobs import job_context
from tests.backends.doubles.vidu_double import KEY, ViduDouble
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


@pytest.fixture
def double(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ViduDouble]:
    yield from serving(ViduDouble(), monkeypatch, tmp_path, {"VIDU_API_KEY": KEY})


def backend(double: ViduDouble, **options: Any) -> ViduBackend:
    return ViduBackend(**{"base_url": double.base_url, **FAST, **options})


def clip(tmp_path: Path, prompt: str = "the bird flies right", **fields: Any) -> VideoRequest:
    base: dict[str, Any] = {"prompt": prompt, "image": picture(tmp_path), "width": 1280, "height": 720, "fps": 24}
    return VideoRequest(**{**base, "duration": 5, "seed": 11, **fields})


def test_image_to_video_waits_through_every_state_and_records_credits(double: ViduDouble, tmp_path: Path) -> None:
    ctx, recorded, progress = job_context(tmp_path, key="take-key-7")
    result = backend(double).generate_video(clip(tmp_path), ctx)
    task = double.tasks[recorded[0]]
    assert task["endpoint"] == "img2video" and recorded[0].isdigit()
    body = task["body"]
    assert (body["model"], body["duration"], body["seed"], body["resolution"]) == ("viduq2-pro", 5, 11, "720p")
    assert len(body["images"]) == 1 and body["payload"] == "take-key-7" and body["bgm"] is False
    assert {m for _, m in progress} >= {"queueing", "scheduled", "processing"}  # a state it does not document
    assert result.cost_units == 50 and result.metadata["cost_unit"] == "credit" and result.metadata["audio"] is False
    assert result.cost == pytest.approx(5 * 0.71) and result.metadata["currency"] == "CNY"


def test_start_end_and_reference_modes_go_to_their_endpoints(double: ViduDouble, tmp_path: Path) -> None:
    ctx, recorded, _ = job_context(tmp_path)
    backend(double).generate_video(clip(tmp_path, last_image=picture(tmp_path, "end.png")), ctx)
    assert double.tasks[recorded[0]]["endpoint"] == "start-end2video"
    assert len(double.tasks[recorded[0]]["body"]["images"]) == 2
    refs = [picture(tmp_path, f"ref{i}.png") for i in range(8)]
    ctx, recorded, _ = job_context(tmp_path)
    backend(double, references=True).generate_video(clip(tmp_path, width=720, height=1280, reference_images=refs), ctx)
    task = double.tasks[recorded[0]]
    assert task["endpoint"] == "reference2video" and len(task["body"]["images"]) == 7
    assert task["body"]["aspect_ratio"] == "9:16"


def test_viduq3_keeps_its_own_sound(double: ViduDouble, tmp_path: Path) -> None:
    ctx, recorded, _ = job_context(tmp_path)
    result = backend(double, model="viduq3-pro").generate_video(clip(tmp_path), ctx)
    assert double.tasks[recorded[0]]["body"]["audio"] is True and "bgm" not in double.tasks[recorded[0]]["body"]
    with av.open(io.BytesIO(result.files[0].read_bytes())) as container:
        assert sorted(s.type for s in container.streams) == ["audio", "video"]
    assert result.metadata["audio"] is True
    quiet = backend(double, model="viduq3-pro", audio=False)
    assert not quiet.sheet(Capability.video).native_audio
    ctx, recorded, _ = job_context(tmp_path)
    assert quiet.generate_video(clip(tmp_path), ctx).metadata["audio"] is False


def test_a_killed_render_resumes_without_a_second_submission(double: ViduDouble, tmp_path: Path) -> None:
    again_recorded = killed_and_resumed(lambda: backend(double), clip(tmp_path), tmp_path)
    assert double.submissions == 1 and again_recorded == []


def test_a_task_that_is_gone_is_submitted_afresh(double: ViduDouble, tmp_path: Path) -> None:
    ctx, recorded, _ = job_context(tmp_path, job_id="1")
    assert backend(double).generate_video(clip(tmp_path), ctx).files and len(recorded) == 1


def test_the_clip_is_fetched_at_once_and_an_expired_link_is_clear(double: ViduDouble, tmp_path: Path) -> None:
    ctx, recorded, _ = job_context(tmp_path)
    backend(double).generate_video(clip(tmp_path), ctx)
    assert double.downloads[0][1] - double.tasks[recorded[0]]["done_at"] < 1
    double.url_ttl = -1
    expired_link_is_final(lambda: backend(double), clip(tmp_path), tmp_path)


@pytest.mark.parametrize(
    ("fault", "error", "pattern"),
    [
        ("429", TransientError, "rate-limiting.*wait 3 s"),
        ("500", TransientError, "InternalServiceFailure"),
        *CUT_OFF_AND_STALLED,
        ("credits", AccountError, "CreditInsufficient"),
    ],
)
def test_provider_trouble_on_submit(double: ViduDouble, tmp_path: Path, fault: str, error: type, pattern: str) -> None:
    trouble_on_submit(double, lambda **o: backend(double, **o), clip(tmp_path), tmp_path, fault, error, pattern)
    assert double.submissions == 0


def test_trouble_while_polling_is_ridden_out(double: ViduDouble, tmp_path: Path) -> None:
    ctx, _, _ = job_context(tmp_path, on_job_id=lambda t: double.next_faults.extend(["500", "garbage"]))
    assert backend(double).generate_video(clip(tmp_path), ctx).files and double.submissions == 1


def test_policy_refusals_and_plain_failures(double: ViduDouble, tmp_path: Path) -> None:
    with pytest.raises(RefusedError, match="TaskPromptPolicyViolation"):
        backend(double).generate_video(clip(tmp_path, prompt="FORBIDDEN"), job_context(tmp_path)[0])
    double.fail_code = "CreationPolicyViolation"
    ctx, recorded, _ = job_context(tmp_path)
    with pytest.raises(RefusedError, match="CreationPolicyViolation"):
        backend(double).generate_video(clip(tmp_path), ctx)
    double.fail_code = "InternalServiceFailure"
    ctx, recorded, _ = job_context(tmp_path)
    with pytest.raises(TransientError, match="failed"):
        backend(double).generate_video(clip(tmp_path), ctx)
    double.fail_code = None
    again, again_recorded, _ = job_context(tmp_path, job_id=recorded[0])
    assert backend(double).generate_video(clip(tmp_path), again).files and len(again_recorded) == 1


def test_the_key_is_sent_as_a_token(double: ViduDouble, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "key accepted" in backend(double).reachable() and double.submissions == 0
    wrong_and_missing_key(
        lambda: backend(double),
        lambda: backend(double).reachable(),
        monkeypatch,
        "VIDU_API_KEY",
        "vda_wrong",
        "Unauthorized",
    )


def test_sheets_per_model_resolution_and_region(tmp_path: Path) -> None:
    q1 = ViduBackend(model="viduq1").sheet(Capability.video)
    snapped = snap_request(q1, clip(tmp_path, duration=3))
    assert snapped.duration == 5 and q1.cost_per_unit == pytest.approx(0.568)
    check_request(q1, snapped)
    with pytest.raises(NotConfigured, match="1080p"):
        ViduBackend(model="viduq1", resolution="720p").sheet(Capability.video)
    old = ViduBackend(model="vidu2.0", resolution="1080p", region="global").sheet(Capability.video)
    assert old.durations == [4] and old.currency == "USD"
