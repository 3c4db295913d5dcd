"""The dashscope backend against a local DashScope protocol double (Wan tasks, CosyVoice HTTP)."""

from __future__ import annotations

import email.utils
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
    ImageRequest,
    NotConfigured,
    RefusedError,
    SpeechRequest,
    TransientError,
    UnsupportedRequest,
    VideoRequest,
    check_request,
    snap_request,
)
from kaipai.backends.dashscope import DashScopeBackend
from kaipai.backends.remote.tasks import retry_after_seconds
from kaipai.document.cast import Character, Voice
from tests.backends.doubles.dashscope_double import KEY, DashScopeDouble
from tests.backends.doubles.jobs import job_context
from tests.backends.doubles.server import png_bytes
from tests.backends.task_checks import serving

FAST = {"poll_interval": 0.01, "poll_max_interval": 0.02, "deadline": 5, "timeout": 2}


class Killed(Exception):
    """Stands in for the render process dying right after the job id was recorded."""


@pytest.fixture
def double(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[DashScopeDouble]:
    yield from serving(DashScopeDouble(), monkeypatch, tmp_path, {"DASHSCOPE_API_KEY": KEY})


def backend(double: DashScopeDouble, **options: Any) -> DashScopeBackend:
    return DashScopeBackend(**{"base_url": double.base_url, **FAST, **options})


def keyframe(tmp_path: Path) -> Path:
    path = tmp_path / "keyframe.png"
    path.write_bytes(png_bytes())
    return path


def image_request(prompt: str = "雨夜，霓虹灯下的小巷") -> ImageRequest:
    return ImageRequest(prompt=prompt, negative_prompt="watermark", width=1280, height=720, seed=7)


def video_request(tmp_path: Path, prompt: str = "she turns and walks into the rain") -> VideoRequest:
    return VideoRequest(prompt=prompt, image=keyframe(tmp_path), width=832, height=480, fps=16, duration=5, seed=3)


def test_keyframe_is_queued_polled_and_downloaded(double: DashScopeDouble, tmp_path: Path) -> None:
    seen_status: list[str] = []
    ctx, recorded, progress = job_context(tmp_path, on_job_id=lambda job: seen_status.append(double.tasks[job].status))
    result = backend(double).generate_image(image_request(), ctx)
    assert len(recorded) == 1 and seen_status == ["PENDING"]  # recorded before any waiting
    assert result.files[0].read_bytes() == png_bytes() and (result.width, result.height) == (64, 48)
    assert result.cost_units == 1 and result.cost == pytest.approx(0.14)
    assert result.metadata["task_id"] == recorded[0] and result.metadata["actual_prompt"].startswith("extended")
    assert progress, "the waiting was reported as progress"
    body = double.tasks[recorded[0]].body
    assert (
        body["parameters"]["size"] == "1280*720"
        and body["parameters"]["seed"] == 7
        and body["input"]["negative_prompt"] == "watermark"
    )


def test_clip_uploads_the_keyframe_and_records_provider_seconds(double: DashScopeDouble, tmp_path: Path) -> None:
    ctx, recorded, _ = job_context(tmp_path)
    result = backend(double).generate_video(video_request(tmp_path), ctx)
    path, body, headers = double.requests[-1]
    assert path.endswith("video-generation/video-synthesis")
    assert body["input"]["img_url"].startswith("oss://") and headers["x-dashscope-ossresourceresolve"] == "enable"
    ((key, (model, _name, raw)),) = double.uploads.items()  # the keyframe, uploaded for this model, as the SDK does
    assert body["input"]["img_url"] == f"oss://{key}" and model == "wan2.2-i2v-flash" and raw == png_bytes()
    assert body["parameters"] == {"resolution": "480P", "seed": 3, "prompt_extend": False, "watermark": False}
    assert "duration" not in body["parameters"]  # wan2.2 takes no duration (it is always 5 s)
    assert result.duration == pytest.approx(5, abs=0.1) and result.fps == pytest.approx(16)
    assert result.cost_units == 5 and result.cost == pytest.approx(5 * 0.20)  # usage.duration, as wan2.2 bills
    assert result.metadata["url"].startswith(double.base_url) and result.metadata["task_id"] == recorded[0]


def test_killed_render_resumes_the_same_task_without_paying_twice(double: DashScopeDouble, tmp_path: Path) -> None:
    double.polls_to_finish = 3

    def die(job: str) -> None:
        raise Killed(job)

    ctx, recorded, _ = job_context(tmp_path, on_job_id=die)
    with pytest.raises(Killed):
        backend(double).generate_video(video_request(tmp_path), ctx)
    assert double.tasks[recorded[0]].status == "PENDING"
    again, again_recorded, _ = job_context(tmp_path, job_id=recorded[0])
    result = backend(double).generate_video(video_request(tmp_path), again)  # a fresh process
    assert double.submissions == 1 and again_recorded == []
    assert result.metadata["task_id"] == recorded[0] and result.files[0].is_file()


def test_result_is_downloaded_the_moment_the_task_succeeds(double: DashScopeDouble, tmp_path: Path) -> None:
    double.url_ttl = 0.5
    ctx, recorded, _ = job_context(tmp_path)
    backend(double).generate_image(image_request(), ctx)
    ((_name, when),) = double.downloads
    assert when - (double.tasks[recorded[0]].succeeded_at or 0) < 0.5


def test_expired_result_link_is_a_clear_error_not_a_retry(double: DashScopeDouble, tmp_path: Path) -> None:
    double.url_ttl = -1  # the provider's link is already dead, as after a long outage
    ctx, _, _ = job_context(tmp_path)
    with pytest.raises(BackendError) as info:
        backend(double).generate_image(image_request(), ctx)
    assert not info.value.transient
    assert "expire" in str(info.value) and "render again" in str(info.value)
    assert not list(ctx.out_dir.iterdir())


def test_429_on_submit_carries_retry_after(double: DashScopeDouble, tmp_path: Path) -> None:
    double.next_faults = ["429"]
    double.retry_after = "7"
    ctx, recorded, _ = job_context(tmp_path)
    with pytest.raises(TransientError) as info:
        backend(double).generate_image(image_request(), ctx)
    assert info.value.retry_after == 7 and "rate-limiting" in str(info.value)
    assert recorded == [] and double.submissions == 0


def test_429_while_polling_is_waited_out_as_asked(double: DashScopeDouble, tmp_path: Path) -> None:
    double.retry_after = "0.3"
    ctx, _, _ = job_context(tmp_path, on_job_id=lambda job: double.next_faults.extend(["429"]))
    start = time.monotonic()
    result = backend(double).generate_image(image_request(), ctx)
    assert time.monotonic() - start >= 0.3 and result.files and double.submissions == 1


def test_server_errors_are_transient_and_ridden_out_while_polling(double: DashScopeDouble, tmp_path: Path) -> None:
    double.next_faults = ["500"]
    ctx, _, _ = job_context(tmp_path)
    with pytest.raises(TransientError, match="server error"):
        backend(double).generate_image(image_request(), ctx)
    ctx, _, _ = job_context(tmp_path, on_job_id=lambda job: double.next_faults.extend(["500", "500"]))
    assert backend(double).generate_image(image_request(), ctx).files
    assert double.submissions == 1


def test_repeated_polling_failures_keep_the_job_for_the_next_attempt(double: DashScopeDouble, tmp_path: Path) -> None:
    ctx, recorded, _ = job_context(tmp_path, on_job_id=lambda job: double.next_faults.extend(["500"] * 10))
    with pytest.raises(TransientError, match="failed status checks"):
        backend(double, max_poll_failures=3).generate_image(image_request(), ctx)
    double.next_faults.clear()
    again, _, _ = job_context(tmp_path, job_id=recorded[0])
    assert backend(double).generate_image(image_request(), again).files and double.submissions == 1


def test_a_provider_that_does_not_answer_times_out(double: DashScopeDouble, tmp_path: Path) -> None:
    double.next_faults, double.slow_seconds = ["slow"], 1.0
    ctx, _, _ = job_context(tmp_path)
    with pytest.raises(TransientError, match="did not answer in time"):
        backend(double, timeout=0.2).generate_image(image_request(), ctx)


def test_malformed_json_is_reported(double: DashScopeDouble, tmp_path: Path) -> None:
    double.next_faults = ["garbage"]
    ctx, _, _ = job_context(tmp_path)
    with pytest.raises(TransientError, match=r"not JSON.*502 Bad Gateway"):
        backend(double).generate_image(image_request(), ctx)


def test_content_refusal_on_submit_carries_the_providers_reason(double: DashScopeDouble, tmp_path: Path) -> None:
    ctx, recorded, _ = job_context(tmp_path)
    with pytest.raises(RefusedError) as info:
        backend(double).generate_image(image_request("FORBIDDEN scene"), ctx)
    assert not info.value.transient and "DataInspectionFailed" in str(info.value)
    assert info.value.provider_reason == "Input data may contain inappropriate content."
    assert recorded == []


def test_content_refusal_of_a_running_task_is_not_retried(double: DashScopeDouble, tmp_path: Path) -> None:
    double.fail_task_with = ("DataInspectionFailed", "Output data may contain inappropriate content.")
    ctx, recorded, _ = job_context(tmp_path)
    with pytest.raises(RefusedError, match="Output data may contain inappropriate content"):
        backend(double).generate_video(video_request(tmp_path), ctx)
    # resuming a refused task reports the refusal again instead of paying for a new one
    again, _, _ = job_context(tmp_path, job_id=recorded[0])
    with pytest.raises(RefusedError):
        backend(double).generate_video(video_request(tmp_path), again)
    assert double.submissions == 1


def test_a_task_that_failed_inside_the_provider_is_submitted_afresh_on_resume(
    double: DashScopeDouble, tmp_path: Path
) -> None:
    double.fail_task_with = ("InternalError.Algo", "algorithm error")
    ctx, recorded, _ = job_context(tmp_path)
    with pytest.raises(TransientError, match="algorithm error"):
        backend(double).generate_image(image_request(), ctx)
    double.fail_task_with = None
    again, again_recorded, _ = job_context(tmp_path, job_id=recorded[0])
    assert backend(double).generate_image(image_request(), again).files
    assert len(again_recorded) == 1 and again_recorded != recorded and double.submissions == 2


def test_deadline_leaves_the_task_to_be_resumed(double: DashScopeDouble, tmp_path: Path) -> None:
    double.polls_to_finish = 10_000
    ctx, recorded, _ = job_context(tmp_path)
    with pytest.raises(TransientError, match=r"still running.*picks it up"):
        backend(double, deadline=0.2).generate_video(video_request(tmp_path), ctx)
    double.polls_to_finish = 0
    again, _, _ = job_context(tmp_path, job_id=recorded[0])
    assert backend(double).generate_video(video_request(tmp_path), again).files and double.submissions == 1


def test_cosyvoice_speech_uses_the_characters_voice(double: DashScopeDouble, tmp_path: Path) -> None:
    ctx, _, _ = job_context(tmp_path)
    lin = Character(id="lin", name="林", voice=Voice(backend="dashscope", voice="longanya_v3"))
    result = backend(double).synthesize(SpeechRequest(text="我们走吧。", character=lin, speaker="lin"), ctx)
    assert result.files[0].suffix == ".wav" and result.duration == pytest.approx(5 * 0.18, abs=0.01)
    assert result.cost_units == 9 and result.metadata["voice"] == "longanya_v3"  # a Chinese character counts twice
    older = Character(id="lin", name="林", voice=Voice(voice="longwan_v2"))
    assert (
        backend(double, model="cosyvoice-v2")
        .synthesize(SpeechRequest(text="走吧", character=older, speaker="lin"), job_context(tmp_path)[0])
        .files
    )
    with pytest.raises(RefusedError, match="inappropriate"):
        backend(double).synthesize(SpeechRequest(text="FORBIDDEN words"), job_context(tmp_path)[0])


def test_missing_key_says_where_to_put_it(
    double: DashScopeDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DASHSCOPE_API_KEY")
    with pytest.raises(NotConfigured, match=r"DASHSCOPE_API_KEY.*no-config\.toml"):
        backend(double).check()


def test_key_from_the_user_config_file(
    double: DashScopeDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DASHSCOPE_API_KEY")
    config = tmp_path / "config.toml"
    config.write_text(f'[dashscope]\napi_key = "{KEY}"\n')
    monkeypatch.setenv("KAIPAI_CONFIG", str(config))
    ctx, _, _ = job_context(tmp_path)
    assert backend(double).generate_image(image_request(), ctx).files
    assert config.read_text() == f'[dashscope]\napi_key = "{KEY}"\n'


def test_wrong_key_is_not_configured_and_never_echoed(
    double: DashScopeDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-wrong-secret")
    ctx, _, _ = job_context(tmp_path)
    with pytest.raises(NotConfigured) as info:
        backend(double).generate_image(image_request(), ctx)
    assert "sk-wrong-secret" not in str(info.value)
    with pytest.raises(NotConfigured):
        backend(double).reachable()


def test_sheets_adapt_requests_and_refuse_impossible_ones(tmp_path: Path) -> None:
    flash = DashScopeBackend(model="wan2.2-i2v-flash").sheet(Capability.video)
    snapped = snap_request(
        flash, VideoRequest(prompt="p", image=keyframe(tmp_path), width=1920, height=1080, fps=24, duration=3.2)
    )
    assert (snapped.width, snapped.height, snapped.duration) == (1280, 720, 5)
    check_request(flash, snapped)
    with pytest.raises(UnsupportedRequest, match="last frame"):
        check_request(flash, snapped.model_copy(update={"last_image": keyframe(tmp_path)}))
    with pytest.raises(NotConfigured, match="does image, not video"):
        DashScopeBackend(model="wan2.2-t2i-flash").sheet(Capability.video)
    assert DashScopeBackend().sheet(Capability.speech).cost_unit == "character"


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_retry_after_in_seconds_is_read_back(seconds: float) -> None:
    assert retry_after_seconds(repr(seconds)) == pytest.approx(seconds)


@given(st.integers(min_value=1, max_value=10_000))
def test_retry_after_as_an_http_date(ahead: int) -> None:
    when = email.utils.formatdate(time.time() + ahead, usegmt=True)
    assert retry_after_seconds(when) == pytest.approx(ahead, abs=2)


@given(st.text(max_size=30))
def test_retry_after_never_raises(text: str) -> None:
    value = retry_after_seconds(text)
    assert value is None or value >= 0
