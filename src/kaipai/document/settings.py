"""The film's settings: the ``project:`` block (title, language, frame, voice marks) and the style bible."""

from __future__ import annotations

import re
from enum import Enum

from pydantic import Field, field_validator

from kaipai.document.strict import Strict


class Language(str, Enum):
    zh = "zh"
    en = "en"


class Hearing(str, Enum):
    """What a voice mark in a speaker's cue means: （OS）, (V.O.), （画外音）…"""

    on = "on"
    vo = "V.O."  # a voice over the picture
    os = "O.S."  # off screen: we see who hears it
    inner = "inner"  # the speaker's thought: heard over their face, lips still


def frames(seconds: float, fps: int) -> int:
    """Whole frames in ``seconds`` (half a frame rounds up, so 4.5 s at 25 fps is 113 frames).

    The one rounding rule for the film: the edit places shots by it, and the render sizes music to it.
    """
    return int(seconds * fps + 0.5 + 1e-9)


_MOMENT = re.compile(r"^(.*?)\s*@\s*(\d+(?:\.\d+)?)\s*s?\s*$")


def effect_moment(text: str) -> tuple[str, float | None]:
    """A shot's sound effect as written (``'door slam @1.2'``): the sound, and the second it starts at, if given."""
    m = _MOMENT.match(text.strip())
    if m and m.group(1).strip():
        return m.group(1).strip(), float(m.group(2))
    return text.strip(), None


class Project(Strict):
    title: str = Field(description="Title of the film.")
    language: Language = Field(default=Language.zh, description="Language of dialogue, prompts and the UI.")
    aspect_ratio: str = Field(
        default="16:9", pattern=r"^\d+(\.\d+)?:\d+(\.\d+)?$", description="Frame aspect ratio, e.g. 16:9, 9:16, 2.39:1."
    )
    resolution: tuple[int, int] = Field(default=(1280, 720), description="Width and height of the master in pixels.")
    fps: int = Field(default=24, ge=1, le=120, description="Frames per second of the master.")
    target_length: float | None = Field(default=None, gt=0, description="Intended running time in seconds.")
    author: str = Field(default="", description="Who wrote it, from the title page (Author:, 编剧：).")
    credit: str = Field(default="", description="The credit line above the author, e.g. 'written by'.")
    source: str = Field(default="", description="What it is based on, e.g. 'based on the novel by …'.")
    draft_date: str = Field(default="", description="The draft's date as the title page writes it.")
    contact: str = Field(default="", description="Contact details from the title page.")
    voice_marks: dict[str, Hearing] = Field(
        default_factory=dict,
        description="How a speaker's voice mark is heard, where this script means something else than its "
        "convention: inner (the speaker's thought over their silent face; （OS） in Chinese scripts), V.O., "
        "O.S. (off screen; (O.S.) in Fountain, （画外音）) or on. E.g. {OS: O.S.}.",
    )
    propose_music: bool = Field(
        default=True,
        description="When the screenplay names no music, the planner proposes cues (opening, turns, ending); "
        "false for none.",
    )

    @field_validator("resolution")
    @classmethod
    def _even_resolution(cls, v: tuple[int, int]) -> tuple[int, int]:
        w, h = v
        if w < 16 or h < 16 or w > 8192 or h > 8192:
            raise ValueError("width and height must lie between 16 and 8192 pixels")
        if w % 2 or h % 2:
            raise ValueError("width and height must be even numbers (H.264 needs it)")
        return v


class Style(Strict):
    """The style bible: what keeps every shot of the film looking like one film."""

    visual_style: str = Field(default="", description="Overall look, e.g. 'cinematic realism, 35mm film'.")
    palette: list[str] = Field(default_factory=list, description="Key colours as #RRGGBB.")
    lighting: str = Field(default="", description="Lighting and tonality (影调), e.g. 'low-key, warm practicals'.")
    lens: str = Field(default="", description="Lens and film look, e.g. 'anamorphic 40mm, Kodak 5219'.")
    negative_prompt: str = Field(default="", description="What generation must avoid.")

    @field_validator("palette")
    @classmethod
    def _hex_colours(cls, v: list[str]) -> list[str]:
        for c in v:
            if not re.fullmatch(r"#[0-9A-Fa-f]{6}", c):
                raise ValueError(f"palette colour {c!r} is not of the form #RRGGBB")
        return v
