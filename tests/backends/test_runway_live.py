"""Live checks against Runway; they run only when RUNWAYML_API_SECRET is set.

Only the free check (the credit balance) runs by default; set KAIPAI_LIVE_SPEND=1 to also make one 2 s clip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kaipai.backends.base import JobContext, VideoRequest
from tests.backends.doubles.server import png_bytes

pytest.importorskip("runwayml")

from kaipai.backends.runway import RunwayBackend

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not os.environ.get("RUNWAYML_API_SECRET"), reason="needs RUNWAYML_API_SECRET"),
]


def test_the_key_is_accepted() -> None:
    assert "credits left" in RunwayBackend().reachable()


@pytest.mark.skipif(os.environ.get("KAIPAI_LIVE_SPEND") != "1", reason="costs money: set KAIPAI_LIVE_SPEND=1")
def test_one_short_clip(tmp_path: Path) -> None:
    keyframe = tmp_path / "keyframe.png"
    keyframe.write_bytes(png_bytes(1280, 720, (90, 120, 160)))
    clip = RunwayBackend(deadline=1200).generate_video(
        VideoRequest(prompt="slow push in", image=keyframe, width=1280, height=720, fps=24, duration=2),
        JobContext(out_dir=tmp_path, key="live-v"),
    )
    assert clip.files[0].stat().st_size > 10_000 and clip.cost_units > 0
