"""Loading diffusers pipelines once per process, on the right device, in the right precision.

A render asks for hundreds of keyframes; loading a 12-billion-parameter model for each
would take longer than generating them. Pipelines are cached per process, keyed by the
model and every option that changes how it is loaded (device, dtype, offload, tiling,
IP-Adapter), and reused by every shot.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from kaipai.backends.base import NotConfigured

EXTRA_HINT = "pip install 'kaipai[diffusers]'"
DTYPES = ("auto", "bf16", "fp16", "fp32")
OFFLOAD = ("none", "model", "sequential")


def require_extra() -> None:
    """Raise NotConfigured naming the extra when torch or diffusers is missing.

    Looks the packages up without importing them: importing torch takes seconds, and
    ``kaipai backends`` asks this of every backend.
    """
    import importlib.util
    import sys

    for name in ("torch", "diffusers", "transformers"):
        try:
            missing = (name in sys.modules and sys.modules[name] is None) or importlib.util.find_spec(name) is None
        except (ImportError, ValueError):
            missing = True
        if missing:
            raise NotConfigured(
                f"the diffusers backend needs torch, diffusers and transformers ({name} is missing): {EXTRA_HINT}"
            )


def pick_device(requested: str = "auto") -> str:
    import torch

    if requested != "auto":
        if requested.startswith("cuda") and not torch.cuda.is_available():
            raise NotConfigured(
                f"device {requested!r} asked for, but this torch sees no CUDA GPU; "
                "use device: cpu or install a CUDA build of torch"
            )
        if requested == "mps" and not torch.backends.mps.is_available():
            raise NotConfigured("device 'mps' asked for, but Metal is not available here; use device: cpu")
        return requested
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(requested: str, device: str) -> Any:
    """bf16 on GPUs that have it, else fp16 on GPUs; fp32 on the CPU, where half precision is slow or missing."""
    import torch

    if requested not in DTYPES:
        raise NotConfigured(f"dtype {requested!r}: choose one of {', '.join(DTYPES)}")
    if requested == "auto":
        if device.startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float16 if device == "mps" else torch.float32
    return {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[requested]


@dataclass(frozen=True)
class PipelineKey:
    model: str
    pipeline: str
    device: str
    dtype: str
    offload: str
    vae_tiling: bool
    ip_adapter: str  # JSON of the IP-Adapter options, "" when none


_CACHE: dict[PipelineKey, Any] = {}
_LOADS: dict[PipelineKey, int] = {}
_LOCK = threading.Lock()


def loads(key: PipelineKey) -> int:
    """How many times this pipeline was loaded in this process (once, unless it was released)."""
    return _LOADS.get(key, 0)


def load_counts() -> dict[PipelineKey, int]:
    """Every pipeline loaded in this process and how many times (a warm worker shows ones)."""
    with _LOCK:
        return dict(_LOADS)


def pipeline(key: PipelineKey) -> Any:
    """The cached pipeline for ``key``, loaded on first use."""
    with _LOCK:
        pipe = _CACHE.get(key)
        if pipe is None:
            pipe = _load(key)
            _CACHE[key] = pipe
            _LOADS[key] = _LOADS.get(key, 0) + 1
        return pipe


def release(key: PipelineKey) -> None:
    with _LOCK:
        pipe = _CACHE.pop(key, None)
    if pipe is not None:
        del pipe
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:
            pass


def _load(key: PipelineKey) -> Any:
    import diffusers
    import torch

    dtype = getattr(torch, key.dtype)
    cls = diffusers.AutoPipelineForText2Image if key.pipeline == "auto" else getattr(diffusers, key.pipeline)
    try:
        pipe = cls.from_pretrained(key.model, torch_dtype=dtype)
    except (OSError, ValueError) as exc:
        raise NotConfigured(
            f"cannot load the model {key.model!r} ({str(exc).splitlines()[0][:200]}); "
            "give a local folder or a Hugging Face id "
            f"that is downloaded (huggingface-cli download {key.model}) or reachable"
        ) from None
    if key.ip_adapter:
        ip = json.loads(key.ip_adapter)
        if not hasattr(pipe, "load_ip_adapter"):
            raise NotConfigured(
                f"{type(pipe).__name__} takes no IP-Adapter; remove options.ip_adapter or use an SD/SDXL/FLUX model"
            )
        pipe.load_ip_adapter(
            ip["model"],
            subfolder=ip.get("subfolder"),
            weight_name=ip["weight_name"],
            **({"image_encoder_folder": ip["image_encoder_folder"]} if "image_encoder_folder" in ip else {}),
        )
        pipe.set_ip_adapter_scale(float(ip.get("scale", 0.6)))
    if key.offload == "model" and key.device != "cpu":
        pipe.enable_model_cpu_offload(device=key.device)
    elif key.offload == "sequential" and key.device != "cpu":
        pipe.enable_sequential_cpu_offload(device=key.device)
    else:
        pipe.to(key.device)
    if key.vae_tiling and getattr(pipe, "vae", None) is not None and hasattr(pipe.vae, "enable_tiling"):
        pipe.vae.enable_tiling()
    pipe.set_progress_bar_config(disable=True)
    return pipe
