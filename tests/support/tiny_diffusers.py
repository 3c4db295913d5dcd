"""Tiny random-weight diffusers pipelines built offline, as diffusers' own tests build them.

A tiny UNet/VAE/CLIP text encoder (Stable Diffusion) with a tiny IP-Adapter for it (image projection,
cross-attention weights and a CLIP image encoder), a tiny LTX-Video transformer/VAE/T5 and a tiny Wan
first-and-last-frame (FLF2V) pipeline, with tokenizers created from a few words, saved with
``save_pretrained`` so the backend loads them through its own loading path. Used by the diffusers
tests, the backend contract and the Ray executor tests.
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


def build_tiny_ip_adapter(root: Path, sd_model: Path) -> dict[str, str]:
    """An IP-Adapter for the tiny SD pipeline at ``sd_model``, as diffusers' own IP-Adapter tests make one:
    the image projection and per-cross-attention key/value weights, saved as ``ip-adapter.safetensors``
    beside a tiny CLIP image encoder. Returns the backend's ``ip_adapter`` option for it."""
    import torch
    from diffusers import UNet2DConditionModel
    from diffusers.models.attention_processor import IPAdapterAttnProcessor
    from diffusers.models.embeddings import ImageProjection
    from safetensors.torch import save_file
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    unet = UNet2DConditionModel.from_pretrained(sd_model, subfolder="unet")
    dim = int(unet.config.cross_attention_dim)
    torch.manual_seed(1)
    weights: dict[str, Any] = {}
    key_id = 1
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):  # self-attention has no image branch
            continue
        blocks = list(unet.config.block_out_channels)
        if name.startswith("mid_block"):
            hidden = blocks[-1]
        elif name.startswith("up_blocks"):
            hidden = list(reversed(blocks))[int(name[len("up_blocks.")])]
        else:
            hidden = blocks[int(name[len("down_blocks.")])]
        sd = IPAdapterAttnProcessor(hidden_size=hidden, cross_attention_dim=dim, scale=1.0).state_dict()
        weights[f"ip_adapter.{key_id}.to_k_ip.weight"] = sd["to_k_ip.0.weight"] * 4
        weights[f"ip_adapter.{key_id}.to_v_ip.weight"] = sd["to_v_ip.0.weight"] * 4
        key_id += 2
    projection = ImageProjection(cross_attention_dim=dim, image_embed_dim=dim, num_image_text_embeds=4).state_dict()
    weights["image_proj.proj.weight"] = projection["image_embeds.weight"]
    weights["image_proj.proj.bias"] = projection["image_embeds.bias"]
    weights["image_proj.norm.weight"] = projection["norm.weight"]
    weights["image_proj.norm.bias"] = projection["norm.bias"]
    folder = root / "ip-adapter"
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in weights.items()}, str(folder / "ip-adapter.safetensors"))
    encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=8,
            projection_dim=dim,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=32,
            intermediate_size=16,
            patch_size=8,
        )
    )
    encoder.save_pretrained(folder / "image_encoder")
    return {
        "model": str(folder),
        "subfolder": "",
        "weight_name": "ip-adapter.safetensors",
        "image_encoder_folder": "image_encoder",
        "scale": 1.0,
    }


def build_tiny_wan_flf(root: Path) -> Path:
    """A Wan 2.1 first-and-last-frame-to-video pipeline (``WanImageToVideoPipeline`` whose transformer
    embeds two images' positions, as FLF2V's does) of random weights, saved under ``root``."""
    import torch
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanImageToVideoPipeline,
        WanTransformer3DModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel, UMT5Config, UMT5EncoderModel

    tokenizer, vocab = _t5_tokenizer()
    torch.manual_seed(0)
    vae = AutoencoderKLWan(
        base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True]
    )
    text = UMT5EncoderModel(
        UMT5Config(
            vocab_size=vocab, d_model=32, d_kv=8, d_ff=37, num_layers=1, num_heads=4, relative_attention_num_buckets=8
        )
    )
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=36,
        out_channels=16,
        text_dim=32,
        freq_dim=256,
        ffn_dim=32,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
        image_dim=4,
        pos_embed_seq_len=2 * (4 * 4 + 1),
    )
    encoder = CLIPVisionModel(
        CLIPVisionConfig(
            hidden_size=4,
            projection_dim=4,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=4,
            intermediate_size=16,
            patch_size=1,
        )
    )
    pipe = WanImageToVideoPipeline(
        tokenizer=tokenizer,
        text_encoder=text,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
        transformer=transformer,
        image_encoder=encoder,
        image_processor=CLIPImageProcessor(crop_size=4, size=4),
    )
    pipe.save_pretrained(root / "model")
    return root / "model"
