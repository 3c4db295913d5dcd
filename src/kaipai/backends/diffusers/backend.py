"""``diffusers``: keyframes, reference sheets and image-to-video clips on the user's own GPU.

Images: FLUX, SDXL, SD3 (and SD 1.x) through ``AutoPipelineForText2Image`` from a Hugging
Face id or a local folder, conditioned through an IP-Adapter (when configured) on the
reference images of who and what is in the shot, one image embedding each. Video: Wan 2.x
I2V and Wan FLF2V (first and last frame), LTX-Video and CogVideoX I2V from the keyframe, with
frames, fps and size snapped to each model's rules.

Options (``backends: {image: {use: diffusers, model: …, options: {…}}}``):
``device`` (auto|cuda|mps|cpu), ``dtype`` (auto|bf16|fp16|fp32), ``offload``
(none|model|sequential), ``vae_tiling`` (bool), ``steps``, ``guidance_scale``, ``family``,
``fps`` / ``max_frames`` / ``size_multiple`` (for fine-tunes), ``ip_adapter``
({model, subfolder, weight_name, scale, image_encoder_folder}), ``first_last_frame`` (bool, for a
fine-tune that ends on a given frame), ``keep_loaded`` (bool: keep the pipeline in memory after the
render, for the studio).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kaipai.backends.base import (
    Backend,
    BackendError,
    Capability,
    CapabilitySheet,
    ImageRequest,
    JobContext,
    Result,
    UnsupportedRequest,
    VideoRequest,
)
from kaipai.backends.diffusers.models import (
    DEFAULT_MODELS,
    Family,
    family_of,
    frames_for,
    sheet_for,
)
from kaipai.backends.diffusers.prompts import (
    SHEET_VIEWS,
    motion_prompt,
    negative_prompt,
    sheet_prompt,
)
from kaipai.backends.diffusers.runtime import (
    OFFLOAD,
    PipelineKey,
    pick_device,
    pick_dtype,
    pipeline,
    release,
    require_extra,
)

_KNOWN = {
    "device",
    "dtype",
    "offload",
    "vae_tiling",
    "steps",
    "guidance_scale",
    "family",
    "fps",
    "max_frames",
    "size_multiple",
    "max_pixels",
    "ip_adapter",
    "keep_loaded",
    "max_sequence_length",
    "first_last_frame",
}


class Cancelled(BackendError):
    """The render was cancelled while the pipeline was denoising."""


class DiffusersBackend(Backend):
    name = "diffusers"
    capabilities = frozenset({Capability.image, Capability.video})
    version = "1"

    def __init__(self, model: str | None = None, **options: Any) -> None:
        require_extra()
        unknown = sorted(set(options) - _KNOWN)
        if unknown:
            raise UnsupportedRequest(
                f"the diffusers backend has no option {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(sorted(_KNOWN))}"
            )
        if str(options.get("offload", "none")) not in OFFLOAD:
            raise UnsupportedRequest(f"offload {options['offload']!r}: choose one of {', '.join(OFFLOAD)}")
        super().__init__(model=model, **options)
        self._used: set[PipelineKey] = set()

    # ------------------------------------------------------------------ configuration

    def _model(self, capability: Capability) -> str:
        return self.model or DEFAULT_MODELS[capability]

    def family(self, capability: Capability) -> Family:
        return family_of(self._model(capability), capability, self.options.get("family"))

    def describe(self, capability: Capability) -> CapabilitySheet:
        return sheet_for(self.family(capability), self._model(capability), self.options)

    def check(self) -> str:
        device = pick_device(str(self.options.get("device", "auto")))
        return f"{self.model or 'default models'} on {device}"

    def _key(self, family: Family, capability: Capability, with_ip_adapter: bool) -> PipelineKey:
        device = pick_device(str(self.options.get("device", "auto")))
        dtype = pick_dtype(str(self.options.get("dtype", "auto")), device)
        ip = self.options.get("ip_adapter") if with_ip_adapter else None
        return PipelineKey(
            model=self._model(capability),
            pipeline=family.pipeline,
            device=device,
            dtype=str(dtype).removeprefix("torch."),
            offload=str(self.options.get("offload", "none")),
            vae_tiling=bool(self.options.get("vae_tiling", False)),
            ip_adapter=json.dumps(ip, sort_keys=True) if ip else "",
        )

    def _pipeline(self, key: PipelineKey) -> Any:
        self._used.add(key)
        return pipeline(key)

    def _common(self, family: Family, seed: int, ctx: JobContext, steps: int) -> dict[str, Any]:
        import torch

        def on_step(pipe: Any, step: int, timestep: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
            ctx.progress((step + 1) / steps, f"step {step + 1}/{steps}")
            if ctx.cancelled:
                pipe._interrupt = True
            return kwargs

        return {
            "num_inference_steps": steps,
            "guidance_scale": float(self.options.get("guidance_scale", family.guidance)),
            # A CPU generator gives the same noise for a seed on every device.
            "generator": torch.Generator(device="cpu").manual_seed(int(seed)),
            "callback_on_step_end": on_step,
        }

    # ------------------------------------------------------------------ images

    def generate_image(self, request: ImageRequest, ctx: JobContext) -> Result:
        family = self.family(Capability.image)
        if request.purpose == "reference_sheet":
            return self._reference_sheet(request, ctx, family)
        refs = [Path(p) for p in request.reference_images]
        most = self.sheet(Capability.image).max_reference_images
        if len(refs) > most:
            raise UnsupportedRequest(
                f"{self._model(Capability.image)} takes "
                + (
                    f"at most {most} reference images, not {len(refs)}"
                    if most
                    else "no reference images without an IP-Adapter: set options.ip_adapter to condition "
                    "keyframes on who and what is in the shot"
                )
            )
        pipe = self._pipeline(self._key(family, Capability.image, bool(refs)))
        extra: dict[str, Any] = {}
        metadata: dict[str, Any] = {"family": family.name, "seed": request.seed}
        if refs:
            from kaipai.backends.diffusers.media import reference_images

            extra["ip_adapter_image"] = [reference_images(refs)]  # one adapter, one embedding per picture
            metadata["references"] = [p.name for p in refs]
        image = self._text_to_image(
            pipe, family, request.prompt, request.negative_prompt, request, ctx, request.seed, extra
        )
        out = ctx.out_dir / "keyframe.png"
        image.save(out)
        return Result(
            files=[out],
            width=image.width,
            height=image.height,
            model=self._model(Capability.image),
            cost_units=1,
            metadata={**metadata, "prompt": request.prompt},
        )

    def _text_to_image(
        self,
        pipe: Any,
        family: Family,
        prompt: str,
        negative: str,
        request: ImageRequest,
        ctx: JobContext,
        seed: int,
        extra: dict[str, Any],
    ) -> Any:
        from PIL import Image

        steps = int(self.options.get("steps", family.steps))
        kwargs = self._common(family, seed, ctx, steps) | extra
        if negative and family.name != "flux":  # FLUX has no negative prompt (without true CFG)
            kwargs["negative_prompt"] = negative
        result = pipe(prompt=prompt, width=request.width, height=request.height, output_type="pil", **kwargs)
        if ctx.cancelled:
            raise Cancelled("cancelled while generating the keyframe")
        image = result.images[0].convert("RGB")
        if image.size != (request.width, request.height):
            image = image.resize((request.width, request.height), Image.Resampling.LANCZOS)
        return image

    def _reference_sheet(self, request: ImageRequest, ctx: JobContext, family: Family) -> Result:
        """Front, side and back views on a neutral background (each its own seed), and the three side by side."""
        from kaipai.backends.diffusers.media import side_by_side

        pipe = self._pipeline(self._key(family, Capability.image, False))
        views, files = [], []
        for i, (name, words) in enumerate(SHEET_VIEWS):
            image = self._text_to_image(
                pipe,
                family,
                sheet_prompt(request.prompt, words),
                request.negative_prompt,
                request,
                ctx,
                request.seed + i,
                {},
            )
            path = ctx.out_dir / f"{name}.png"
            image.save(path)
            views.append(image)
            files.append(path)
        sheet = ctx.out_dir / "sheet.png"
        side_by_side(views).save(sheet)
        return Result(
            files=[sheet, *files],
            width=views[0].width * len(views),
            height=views[0].height,
            model=self._model(Capability.image),
            cost_units=len(views),
            metadata={"views": [v for v, _ in SHEET_VIEWS], "family": family.name},
        )

    # ------------------------------------------------------------------ video

    def generate_video(self, request: VideoRequest, ctx: JobContext) -> Result:
        from kaipai.backends.diffusers.media import fit_image, to_uint8, write_mp4

        if request.image is None:
            raise UnsupportedRequest("the diffusers video backend animates a keyframe; the request has none")
        family = self.family(Capability.video)
        sheet = self.sheet(Capability.video)
        if request.reference_images or request.audio is not None:
            raise UnsupportedRequest(
                f"{self._model(Capability.video)} animates a keyframe; it takes no reference images and no voice"
            )
        fps = sheet.fps[0] if sheet.fps else request.fps
        frames = frames_for(request.duration, fps, sheet)
        pipe = self._pipeline(self._key(family, Capability.video, False))
        steps = int(self.options.get("steps", family.steps))
        kwargs = self._common(family, request.seed, ctx, steps)
        prompt = motion_prompt(request.prompt, request.shot)
        kwargs.update(
            image=fit_image(request.image, request.width, request.height),
            prompt=prompt,
            negative_prompt=negative_prompt(request.negative_prompt, video=True),
            width=request.width,
            height=request.height,
            num_frames=frames,
            output_type="np",
        )
        if "max_sequence_length" in self.options:
            kwargs["max_sequence_length"] = int(self.options["max_sequence_length"])
        if family.name == "ltx":
            kwargs["frame_rate"] = fps
        if request.last_image is not None:
            if not sheet.first_last_frame:
                raise UnsupportedRequest(
                    f"{self._model(Capability.video)} cannot end on a given last frame; use a Wan first-and-last-"
                    "frame model (e.g. Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers)"
                )
            kwargs["last_image"] = fit_image(request.last_image, request.width, request.height)
        result = pipe(**kwargs)
        if ctx.cancelled:
            raise Cancelled("cancelled while generating the clip")
        video = to_uint8(result.frames)
        out = ctx.out_dir / "clip.mp4"
        write_mp4(video, fps, out)
        seconds = len(video) / fps
        return Result(
            files=[out],
            duration=seconds,
            width=int(video.shape[2]),
            height=int(video.shape[1]),
            fps=float(fps),
            model=self._model(Capability.video),
            cost_units=seconds,
            metadata={
                "family": family.name,
                "frames": len(video),
                "prompt": prompt,
                "seed": request.seed,
                "last_frame": request.last_image is not None,
            },
        )

    def close(self) -> None:
        """Free the pipelines this render used, unless ``keep_loaded`` keeps them for the next one."""
        if not self.options.get("keep_loaded", False):
            for key in self._used:
                release(key)
        self._used.clear()
