"""Live checks against Volcengine Ark; they run only when ARK_API_KEY is set (ARK_REGION=intl for BytePlus).

Only the free check runs by default; set KAIPAI_LIVE_SPEND=1 to also make one Seedream keyframe and one
short 480p Seedance clip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kaipai.backends.base import ImageRequest, JobContext, VideoRequest
from tests.backends.doubles.server import png_bytes

pytest.importorskip("volcenginesdkarkruntime")

from kaipai.backends.ark import ArkBackend

pytestmark = [pytest.mark.live, pytest.mark.skipif(not os.environ.get("ARK_API_KEY"), reason="needs ARK_API_KEY")]
SPEND = pytest.mark.skipif(os.environ.get("KAIPAI_LIVE_SPEND") != "1", reason="costs money: set KAIPAI_LIVE_SPEND=1")


def test_the_key_is_accepted() -> None:
    assert "key accepted" in ArkBackend().reachable()


@SPEND
def test_one_keyframe_and_one_short_clip(tmp_path: Path) -> None:
    image = ArkBackend().generate_image(
        ImageRequest(prompt="a lighthouse at dusk", width=1280, height=720), JobContext(out_dir=tmp_path, key="live-i")
    )
    assert image.files[0].stat().st_size > 10_000
    keyframe = tmp_path / "keyframe.png"
    keyframe.write_bytes(png_bytes(864, 480, (90, 120, 160)))
    clip = ArkBackend(resolution="480p", deadline=1200).generate_video(
        VideoRequest(prompt="slow push in", image=keyframe, width=864, height=480, fps=24, duration=3),
        JobContext(out_dir=tmp_path, key="live-v"),
    )
    assert clip.files[0].stat().st_size > 10_000 and clip.cost_units > 0
