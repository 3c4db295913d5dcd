"""Live checks against DashScope; they run only when DASHSCOPE_API_KEY is set (DASHSCOPE_REGION picks the region).

The free checks (the key in its region, a temporary upload, the cloned-voice list) run by default; those
that cost money also need KAIPAI_LIVE_SPEND=1: a keyframe (about CNY 0.14), a line over the WebSocket and
over HTTP (fractions of a fen), a clone, a face check, and the clips — image-to-video, first-and-last
frame, reference-to-video, speech-to-video and VideoRetalk (a few CNY each). Beijing-only calls skip
themselves elsewhere.
"""

from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np
import pytest

from kaipai.backends.base import Capability, ImageRequest, JobContext, LipsyncRequest, SpeechRequest, VideoRequest
from kaipai.backends.dashscope import DashScopeBackend
from kaipai.document.cast import Character, Voice
from tests.backends.doubles.server import png_bytes

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not os.environ.get("DASHSCOPE_API_KEY"), reason="needs DASHSCOPE_API_KEY"),
]
spend = pytest.mark.skipif(os.environ.get("KAIPAI_LIVE_SPEND") != "1", reason="costs money: set KAIPAI_LIVE_SPEND=1")


def beijing_only() -> None:
    if DashScopeBackend().region != "beijing":
        pytest.skip("a Beijing-only model")


def job(tmp_path: Path, name: str) -> JobContext:
    out = tmp_path / name
    out.mkdir()
    return JobContext(out_dir=out, key=f"live-{name}")


def picture(tmp_path: Path, name: str = "frame.png", colour: tuple[int, int, int] = (90, 120, 160)) -> Path:
    path = tmp_path / name
    path.write_bytes(png_bytes(832, 480, colour))
    return path


def voice(tmp_path: Path, seconds: float = 4.0) -> Path:
    path = tmp_path / "line.wav"
    t = np.arange(int(24000 * seconds)) / 24000
    with wave.open(str(path), "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(24000)
        fh.writeframes(
            (0.3 * np.sin(2 * np.pi * 200 * t) * (np.sin(2 * np.pi * 3 * t) > 0) * 32767).astype("<i2").tobytes()
        )
    return path


def test_key_and_region_are_accepted() -> None:
    assert "key accepted" in DashScopeBackend().reachable()


def test_a_temporary_upload_is_free_and_named_oss(tmp_path: Path) -> None:
    backend = DashScopeBackend()
    assert backend.uploads.url("wan2.2-i2v-flash", picture(tmp_path)).startswith("oss://")


def test_the_cloned_voice_list_answers() -> None:
    beijing_only()
    backend = DashScopeBackend()
    assert isinstance(backend.enrollment.voices(), list)


@spend
def test_one_small_keyframe(tmp_path: Path) -> None:
    recorded: list[str] = []
    ctx = JobContext(out_dir=tmp_path, key="live", on_job_id=recorded.append)
    result = DashScopeBackend(deadline=600).generate_image(
        ImageRequest(prompt="一只橘猫坐在窗台上，电影感", width=768, height=512, seed=1), ctx
    )
    assert recorded and result.files[0].stat().st_size > 1000 and result.cost_units == 1


@spend
def test_a_line_over_the_websocket_and_over_http(tmp_path: Path) -> None:
    lin = Character(id="lin", name="林夏", description="女，26岁")
    line = SpeechRequest(text="你好，今晚下雨了。", character=lin, speaker="lin", cast=[lin])
    spoken = DashScopeBackend().synthesize(line, job(tmp_path, "ws"))
    assert spoken.duration and spoken.duration > 0.5 and spoken.cost_units == 16
    if DashScopeBackend().region == "beijing":
        assert DashScopeBackend(speech_protocol="http").synthesize(line, job(tmp_path, "http")).files


@spend
def test_a_cloned_voice_speaks(tmp_path: Path) -> None:
    beijing_only()
    sample = os.environ.get("KAIPAI_LIVE_VOICE_SAMPLE")
    if not sample:
        pytest.skip("set KAIPAI_LIVE_VOICE_SAMPLE to 10-20 s of clean speech to clone")
    lin = Character(id="lin", name="林夏", voice=Voice(sample=sample))
    result = DashScopeBackend(deadline=600).synthesize(
        SpeechRequest(text="你好。", character=lin, speaker="lin"), job(tmp_path, "clone")
    )
    assert result.metadata["voice"].startswith("cosyvoice-v3-flash")


@spend
def test_clips_from_a_keyframe_an_end_frame_and_references(tmp_path: Path) -> None:
    start, end = picture(tmp_path), picture(tmp_path, "end.png", (200, 120, 60))
    clip = VideoRequest(prompt="the light changes", image=start, width=832, height=480, fps=24, duration=5)
    assert DashScopeBackend(deadline=1800).generate_video(clip, job(tmp_path, "i2v")).files
    first_last = "wan2.2-kf2v-flash" if DashScopeBackend().region == "beijing" else "wanx2.1-kf2v-plus"
    kf = clip.model_copy(update={"last_image": end, "width": 1280, "height": 720})
    assert DashScopeBackend(model=first_last, deadline=1800).generate_video(kf, job(tmp_path, "kf2v")).files
    r2v = DashScopeBackend(model="wan2.6-r2v-flash", deadline=1800)
    refs = clip.model_copy(update={"reference_images": [end], "width": 1280, "height": 720})
    assert r2v.generate_video(refs, job(tmp_path, "r2v")).files


@spend
def test_speech_to_video_and_videoretalk(tmp_path: Path) -> None:
    beijing_only()
    face = os.environ.get("KAIPAI_LIVE_FACE_IMAGE")
    if not face:
        pytest.skip("set KAIPAI_LIVE_FACE_IMAGE to a front-facing portrait (400-7000 px) for the face check")
    line = voice(tmp_path)
    talking = DashScopeBackend(model="wan2.2-s2v", deadline=1800).generate_video(
        VideoRequest(prompt="", image=Path(face), audio=line, width=832, height=480, fps=24, duration=4),
        job(tmp_path, "s2v"),
    )
    assert talking.files and talking.cost_units > 0
    retalk = DashScopeBackend(deadline=1800)
    assert retalk.sheet(Capability.lipsync).model == "videoretalk"
    assert retalk.lipsync(LipsyncRequest(video=talking.files[0], audio=line), job(tmp_path, "retalk")).files
