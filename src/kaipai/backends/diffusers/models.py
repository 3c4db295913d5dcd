"""The model families the diffusers backend runs, and what each accepts.

A family fixes the pipeline class and the rules a request is snapped to: sizes in
multiples of the VAE × patch size, Wan's 4k+1 and LTX's 8k+1 frame counts, the frame rate
the model was trained at. The family is read from a local folder's ``model_index.json``
or guessed from a Hugging Face id; the ``family`` option overrides both.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kaipai.backends.base import Capability, CapabilitySheet, NotConfigured


@dataclass(frozen=True)
class Family:
    name: str
    capability: Capability
    pipeline: str  # diffusers class name; "auto" = AutoPipelineForText2Image
    size_multiple: int
    steps: int
    guidance: float
    fps: int | None = None
    frame_rule: tuple[int, int] | None = None
    max_frames: int | None = None
    first_last_frame: bool = False
    max_pixels: int = 2048 * 2048
    typical_seconds: float = 20.0


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("flux", Capability.image, "auto", 16, 28, 3.5, typical_seconds=25.0),
        Family("sdxl", Capability.image, "auto", 8, 30, 6.0, typical_seconds=10.0),
        Family("sd3", Capability.image, "auto", 16, 28, 5.0, typical_seconds=15.0),
        Family("sd", Capability.image, "auto", 8, 30, 7.0, max_pixels=1024 * 1024, typical_seconds=5.0),
        Family(
            "wan",
            Capability.video,
            "WanImageToVideoPipeline",
            16,
            40,
            5.0,
            fps=16,
            frame_rule=(4, 1),
            max_frames=81,
            first_last_frame=True,
            max_pixels=1280 * 720,
            typical_seconds=600.0,
        ),
        Family(
            "ltx",
            Capability.video,
            "LTXImageToVideoPipeline",
            32,
            40,
            3.0,
            fps=24,
            frame_rule=(8, 1),
            max_frames=257,
            max_pixels=1280 * 720,
            typical_seconds=120.0,
        ),
        Family(
            "cogvideox",
            Capability.video,
            "CogVideoXImageToVideoPipeline",
            16,
            50,
            6.0,
            fps=8,
            frame_rule=(4, 1),
            max_frames=49,
            max_pixels=720 * 480,
            typical_seconds=300.0,
        ),
    )
}

#: Pipeline class in model_index.json -> family.
CLASS_FAMILY = {
    "FluxPipeline": "flux",
    "FluxKontextPipeline": "flux",
    "StableDiffusionXLPipeline": "sdxl",
    "StableDiffusion3Pipeline": "sd3",
    "StableDiffusionPipeline": "sd",
    "WanImageToVideoPipeline": "wan",
    "WanPipeline": "wan",
    "LTXImageToVideoPipeline": "ltx",
    "LTXPipeline": "ltx",
    "LTXConditionPipeline": "ltx",
    "CogVideoXImageToVideoPipeline": "cogvideox",
    "CogVideoXPipeline": "cogvideox",
}

#: Substrings of Hugging Face ids, checked in order.
ID_HINTS = [
    ("flux", "flux"),
    ("wan", "wan"),
    ("ltx", "ltx"),
    ("cogvideox", "cogvideox"),
    ("stable-diffusion-3", "sd3"),
    ("sd3", "sd3"),
    ("xl", "sdxl"),
]

DEFAULT_MODELS = {
    Capability.image: "black-forest-labs/FLUX.1-schnell",
    Capability.video: "Wan-AI/Wan2.1-I2V-14B-480P-Diffusers",
}


def local_class(model: str) -> str | None:
    index = Path(model) / "model_index.json"
    if not index.is_file():
        return None
    try:
        return str(json.loads(index.read_text())["_class_name"])
    except (ValueError, KeyError, OSError):
        return None


def family_of(model: str, capability: Capability, override: str | None = None) -> Family:
    """The family for ``model`` used for ``capability``; a clear error when it cannot do that."""
    name = override
    if name is None:
        cls = local_class(model)
        if cls is not None:
            name = CLASS_FAMILY.get(cls)
            if name is None:
                raise NotConfigured(
                    f"{model} holds a {cls}, which kaipai does not run; "
                    f"supported: {', '.join(sorted(CLASS_FAMILY))} (or set options.family)"
                )
        else:
            low = model.lower()
            name = next(
                (fam for hint, fam in ID_HINTS if hint in low), "sd" if capability == Capability.image else None
            )
    family = FAMILIES.get(name or "")
    if family is None or family.capability != capability:
        kinds = ", ".join(f.name for f in FAMILIES.values() if f.capability == capability)
        raise NotConfigured(
            f"cannot tell which {capability.value} model family {model!r} is; set options.family to one of: {kinds}"
        )
    return family


#: Reference images one IP-Adapter is given at once (each its own image embedding).
IP_ADAPTER_IMAGES = 3


def takes_last_frame(family: Family, model: str, options: dict[str, Any]) -> bool:
    """Whether the model was made to end on a given frame: Wan's first-and-last-frame models (FLF2V).

    Wan's image-to-video pipeline accepts a last frame for any Wan model, but only FLF2V was trained
    for it (its transformer embeds the positions of two images), and Wan 2.2's 5B model drops it
    silently; so the sheet says so only for those, and ``options.first_last_frame`` settles a fine-tune.
    """
    if "first_last_frame" in options:
        return bool(options["first_last_frame"])
    if not family.first_last_frame:
        return False
    folder = Path(model)
    if (folder / "model_index.json").is_file():
        try:
            if json.loads((folder / "model_index.json").read_text()).get("expand_timesteps"):
                return False
            config = json.loads((folder / "transformer" / "config.json").read_text())
        except (ValueError, OSError):
            return False
        return config.get("pos_embed_seq_len") is not None
    return "flf2v" in model.lower()


#: Host memory to load a family's default-sized pipeline in half precision (weights of the
#: denoiser, text encoders and VAE, rounded up), in GiB: what a cluster worker reserves.
WEIGHTS_GB = {"flux": 34.0, "sdxl": 8.0, "sd3": 16.0, "sd": 3.0, "wan": 40.0, "ltx": 16.0, "cogvideox": 22.0}


def sheet_for(family: Family, model: str, options: dict[str, Any]) -> CapabilitySheet:
    """The capability sheet, with the options a user may set to match a fine-tune (fps, max_frames, size_multiple).

    Keyframes take reference images only through an IP-Adapter (``options.ip_adapter``); without
    one the sheet says none, so the engine sends none and a request with some is refused.

    On a cluster a worker holds one GPU unless the pipeline is asked to run on the CPU.
    """
    fps = int(options.get("fps", family.fps or 0)) or None
    max_frames = int(options.get("max_frames", family.max_frames or 0)) or None
    image = family.capability == Capability.image
    return CapabilitySheet(
        capability=family.capability,
        model=model,
        size_multiple=int(options.get("size_multiple", family.size_multiple)),
        max_pixels=int(options.get("max_pixels", family.max_pixels)),
        fps=[fps] if fps else None,
        frame_rule=family.frame_rule,
        max_frames=max_frames,
        max_duration=(max_frames / fps) if fps and max_frames else None,
        min_duration=(1 / fps) if fps else 0.0,
        first_last_frame=takes_last_frame(family, model, options),
        max_reference_images=IP_ADAPTER_IMAGES if image and options.get("ip_adapter") else 0,
        cost_unit="image" if family.capability == Capability.image else "second",
        max_concurrency=1,
        typical_seconds=family.typical_seconds,
        deterministic=True,
        num_gpus=0.0 if str(options.get("device", "auto")) == "cpu" else 1.0,
        memory_gb=WEIGHTS_GB.get(family.name, 0.0),
    )


def frames_for(duration: float, fps: int, sheet: CapabilitySheet) -> int:
    """Frames covering ``duration`` at ``fps``, rounded up to the model's rule and capped at its maximum."""
    from kaipai.backends.base import snap_frames

    return snap_frames(sheet, max(1, math.ceil(duration * fps - 1e-6)))
