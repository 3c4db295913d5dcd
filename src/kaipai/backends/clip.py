"""``clip``: a local judge from image embeddings (CLIP through ``transformers``; no torchvision needed).

It scores what embeddings can tell: how close the take is to its prompt (``prompt``), how close the
part of the frame where the composition places each character is to that character's reference
picture (``likeness``), and how close the take is to the scene's continuity notes — what the
characters wear and hold (``continuity``). It cannot see artifacts and says nothing about them.

Cosine similarities are mapped to 0–1 between a floor and a ceiling (``text_range``, default
0.15–0.35, what CLIP ViT-B/32 gives unrelated and matching captions; ``image_range``, default
0.5–0.9, for picture against picture). ``model``: a Hugging Face id already in the local cache or a
folder (default ``openai/clip-vit-base-patch32``); nothing is downloaded unless the cache lacks it
and the machine is online. Options: ``device`` (cpu), ``text_range``, ``image_range``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from kaipai.backends.base import (
    Backend,
    Capability,
    CapabilitySheet,
    JobContext,
    JudgeRequest,
    NotConfigured,
    Result,
    Verdict,
    verdict_result,
)
from kaipai.document.shots import ScreenThird

DEFAULT_MODEL = "openai/clip-vit-base-patch32"
_COLUMNS = {ScreenThird.left: (0.0, 0.5), ScreenThird.center: (0.25, 0.75), ScreenThird.right: (0.5, 1.0)}


def _span(value: Any, default: tuple[float, float]) -> tuple[float, float]:
    if value is None:
        return default
    lo, hi = (float(v) for v in value)
    if hi <= lo:
        raise NotConfigured(f"a similarity range needs its floor below its ceiling, not {lo:g}–{hi:g}")
    return lo, hi


class ClipJudge(Backend):
    name = "clip"
    capabilities = frozenset({Capability.judge})
    version = "1"

    def __init__(self, model: str | None = None, **options: Any) -> None:
        unknown = sorted(set(options) - {"device", "text_range", "image_range"})
        if unknown:
            raise NotConfigured(f"the clip judge has no option {', '.join(map(repr, unknown))}")
        super().__init__(model=model or DEFAULT_MODEL, **options)
        self.device = str(options.get("device", "cpu"))
        self.text_range = _span(options.get("text_range"), (0.15, 0.35))
        self.image_range = _span(options.get("image_range"), (0.5, 0.9))
        self._parts: tuple[Any, Any, Any] | None = None
        self._lock = threading.Lock()

    def describe(self, capability: Capability) -> CapabilitySheet:
        return CapabilitySheet(
            capability=Capability.judge,
            model=str(self.model),
            max_concurrency=1,
            typical_seconds=0.5,
            deterministic=True,
        )

    def check(self) -> str:
        from importlib.util import find_spec

        if find_spec("torch") is None or find_spec("transformers") is None:
            raise NotConfigured("the clip judge needs torch and transformers: pip install 'kaipai[clip]'")
        if not Path(str(self.model)).is_dir():
            from huggingface_hub import try_to_load_from_cache

            if not isinstance(try_to_load_from_cache(str(self.model), "config.json"), str):
                raise NotConfigured(
                    f"the CLIP weights {self.model!r} are not on this machine; download them once "
                    f"(huggingface-cli download {self.model}) or set the judge's model to a local folder"
                )
        return f"CLIP {self.model} on {self.device}"

    def _load(self) -> tuple[Any, Any, Any]:
        with self._lock:
            if self._parts is None:
                self.check()
                from transformers import AutoTokenizer, CLIPModel

                try:
                    from transformers import CLIPImageProcessorPil as Processor  # transformers 5: no torchvision
                except ImportError:  # transformers 4: the slow processor is the PIL one
                    from transformers import CLIPImageProcessor as Processor  # type: ignore[assignment]
                model = CLIPModel.from_pretrained(str(self.model)).to(self.device).eval()
                self._parts = (
                    model,
                    Processor.from_pretrained(str(self.model)),
                    AutoTokenizer.from_pretrained(str(self.model)),
                )
            return self._parts

    def _embed_images(self, images: list[Any]) -> Any:
        import torch

        model, processor, _ = self._load()
        with torch.no_grad():
            pixels = processor(images=images, return_tensors="pt")["pixel_values"].to(self.device)
            out = model.visual_projection(model.vision_model(pixel_values=pixels).pooler_output)
        return torch.nn.functional.normalize(out, dim=-1)

    def _embed_texts(self, texts: list[str]) -> Any:
        import torch

        model, _, tokenizer = self._load()
        limit = min(77, int(getattr(model.config.text_config, "max_position_embeddings", 77)))
        with torch.no_grad():
            tokens = tokenizer(texts, padding=True, truncation=True, max_length=limit, return_tensors="pt")
            out = model.text_projection(
                model.text_model(
                    input_ids=tokens["input_ids"].to(self.device),
                    attention_mask=tokens["attention_mask"].to(self.device),
                ).pooler_output
            )
        return torch.nn.functional.normalize(out, dim=-1)

    @staticmethod
    def _scale(cos: float, span: tuple[float, float]) -> float:
        lo, hi = span
        return round(min(1.0, max(0.0, (cos - lo) / (hi - lo))), 4)

    def judge(self, request: JudgeRequest, ctx: JobContext) -> Result:
        from PIL import Image

        frames = [Image.open(p).convert("RGB") for p in request.images]
        take = self._embed_images(frames).mean(dim=0)
        scores: dict[str, float] = {}
        measures: dict[str, float] = {}
        reasons: list[str] = []
        if "prompt" in request.criteria and request.prompt:
            cos = float(self._embed_texts([request.prompt])[0] @ take)
            scores["prompt"], measures["prompt"] = self._scale(cos, self.text_range), round(cos, 4)
        if "likeness" in request.criteria and request.references:
            likeness = []
            placed = {p.character: p.third for p in request.shot.composition} if request.shot else {}
            for cid, ref in request.references.items():
                crops = [_column(f, placed.get(cid)) for f in frames]
                cos = float(
                    self._embed_images(crops).mean(dim=0) @ self._embed_images([Image.open(ref).convert("RGB")])[0]
                )
                likeness.append(self._scale(cos, self.image_range))
                measures[f"likeness:{cid}"] = round(cos, 4)
                if likeness[-1] < 0.5:
                    reasons.append(f"{cid} looks unlike their reference (similarity {cos:.2f})")
            scores["likeness"] = min(likeness)
        notes = [
            " ".join(
                x for x in (e.wardrobe and f"wearing {e.wardrobe}", e.holds and "holding " + ", ".join(e.holds)) if x
            )
            for e in request.continuity
        ]
        if "continuity" in request.criteria and any(notes):
            cos = float((self._embed_texts([n for n in notes if n]) @ take).mean())
            scores["continuity"], measures["continuity"] = self._scale(cos, self.text_range), round(cos, 4)
        verdict = Verdict(scores=scores, reasons=reasons, measures=measures)
        return verdict_result(verdict, ctx, model=str(self.model))

    def close(self) -> None:
        self._parts = None


def _column(image: Any, third: ScreenThird | None) -> Any:
    """The part of the frame where the composition puts a character (the whole frame when unplaced)."""
    if third is None:
        return image
    lo, hi = _COLUMNS[third]
    w, h = image.size
    return image.crop((int(lo * w), 0, max(int(lo * w) + 1, int(hi * w)), h))
