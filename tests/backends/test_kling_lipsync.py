"""Kling lip sync (`/v1/videos/lip-sync`, audio-driven) against the Kling double, and a dialogue shot through it."""

from __future__ import annotations

import base64
import time
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
    RefusedError,
    TransientError,
    UnsupportedRequest,
    VideoRequest,
)
from kaipai.backends.kling import KlingBackend
from kaipai.backends.remote.media import audio_within
from tests.backends.doubles.jobs import job_context
from tests.backends.doubles.kling_double import ACCESS_KEY, SECRET_KEY, KlingDouble
from tests.backends.doubles.server import png_bytes
from tests.backends.task_checks import serving
from tests.support.media import voice_likeness

FAST = {"poll_interval": 0.01, "poll_max_interval": 0.02, "deadline": 5, "timeout": 2}


def spoken(path: Path, seconds: float = 2.0, rate: int = 24000, pace: float = 3.1) -> Path:
    """A voice-like line: syllables of a gliding tone with pauses between, so its loudness has a shape."""
    t = np.arange(int(seconds * rate)) / rate
    syllables = (np.sin(2 * np.pi * pace * t) > 0.2) * (t % 0.9 < 0.7)
    pcm = 0.4 * np.sin(2 * np.pi * (180 + 40 * np.sin(2 * np.pi * 0.7 * t)) * t) * syllables
    with wave.open(str(path), "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(rate)
        fh.writeframes((pcm * 32767).astype("<i2").tobytes())
    return path


@pytest.fixture
def double(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[KlingDouble]:
    yield from serving(
        KlingDouble(), monkeypatch, tmp_path, {"KLING_ACCESS_KEY": ACCESS_KEY, "KLING_SECRET_KEY": SECRET_KEY}
    )


def backend(double: KlingDouble, **options: Any) -> KlingBackend:
    return KlingBackend(**{"base_url": double.base_url, **FAST, **options})


def kling_clip(double: KlingDouble, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A clip Kling made, and its take's provenance as the engine records it."""
    image = tmp_path / "keyframe.png"
    image.write_bytes(png_bytes(400, 300))
    request = VideoRequest(prompt="she speaks", image=image, width=1280, height=720, fps=24, duration=5)
    result = backend(double).generate_video(request, job_context(tmp_path, key="clip")[0])
    return result.files[0], result.metadata


def lip_request(clip: Path, voice: Path, source: dict[str, Any]) -> LipsyncRequest:
    return LipsyncRequest(video=clip, audio=voice, speakers=[("lin", 0.0, 2.0)], clip_source=source, fps=24)


def test_a_kling_clip_is_lip_synced_by_its_video_id_with_the_shots_voice(double: KlingDouble, tmp_path: Path) -> None:
    clip, source = kling_clip(double, tmp_path)
    voice = spoken(tmp_path / "line.wav")
    ctx, recorded, _ = job_context(tmp_path, key="lip")
    result = backend(double).lipsync(lip_request(clip, voice, source), ctx)
    kind, body = double.bodies[-1]
    assert kind == "lip-sync" and body["input"]["mode"] == "audio2video"
    assert body["input"]["video_id"] == source["video_id"] and "video_url" not in body["input"]
    assert body["input"]["audio_type"] == "file" and base64.b64decode(body["input"]["audio_file"]) == voice.read_bytes()
    assert "external_task_id" not in body  # not documented for lip sync
    assert recorded == [result.metadata["task_id"]] and result.files[0].suffix == ".mp4"
    assert voice_likeness(result.files[0], voice) > 0.9  # the clip now speaks the line that was sent
    assert voice_likeness(result.files[0], spoken(tmp_path / "other.wav", pace=1.3)) < 0.5  # and not another
    assert result.metadata["provider"] == "kling" and result.cost_units == 1


def test_a_clip_with_a_live_provider_link_goes_by_url(double: KlingDouble, tmp_path: Path) -> None:
    clip, _ = kling_clip(double, tmp_path)
    source = {
        "provider": "dashscope",
        "url": "https://dashscope-result.example/clip.mp4",
        "expires_at": time.time() + 3600,
    }
    backend(double).lipsync(lip_request(clip, spoken(tmp_path / "l.wav"), source), job_context(tmp_path, key="u")[0])
    assert double.bodies[-1][1]["input"]["video_url"] == source["url"]


@pytest.mark.parametrize(
    "source",
    [
        {},  # previz, or a local diffusers clip: nothing online
        {"provider": "kling", "video_id": "v-1", "created_at": time.time() - 31 * 24 * 3600},  # Kling deleted it
        {"provider": "dashscope", "url": "https://x/clip.mp4", "expires_at": time.time() - 5},  # the link expired
    ],
)
def test_a_clip_kling_cannot_fetch_is_refused_before_anything_is_spent(
    double: KlingDouble, tmp_path: Path, source: dict[str, Any]
) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"local")
    with pytest.raises(UnsupportedRequest, match=r"clip Kling can fetch.*dashscope"):
        backend(double).lipsync(lip_request(clip, spoken(tmp_path / "l.wav"), source), job_context(tmp_path)[0])
    assert double.submissions == 0


@pytest.mark.parametrize(
    ("fault", "error", "says"),
    [
        ("429", TransientError, "rate-limiting"),
        ("1102", AccountError, "resource packs are used up"),
        ("500", TransientError, "server error"),
        ("garbage", TransientError, "not JSON"),
    ],
)
def test_provider_trouble_on_a_lip_sync(
    double: KlingDouble, tmp_path: Path, fault: str, error: type[BackendError], says: str
) -> None:
    clip, source = kling_clip(double, tmp_path)
    double.next_faults = [fault]
    with pytest.raises(error, match=says):
        backend(double).lipsync(lip_request(clip, spoken(tmp_path / "l.wav"), source), job_context(tmp_path)[0])


def test_a_refused_or_expired_lip_sync_is_clear(double: KlingDouble, tmp_path: Path) -> None:
    clip, source = kling_clip(double, tmp_path)
    voice = spoken(tmp_path / "l.wav")
    double.fail_task_msg = "Failure to pass the risk control system"
    with pytest.raises(RefusedError, match="risk control"):
        backend(double).lipsync(lip_request(clip, voice, source), job_context(tmp_path, key="a")[0])
    double.fail_task_msg, double.url_ttl = None, -1
    with pytest.raises(BackendError, match="expire") as info:
        backend(double).lipsync(lip_request(clip, voice, source), job_context(tmp_path, key="b")[0])
    assert not info.value.transient


def test_audio_over_the_limit_is_sent_as_aac_and_the_rest_untouched(tmp_path: Path) -> None:
    voice = spoken(tmp_path / "long.wav", seconds=3.0)
    assert audio_within(voice, 10_000_000) == (voice.read_bytes(), ".wav")
    small, suffix = audio_within(voice, 60_000)
    assert suffix == ".m4a" and len(small) <= 60_000 < voice.stat().st_size
    m4a = tmp_path / "sent.m4a"
    m4a.write_bytes(small)
    assert voice_likeness(m4a, voice) > 0.9
    with pytest.raises(BackendError, match="shorten the shot"):
        audio_within(voice, 2_000)


def test_the_lip_sync_sheet_states_the_clip_limits(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KAIPAI_CONFIG", str(tmp_path / "none.toml"))
    sheet = KlingBackend().sheet(Capability.lipsync)
    assert (sheet.capability, sheet.min_duration, sheet.max_duration, sheet.asynchronous) == (
        Capability.lipsync,
        2,
        60,
        True,
    )
    assert KlingBackend(region="global").sheet(Capability.lipsync).currency == "USD"


def test_a_dialogue_shot_rendered_with_kling_ends_with_the_speakers_voice_in_the_clip(
    double: KlingDouble, tmp_path: Path
) -> None:
    from kaipai.document.backend_choice import BackendChoice
    from kaipai.document.cast import Cast, Character
    from kaipai.document.io import new_document_text
    from kaipai.document.models import Document
    from kaipai.document.scenes import Scene
    from kaipai.document.settings import Project
    from kaipai.document.shots import DialogueLine, Placement, Shot
    from kaipai.project import ProjectPaths
    from kaipai.service.render import render
    from kaipai.service.takes import circled_media

    kling = BackendChoice(use="kling", options={"base_url": double.base_url, **FAST})
    root = tmp_path / "film"
    root.mkdir()
    doc = Document(
        project=Project(title="t", resolution=(640, 360), fps=24),
        cast=Cast(characters=[Character(id="lin", name="林晓", description="女，二十多岁")]),
        scenes=[Scene(id="SC1", heading="1-1 夜 内 厨房")],
        shots=[
            Shot(
                id="S1",
                scene="SC1",
                size="MCU",
                composition=[Placement(character="lin")],
                description="林晓站在门口",
                dialogue=[DialogueLine(id="L1", speaker="lin", text="爸，你还没睡？")],
            )
        ],
        backends={"video": kling, "lipsync": kling},
    )
    ProjectPaths(root).document.write_text(new_document_text(doc), encoding="utf-8")
    summary = render(ProjectPaths(root), stages={"voice", "shot_audio", "keyframe", "clip", "lipsync"})
    assert summary.failed == 0, summary
    shot = circled_media(ProjectPaths(root))["S1"]
    assert shot.lipsync is not None and shot.audio is not None
    kinds = [kind for kind, _ in double.bodies]
    assert kinds == ["image2video", "lip-sync"] and "video_id" in double.bodies[1][1]["input"]
    assert voice_likeness(shot.lipsync, shot.audio) > 0.9  # the circled voice is the clip's sound
