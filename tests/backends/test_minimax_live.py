"""Live checks against MiniMax; they run only when MINIMAX_API_KEY is set (MINIMAX_REGION=global for minimax.io).

Only the free check runs by default; set KAIPAI_LIVE_SPEND=1 to also speak one line and make one 512P clip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kaipai.backends.base import JobContext, SpeechRequest, VideoRequest
from kaipai.backends.minimax.backend import MiniMaxBackend
from tests.backends.doubles.server import png_bytes

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not os.environ.get("MINIMAX_API_KEY"), reason="needs MINIMAX_API_KEY"),
]
SPEND = pytest.mark.skipif(os.environ.get("KAIPAI_LIVE_SPEND") != "1", reason="costs money: set KAIPAI_LIVE_SPEND=1")


def test_the_key_is_accepted() -> None:
    assert "key accepted" in MiniMaxBackend().reachable()


@SPEND
def test_one_line_and_one_short_clip(tmp_path: Path) -> None:
    voice = MiniMaxBackend(model="speech-2.8-turbo").synthesize(
        SpeechRequest(text="今晚下雨了。", language="zh"), JobContext(out_dir=tmp_path, key="live-s")
    )
    assert voice.duration and voice.duration > 0.5
    keyframe = tmp_path / "keyframe.png"
    keyframe.write_bytes(png_bytes(1280, 720, (90, 120, 160)))
    clip = MiniMaxBackend(resolution="512P", deadline=1200).generate_video(
        VideoRequest(prompt="slow push in", image=keyframe, width=1280, height=720, fps=24, duration=6),
        JobContext(out_dir=tmp_path, key="live-v"),
    )
    assert clip.files[0].stat().st_size > 10_000
