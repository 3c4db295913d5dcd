"""DashScope clips by model kind (end frames, references, speech-to-video), VideoRetalk lip sync, and renders."""

from __future__ import annotations

import base64
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kaipai.backends.base import (
    AccountError,
    BackendError,
    Capability,
    LipsyncRequest,
    TransientError,
    UnsupportedRequest,
    VideoRequest,
    check_request,
    snap_request,
)
from kaipai.backends.dashscope import DashScopeBackend
from kaipai.document.cast import Character
from tests.backends.doubles.dashscope_double import KEY, DashScopeDouble
from tests.backends.doubles.jobs import job_context
from tests.backends.doubles.server import mp4_bytes, png_bytes
from tests.backends.task_checks import serving
from tests.support.media import voice_likeness

FAST = {"poll_interval": 0.01, "poll_max_interval": 0.02, "deadline": 5, "timeout": 3}


@pytest.fixture
def double(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[DashScopeDouble]:
    yield from serving(DashScopeDouble(), monkeypatch, tmp_path, {"DASHSCOPE_API_KEY": KEY})


def backend(double: DashScopeDouble, **options: Any) -> DashScopeBackend:
    return DashScopeBackend(**{"base_url": double.base_url, **FAST, **options})


def picture(tmp_path: Path, name: str, colour: tuple[int, int, int] = (200, 80, 40)) -> Path:
    path = tmp_path / name
    path.write_bytes(png_bytes(480, 320, colour))
    return path


def spoken(path: Path, seconds: float = 3.0, rate: int = 24000) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    pcm = 0.4 * np.sin(2 * np.pi * 190 * t) * (np.sin(2 * np.pi * 2.7 * t) > 0.1)
    with wave.open(str(path), "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(rate)
        fh.writeframes((pcm * 32767).astype("<i2").tobytes())
    return path


def clip(tmp_path: Path, **update: Any) -> VideoRequest:
    base = VideoRequest(
        prompt="她转身走进雨里", image=picture(tmp_path, "kf.png"), width=1280, height=720, fps=24, duration=5, seed=3
    )
    return base.model_copy(update=update)


def sent(double: DashScopeDouble, key: str) -> bytes:
    """The bytes behind an oss:// URL the backend sent."""
    return double.uploads[key.removeprefix("oss://")][2]


# --------------------------------------------------------------------------- end frames


def test_an_end_frame_goes_to_a_first_and_last_frame_model(double: DashScopeDouble, tmp_path: Path) -> None:
    end = picture(tmp_path, "end.png", (10, 20, 200))
    request = clip(tmp_path, last_image=end)
    result = backend(double, model="wan2.2-kf2v-flash").generate_video(request, job_context(tmp_path)[0])
    path, body, _ = double.requests[-1]
    assert path.endswith("image2video/video-synthesis")
    assert sent(double, body["input"]["first_frame_url"]) == request.image.read_bytes()  # type: ignore[union-attr]
    assert sent(double, body["input"]["last_frame_url"]) == end.read_bytes()
    assert "img_url" not in body["input"] and body["parameters"]["resolution"] == "720P"
    assert result.files[0].suffix == ".mp4"
    sheet = DashScopeBackend(model="wan2.2-i2v-flash").sheet(Capability.video)
    with pytest.raises(UnsupportedRequest, match="last frame"):
        check_request(sheet, snap_request(sheet, request))
    with pytest.raises(UnsupportedRequest, match=r"takes no end frame.*kf2v"):
        backend(double).generate_video(request, job_context(tmp_path)[0])
    assert double.submissions == 1


# --------------------------------------------------------------------------- references


def test_references_go_to_reference_to_video_as_uploads(double: DashScopeDouble, tmp_path: Path) -> None:
    refs = [picture(tmp_path, f"ref{i}.png", (i * 70, 90, 30)) for i in range(2)]
    request = clip(tmp_path, reference_images=refs, duration=6)
    backend(double, model="wan2.6-r2v").generate_video(request, job_context(tmp_path)[0])
    path, body, _ = double.requests[-1]
    assert path.endswith("video-generation/video-synthesis")
    assert [sent(double, u) for u in body["input"]["reference_urls"]] == [p.read_bytes() for p in refs]
    assert body["parameters"]["size"] == "1280*720" and body["parameters"]["duration"] == 6
    assert "resolution" not in body["parameters"] and "prompt_extend" not in body["parameters"]
    with pytest.raises(UnsupportedRequest, match=r"takes no reference images.*wan2.6-r2v"):
        backend(double).generate_video(request, job_context(tmp_path)[0])
    with pytest.raises(UnsupportedRequest, match="takes 3 reference images and the shot has 4"):
        backend(double, model="wan2.6-r2v").generate_video(
            request.model_copy(update={"reference_images": [*refs, *refs]}), job_context(tmp_path)[0]
        )


# --------------------------------------------------------------------------- speech to video


def test_speech_to_video_makes_the_keyframe_speak_the_line(double: DashScopeDouble, tmp_path: Path) -> None:
    voice = spoken(tmp_path / "line.wav")
    request = clip(tmp_path, audio=voice, width=832, height=480)
    s2v = backend(double, model="wan2.2-s2v")
    assert s2v.sheet(Capability.video).audio_input
    result = s2v.generate_video(request, job_context(tmp_path)[0])
    face = next(body for path, body, _ in double.requests if path == "face-detect")
    assert face["model"] == "wan2.2-s2v-detect" and double.face_checks == 1
    path, body, _ = double.requests[-1]
    assert path.endswith("image2video/video-synthesis") and body["model"] == "wan2.2-s2v"
    assert set(body["input"]) == {"image_url", "audio_url"} and body["parameters"] == {"resolution": "480P"}
    assert sent(double, body["input"]["audio_url"]) == voice.read_bytes()
    assert voice_likeness(result.files[0], voice) > 0.9  # the clip speaks the shot's line
    assert result.cost_units == pytest.approx(3.0, abs=0.2)  # usage.video_duration, as s2v bills
    assert result.cost == pytest.approx(result.cost_units * 0.5)


def test_speech_to_video_refuses_what_it_cannot_animate(double: DashScopeDouble, tmp_path: Path) -> None:
    with pytest.raises(UnsupportedRequest, match="needs the shot's dialogue"):
        backend(double, model="wan2.2-s2v").generate_video(clip(tmp_path), job_context(tmp_path)[0])
    with pytest.raises(UnsupportedRequest, match="does not animate a voice"):
        backend(double).generate_video(clip(tmp_path, audio=spoken(tmp_path / "l.wav")), job_context(tmp_path)[0])
    double.faces = False
    with pytest.raises(BackendError, match="face check found no face") as info:
        backend(double, model="wan2.2-s2v").generate_video(
            clip(tmp_path, audio=spoken(tmp_path / "l.wav")), job_context(tmp_path)[0]
        )
    assert not info.value.transient and double.submissions == 0


# --------------------------------------------------------------------------- VideoRetalk


def retalk_request(tmp_path: Path, seconds: float = 3.0, **update: Any) -> LipsyncRequest:
    video = tmp_path / "clip.mp4"
    video.write_bytes(mp4_bytes(64, 48, frames=int(seconds * 16), fps=16))
    voice = spoken(tmp_path / "shot.wav", seconds)
    base = LipsyncRequest(video=video, audio=voice, speakers=[("lin", 0.2, 2.5)], fps=24)
    return base.model_copy(update=update)


def test_videoretalk_uploads_the_clip_and_the_voice_and_returns_them_together(
    double: DashScopeDouble, tmp_path: Path
) -> None:
    (tmp_path / "lin.png").write_bytes(png_bytes(400, 400))
    lin = Character(id="lin", name="林", reference_images=["lin.png"])
    request = retalk_request(tmp_path, characters=[lin])
    result = backend(double, base_dir=str(tmp_path)).lipsync(request, job_context(tmp_path)[0])
    path, body, headers = double.requests[-1]
    assert path.endswith("image2video/video-synthesis") and body["model"] == "videoretalk"
    assert sent(double, body["input"]["video_url"]) == request.video.read_bytes()
    assert sent(double, body["input"]["audio_url"]) == request.audio.read_bytes()
    assert sent(double, body["input"]["ref_image_url"]) == (tmp_path / "lin.png").read_bytes()  # whose lips move
    assert body["parameters"] == {"video_extension": False} and headers["x-dashscope-ossresourceresolve"] == "enable"
    assert voice_likeness(result.files[0], request.audio) > 0.9
    assert result.cost_units == pytest.approx(3.0, abs=0.2) and result.metadata["currency"] == "CNY"


def test_videoretalk_refuses_a_clip_outside_its_limits(double: DashScopeDouble, tmp_path: Path) -> None:
    with pytest.raises(UnsupportedRequest, match=r"clip of 2-120 s.*1\.\d s"):
        backend(double).lipsync(retalk_request(tmp_path, seconds=1.2), job_context(tmp_path)[0])
    assert double.submissions == 0


@pytest.mark.parametrize(
    ("fault", "error", "says"),
    [
        ("429", TransientError, "rate-limiting"),
        ("quota", AccountError, "Free allocated quota exceeded"),
        ("arrearage", AccountError, "good standing"),
        ("500", TransientError, "server error"),
        ("garbage", TransientError, "not JSON"),
        ("policy-expired", TransientError, "policy expired"),
    ],
)
def test_provider_trouble_around_an_upload_and_a_lip_sync(
    double: DashScopeDouble, tmp_path: Path, fault: str, error: type[BackendError], says: str
) -> None:
    double.next_faults = [fault]
    ctx, recorded, _ = job_context(tmp_path)
    with pytest.raises(error, match=says) as info:
        backend(double).lipsync(retalk_request(tmp_path), ctx)
    assert recorded == [] and double.submissions == 0
    assert info.value.transient == (error is TransientError)  # an account error is never retried


def test_an_expired_result_link_and_a_refused_lip_sync_are_clear(double: DashScopeDouble, tmp_path: Path) -> None:
    double.url_ttl = -1
    with pytest.raises(BackendError, match="expire") as info:
        backend(double).lipsync(retalk_request(tmp_path), job_context(tmp_path)[0])
    assert not info.value.transient
    double.url_ttl, double.fail_task_with = 60, ("InvalidFile.FaceNotMatch", "No face matches the reference image.")
    with pytest.raises(BackendError, match="FaceNotMatch") as info:
        backend(double).lipsync(retalk_request(tmp_path), job_context(tmp_path, key="b")[0])
    assert not info.value.transient


def test_each_file_is_uploaded_once_per_model_in_a_render(double: DashScopeDouble, tmp_path: Path) -> None:
    dash = backend(double)
    for key in ("a", "b"):
        dash.generate_video(clip(tmp_path), job_context(tmp_path, key=key)[0])
    assert len(double.uploads) == 1 and double.submissions == 2


def test_wan21_bills_by_video_duration_and_wan22_by_duration(double: DashScopeDouble, tmp_path: Path) -> None:
    old = backend(double, model="wanx2.1-i2v-turbo").generate_video(
        clip(tmp_path, duration=4), job_context(tmp_path)[0]
    )
    new = backend(double).generate_video(clip(tmp_path), job_context(tmp_path, key="n")[0])
    assert double.usage(double.tasks[old.metadata["task_id"]])["video_duration"] == 4 and old.cost_units == 4
    assert "duration" in double.usage(double.tasks[new.metadata["task_id"]]) and new.cost_units == 5
    assert double.requests[0][1]["parameters"]["duration"] == 4  # wanx2.1 takes a duration


def test_data_uri_images_are_still_what_the_provider_accepts(double: DashScopeDouble, tmp_path: Path) -> None:
    """The double takes the documented data URI form too (the SDK and kaipai upload instead)."""
    import httpx

    uri = "data:image/png;base64," + base64.b64encode(png_bytes()).decode()
    body = {"model": "wan2.2-i2v-flash", "input": {"img_url": uri, "prompt": None}, "parameters": {}}
    reply = httpx.post(
        f"{double.base_url}/api/v1/services/aigc/video-generation/video-synthesis",
        json=body,
        headers={"Authorization": f"Bearer {KEY}", "X-DashScope-Async": "enable"},
    )
    assert reply.status_code == 200 and reply.json()["output"]["task_status"] == "PENDING"
