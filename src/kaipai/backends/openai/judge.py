"""``openai-judge``: any OpenAI-compatible vision model scores a take against its shot.

The model sees the take (a keyframe, or frames of a clip), each framed character's reference (their
circled sheet or own picture) and the scene's continuity ledger, and answers a rubric with a
structured reply: 0–10 for prompt adherence, likeness to the reference, freedom from artifacts and
continuity with the ledger, what each character is seen wearing and holding, and the problems it
saw. The reply is validated like every structured reply (:mod:`.structured`: strict JSON schema,
then JSON mode, then the schema in the prompt; one repair round); a refusal, a content filter or a
reply that stays malformed is raised, and quality control leaves the take unjudged.

Options: those of every ``openai`` backend (:mod:`.endpoint`; ``temperature`` defaults to 0 here),
plus ``detail`` (``low``: what the model is sent of each picture, ``low``/``high``/``auto``),
``image_size`` (768: the longest side of each picture sent) and ``cost`` per judged take.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from pydantic import Field

from kaipai.backends.base import (
    Backend,
    Capability,
    CapabilitySheet,
    JobContext,
    JudgeRequest,
    Observed,
    Result,
    Verdict,
    verdict_result,
)
from kaipai.backends.openai.endpoint import Endpoint
from kaipai.backends.openai.replies import Reply
from kaipai.backends.openai.structured import StructuredChat

RUBRIC = (
    "You are the script supervisor and image-quality checker of a film production. You are shown one take "
    "of a shot (a still, or frames of a clip in order), what the shot should show, reference pictures of the "
    "characters, and the scene's continuity notes. Score each criterion from 0 to 10:\n"
    "- prompt: how well the take shows what the shot asks for (subject, framing, setting, light).\n"
    "- likeness: how much each framed character looks like their reference (face, hair, build); 10 when the "
    "shot frames nobody or no reference is given.\n"
    "- artifacts: 10 is clean; lower it for broken anatomy (hands, faces), melting or flickering shapes, text "
    "garbage, frames that do not belong.\n"
    "- continuity: how well what the characters wear and hold matches the continuity notes; 10 when there are "
    "no notes.\n"
    "List what each character is seen wearing and holding (their id as given), and every problem you see, in a "
    "short sentence each. Judge only what is visible."
)


class SeenCharacter(Reply):
    character: str = Field(description="The character's id as given.")
    wardrobe: str = Field(description="What they are seen wearing, e.g. 'red wool coat'; empty if not visible.")
    holds: list[str] = Field(description="What they are seen holding; [] for nothing.")


class JudgeReply(Reply):
    prompt: int = Field(description="0–10: how well the take shows what the shot asks for.")
    likeness: int = Field(description="0–10: likeness of each character to their reference.")
    artifacts: int = Field(description="0–10: 10 is free of artifacts.")
    continuity: int = Field(description="0–10: wardrobe and props as the continuity notes say.")
    characters: list[SeenCharacter]
    problems: list[str] = Field(description="Each problem seen, one short sentence each; [] for none.")


def _problems(reply: JudgeReply) -> list[str]:
    out = []
    for name in ("prompt", "likeness", "artifacts", "continuity"):
        value = getattr(reply, name)
        if not 0 <= value <= 10:
            out.append(f"{name}: {value} is outside 0–10")
    return out


def image_part(path: Path, size: int, detail: str) -> dict[str, Any]:
    """A picture as a chat content part: a JPEG data URL no larger than ``size`` on its longest side."""
    from PIL import Image

    with Image.open(path) as img:
        img = img.convert("RGB")
        img.thumbnail((size, size))
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=85)
    url = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    return {"type": "image_url", "image_url": {"url": url, "detail": detail}}


def request_parts(request: JudgeRequest, size: int, detail: str) -> list[dict[str, Any]]:
    """The user message: the shot, the characters and the ledger in words, then the pictures, labelled."""
    lines = [f"The shot should show: {request.prompt or '(no description)'}"]
    if request.shot is not None:
        lines.append(
            f"Framing: {request.shot.size.value}, {request.shot.angle.value} angle, {request.shot.kind.value}."
        )
    for c in request.characters:
        lines.append(f"Character {c.id}: {c.name}. {c.description}".strip())
    for e in request.continuity:
        held = ", ".join(e.holds) or "nothing in particular"
        lines.append(f"Continuity for {e.character}: wears {e.wardrobe or 'unspecified'}; holds {held}.")
    parts: list[dict[str, Any]] = [{"type": "text", "text": "\n".join(lines)}]
    frames = "the take" if len(request.images) == 1 else f"the take, {len(request.images)} frames in order"
    parts.append({"type": "text", "text": f"Pictures of {frames}:"})
    parts += [image_part(p, size, detail) for p in request.images]
    for cid, ref in request.references.items():
        parts.append({"type": "text", "text": f"Reference picture of character {cid}:"})
        parts.append(image_part(ref, size, detail))
    return parts


class OpenAIJudge(Backend):
    name = "openai-judge"
    capabilities = frozenset({Capability.judge})
    version = "1"

    def __init__(self, model: str | None = None, **options: Any) -> None:
        self.endpoint = Endpoint("openai judge", model, options, own=("detail", "image_size", "cost"), temperature=0.0)
        super().__init__(model=self.endpoint.model, **options)
        self.detail = str(options.get("detail", "low"))
        self.image_size = int(options.get("image_size", 768))
        self.cost = float(options.get("cost", 0.0))
        self._chat: StructuredChat | None = None

    def describe(self, capability: Capability) -> CapabilitySheet:
        return CapabilitySheet(
            capability=Capability.judge,
            model=str(self.model),
            cost_per_unit=self.cost,
            cost_unit="request",
            max_concurrency=4,
            typical_seconds=8.0,
        )

    def check(self) -> str:
        return self.endpoint.check()

    def close(self) -> None:
        if self._chat is not None:
            self._chat.client.close()
            self._chat = None

    def judge(self, request: JudgeRequest, ctx: JobContext) -> Result:
        if self._chat is None:
            self._chat = self.endpoint.chat()
        parts = request_parts(request, self.image_size, self.detail)
        reply = self._chat.ask("take review", RUBRIC, parts, JudgeReply, _problems)
        wanted = set(request.criteria)
        scores = {k: getattr(reply, k) / 10 for k in ("prompt", "likeness", "artifacts", "continuity") if k in wanted}
        verdict = Verdict(
            scores=scores,
            reasons=[p.strip() for p in reply.problems if p.strip()],
            observed={s.character: Observed(wardrobe=s.wardrobe, holds=s.holds) for s in reply.characters},
        )
        return verdict_result(verdict, ctx, model=str(self.model), cost=self.cost)
