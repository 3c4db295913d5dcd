"""Live checks against the Kling API; they run only when KLING_ACCESS_KEY and KLING_SECRET_KEY are set.

The free checks (the keys in their region, the task list that finds a lost submission) run by default;
set KAIPAI_LIVE_SPEND=1 to also generate a 5 s std clip, a clip with an end frame, one from references,
and to lip-sync the first clip with a short line. Set KLING_REGION=global for a global account.
"""

from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np
import pytest

from kaipai.backends.base import JobContext, LipsyncRequest, VideoRequest
from kaipai.backends.kling import KlingBackend
from tests.backends.doubles.server import png_bytes

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not (os.environ.get("KLING_ACCESS_KEY") and os.environ.get("KLING_SECRET_KEY")),
        reason="needs KLING_ACCESS_KEY and KLING_SECRET_KEY",
    ),
]
spend = pytest.mark.skipif(os.environ.get("KAIPAI_LIVE_SPEND") != "1", reason="costs money: set KAIPAI_LIVE_SPEND=1")


def keyframe(tmp_path: Path, name: str = "keyframe.png", colour: tuple[int, int, int] = (90, 120, 160)) -> Path:
    image = tmp_path / name
    image.write_bytes(png_bytes(1280, 720, colour))
    return image


def test_keys_are_accepted_in_their_region() -> None:
    assert "keys accepted" in KlingBackend().reachable()


def test_the_task_list_answers_an_external_id_lookup(tmp_path: Path) -> None:
    """The lookup a resumed render makes before submitting again (free: it lists tasks)."""
    import httpx

    from kaipai.backends.kling.protocol import api_token

    backend = KlingBackend()
    token = api_token(os.environ["KLING_ACCESS_KEY"], os.environ["KLING_SECRET_KEY"])
    reply = httpx.get(
        f"{backend.base_url}/v1/videos/image2video",
        params={"pageNum": 1, "pageSize": 5},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert reply.status_code == 200 and isinstance(reply.json().get("data"), list)
    assert all("task_info" in task for task in reply.json()["data"])  # where external_task_id is kept


@spend
def test_one_short_clip_then_its_lip_sync(tmp_path: Path) -> None:
    ctx = JobContext(out_dir=tmp_path, key="live-clip")
    clip = KlingBackend(model="kling-v2-5-turbo", deadline=1200).generate_video(
        VideoRequest(
            prompt="a woman looks up and speaks", image=keyframe(tmp_path), width=1280, height=720, fps=24, duration=5
        ),
        ctx,
    )
    assert clip.files[0].stat().st_size > 10_000 and clip.metadata["video_id"]
    voice = tmp_path / "line.wav"
    t = np.arange(48000 * 3) / 48000
    with wave.open(str(voice), "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(48000)
        fh.writeframes((0.3 * np.sin(2 * np.pi * 200 * t) * 32767).astype("<i2").tobytes())
    lip = tmp_path / "lip"
    lip.mkdir()
    synced = KlingBackend(deadline=1200).lipsync(
        LipsyncRequest(video=clip.files[0], audio=voice, clip_source=clip.metadata),
        JobContext(out_dir=lip, key="live-lip"),
    )
    assert synced.files[0].stat().st_size > 10_000


@spend
def test_an_end_frame_and_references(tmp_path: Path) -> None:
    start, end = keyframe(tmp_path), keyframe(tmp_path, "end.png", (200, 120, 60))
    tail = VideoRequest(
        prompt="the light changes", image=start, last_image=end, width=1280, height=720, fps=24, duration=5
    )
    out = tmp_path / "tail"
    out.mkdir()
    assert (
        KlingBackend(model="kling-v2-5-turbo", mode="pro", deadline=1200)
        .generate_video(tail, JobContext(out_dir=out, key="live-tail"))
        .files
    )
    refs = tail.model_copy(update={"last_image": None, "reference_images": [end]})
    out = tmp_path / "refs"
    out.mkdir()
    assert (
        KlingBackend(model="kling-v1-6", deadline=1200)
        .generate_video(refs, JobContext(out_dir=out, key="live-refs"))
        .files
    )
