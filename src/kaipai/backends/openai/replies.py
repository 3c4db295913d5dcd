"""The shapes the planner asks a language model for, and the checks a schema cannot express.

Every field is required and closed so the same models serve strict JSON-schema output and
validation. Enumerations are the document's own, so a reply that passes here becomes
document models without guessing.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kaipai.document.shots import Angle, CameraMove, Depth, Facing, ScreenThird, ShotKind, ShotSize, Transition


class Reply(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- writing


class ScriptCharacter(Reply):
    name: str = Field(description="The name as it appears in the script.")
    description: str = Field(description="Age, look and wardrobe in one line.")


class ScriptScene(Reply):
    int_ext: Literal["INT", "EXT"]
    location: str = Field(description="Short place name, e.g. 'HARBOUR PIER' / '公交站台'.")
    time_of_day: Literal["day", "night", "dawn", "dusk"]
    synopsis: str = Field(description="What happens in the scene, two sentences at most.")
    characters: list[str] = Field(description="Names of the characters present, as in the characters list.")


class Outline(Reply):
    title: str
    logline: str
    characters: list[ScriptCharacter]
    scenes: list[ScriptScene]


class ScriptBeat(Reply):
    type: Literal["action", "dialogue", "caption"]
    character: str = Field(description="Speaker name for dialogue (or NARRATOR / 旁白); empty otherwise.")
    parenthetical: str = Field(description="Performance note for dialogue, e.g. whispering / 低声; empty otherwise.")
    text: str


class SceneBody(Reply):
    beats: list[ScriptBeat]


# --------------------------------------------------------------------------- planning and revising


class PlannedPlacement(Reply):
    character: str = Field(description="Character id from the cast.")
    third: ScreenThird
    depth: Depth
    facing: Facing


class ShotFields(Reply):
    """The visual and sound fields of a shot the model decides."""

    kind: ShotKind
    size: ShotSize
    angle: Angle
    move: CameraMove
    lens: str = Field(description="Focal length, e.g. 35mm.")
    composition: list[PlannedPlacement]
    description: str = Field(description="What is seen in the frame.")
    action: str = Field(description="What moves during the shot.")
    lighting: str = Field(description="Lighting and colour of the shot.")
    image_prompt: str = Field(
        description=(
            "Text-to-image prompt for ONE still keyframe: subject, framing, setting, light, style. No motion words."
        )
    )
    video_prompt: str = Field(
        description="Image-to-video prompt: the motion only — action, performance, camera move, pace."
    )
    sfx: list[str]
    music: str
    caption: str
    transition: Transition
    duration: float = Field(description="Seconds on screen.")


class PlannedShot(ShotFields):
    lines: list[int] = Field(
        description="Numbers of the scene's dialogue lines this shot holds, in order; [] for none."
    )


class ScenePlan(Reply):
    shots: list[PlannedShot]


class RevisedShot(ShotFields):
    summary: str = Field(description="One sentence telling the director what changed.")
