"""How the film leaves the studio (``publish:``): its AIGC labels and the producer named in them."""

from __future__ import annotations

import re
from enum import Enum
from typing import Any

from pydantic import Field, field_validator, model_validator

from kaipai.document.strict import Strict


class LabelMode(str, Enum):
    auto = "auto"
    on = "on"
    off = "off"


class Corner(str, Enum):
    top_left = "top_left"
    top_right = "top_right"
    bottom_left = "bottom_left"
    bottom_right = "bottom_right"


#: GB 45438-2025 Annex E: metadata values are printable ASCII without space, '"' or '\\'.
AIGC_TEXT = r"^[\x21\x23-\x5b\x5d-\x7e]*$"


class Publish(Strict):
    """How the film leaves the studio: the AIGC labels that China's labelling measures (GB 45438-2025)
    and the EU AI Act ask of AI-generated video, and who is named as its producer."""

    labels: LabelMode = Field(
        default=LabelMode.auto,
        description="AIGC labels (visible notice, AIGC metadata, C2PA): auto = when any take in the cut came from "
        "a generative backend; on = always; off = never (publishing unlabelled AI content is then your call).",
    )
    producer: str = Field(
        default="kaipai",
        min_length=1,
        max_length=128,
        description="ContentProducer of the AIGC metadata: your name or TC260 service code "
        "(printable ASCII, no spaces).",
    )
    reserved_code: str = Field(default="", max_length=256, description="ReservedCode1 of the AIGC metadata (optional).")
    label_text: str = Field(
        default="",
        max_length=40,
        description="The visible notice; empty = 'AI生成' for a Chinese project, 'AI generated' otherwise. "
        "It must name AI (AI or 人工智能).",
    )
    label_seconds: float = Field(
        default=2.5,
        ge=2.0,
        le=30.0,
        description="How long the notice stays on the opening frames at least (2 s or more); on a film copied "
        "from its clips it stays until the next keyframe.",
    )
    corner: Corner = Field(default=Corner.top_left, description="Where the notice sits.")
    corner_mark: bool = Field(default=False, description="Keep a lighter notice in that corner for the whole film.")

    @model_validator(mode="before")
    @classmethod
    def _yaml_booleans(cls, data: Any) -> Any:
        """``labels: on`` read by a YAML 1.1 parser arrives as True."""
        if isinstance(data, dict) and isinstance(data.get("labels"), bool):
            data = {**data, "labels": "on" if data["labels"] else "off"}
        return data

    @field_validator("producer", "reserved_code")
    @classmethod
    def _annex_e_text(cls, v: str) -> str:
        if not re.fullmatch(AIGC_TEXT, v):
            raise ValueError(
                "must be printable ASCII without spaces, quotes or backslashes (GB 45438 Annex E): "
                "use your TC260 service code or an ASCII name such as my-studio"
            )
        return v

    @field_validator("label_text")
    @classmethod
    def _names_ai(cls, v: str) -> str:
        v = v.strip()
        if v and "AI" not in v.upper() and "人工智能" not in v:
            raise ValueError("the notice must name AI, e.g. 'AI生成', '人工智能生成' or 'AI generated'")
        return v
