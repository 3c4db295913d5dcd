"""The shot script (分镜): each shot's framing, camera, dialogue, sound and where it ends.

The enums are the shot grammar's terms; ``vocabulary.py`` gives their words in each language.
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

from pydantic import Field, model_validator

from kaipai.document.backend_choice import BackendChoice, Capability
from kaipai.document.qc import QCPolicy, QCStage
from kaipai.document.strict import Strict


class ShotSize(str, Enum):
    """Shot sizes from extreme close-up to extreme wide, in order of growing field of view."""

    ECU = "ECU"  # extreme close-up: eyes, a detail
    CU = "CU"  # close-up: face fills the frame
    MCU = "MCU"  # medium close-up: head and shoulders
    MS = "MS"  # medium shot: waist up
    MLS = "MLS"  # medium long / cowboy: knees up
    LS = "LS"  # long / full shot: the whole figure
    WS = "WS"  # wide shot: figures in their setting
    EWS = "EWS"  # extreme wide: the place, figures tiny


SHOT_SIZE_ORDER: list[ShotSize] = list(ShotSize)


class Angle(str, Enum):
    eye = "eye"
    high = "high"
    low = "low"
    overhead = "overhead"  # bird's eye
    worms_eye = "worms_eye"
    dutch = "dutch"
    ots = "ots"  # over the shoulder
    pov = "pov"


class CameraMove(str, Enum):
    static = "static"
    push_in = "push_in"
    pull_out = "pull_out"
    pan_left = "pan_left"
    pan_right = "pan_right"
    tilt_up = "tilt_up"
    tilt_down = "tilt_down"
    truck_left = "truck_left"
    truck_right = "truck_right"
    crane_up = "crane_up"
    crane_down = "crane_down"
    handheld = "handheld"
    orbit = "orbit"


class Transition(str, Enum):
    cut = "cut"
    dissolve = "dissolve"
    fade_in = "fade_in"  # from black, at the start of this shot
    fade_out = "fade_out"  # to black, at the end of this shot
    wipe = "wipe"


class ScreenThird(str, Enum):
    left = "left"
    center = "center"
    right = "right"


class Depth(str, Enum):
    foreground = "foreground"
    midground = "midground"
    background = "background"


class Facing(str, Enum):
    camera = "camera"
    left = "left"
    right = "right"
    away = "away"


class Delivery(str, Enum):
    """How a line is heard: on screen, voice-over or off-screen."""

    on = "on"
    vo = "V.O."
    os = "O.S."


class ShotKind(str, Enum):
    establishing = "establishing"
    single = "single"
    two_shot = "two_shot"
    group = "group"
    ots = "ots"
    reaction = "reaction"
    insert = "insert"
    cutaway = "cutaway"  # 空镜: no characters
    caption = "caption"  # 字幕 card
    action = "action"


class Placement(Strict):
    """Where one character stands in the frame."""

    character: str = Field(description="Character id.")
    third: ScreenThird = ScreenThird.center
    depth: Depth = Depth.midground
    facing: Facing = Facing.camera


class DialogueLine(Strict):
    id: str = Field(pattern=r"^[\w\-]+$", description="Stable id of the line (its voice take is keyed on it).")
    speaker: str = Field(description="Character id, or 'narrator'.")
    text: str = Field(min_length=1)
    parenthetical: str = Field(default="", description="Performance note, e.g. (whisper) / （低声）.")
    delivery: Delivery = Delivery.on
    translation: str = Field(default="", description="Subtitle translation for bilingual subtitles.")
    offset: float | None = Field(
        default=None, ge=0, description="Start inside the shot in seconds; sequential when empty."
    )
    dual: bool = Field(
        default=False,
        description="Spoken at the same time as the speech before it (dual dialogue): it starts where that "
        "speech starts, and both voices overlap.",
    )


class Generation(Strict):
    """Per-shot generation overrides."""

    backends: dict[Capability, BackendChoice] = Field(default_factory=dict)
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)
    extra_prompt: str = ""
    clip_dialogue: bool = Field(
        default=False,
        description="Use the dialogue the video model speaks in its own sound (models with native audio) instead "
        "of the voices-first lines; the shot then lasts as long as its clip.",
    )


class ShotEnd(Strict):
    """Where a shot ends, for motion that follows the storyboard exactly: its last frame is made
    as a keyframe of its own, and models that take a first and a last frame move from one to the other."""

    composition: list[Placement] | None = Field(
        default=None,
        description="Characters in frame at the end of the shot, and where; as at the start when absent, "
        "nobody when empty.",
    )
    description: str = Field(default="", description="What is seen in the last frame (the shot's when empty).")
    image_prompt: str = Field(default="", description="Prompt for the last frame (derived when empty).")

    @model_validator(mode="after")
    def _says_something(self) -> ShotEnd:
        if not (self.composition is not None or self.description.strip() or self.image_prompt.strip()):
            raise ValueError("end: says nothing; give its composition, description or image_prompt, or remove it")
        return self


class Shot(Strict):
    id: str = Field(pattern=r"^[\w\-]+$", description="Stable shot id, e.g. S01-003.")
    scene: str = Field(description="Scene id.")
    order: int = Field(default=0, ge=0, description="Position in the film; shots play in ascending order.")
    kind: ShotKind = ShotKind.single
    size: ShotSize = ShotSize.MS
    angle: Angle = Angle.eye
    move: CameraMove = CameraMove.static
    lens: str = Field(default="", description="e.g. 35mm, 85mm.")
    composition: list[Placement] = Field(default_factory=list, description="Characters in frame and where.")
    description: str = Field(default="", description="What is seen: the visual elements of the frame.")
    action: str = Field(default="", description="What moves during the shot.")
    lighting: str = Field(default="", description="Lighting and colour for this shot.")
    image_prompt: str = Field(default="", description="Prompt for the keyframe (one still).")
    video_prompt: str = Field(default="", description="Prompt for the clip (motion).")
    dialogue: list[DialogueLine] = Field(default_factory=list)
    sfx: list[str] = Field(
        default_factory=list,
        description="Sound effects, each at its moment: 'door slam @1.2' starts 1.2 s into the shot; without '@' "
        "they are spread through the shot in the order written.",
    )
    music: str = Field(default="", description="Music cue starting at this shot.")
    caption: str = Field(default="", description="On-screen caption (字幕卡).")
    props: list[str] = Field(default_factory=list, description="Prop ids featured.")
    transition: Transition = Field(default=Transition.cut, description="Transition into this shot.")
    transition_duration: float = Field(default=0.5, ge=0, le=5)
    duration: float = Field(default=3.0, gt=0, le=600, description="Seconds; estimated until real audio exists.")
    duration_source: Literal["estimate", "audio", "manual"] = "estimate"
    generation: Generation = Field(default_factory=Generation)
    notes: str = Field(default="", description="Director's notes.")
    qc: dict[QCStage, QCPolicy] = Field(default_factory=dict, description="Quality-control overrides for this shot.")
    locked: bool = Field(default=False, description="Approved or hand-edited: re-planning never touches it.")
    end: ShotEnd | None = Field(
        default=None, description="Where the shot ends (its last frame); the clip moves from the start to it."
    )

    @property
    def speakers_on_screen(self) -> list[str]:
        framed = {p.character for p in self.composition}
        if self.end is not None:  # whoever is in frame at either end may speak on screen
            framed |= {p.character for p in self.end.composition or []}
        return [d.speaker for d in self.dialogue if d.delivery == Delivery.on and d.speaker in framed]

    def end_state(self) -> Shot:
        """The shot as its last frame shows it: the end's composition and description, no end of its own."""
        if self.end is None:
            return self
        return self.model_copy(
            update={
                "composition": list(self.composition if self.end.composition is None else self.end.composition),
                "description": self.end.description or self.description,
                "image_prompt": self.end.image_prompt,
                "end": None,
            }
        )
