"""The production document: the whole film as the director sees it.

These models are the source of truth shared by every stage. They are strict
(unknown keys are errors, so a typo in ``kaipai.yaml`` is caught, not ignored)
and carry enough description for ``kaipai schema`` to document the file.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kaipai.document.elements import SceneElement, element_from_flat
from kaipai.document.execution import ExecutorChoice

#: 2: scene elements are typed (each kind has its own keys); version-1 files are upgraded on load.
SCHEMA_VERSION = 2


class Strict(BaseModel):
    """Base for every document model: unknown keys are reported, not dropped."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, populate_by_name=True)


# --------------------------------------------------------------------------- enums


class Language(str, Enum):
    zh = "zh"
    en = "en"


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


class Hearing(str, Enum):
    """What a voice mark in a speaker's cue means: （OS）, (V.O.), （画外音）…"""

    on = "on"
    vo = "V.O."  # a voice over the picture
    os = "O.S."  # off screen: we see who hears it
    inner = "inner"  # the speaker's thought: heard over their face, lips still


SceneKind = Literal["scene", "title", "pov", "montage", "insert"]


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


# --------------------------------------------------------------------------- project and style


RelPath = Annotated[str, Field(description="A path relative to the project folder; it may not leave it.")]


def check_relative_path(value: str) -> str:
    """Reject a path that escapes the project folder (absolute, or with `..` that climbs out)."""
    p = PurePosixPath(value.replace("\\", "/"))
    if p.is_absolute() or (len(value) > 1 and value[1] == ":"):
        raise ValueError(f"path {value!r} must be relative to the project folder, not absolute")
    depth = 0
    for part in p.parts:
        if part == "..":
            depth -= 1
            if depth < 0:
                raise ValueError(f"path {value!r} leaves the project folder")
        elif part not in (".", ""):
            depth += 1
    return value


def frames(seconds: float, fps: int) -> int:
    """Whole frames in ``seconds`` (half a frame rounds up, so 4.5 s at 25 fps is 113 frames).

    The one rounding rule for the film: the edit places shots by it, and the render sizes music to it.
    """
    return int(seconds * fps + 0.5 + 1e-9)


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
        import re

        for c in v:
            if not re.fullmatch(r"#[0-9A-Fa-f]{6}", c):
                raise ValueError(f"palette colour {c!r} is not of the form #RRGGBB")
        return v


class Voice(Strict):
    """A character's voice: which backend voice, and how it sounds."""

    backend: str | None = Field(
        default=None, description="Speech backend for this voice; the project's default when empty."
    )
    voice: str | None = Field(default=None, description="Backend voice id (e.g. an eSpeak voice, a CosyVoice speaker).")
    pitch: int | None = Field(default=None, ge=0, le=99, description="eSpeak-style pitch 0-99.")
    rate: int | None = Field(default=None, ge=80, le=450, description="Words per minute.")
    sample: RelPath | None = Field(default=None, description="A reference recording for voice cloning backends.")

    _check_sample = field_validator("sample")(lambda cls, v: check_relative_path(v) if v else v)


class Character(Strict):
    id: str = Field(pattern=r"^[\w\-]+$", description="Stable id used by shots and dialogue.")
    name: str
    aliases: list[str] = Field(default_factory=list, description="Other names the screenplay uses.")
    description: str = ""
    wardrobe: str = ""
    color: str | None = Field(default=None, pattern=r"^#[0-9A-Fa-f]{6}$", description="Previz figure colour.")
    reference_images: list[RelPath] = Field(default_factory=list)
    voice: Voice = Field(default_factory=Voice)

    @field_validator("reference_images")
    @classmethod
    def _inside(cls, v: list[str]) -> list[str]:
        return [check_relative_path(p) for p in v]


class Location(Strict):
    id: str = Field(pattern=r"^[\w\-]+$")
    name: str
    description: str = ""
    reference_images: list[RelPath] = Field(default_factory=list)

    @field_validator("reference_images")
    @classmethod
    def _inside(cls, v: list[str]) -> list[str]:
        return [check_relative_path(p) for p in v]


class Prop(Strict):
    id: str = Field(pattern=r"^[\w\-]+$")
    name: str
    description: str = ""
    reference_images: list[RelPath] = Field(default_factory=list)

    @field_validator("reference_images")
    @classmethod
    def _inside(cls, v: list[str]) -> list[str]:
        return [check_relative_path(p) for p in v]


class Cast(Strict):
    characters: list[Character] = Field(default_factory=list)
    locations: list[Location] = Field(default_factory=list)
    props: list[Prop] = Field(default_factory=list)


# --------------------------------------------------------------------------- scenes and shots


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
    elements: list[SceneElement] = Field(
        default_factory=list,
        description="The screenplay body of the scene (action, dialogue, transitions…) as imported; the planner "
        "reads it.",
    )


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


class BackendChoice(Strict):
    use: str = Field(description="Backend name as registered (e.g. previz, espeak, diffusers, comfyui).")
    model: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)


Capability = Literal["planner", "image", "video", "speech", "lipsync", "music", "sound", "judge"]


class Generation(Strict):
    """Per-shot generation overrides."""

    backends: dict[Capability, BackendChoice] = Field(default_factory=dict)
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)
    extra_prompt: str = ""


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
    sfx: list[str] = Field(default_factory=list, description="Sound effects.")
    music: str = Field(default="", description="Music cue starting at this shot.")
    caption: str = Field(default="", description="On-screen caption (字幕卡).")
    props: list[str] = Field(default_factory=list, description="Prop ids featured.")
    transition: Transition = Field(default=Transition.cut, description="Transition into this shot.")
    transition_duration: float = Field(default=0.5, ge=0, le=5)
    duration: float = Field(default=3.0, gt=0, le=600, description="Seconds; estimated until real audio exists.")
    duration_source: Literal["estimate", "audio", "manual"] = "estimate"
    generation: Generation = Field(default_factory=Generation)
    notes: str = Field(default="", description="Director's notes.")
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
        default=2.5, ge=2.0, le=30.0, description="How long the notice stays on the opening frames (at least 2 s)."
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


class Document(Strict):
    """The production document (``kaipai.yaml``)."""

    version: int = Field(default=SCHEMA_VERSION, description="Document format version.")
    project: Project
    style: Style = Field(default_factory=Style)
    cast: Cast = Field(default_factory=Cast)
    backends: dict[Capability, BackendChoice] = Field(
        default_factory=dict, description="Backend chosen per capability; previz/espeak/rules when absent."
    )
    screenplay: RelPath | None = Field(default=None, description="The imported screenplay file.")
    executor: ExecutorChoice = Field(default_factory=ExecutorChoice, description="Where backend jobs run.")
    scenes: list[Scene] = Field(default_factory=list)
    shots: list[Shot] = Field(default_factory=list)
    publish: Publish = Field(default_factory=Publish, description="AIGC labels and the producer named in them.")

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any) -> Any:
        """Read a file written by an earlier version of kaipai as today's format."""
        if not isinstance(data, dict) or not isinstance(data.get("version", 1), int) or data.get("version", 1) >= 2:
            return data
        data = dict(data)
        scenes = data.get("scenes")
        if isinstance(scenes, list):
            data["scenes"] = [
                {**s, "elements": [element_from_flat(e) for e in s["elements"]]}
                if isinstance(s, dict) and isinstance(s.get("elements"), list)
                else s
                for s in scenes
            ]
        data["version"] = SCHEMA_VERSION
        return data

    # ------------------------------------------------------------------ lookups

    def character(self, cid: str) -> Character | None:
        return next((c for c in self.cast.characters if c.id == cid), None)

    def scene(self, sid: str) -> Scene | None:
        return next((s for s in self.scenes if s.id == sid), None)

    def shot(self, sid: str) -> Shot | None:
        return next((s for s in self.shots if s.id == sid), None)

    def ordered_shots(self) -> list[Shot]:
        scene_pos = {s.id: i for i, s in enumerate(self.scenes)}
        return sorted(self.shots, key=lambda s: (s.order, scene_pos.get(s.scene, 0)))

    def backend_for(self, capability: str, shot: Shot | None = None) -> BackendChoice:
        if shot is not None and capability in shot.generation.backends:
            return shot.generation.backends[capability]  # type: ignore[index]
        if capability in self.backends:
            return self.backends[capability]  # type: ignore[index]
        return BackendChoice(use=DEFAULT_BACKENDS[capability])


DEFAULT_BACKENDS: dict[str, str] = {
    "planner": "rules",
    "image": "previz",
    "video": "previz",
    "speech": "espeak",
    "lipsync": "previz",
    "music": "previz",
}


Loc = tuple[str | int, ...]


def reference_errors(doc: Document) -> list[tuple[Loc, str]]:
    """Cross-references a schema cannot express: ids that must exist and ids that must be unique.

    Returned as (path, message) so the loader can point at the offending line.
    """
    errors: list[tuple[Loc, str]] = []
    char_ids = {c.id for c in doc.cast.characters}
    loc_ids = {loc.id for loc in doc.cast.locations}
    prop_ids = {p.id for p in doc.cast.props}
    scene_ids = {s.id for s in doc.scenes}
    _unique(("cast", "characters"), [c.id for c in doc.cast.characters], errors)
    _unique(("cast", "locations"), [c.id for c in doc.cast.locations], errors)
    _unique(("cast", "props"), [c.id for c in doc.cast.props], errors)
    _unique(("scenes",), [s.id for s in doc.scenes], errors)
    _unique(("shots",), [s.id for s in doc.shots], errors)
    seen_lines: dict[str, Loc] = {}
    for i, sc in enumerate(doc.scenes):
        if sc.location and sc.location not in loc_ids:
            errors.append((("scenes", i, "location"), f"unknown location {sc.location!r}; add it under cast.locations"))
        for j, c in enumerate(sc.characters):
            if c not in char_ids:
                errors.append(
                    (("scenes", i, "characters", j), f"unknown character {c!r}; add it under cast.characters")
                )
    for i, sh in enumerate(doc.shots):
        if sh.scene not in scene_ids:
            errors.append((("shots", i, "scene"), f"unknown scene {sh.scene!r}; expected one of the scene ids"))
        for j, p in enumerate(sh.composition):
            if p.character not in char_ids:
                errors.append((("shots", i, "composition", j, "character"), f"unknown character {p.character!r}"))
        for j, d in enumerate(sh.dialogue):
            loc: Loc = ("shots", i, "dialogue", j)
            if d.id in seen_lines:
                errors.append(((*loc, "id"), f"dialogue line id {d.id!r} is used twice"))
            seen_lines[d.id] = loc
            if d.speaker not in char_ids and d.speaker != "narrator":
                errors.append(((*loc, "speaker"), f"unknown character {d.speaker!r}; use a cast id or 'narrator'"))
        for j, p in enumerate((sh.end.composition or []) if sh.end else []):
            if p.character not in char_ids:
                errors.append(
                    (("shots", i, "end", "composition", j, "character"), f"unknown character {p.character!r}")
                )
        for j, p in enumerate(sh.props):
            if p not in prop_ids:
                errors.append((("shots", i, "props", j), f"unknown prop {p!r}; add it under cast.props"))
    return errors


def _unique(where: Loc, ids: list[str], errors: list[tuple[Loc, str]]) -> None:
    seen: set[str] = set()
    for i, ident in enumerate(ids):
        if ident in seen:
            errors.append(((*where, i, "id"), f"id {ident!r} is used twice"))
        seen.add(ident)
