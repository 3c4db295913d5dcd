"""A scene read as the planner's beats: what is seen, what is said (part by part), what cuts.

Every voiced part of a speech becomes its own line, in order, with the parenthetical written
before it (``S03-L4``, then ``S03-L4-2`` after a ``(pause)`` inside the speech); how a line is
heard follows the marks of its cue in the script's convention (:func:`hearing_of`). The heading
says what the scene is: a place, or a title, a POV, a montage or an insert.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from kaipai.document.models import Document
from kaipai.document.scenes import Scene
from kaipai.document.settings import Hearing
from kaipai.document.shots import DialogueLine, Transition
from kaipai.planning.lexicon import delivery_for, hearing_of, is_emotional
from kaipai.planning.names import NARRATOR_ID, has_cjk
from kaipai.screenplay.fountain import heading_kind
from kaipai.screenplay.model import Element, ElementType

#: Edit instructions that scripts often write as plain action.
EDIT_WORDS = re.compile(
    r"\s*(?:FADE IN|FADE OUT|FADE TO BLACK|FADE TO WHITE|CUT TO|SMASH CUT TO|MATCH CUT TO|DISSOLVE TO|CUT TO BLACK)"
    r"\s*[:.]?\s*",
    re.I,
)
#: The bullet a montage line may start with: -, --, •, A), 1., （一）.
_MONTAGE_BULLET = re.compile(
    r"^\s*(?:[-–—•*]+|(?:[A-Z]|\d{1,2})[.)](?=\s)|[（(]?[一二三四五六七八九十]{1,2}[)）、])\s*"
)


@dataclass
class SpokenLine:
    """A dialogue line as planned, with what the planner needs to know about it."""

    line: DialogueLine
    dual: bool = False
    emotional: bool = False
    inner: bool = False  # the speaker's thought: heard over their own silent face


@dataclass
class Beat:
    kind: str  # action, dialogue, caption, cutaway, transition, music
    text: str = ""
    line: SpokenLine | None = None


def transition_of(text: str) -> Transition:
    """The edit a screenplay transition asks for (FADE IN:, DISSOLVE TO:, 淡出…)."""
    t = text.upper()
    if "FADE IN" in t or "淡入" in t or "渐显" in t:
        return Transition.fade_in
    if "FADE OUT" in t or "FADE TO BLACK" in t or "淡出" in t or "渐隐" in t or "黑场" in t:
        return Transition.fade_out
    if "DISSOLVE" in t or "叠化" in t or "溶" in t:
        return Transition.dissolve
    if "WIPE" in t or "划" in t:
        return Transition.wipe
    return Transition.cut


def performance_note(parenthetical: str) -> str:
    """``(quietly) (beat)`` → ``quietly; beat``: the note without its brackets."""
    notes = [n.strip() for n in re.findall(r"[(（]([^()（）]*)[)）]", parenthetical) if n.strip()]
    return "; ".join(notes) if notes else parenthetical.strip().strip("()（）").strip()


def scene_elements(doc: Document, scene: Scene) -> list[Element]:
    """The scene's screenplay body in the parsers' flat form, which the planner reads."""
    return [Element.model_validate(el.model_dump()) for el in scene.elements]


def read_beats(doc: Document, scene: Scene, speaker_id: Callable[[str], str]) -> list[Beat]:
    """The scene's beats in order; ``speaker_id`` turns a cue's name into a cast id."""
    beats: list[Beat] = []
    n = 0
    for el in scene_elements(doc, scene):
        text = el.text.strip()
        if el.type == ElementType.dialogue:
            if el.character.strip() and (text or any(p.text.strip() for p in el.parts)):
                n += 1
                beats.extend(speech_beats(doc, scene, el, n, speaker_id(el.character)))
        elif el.type in (ElementType.action, ElementType.centered) and EDIT_WORDS.fullmatch(re.sub(r"[*_]", "", text)):
            beats.append(Beat("transition", text))  # "FADE IN:" written as action, as most scripts open
        elif el.type == ElementType.action and text:
            beats.append(Beat("action", text))
        elif el.type == ElementType.centered and text:
            beats.append(Beat("caption", re.sub(r"[*_]+", "", text)))  # > THE END <: a title card
        elif el.type in (ElementType.caption, ElementType.cutaway) and text:
            beats.append(Beat(el.type.value, text))
        elif el.type == ElementType.transition and text:
            beats.append(Beat("transition", text))
        elif el.type == ElementType.lyric and text:
            beats.append(Beat("music", text))
    return beats


def speech_beats(doc: Document, scene: Scene, el: Element, n: int, speaker: str) -> list[Beat]:
    """One beat per voiced part of the ``n``-th speech, each with its own note: ``S01-L4``, ``S01-L4-2``…"""
    parts = [(el.parenthetical, el.text.strip()), *((p.parenthetical, p.text.strip()) for p in el.parts)]
    project = doc.project
    hearing = (
        Hearing.vo
        if speaker == NARRATOR_ID
        else hearing_of(
            el.extension,
            el.character,
            performance_note(el.parenthetical),
            language=project.language.value,
            marks=project.voice_marks,
        )
    )
    delivery = delivery_for(hearing)
    # The speech is framed as a whole when it starts: a cry in its last part already calls for a close-up.
    whole = is_emotional(" ".join(t for _, t in parts), " ".join(performance_note(n) for n, _ in parts))
    beats = []
    for k, (note, text) in enumerate((note, text) for note, text in parts if text):
        paren = performance_note(note)
        line = DialogueLine(
            id=f"{scene.id}-L{n}" + (f"-{k + 1}" if k else ""),
            speaker=speaker,
            text=text,
            parenthetical=paren,
            delivery=delivery,
            dual=el.dual,
        )
        emotional = whole if k == 0 else is_emotional(text, paren)
        spoken = SpokenLine(line, el.dual, emotional, inner=hearing == Hearing.inner)
        beats.append(Beat("dialogue", text, spoken))
    return beats


def montage_items(text: str) -> list[str]:
    """The shots of a montage paragraph: one per line, its bullet (``-``, ``A)``, ``1.``) dropped."""
    items = [_MONTAGE_BULLET.sub("", line).strip() for line in text.splitlines()]
    return [item for item in items if item]


def heading_subject(scene: Scene) -> str:
    """What a POV or INSERT heading names, as a reader says it: ``Sniper Scope``, ``letter``."""
    _, subject = heading_kind(scene.heading)
    subject = re.sub(r"^(?:the|a|an)\s+", "", subject, flags=re.I)
    return subject.title() if subject.isupper() and not has_cjk(subject) else subject


def title_card(doc: Document, scene: Scene) -> str:
    """The card a title heading asks for: the film's title, or at the end its credits as the title
    page writes them."""
    project = doc.project
    if re.search(r"\b(?:END|CLOSING|FINAL)\b|CREDIT", scene.heading.upper()):
        credits = " ".join(x for x in (project.credit, project.author) if x).strip()
        if credits:
            return credits
    return project.title
