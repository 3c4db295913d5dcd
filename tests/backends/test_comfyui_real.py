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


def test_a_partial_prompt_is_followed_and_our_own_prompt_id_found_again_on_a_real_server(tmp_path: Path) -> None:
    """Two outputs, one without its input: the real server queues it (200 + node_errors) and runs the other."""
    graph = {
        "1": {"class_type": "LoadImage", "inputs": {"image": "x.png"}, "_meta": {"title": "Input Image"}},
        "2": {
            "class_type": "ImageScale",
            "inputs": {
                "image": ["1", 0],
                "width": 8,
                "height": 8,
                "upscale_method": "nearest-exact",
                "crop": "disabled",
            },
            "_meta": {"title": "Scale"},
        },
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "kaipai/ok"}},
        "4": {"class_type": "SaveImage", "inputs": {"filename_prefix": "kaipai/broken"}},
    }
    bind = {"prompt": None, "reference_images": "Input Image", "width": "Scale.width", "height": "Scale.height"}
    source = tmp_path / "in.png"
    source.write_bytes(png_bytes(80, 60, (10, 200, 30)))
    comfy = ComfyUIBackend(url=URL, workflow=graph, bind=bind, poll_interval=0.2, deadline=120)
    request = ImageRequest(prompt="unused", width=40, height=30, reference_images=[source])
    first, second = (
        JobContext(out_dir=tmp_path / "a", key="real-partial"),
        JobContext(out_dir=tmp_path / "b", key="real-partial"),
    )
    first.out_dir.mkdir()
    second.out_dir.mkdir()
    result = comfy.generate_image(request, first)
    assert "outputs_left_out" in result.metadata
    assert comfy.generate_image(request, second).metadata["prompt_id"] == result.metadata["prompt_id"]  # found


def test_object_info_names_a_node_the_real_server_lacks() -> None:
    from kaipai.backends.base import NotConfigured

    graph = {"9": {"class_type": "KaipaiNoSuchNode", "inputs": {}}, "1": {"class_type": "SaveImage", "inputs": {}}}
    comfy = ComfyUIBackend(url=URL, workflow=graph, bind={"prompt": None})
    with pytest.raises(NotConfigured, match=r"node 9 'KaipaiNoSuchNode'.*no such node"):
        comfy.reachable()
