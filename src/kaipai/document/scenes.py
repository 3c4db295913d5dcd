"""The document's ``scenes:``: each heading as written, where and when it plays, and its screenplay body."""

from __future__ import annotations

from enum import Enum
from typing import Literal

from pydantic import Field

from kaipai.document.elements import SceneElement
from kaipai.document.qc import Continuity
from kaipai.document.strict import Strict


class IntExt(str, Enum):
    INT = "INT"
    EXT = "EXT"
    INT_EXT = "INT/EXT"
    unspecified = "unspecified"  # the heading does not say (.KITCHEN, 场景二：阳台)


class TimeOfDay(str, Enum):
    day = "day"
    night = "night"
    dawn = "dawn"
    dusk = "dusk"
    unspecified = "unspecified"


SceneKind = Literal["scene", "title", "pov", "montage", "insert"]


class Scene(Strict):
    id: str = Field(pattern=r"^[\w\-]+$")
    heading: str = Field(description="The scene heading as written, e.g. 'INT. KITCHEN - NIGHT' or '1-1 日 内 客厅'.")
    int_ext: IntExt = IntExt.INT
    time_of_day: TimeOfDay = TimeOfDay.unspecified
    kind: SceneKind = Field(
        default="scene",
        description="What the heading announces: a scene in a place, or a title sequence (a caption card), a "
        "POV (shots from someone's eyes), a montage (a run of short shots) or an insert (a close detail).",
    )
    title: str = Field(default="", description="The scene's title as written, e.g. 《重逢》.")
    location: str | None = Field(default=None, description="Location id.")
    synopsis: str = ""
    characters: list[str] = Field(default_factory=list, description="Character ids present in the scene.")
    ambience: str | None = Field(
        default=None,
        description="The sound bed under the whole scene (room tone, night street, rain, wind…), crossfaded at "
        "scene changes. The planner writes one from the place and time of day; empty ('') for none.",
    )
    elements: list[SceneElement] = Field(
        default_factory=list,
        description="The screenplay body of the scene (action, dialogue, transitions…) as imported; the planner "
        "reads it.",
    )
    continuity: list[Continuity] = Field(default_factory=list, description="The scene's continuity ledger.")
