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
from kaipai.document.shots import CameraMove, Shot
from tests.support.tiny_diffusers import build_tiny_ip_adapter, build_tiny_ltx, build_tiny_sd, build_tiny_wan_flf

# The kaipai modules above import torch and diffusers only inside functions, so they load without them.
torch = pytest.importorskip("torch")
diffusers = pytest.importorskip("diffusers")


@pytest.fixture(scope="module")
def tiny_sd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_sd(tmp_path_factory.mktemp("tiny-sd"))


@pytest.fixture(scope="module")
def tiny_ip_adapter(tiny_sd: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return build_tiny_ip_adapter(tmp_path_factory.mktemp("tiny-ip"), tiny_sd)


@pytest.fixture(scope="module")
def tiny_wan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_wan_flf(tmp_path_factory.mktemp("tiny-wan"))


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


def test_without_an_ip_adapter_the_sheet_takes_no_references_and_a_reference_is_refused(
    tiny_sd: Path, tmp_path: Path
) -> None:
    ref = tmp_path / "maya.png"
    Image.new("RGB", (40, 80), (200, 40, 40)).save(ref)
    backend = DiffusersBackend(str(tiny_sd), device="cpu", steps=1)
    sheet = backend.sheet(Capability.image)
    assert sheet.max_reference_images == 0
    request = ImageRequest(prompt="a woman", width=64, height=64, reference_images=[ref], seed=1)
    with pytest.raises(UnsupportedRequest, match="reference images, which this model does not take"):
        check_request(sheet, request)  # the engine refuses it before anything runs
    with pytest.raises(UnsupportedRequest, match=r"options\.ip_adapter"):
        backend.generate_image(request, _ctx(tmp_path, "k"))  # and so does the backend, if asked directly


def test_an_ip_adapter_conditions_the_keyframe_on_each_reference_picture(
    tiny_sd: Path, tiny_ip_adapter: dict[str, str], tmp_path: Path
) -> None:
    refs = []
    for name, colour in (("maya", (200, 40, 40)), ("pier", (40, 40, 200)), ("lantern", (230, 200, 60))):
        refs.append(tmp_path / f"{name}.png")
        Image.new("RGB", (40, 80), colour).save(refs[-1])
    backend = DiffusersBackend(str(tiny_sd), device="cpu", steps=2, ip_adapter=tiny_ip_adapter)
    sheet = backend.sheet(Capability.image)
    assert sheet.max_reference_images == 3
    request = ImageRequest(prompt="a woman on the pier", width=64, height=64, reference_images=refs[:1], seed=4)
    check_request(sheet, request)
    maya = backend.generate_image(request, _ctx(tmp_path, "maya"))
    again = backend.generate_image(request, _ctx(tmp_path, "again"))
    pier = backend.generate_image(request.model_copy(update={"reference_images": refs[1:2]}), _ctx(tmp_path, "p"))
    every = backend.generate_image(request.model_copy(update={"reference_images": refs}), _ctx(tmp_path, "all"))
    assert np.array_equal(_pixels(maya.files[0]), _pixels(again.files[0]))  # the same picture, the same keyframe
    assert np.abs(_pixels(maya.files[0]) - _pixels(pier.files[0])).mean() > 1  # the picture reaches the model
    assert np.abs(_pixels(maya.files[0]) - _pixels(every.files[0])).mean() > 1  # and so does each of three
    assert every.metadata["references"] == ["maya.png", "pier.png", "lantern.png"]
    pipe = next(iter(backend._used))  # type: ignore[attr-defined]
    assert pipe.ip_adapter, "the pipeline with the adapter loaded is the one that ran"
    with pytest.raises(UnsupportedRequest, match="at most 3"):
        check_request(sheet, request.model_copy(update={"reference_images": [*refs, refs[0]]}))
    backend.close()


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


def test_a_wan_first_and_last_frame_model_ends_the_clip_on_the_end_keyframe(tiny_wan: Path, tmp_path: Path) -> None:
    pytest.importorskip("ftfy", reason="Wan's pipelines need ftfy: pip install 'kaipai[diffusers]'")
    rng = np.random.default_rng(0)
    start, end, other = (tmp_path / f"{n}.png" for n in ("start", "end", "other"))
    Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(start)
    Image.new("RGB", (32, 32), (250, 250, 250)).save(end)
    Image.new("RGB", (32, 32), (5, 5, 5)).save(other)
    backend = DiffusersBackend(str(tiny_wan), device="cpu", steps=2, max_sequence_length=16)
    sheet = backend.sheet(Capability.video)
    assert sheet.first_last_frame and sheet.fps == [16] and sheet.frame_rule == (4, 1)
    request = snap_request(
        sheet,
        VideoRequest(
            prompt="a man walks to the lantern",
            image=start,
            last_image=end,
            width=32,
            height=32,
            fps=24,
            duration=0.5,
            seed=3,
        ),
    )
    check_request(sheet, request)
    a = backend.generate_video(request, _ctx(tmp_path, "a"))
    b = backend.generate_video(request, _ctx(tmp_path, "b"))
    c = backend.generate_video(request.model_copy(update={"last_image": other}), _ctx(tmp_path, "c"))
    frames, fps = _video(a.files[0])
    assert frames.shape == (9, 32, 32, 3) and fps == 16 and a.metadata["last_frame"]
    assert np.array_equal(frames, _video(b.files[0])[0])
    assert np.abs(frames.astype(int) - _video(c.files[0])[0].astype(int)).mean() > 0.5  # the end frame steers it
    backend.close()


def test_only_first_and_last_frame_models_say_they_take_a_last_frame() -> None:
    assert not DiffusersBackend("Wan-AI/Wan2.1-I2V-14B-480P-Diffusers").sheet(Capability.video).first_last_frame
    assert DiffusersBackend("Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers").sheet(Capability.video).first_last_frame
    assert not DiffusersBackend("Lightricks/LTX-Video").sheet(Capability.video).first_last_frame
    fine_tune = DiffusersBackend("me/my-wan-i2v", first_last_frame=True).sheet(Capability.video)
    assert fine_tune.first_last_frame


def test_a_model_that_is_not_a_video_model_is_refused_with_what_to_do(tiny_sd: Path) -> None:
    with pytest.raises(NotConfigured, match=r"options\.family"):
        DiffusersBackend(str(tiny_sd)).sheet(Capability.video)


def test_without_the_extra_choosing_the_backend_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "diffusers", None)
    with pytest.raises(NotConfigured, match=r"pip install 'kaipai\[diffusers\]'"):
        Registry().create("diffusers", "black-forest-labs/FLUX.1-schnell")


def test_model_families_snap_to_their_rules() -> None:
    wan = DiffusersBackend("Wan-AI/Wan2.1-I2V-14B-480P-Diffusers").sheet(Capability.video)
    assert wan.frame_rule == (4, 1) and wan.fps == [16] and wan.size_multiple == 16
    snapped = snap_request(wan, VideoRequest(prompt="x", width=854, height=480, fps=24, duration=3.2))
    assert (snapped.width, snapped.height, snapped.fps) == (848, 480, 16)
    from kaipai.backends.diffusers.models import frames_for

    assert frames_for(3.2, 16, wan) == 53 and frames_for(30, 16, wan) == 81  # 4k+1, capped at the model's 81
    flux = DiffusersBackend("black-forest-labs/FLUX.1-dev").sheet(Capability.image)
    assert (
        flux.size_multiple == 16 and snap_request(flux, ImageRequest(prompt="x", width=1280, height=720)).height == 720
    )
