"""Live checks against the Kling API; they run only when KLING_ACCESS_KEY and KLING_SECRET_KEY are set.

Only the free check runs by default; set KAIPAI_LIVE_SPEND=1 to also generate one 5 s std clip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kaipai.backends.base import JobContext, VideoRequest
from kaipai.backends.kling import KlingBackend
from tests.backends.doubles.server import png_bytes

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not (os.environ.get("KLING_ACCESS_KEY") and os.environ.get("KLING_SECRET_KEY")),
        reason="needs KLING_ACCESS_KEY and KLING_SECRET_KEY",
    ),
]


def test_keys_are_accepted() -> None:
    assert "keys accepted" in KlingBackend().reachable()


@pytest.mark.skipif(os.environ.get("KAIPAI_LIVE_SPEND") != "1", reason="costs money: set KAIPAI_LIVE_SPEND=1")
def test_one_short_clip(tmp_path: Path) -> None:
    image = tmp_path / "keyframe.png"
    image.write_bytes(png_bytes(1280, 720, (90, 120, 160)))
    ctx = JobContext(out_dir=tmp_path, key="live")
    result = KlingBackend(model="kling-v1-6", deadline=1200).generate_video(
        VideoRequest(prompt="slow push in", image=image, width=1280, height=720, fps=24, duration=5), ctx
    )
    assert result.files[0].stat().st_size > 10_000 and result.cost_units > 0
