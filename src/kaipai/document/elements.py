"""The screenplay body of a scene, as kept in the document: one typed element per block.

The planner reads these, and directors edit them by hand, so each kind of element has exactly
its own fields (a speech has a speaker, a section a depth, action only text) and an unknown or
misspelt key is a located error at load, like anywhere else in the document. ``type`` tells the
kinds apart; keys left at their defaults are not written back.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from kaipai.document.strict import Strict


class _Element(Strict):
    type: str  # each kind narrows it to its own literal; declared here so it is written first
    text: str = ""
    line: int = Field(default=0, ge=0, description="1-based line in the imported screenplay (0: written here).")


class SpeechPart(Strict):
    """A later part of a speech: the words after a parenthetical written inside it, with that note."""

    parenthetical: str = Field(default="", description="The note written before these words, e.g. (pause).")
    text: str = Field(default="", description="The words of this part.")


class DialogueElement(_Element):
    """A speech: who speaks, how it is marked, and the words (its first part, then ``parts``)."""

    type: Literal["dialogue"] = Field(description="A speech.")
    character: str = Field(description="The speaker's name as the screenplay writes it.")
    extension: str = Field(default="", description="V.O., O.S., CONT'D … as written, upper-cased.")
    parenthetical: str = Field(default="", description="Performance note, e.g. (whispering) / （低声）.")
    dual: bool = Field(default=False, description="Second half of a dual-dialogue pair, spoken at the same time.")
    parts: list[SpeechPart] = Field(
        default_factory=list,
        description="The rest of the speech, in order, each part after a parenthetical inside it: "
        "[{parenthetical: (pause), text: He was alone.}]. Each part is voiced as its own line.",
    )


class SectionElement(_Element):
    """A Fountain section (``#``, ``##``…): structure for the writer, never on screen."""

    type: Literal["section"] = Field(description="A section heading.")
    depth: int = Field(default=1, ge=1, le=6, description="Number of # marks.")


class TransitionElement(_Element):
    """A transition as written (CUT TO:, DISSOLVE TO:, 淡出); the planner turns it into the next shot's."""

    type: Literal["transition"] = Field(description="A transition.")


TextKind = Literal["action", "centered", "lyric", "note", "synopsis", "page_break", "caption", "cutaway", "episode"]


class TextElement(_Element):
    """Every other block is text of a kind: action, a caption card (【字幕】), a cutaway (【空镜】), a note…"""

    type: TextKind = Field(
        description="action, centered, lyric, note, synopsis, page_break, caption, cutaway or episode."
    )


SceneElement = Annotated[
    DialogueElement | SectionElement | TransitionElement | TextElement,
    Field(discriminator="type"),
]

#: Keys the flat form carries on every element, whatever its kind, with their empty values.
_FLAT = {
    "type": None,
    "text": "",
    "line": 0,
    "character": "",
    "extension": "",
    "parenthetical": "",
    "dual": False,
    "parts": [],
}


def element_from_flat(raw: Any) -> Any:
    """An element in the flat form (every key on every kind) in its kind's own shape.

    The first document format wrote elements that way, and the screenplay parsers still produce
    them so. Keys that do not belong to the element's kind are dropped only while they hold their empty
    default; anything else (a misspelt key, a speaker on an action line) is left for validation
    to report.
    """
    if not isinstance(raw, dict):
        return raw
    kind = raw.get("type")
    own = set(_own_fields(kind))
    out = {}
    for key, value in raw.items():
        if key not in own and key in (*_FLAT, "depth") and value == _FLAT.get(key, 0):
            continue
        out[key] = value
    if kind == "section" and out.get("depth") == 0:
        out["depth"] = 1
    return out


def _own_fields(kind: Any) -> tuple[str, ...]:
    model: type[_Element] = {
        "dialogue": DialogueElement,
        "section": SectionElement,
        "transition": TransitionElement,
    }.get(kind, TextElement)
    return tuple(model.model_fields)
