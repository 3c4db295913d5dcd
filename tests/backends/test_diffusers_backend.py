"""The diffusers backend with the real pipeline classes, built from tiny random-weight components.

As diffusers' own tests do: a tiny UNet/VAE/CLIP text encoder (Stable Diffusion) and a tiny
LTX-Video transformer/VAE/T5, with tokenizers created offline from a few words, saved with
``save_pretrained`` to a temporary folder and loaded through the backend's own loading path.
"""

from __future__ import annotations

import json
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

# The kaipai modules above import torch and diffusers only inside functions, so they load without them.
torch = pytest.importorskip("torch")
diffusers = pytest.importorskip("diffusers")

WORDS = [
    "a",
    "the",
    "man",
    "woman",
    "walks",
    "in",
    "rain",
    "night",
    "city",
    "pier",
    "lantern",
    "camera",
    "slow",
    "push",
]


def _clip_tokenizer(folder: Path):
    from transformers import CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for ch in "abcdefghijklmnopqrstuvwxyz,.":
        vocab[ch] = len(vocab)
        vocab[ch + "</w>"] = len(vocab)
    for w in WORDS:
        vocab.setdefault(w + "</w>", len(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77), len(vocab)


def _t5_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import T5TokenizerFast

    pieces = ["<pad>", "</s>", "<unk>"] + [f"▁{w}" for w in WORDS] + list("abcdefghijklmnopqrstuvwxyz,.")
    tok = Tokenizer(models.Unigram([(p, -float(i)) for i, p in enumerate(pieces)], unk_id=2))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    return T5TokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", extra_ids=0
    ), len(pieces)


@pytest.fixture(scope="module")
def tiny_sd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    root = tmp_path_factory.mktemp("tiny-sd")
    tokenizer, vocab = _clip_tokenizer(root / "tok")
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(4, 8),
        layers_per_block=1,
        sample_size=16,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=16,
        norm_num_groups=2,
        attention_head_dim=2,
    )
    vae = AutoencoderKL(
        block_out_channels=[4, 8],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2,
        latent_channels=4,
        norm_num_groups=2,
    )
    text = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
            hidden_size=16,
            intermediate_size=32,
            num_attention_heads=2,
            num_hidden_layers=1,
            vocab_size=vocab,
        )
    )
    pipe = StableDiffusionPipeline(
        unet=unet,
        vae=vae,
        text_encoder=text,
        tokenizer=tokenizer,
        scheduler=EulerDiscreteScheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(root / "model")
    return root / "model"


@pytest.fixture(scope="module")
def tiny_ltx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXImageToVideoPipeline,
        LTXVideoTransformer3DModel,
    )
    from transformers import T5Config, T5EncoderModel

    root = tmp_path_factory.mktemp("tiny-ltx")
    tokenizer, vocab = _t5_tokenizer()
    torch.manual_seed(0)
    text = T5EncoderModel(
        T5Config(
            vocab_size=vocab, d_model=32, d_kv=8, d_ff=37, num_layers=1, num_heads=4, relative_attention_num_buckets=8
        )
    )
    transformer = LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=4,
        attention_head_dim=8,
        cross_attention_dim=32,
        num_layers=1,
        caption_channels=32,
    )
    vae = AutoencoderKLLTXVideo(
        in_channels=3,
        out_channels=3,
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False),
        decoder_inject_noise=(False, False, False, False, False),
        upsample_residual=(False, False, False, False),
        upsample_factor=(1, 1, 1, 1),
        timestep_conditioning=False,
        patch_size=1,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )
    pipe = LTXImageToVideoPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        text_encoder=text,
        tokenizer=tokenizer,
        transformer=transformer,
    )
    pipe.save_pretrained(root / "model")
    return root / "model"


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
