"""Live checks against Veo on the Gemini API; they run only when GEMINI_API_KEY (or GOOGLE_API_KEY) is set.

Only the free check runs by default; set KAIPAI_LIVE_SPEND=1 to also make one 4 s Veo 3.1 Fast clip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kaipai.backends.base import JobContext, VideoRequest
from tests.backends.doubles.server import png_bytes

pytest.importorskip("google.genai")

from kaipai.backends.veo import VeoBackend

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not (os.environ.get("GEMINI_API_KEY") or os.environ.get("GOOGLE_API_KEY")), reason="needs GEMINI_API_KEY"
    ),
]


def test_the_key_and_the_model_are_accepted() -> None:
    assert "key accepted" in VeoBackend().reachable()


@pytest.mark.skipif(os.environ.get("KAIPAI_LIVE_SPEND") != "1", reason="costs money: set KAIPAI_LIVE_SPEND=1")
def test_one_short_clip_with_its_own_sound(tmp_path: Path) -> None:
    keyframe = tmp_path / "keyframe.png"
    keyframe.write_bytes(png_bytes(1280, 720, (90, 120, 160)))
    clip = VeoBackend(model="veo-3.1-fast-generate-preview", deadline=1200).generate_video(
        VideoRequest(
            prompt="rain on a window, a clock ticks", image=keyframe, width=1280, height=720, fps=24, duration=4
        ),
        JobContext(out_dir=tmp_path, key="live-v"),
    )
    assert clip.files[0].stat().st_size > 10_000 and clip.metadata["audio"] is True
