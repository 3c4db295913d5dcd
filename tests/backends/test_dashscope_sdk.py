"""The DashScope double driven by the official ``dashscope`` SDK: what the provider's own client sends, it answers.

Only after this passes do kaipai's tests against the double mean something: the double follows the
provider (as its client speaks it), not kaipai's client. Every call here is the SDK's public API.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.backends.doubles.dashscope_double import KEY, DashScopeDouble
from tests.backends.doubles.server import png_bytes, serve, wav_bytes

dashscope = pytest.importorskip("dashscope")
from dashscope.audio.tts_v2 import AudioFormat, SpeechSynthesizer, VoiceEnrollmentService  # noqa: E402
from dashscope.common.error import RequestFailure  # noqa: E402
from dashscope.utils.oss_utils import OssUtils  # noqa: E402

RESOLVE = {"X-DashScope-OssResourceResolve": "enable"}


@pytest.fixture
def double(monkeypatch: pytest.MonkeyPatch) -> Iterator[DashScopeDouble]:
    d = DashScopeDouble(polls_to_finish=1)
    with serve(d.app()) as url:
        d.base_url = url
        monkeypatch.setattr(dashscope, "base_http_api_url", f"{url}/api/v1")
        monkeypatch.setattr(dashscope, "base_websocket_api_url", url.replace("http", "ws") + "/api-ws/v1/inference")
        monkeypatch.setattr(dashscope, "api_key", KEY)
        yield d


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {"frame": tmp_path / "frame.png", "end": tmp_path / "end.png", "voice": tmp_path / "line.wav"}
    out["frame"].write_bytes(png_bytes(480, 320))
    out["end"].write_bytes(png_bytes(480, 320, (10, 20, 30)))
    out["voice"].write_bytes(wav_bytes(3.0))
    return out


def test_websocket_speech_with_the_sdk_for_each_cosyvoice_generation(double: DashScopeDouble) -> None:
    for model, voice in (
        ("cosyvoice-v3-flash", "longanyang"),
        ("cosyvoice-v3-plus", "longanhuan"),
        ("cosyvoice-v2", "longxiaochun_v2"),
    ):
        audio = SpeechSynthesizer(model=model, voice=voice, format=AudioFormat.WAV_24000HZ_MONO_16BIT).call(
            "你好，世界。"
        )
        with wave.open(io.BytesIO(audio)) as fh:
            assert fh.getframerate() == 24000 and fh.getnframes() > 0
    default = SpeechSynthesizer(model="cosyvoice-v3-flash", voice="longanyang").call(
        "hello"
    )  # format "Default", rate 0
    assert default
    frames = double.speech_sessions[0]
    assert [f["header"]["action"] for f in frames] == ["run-task", "continue-task", "finish-task"]
    assert frames[0]["payload"]["parameters"]["enable_ssml"] is True  # call() adds it; the double takes it


def test_a_voice_of_another_model_fails_as_the_sdk_reports_it(double: DashScopeDouble) -> None:
    with pytest.raises(RequestFailure, match="418"):
        SpeechSynthesizer(model="cosyvoice-v3-flash", voice="longxiaochun_v2").call("你好")
    double.ws_faults = ["throttle"]
    with pytest.raises(RequestFailure, match=r"Throttling\.RateQuota"):
        SpeechSynthesizer(model="cosyvoice-v3-flash", voice="longanyang").call("你好")


def test_http_speech_with_the_sdk(double: DashScopeDouble) -> None:
    result = dashscope.HttpSpeechSynthesizer.call(model="cosyvoice-v3-flash", text="你好", voice="longanyang")
    assert result.status_code == 200 and result.audio_url
    with wave.open(io.BytesIO(httpx.get(result.audio_url).content)) as fh:
        assert fh.getnframes() > 0
    assert double.requests[-1][1]["input"] == {
        "text": "你好",
        "voice": "longanyang",
        "format": "wav",
        "sample_rate": 24000,
    }


def test_wan_image_task_with_the_sdk(double: DashScopeDouble) -> None:
    task = dashscope.ImageSynthesis.async_call(model="wan2.2-t2i-flash", prompt="a castle", size="1280*720", n=1)
    assert task.status_code == 200 and task.output.task_status == "PENDING"
    done = dashscope.ImageSynthesis.wait(task)
    assert done.output.task_status == "SUCCEEDED" and done.output.results[0].url and done.usage.image_count == 1


def test_wan_video_tasks_with_the_sdk_upload_local_files(double: DashScopeDouble, files: dict[str, Path]) -> None:
    i2v = dashscope.VideoSynthesis.call(
        model="wan2.2-i2v-flash", prompt="a cat", img_url=f"file://{files['frame']}", resolution="480P", seed=7
    )
    assert i2v.status_code == 200 and i2v.output.task_status == "SUCCEEDED" and i2v.output.video_url
    _path, body, headers = double.requests[-1]
    assert body["input"]["img_url"].startswith("oss://") and headers["x-dashscope-ossresourceresolve"] == "enable"
    assert body["input"]["extend_prompt"] is True  # the SDK's deprecated extra field, accepted
    kf2v = dashscope.VideoSynthesis.call(
        model="wanx2.1-kf2v-plus",
        first_frame_url=f"file://{files['frame']}",
        last_frame_url=f"file://{files['end']}",
        resolution="720P",
    )
    assert kf2v.output.task_status == "SUCCEEDED" and double.requests[-1][0].endswith("image2video/video-synthesis")
    r2v = dashscope.VideoSynthesis.call(
        model="wan2.6-r2v", prompt="character1 waves", reference_urls=[f"file://{files['frame']}"], size="1280*720"
    )
    assert r2v.output.task_status == "SUCCEEDED" and r2v.usage.duration == 5


def test_speech_to_video_and_videoretalk_with_sdk_uploads(double: DashScopeDouble, files: dict[str, Path]) -> None:
    image, _ = OssUtils.upload(model="wan2.2-s2v", file_path=str(files["frame"]))
    voice, _ = OssUtils.upload(model="wan2.2-s2v", file_path=str(files["voice"]))
    assert image.startswith("oss://") and voice.startswith("oss://")
    s2v = dashscope.VideoSynthesis.call(
        model="wan2.2-s2v",
        task="image2video",
        extra_input={"image_url": image, "audio_url": voice},
        resolution="480P",
        headers=RESOLVE,
    )
    assert s2v.status_code == 200 and s2v.output.task_status == "SUCCEEDED", s2v
    assert s2v.usage.video_duration == pytest.approx(3.0, abs=0.2)  # as long as the voice
    clip = httpx.get(s2v.output.video_url).content
    (Path(files["frame"]).parent / "talk.mp4").write_bytes(clip)
    video, _ = OssUtils.upload(model="videoretalk", file_path=str(Path(files["frame"]).parent / "talk.mp4"))
    again, _ = OssUtils.upload(model="videoretalk", file_path=str(files["voice"]))
    retalk = dashscope.VideoSynthesis.call(
        model="videoretalk", task="image2video", extra_input={"video_url": video, "audio_url": again}, headers=RESOLVE
    )
    assert retalk.output.task_status == "SUCCEEDED" and retalk.output.video_url, retalk


def test_an_upload_is_bound_to_its_model(double: DashScopeDouble, files: dict[str, Path]) -> None:
    elsewhere, _ = OssUtils.upload(model="wan2.2-kf2v-flash", file_path=str(files["frame"]))
    rsp = dashscope.VideoSynthesis.async_call(model="wan2.2-i2v-flash", prompt="p", img_url=elsewhere)
    assert rsp.status_code == 400 and rsp.code == "InvalidParameter"


def test_voice_cloning_with_the_sdk_then_speech_in_the_cloned_voice(
    double: DashScopeDouble, files: dict[str, Path]
) -> None:
    sample, _ = OssUtils.upload(model="voice-enrollment", file_path=str(files["voice"]))
    service = VoiceEnrollmentService(headers=RESOLVE)
    voice_id = service.create_voice(target_model="cosyvoice-v3-flash", prefix="hero", url=sample)
    assert service.query_voice(voice_id)["status"] == "OK"
    assert [v["voice_id"] for v in service.list_voices(prefix="hero")] == [voice_id]
    assert SpeechSynthesizer(
        model="cosyvoice-v3-flash", voice=voice_id, format=AudioFormat.PCM_24000HZ_MONO_16BIT
    ).call("你好")
    with pytest.raises(RequestFailure, match="418"):  # a clone speaks on its own model only
        SpeechSynthesizer(model="cosyvoice-v3-plus", voice=voice_id).call("你好")


def test_provider_errors_reach_the_sdk_as_the_provider_sends_them(double: DashScopeDouble) -> None:
    double.next_faults = ["429", "quota", "arrearage"]
    codes = [dashscope.ImageSynthesis.async_call(model="wan2.2-t2i-flash", prompt="p") for _ in range(3)]
    assert [(r.status_code, r.code) for r in codes] == [
        (429, "Throttling.RateQuota"),
        (429, "Throttling.AllocationQuota"),
        (400, "Arrearage"),
    ]
    refused = dashscope.ImageSynthesis.async_call(model="wan2.2-t2i-flash", prompt="FORBIDDEN")
    assert (refused.status_code, refused.code) == (400, "DataInspectionFailed")
    double.fail_task_with = ("DataInspectionFailed", "Output data may contain inappropriate content.")
    failed = dashscope.ImageSynthesis.call(model="wan2.2-t2i-flash", prompt="p")
    assert failed.output.task_status == "FAILED" and failed.output.code == "DataInspectionFailed"
