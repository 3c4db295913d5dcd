"""Live checks of openai-speech and openai-image against OpenAI (OPENAI_API_KEY), or against a local server
named by KAIPAI_OPENAI_BASE_URL (with KAIPAI_LIVE_SPEECH_MODEL / KAIPAI_LIVE_IMAGE_MODEL for its model names).

Listing the models is free and runs by default; set KAIPAI_LIVE_SPEND=1 to also speak a line and make an image.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kaipai.backends.base import ImageRequest, JobContext, SpeechRequest

pytest.importorskip("openai")

from kaipai.backends.openai.images import OpenAIImageBackend
from kaipai.backends.openai.speech import OpenAISpeechBackend

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not (os.environ.get("OPENAI_API_KEY") or os.environ.get("KAIPAI_OPENAI_BASE_URL")),
        reason="needs OPENAI_API_KEY or KAIPAI_OPENAI_BASE_URL",
    ),
]


def speech() -> OpenAISpeechBackend:
    return OpenAISpeechBackend(model=os.environ.get("KAIPAI_LIVE_SPEECH_MODEL"))


def test_the_server_answers() -> None:
    assert "reachable" in speech().reachable()


@pytest.mark.skipif(os.environ.get("KAIPAI_LIVE_SPEND") != "1", reason="costs money: set KAIPAI_LIVE_SPEND=1")
def test_one_line_and_one_image(tmp_path: Path) -> None:
    line = speech().synthesize(
        SpeechRequest(text="It is raining tonight.", language="en"), JobContext(out_dir=tmp_path)
    )
    assert line.duration and line.duration > 0.5
    image = OpenAIImageBackend(model=os.environ.get("KAIPAI_LIVE_IMAGE_MODEL")).generate_image(
        ImageRequest(prompt="a lighthouse at dusk", width=1024, height=1024), JobContext(out_dir=tmp_path)
    )
    assert image.files[0].stat().st_size > 10_000
