"""The comfyui backend against a real ComfyUI server (KAIPAI_COMFYUI_URL), with a workflow that needs no weights."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from kaipai.backends.base import ImageRequest, JobContext
from kaipai.backends.comfyui.backend import ComfyUIBackend
from tests.backends.doubles.server import png_bytes

URL = os.environ.get("KAIPAI_COMFYUI_URL")
pytestmark = pytest.mark.skipif(not URL, reason="set KAIPAI_COMFYUI_URL to a running ComfyUI server to run this test")


def test_load_scale_save_on_a_real_server(tmp_path: Path) -> None:
    source = tmp_path / "in.png"
    source.write_bytes(png_bytes(80, 60, (10, 200, 30)))
    comfy = ComfyUIBackend(url=URL, workflow="smoke_load_scale_save", poll_interval=0.2, deadline=120)
    assert "reachable" in comfy.reachable()
    recorded: list[str] = []
    ctx = JobContext(out_dir=tmp_path, key="real-smoke", on_job_id=recorded.append)
    result = comfy.generate_image(ImageRequest(prompt="unused", width=40, height=30, reference_images=[source]), ctx)
    with Image.open(result.files[0]) as img:
        assert img.size == (40, 30)
    again = JobContext(out_dir=tmp_path / "again", key="real-smoke", job_id=recorded[0])
    again.out_dir.mkdir()
    assert comfy.generate_image(
        ImageRequest(prompt="unused", width=40, height=30, reference_images=[source]), again
    ).files  # collected, not queued again
