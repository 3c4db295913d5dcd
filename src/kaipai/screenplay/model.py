"""The common screenplay model every importer produces, whatever the source format."""

from __future__ import annotations

import re
from enum import Enum

from pydantic import BaseModel, Field

#: Names that mean the narrator rather than a character.
NARRATORS = frozenset({"旁白", "NARRATOR", "画外音"})


class ElementType(str, Enum):
    action = "action"
    dialogue = "dialogue"
    transition = "transition"
    centered = "centered"
    lyric = "lyric"
    note = "note"
    section = "section"
    synopsis = "synopsis"
    page_break = "page_break"
    caption = "caption"  # 【字幕：…】 an on-screen caption
    cutaway = "cutaway"  # 【空镜：…】 an empty / cutaway shot
    episode = "episode"  # 第1集


class SpeechPart(BaseModel):
    """A later part of one speech: what follows a parenthetical written inside it."""

    parenthetical: str = ""
    text: str = ""


class Element(BaseModel):
    """One block of the screenplay body, with the source line it started on."""

    type: ElementType
    text: str = ""
    line: int = Field(default=0, description="1-based line in the source file.")
    # dialogue only
    character: str = ""
    extension: str = Field(default="", description="V.O., O.S., CONT'D … as written, upper-cased.")
    parenthetical: str = ""
    dual: bool = Field(default=False, description="Second half of a dual-dialogue pair (Fountain ^).")
    parts: list[SpeechPart] = Field(
        default_factory=list,
        description="The rest of the speech after each parenthetical inside it, in order; ``text`` and "
        "``parenthetical`` hold its first part.",
    )
    # section only
    depth: int = 0


class ScreenplayScene(BaseModel):
    heading: str
    line: int = 0
    number: str | None = Field(default=None, description="Scene number as written (#1A#, 1-1, 第1场).")
    int_ext: str = Field(default="", description="INT, EXT, INT/EXT, or empty where the heading does not say.")
    time_of_day: str = Field(default="unspecified", description="day, night, dawn, dusk or unspecified.")
    location: str = ""
    episode: int | None = None
    characters: list[str] = Field(default_factory=list, description="Declared cast of the scene (人物：…), if any.")
    title: str = Field(default="", description="The scene's own title as written (a line such as 《重逢》).")
    kind: str = Field(
        default="scene",
        description="What the heading announces: a scene in a place, or a title sequence, a POV, a montage, an insert.",
    )
    elements: list[Element] = Field(default_factory=list)


class Screenplay(BaseModel):
    format: str = Field(description="fountain or zh.")
    title_page: dict[str, str] = Field(default_factory=dict)
    preamble: list[Element] = Field(default_factory=list, description="Body before the first scene heading.")
    scenes: list[ScreenplayScene] = Field(default_factory=list)

    @property
    def title(self) -> str:
        return self.title_page.get("title", "").strip()

    def characters(self) -> list[str]:
        """Speaking and declared characters (not the narrator), in order of first appearance."""
        seen: dict[str, None] = {}
        for scene in self.scenes:
            for name in scene.characters:
                seen.setdefault(re.split(r"[（(]", name, maxsplit=1)[0].strip(), None)
            for el in scene.elements:
                if el.type == ElementType.dialogue and el.character:
                    seen.setdefault(el.character, None)
        for el in self.preamble:
            if el.type == ElementType.dialogue and el.character:
                seen.setdefault(el.character, None)
        return [name for name in seen if name and name.upper() not in NARRATORS]

    def dialogue_count(self) -> int:
        return sum(
            1
            for els in [self.preamble, *(s.elements for s in self.scenes)]
            for el in els
            if el.type == ElementType.dialogue
        )


class ScreenplayError(Exception):
    """The one documented error of the parsers: the text cannot be read as a screenplay."""

    def __init__(self, message: str, line: int = 0, file: str = "") -> None:
        self.message, self.line, self.file = message, line, file
        where = f"{file}:{line}: " if file and line else (f"{file}: " if file else (f"line {line}: " if line else ""))
        super().__init__(f"{where}{message}")
