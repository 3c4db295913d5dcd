"""Tiny random-weight diffusers pipelines built offline, as diffusers' own tests build them.

A tiny UNet/VAE/CLIP text encoder (Stable Diffusion) and a tiny LTX-Video transformer/VAE/T5, with
tokenizers created from a few words, saved with ``save_pretrained`` so the backend loads them through
its own loading path. Used by the diffusers tests, the backend contract and the Ray executor tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def _clip_tokenizer(folder: Path) -> tuple[Any, int]:
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


def _t5_tokenizer() -> tuple[Any, int]:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import T5TokenizerFast

    pieces = ["<pad>", "</s>", "<unk>"] + [f"▁{w}" for w in WORDS] + list("abcdefghijklmnopqrstuvwxyz,.")
    tok = Tokenizer(models.Unigram([(p, -float(i)) for i, p in enumerate(pieces)], unk_id=2))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    return T5TokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", extra_ids=0
    ), len(pieces)


def build_tiny_sd(root: Path) -> Path:
    """A Stable Diffusion pipeline of a few thousand random weights, saved under ``root``."""
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

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


def build_tiny_ltx(root: Path) -> Path:
    """An LTX-Video image-to-video pipeline of random weights, saved under ``root``."""
    import torch
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXImageToVideoPipeline,
        LTXVideoTransformer3DModel,
    )
    from transformers import T5Config, T5EncoderModel

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


def build_tiny_clip(root: Path) -> Path:
    """A CLIP model of a few thousand random weights with its image processor and tokenizer, saved under
    ``root`` the way a Hugging Face checkpoint is (what the ``clip`` judge loads)."""
    import torch
    from transformers import CLIPConfig, CLIPModel

    try:
        from transformers import CLIPImageProcessorPil as Processor  # transformers 5
    except ImportError:
        from transformers import CLIPImageProcessor as Processor  # type: ignore[assignment]

    tokenizer, vocab = _clip_tokenizer(root / "tok")
    torch.manual_seed(0)
    config = CLIPConfig(
        text_config={
            "vocab_size": vocab,
            "hidden_size": 16,
            "intermediate_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "max_position_embeddings": 77,
            "bos_token_id": 0,
            "eos_token_id": 1,
            "pad_token_id": 1,
        },
        vision_config={
            "hidden_size": 16,
            "intermediate_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "image_size": 32,
            "patch_size": 8,
        },
        projection_dim=8,
    )
    folder = root / "clip"
    CLIPModel(config).save_pretrained(folder)
    Processor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
