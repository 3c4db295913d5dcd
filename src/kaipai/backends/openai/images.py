"""``openai-image``: keyframes and sheets from any OpenAI-compatible images endpoint.

``/v1/images/generations`` for a prompt alone; ``/v1/images/edits`` when the request carries
reference images (the characters' sheets, the location) and the model takes them — sent as
``image[]`` parts, one per picture, which is what GPT-image models and most servers read.
OpenAI's models take a few fixed sizes (the sheet snaps to them); any other model gets the
local sheet (any size on an 8-pixel grid). Servers other than OpenAI also receive the request's
``seed`` and ``negative_prompt`` (Stable Diffusion servers use them; OpenAI refuses unknown
fields), unless ``local_params: false``. The image comes back inline (``b64_json``) or as a
link that is fetched at once.

Key: ``OPENAI_API_KEY`` (or the variable named by ``api_key_env``); a server on this machine needs
none. Options: ``base_url``, ``quality``, ``local_params``, ``extra_body``, ``timeout``, ``sheet``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import httpx

from kaipai.backends.base import Capability, ImageRequest, JobContext, Result, TransientError
from kaipai.backends.openai.media import COMMON_OPTIONS, OpenAIMediaBackend, is_openai
from kaipai.backends.remote import tasks
from kaipai.backends.remote.inputs import image_type, read_image

MAX_SEED = 2**32 - 1


class OpenAIImageBackend(OpenAIMediaBackend):
    name = "openai-image"
    capabilities = frozenset({Capability.image})
    capability = Capability.image
    known_options = COMMON_OPTIONS | {"quality", "local_params"}
    version = "1"

    def __init__(self, model: str | None = None, **options: Any) -> None:
        super().__init__(model=model, **options)
        self.settings = tasks.PollSettings.from_options({"timeout": self.timeout})
        self._files = httpx.Client(timeout=self.settings.download_timeout, follow_redirects=True)

    def close(self) -> None:
        super().close()
        self._files.close()

    def generate_image(self, request: ImageRequest, ctx: JobContext) -> Result:
        sheet = self.sheet(Capability.image)
        fields: dict[str, Any] = {
            "model": str(self.model),
            "prompt": request.prompt,
            "size": f"{request.width}x{request.height}",
            "n": 1,
        }
        if "quality" in self.options:
            fields["quality"] = str(self.options["quality"])
        extra = dict(self.options.get("extra_body") or {})
        if self.options.get("local_params", not is_openai(self.base_url)):
            extra.setdefault("seed", request.seed % MAX_SEED)
            if request.negative_prompt:
                extra.setdefault("negative_prompt", request.negative_prompt)
        if extra:
            fields["extra_body"] = extra
        references = request.reference_images[: sheet.max_reference_images]
        if references:
            pictures = [(p.name, read_image(p), image_type(p)) for p in references]
            reply = self.call(lambda: self.client().images.edit(image=pictures, **fields))
        else:
            reply = self.call(lambda: self.client().images.generate(**fields))
        data = list(getattr(reply, "data", None) or [])
        if not data:
            raise TransientError(f"{self.where} answered without an image")
        path = ctx.out_dir / "keyframe.png"
        if data[0].b64_json:
            try:
                path.write_bytes(base64.b64decode(data[0].b64_json, validate=True))
            except (binascii.Error, ValueError):
                raise TransientError(f"{self.where} sent an image that is not valid base64") from None
        elif data[0].url:
            url = str(data[0].url)
            path = tasks.download(
                self._files,
                url,
                ctx.out_dir / f"keyframe{tasks.suffix_for(url, default='.png')}",
                self.where,
                self.settings,
            )
        else:
            raise TransientError(f"{self.where} answered without an image")
        media = tasks.probe(path)
        return media.result(
            [path],
            cost_units=1.0,
            cost=sheet.cost_per_unit,
            model=str(self.model),
            metadata={
                "provider": "openai-compatible",
                "base_url": self.base_url,
                "references": len(references),
                "revised_prompt": getattr(data[0], "revised_prompt", None) or "",
                "cost_unit": "image",
                "currency": sheet.currency,
            },
        )
