"""The diffusers backend with the real pipeline classes, built from tiny random-weight components
(tests/support/tiny_diffusers.py) and loaded through the backend's own loading path."""

from __future__ import annotations

import sys
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from kaipai.backends.base import (
    Capability,
    ImageRequest,
    JobContext,
    NotConfigured,
    UnsupportedRequest,
    VideoRequest,
    check_request,
    snap_request,
)
from kaipai.backends.diffusers.backend import DiffusersBackend
from kaipai.backends.diffusers.runtime import loads
from kaipai.backends.registry import Registry
from kaipai.document.models import CameraMove, Shot
from tests.support.tiny_diffusers import build_tiny_ltx, build_tiny_sd

# The kaipai modules above import torch and diffusers only inside functions, so they load without them.
torch = pytest.importorskip("torch")
diffusers = pytest.importorskip("diffusers")


@pytest.fixture(scope="module")
def tiny_sd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_sd(tmp_path_factory.mktemp("tiny-sd"))


@pytest.fixture(scope="module")
def tiny_ltx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_ltx(tmp_path_factory.mktemp("tiny-ltx"))


def _ctx(tmp: Path, name: str) -> JobContext:
    out = tmp / name
    out.mkdir()
    return JobContext(out_dir=out)


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB")).astype(int)


def _video(path: Path) -> tuple[np.ndarray, float]:
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        frames = np.stack([f.to_ndarray(format="rgb24") for f in c.decode(stream)])
        return frames, float(stream.average_rate)


# --------------------------------------------------------------------------- images


def test_keyframes_have_the_requested_size_and_are_deterministic_for_a_seed(tiny_sd: Path, tmp_path: Path) -> None:
    backend = Registry().create("diffusers", str(tiny_sd), {"device": "cpu", "steps": 2})
    sheet = backend.sheet(Capability.image)
    assert sheet.size_multiple == 8  # a Stable Diffusion VAE works in multiples of 8 pixels
    request = snap_request(
        sheet,
        ImageRequest(prompt="a man walks in rain at night", negative_prompt="blurry", width=94, height=62, seed=7),
    )
    check_request(sheet, request)
    assert (request.width, request.height) == (96, 64)
    a = backend.generate_image(request, _ctx(tmp_path, "a"))  # type: ignore[attr-defined]
    b = backend.generate_image(request, _ctx(tmp_path, "b"))  # type: ignore[attr-defined]
    c = backend.generate_image(request.model_copy(update={"seed": 8}), _ctx(tmp_path, "c"))  # type: ignore[attr-defined]
    with Image.open(a.files[0]) as im:
        assert im.size == (96, 64) and (a.width, a.height) == (96, 64)
    assert np.array_equal(_pixels(a.files[0]), _pixels(b.files[0]))
    assert np.abs(_pixels(a.files[0]) - _pixels(c.files[0])).mean() > 1
    key = next(iter(backend._used))  # type: ignore[attr-defined]
    assert loads(key) == 1  # one pipeline for every shot
    backend.close()


def test_reference_images_without_an_ip_adapter_are_reported_not_silently_dropped(
    tiny_sd: Path, tmp_path: Path
) -> None:
    ref = tmp_path / "maya.png"
    Image.new("RGB", (40, 80), (200, 40, 40)).save(ref)
    backend = DiffusersBackend(str(tiny_sd), device="cpu", steps=1)
    r = backend.generate_image(
        ImageRequest(prompt="a woman", width=64, height=64, reference_images=[ref], seed=1), _ctx(tmp_path, "k")
    )
    assert "ip_adapter" in r.metadata["references_unused"]


def test_a_reference_sheet_has_front_side_and_back_views(tiny_sd: Path, tmp_path: Path) -> None:
    backend = DiffusersBackend(str(tiny_sd), device="cpu", steps=1)
    r = backend.generate_image(
        ImageRequest(prompt="Maya, 30s, yellow raincoat", width=32, height=64, purpose="reference_sheet", seed=3),
        _ctx(tmp_path, "s"),
    )
    assert [p.name for p in r.files] == ["sheet.png", "front.png", "side.png", "back.png"]
    with Image.open(r.files[0]) as im:
        assert im.size == (96, 64)
    assert not np.array_equal(_pixels(r.files[1]), _pixels(r.files[2]))  # each view is its own picture


# --------------------------------------------------------------------------- video


def test_a_clip_follows_the_models_frame_rule_fps_and_size_and_is_deterministic(tiny_ltx: Path, tmp_path: Path) -> None:
    keyframe = tmp_path / "key.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 80, 3), dtype=np.uint8)).save(keyframe)
    backend = DiffusersBackend(str(tiny_ltx), device="cpu", steps=2, max_sequence_length=16)
    sheet = backend.sheet(Capability.video)
    assert sheet.frame_rule == (8, 1) and sheet.fps == [24] and sheet.size_multiple == 32
    shot = Shot(id="S01-001", scene="S01", move=CameraMove.push_in, action="she walks to the lantern")
    request = snap_request(
        sheet,
        VideoRequest(
            prompt="she walks to the lantern in the rain",
            image=keyframe,
            width=70,
            height=30,
            fps=25,
            duration=0.3,
            shot=shot,
            seed=5,
        ),
    )
    check_request(sheet, request)
    assert (request.width, request.height, request.fps) == (64, 32, 24)
    a = backend.generate_video(request, _ctx(tmp_path, "a"))
    b = backend.generate_video(request, _ctx(tmp_path, "b"))
    frames, fps = _video(a.files[0])
    assert frames.shape == (9, 32, 64, 3) and fps == 24  # 0.3 s at 24 fps = 8 frames -> 8k+1 = 9
    assert (
        a.duration == pytest.approx(9 / 24)
        and a.metadata["frames"] == 9
        and (a.width, a.height, a.fps) == (64, 32, 24.0)
    )
    assert np.array_equal(frames, _video(b.files[0])[0])
    assert "pushes in" in a.metadata["prompt"]
    with pytest.raises(UnsupportedRequest, match="last frame"):
        backend.generate_video(request.model_copy(update={"last_image": keyframe}), _ctx(tmp_path, "c"))
    backend.close()


def test_a_model_that_is_not_a_video_model_is_refused_with_what_to_do(tiny_sd: Path) -> None:
    with pytest.raises(NotConfigured, match=r"options\.family"):
        DiffusersBackend(str(tiny_sd)).sheet(Capability.video)


def test_without_the_extra_choosing_the_backend_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "diffusers", None)
    with pytest.raises(NotConfigured, match=r"pip install 'kaipai\[diffusers\]'"):
        Registry().create("diffusers", "black-forest-labs/FLUX.1-schnell")


def test_model_families_snap_to_their_rules() -> None:
    wan = DiffusersBackend("Wan-AI/Wan2.1-I2V-14B-480P-Diffusers").sheet(Capability.video)
    assert wan.frame_rule == (4, 1) and wan.fps == [16] and wan.first_last_frame and wan.size_multiple == 16
    snapped = snap_request(wan, VideoRequest(prompt="x", width=854, height=480, fps=24, duration=3.2))
    assert (snapped.width, snapped.height, snapped.fps) == (848, 480, 16)
    from kaipai.backends.diffusers.models import frames_for

    assert frames_for(3.2, 16, wan) == 53 and frames_for(30, 16, wan) == 81  # 4k+1, capped at the model's 81
    flux = DiffusersBackend("black-forest-labs/FLUX.1-dev").sheet(Capability.image)
    assert (
        flux.size_multiple == 16 and snap_request(flux, ImageRequest(prompt="x", width=1280, height=720)).height == 720
    )
