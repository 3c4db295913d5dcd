"""Screenplay → production document: project, cast, locations and scenes, no shots yet.

The importer decides identities once (character and location ids, scene ids) so that
re-importing the same script yields the same ids, and the planner, the voices and the
director's edits all keep pointing at the same people and places.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from pydantic import TypeAdapter

from kaipai.document.cast import Cast, Character, Location
from kaipai.document.elements import SceneElement, element_from_flat
from kaipai.document.models import Document
from kaipai.document.scenes import IntExt, Scene, TimeOfDay
from kaipai.document.settings import Hearing, Language, Project
from kaipai.document.shots import Delivery
from kaipai.planning.lexicon import delivery_of, hearing_of
from kaipai.planning.names import (
    NameIndex,
    detect_language,
    display_name,
    has_cjk,
    is_narrator,
    name_key,
    normalize_name,
    parenthesised,
    previz_colour,
    slugify,
    unique_id,
)
from kaipai.screenplay.model import Element, ElementType, Screenplay, ScreenplayScene

#: Element types that put something on screen or in the ear; a preamble holding one becomes a scene.
CONTENT_TYPES = frozenset(
    {
        ElementType.action,
        ElementType.dialogue,
        ElementType.caption,
        ElementType.cutaway,
        ElementType.lyric,
        ElementType.centered,
    }
)

_INT_EXT = {
    "INT": IntExt.INT,
    "EXT": IntExt.EXT,
    "INT/EXT": IntExt.INT_EXT,
    "EXT/INT": IntExt.INT_EXT,
    "I/E": IntExt.INT_EXT,
    "E/I": IntExt.INT_EXT,
    "内": IntExt.INT,
    "外": IntExt.EXT,
    "内外": IntExt.INT_EXT,
}
_ELEMENT: TypeAdapter[SceneElement] = TypeAdapter(SceneElement)
_TIME = {t.value: t for t in TimeOfDay} | {
    "日": TimeOfDay.day,
    "夜": TimeOfDay.night,
    "晨": TimeOfDay.dawn,
    "黄昏": TimeOfDay.dusk,
    "昏": TimeOfDay.dusk,
    "morning": TimeOfDay.day,
    "evening": TimeOfDay.dusk,
    "afternoon": TimeOfDay.day,
}


@dataclass
class _Person:
    name: str
    forms: list[str] = field(default_factory=list)
    description: str = ""


def document_element(el: Element) -> SceneElement:
    """A parsed screenplay element as the document keeps it (only its kind's own keys)."""
    return _ELEMENT.validate_python(element_from_flat(el.model_dump(mode="json")))


def document_from_screenplay(
    sp: Screenplay,
    *,
    language: str | None = None,
    title: str | None = None,
    screenplay_path: str | None = None,
    voice_marks: Mapping[str, Hearing] | None = None,
) -> Document:
    """Build a document from a parsed screenplay: cast, locations and scenes, ready for planning.

    ``voice_marks`` is the project's own reading of voice marks (``project.voice_marks``), when
    re-importing into a project that has one.
    """
    scenes = _scenes_with_preamble(sp)
    lang = language or _language(sp, scenes)
    project = Project(
        title=_title(sp, title, screenplay_path, lang), language=Language(lang), **_title_page_credits(sp, lang)
    )

    people = _people(scenes)
    characters: list[Character] = []
    taken: set[str] = {"narrator"}
    colours: list[str] = []
    for i, person in enumerate(people.values()):
        cid = unique_id(slugify(person.name), taken)
        colour = previz_colour(i, colours)
        colours.append(colour)
        aliases = []
        for form in person.forms:
            if form != person.name and form not in aliases:
                aliases.append(form)
        characters.append(
            Character(id=cid, name=person.name, aliases=aliases, description=person.description, color=colour)
        )
    index = NameIndex([(c.id, c.name, c.aliases) for c in characters])

    locations: list[Location] = []
    loc_ids: dict[str, str] = {}
    loc_taken: set[str] = set()
    doc_scenes: list[Scene] = []
    width = max(2, len(str(len(scenes))))
    for n, sc in enumerate(scenes, start=1):
        loc_id = None
        # A title, POV, montage or insert heading names a shot, not a place, unless it also says INT/EXT.
        place = (sc.location or "").strip() if sc.kind == "scene" or sc.int_ext else ""
        if place:
            key = re.sub(r"\s+", " ", place).casefold()
            if key not in loc_ids:
                loc_ids[key] = unique_id(slugify(place), loc_taken)
                locations.append(Location(id=loc_ids[key], name=display_name(place) if place.isascii() else place))
            loc_id = loc_ids[key]
        doc_scenes.append(
            Scene(
                id=f"S{n:0{width}d}",
                heading=sc.heading,
                int_ext=_INT_EXT.get(sc.int_ext.strip().upper().replace(" ", ""), IntExt.unspecified),
                time_of_day=_TIME.get(sc.time_of_day.strip().lower(), TimeOfDay.unspecified),
                kind=sc.kind if sc.kind in ("title", "pov", "montage", "insert") else "scene",
                title=sc.title,
                location=loc_id,
                synopsis=" ".join(
                    el.text.strip() for el in sc.elements if el.type == ElementType.synopsis and el.text.strip()
                ),
                characters=_present(sc, index, lang, voice_marks),
                elements=[document_element(el) for el in sc.elements],
            )
        )
    return Document(
        project=project,
        cast=Cast(characters=characters, locations=locations),
        screenplay=screenplay_path,
        scenes=doc_scenes,
    )


def keep_scene_ids(old: list[Scene], fresh: list[Scene]) -> list[Scene]:
    """Re-imported scenes keep the ids they had, the way a shooting script locks its scene numbers.

    Scenes are matched in order by heading; a scene whose heading was edited in place keeps
    its id too. A scene added between S02 and S03 becomes S02A (then S02B…), so every shot,
    line and voice take of the scenes around it keeps its id.
    """
    if not old:
        return fresh
    keys = [_heading_key(s.heading) for s in old], [_heading_key(s.heading) for s in fresh]
    ids: list[str | None] = [None] * len(fresh)
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, *keys, autojunk=False).get_opcodes():
        if tag in ("equal", "replace"):
            for k in range(min(i2 - i1, j2 - j1)):
                ids[j1 + k] = old[i1 + k].id
    taken = {s.id for s in old}
    previous = "S00"
    out = []
    for scene, sid in zip(fresh, ids, strict=True):
        if sid is None:
            sid = next(f"{previous}{suffix}" for suffix in _suffixes() if f"{previous}{suffix}" not in taken)
            taken.add(sid)
        previous = sid
        out.append(scene if scene.id == sid else scene.model_copy(update={"id": sid}))
    return out


def _heading_key(heading: str) -> str:
    return re.sub(r"\s+", " ", heading).strip().casefold()


def _suffixes() -> Iterator[str]:
    """A, B, … Z, AA, AB, …"""
    n = 1
    while True:
        for k in range(26**n):
            word, rest = "", k
            for _ in range(n):
                word, rest = string.ascii_uppercase[rest % 26] + word, rest // 26
            yield word
        n += 1


def _scenes_with_preamble(sp: Screenplay) -> list[ScreenplayScene]:
    """The scenes, led by an opening scene when the text before the first heading shows or says something."""
    scenes = list(sp.scenes)
    if any(el.type in CONTENT_TYPES and (el.text.strip() or el.character) for el in sp.preamble):
        zh = sp.format == "zh" or detect_language(el.text for el in sp.preamble) == "zh"
        line = next((el.line for el in sp.preamble), 0)
        scenes.insert(0, ScreenplayScene(heading="序幕" if zh else "OPENING", line=line, elements=list(sp.preamble)))
    elif scenes and (episodes := [el for el in sp.preamble if el.type == ElementType.episode]):
        # 第1集 (and its 《title》) before the first heading: kept at the head of the first scene
        scenes[0] = scenes[0].model_copy(update={"elements": [*episodes, *scenes[0].elements]})
    return scenes


def _language(sp: Screenplay, scenes: list[ScreenplayScene]) -> str:
    texts: list[str] = [sp.title]
    for sc in scenes:
        texts.append(sc.heading)
        texts.extend(el.text for el in sc.elements if el.type in CONTENT_TYPES)
    return detect_language(texts)


#: Title-page keys kept in the project, with the names Fountain and Chinese scripts give them.
_CREDITS = {
    "author": ("author", "authors", "written by", "编剧", "作者"),
    "credit": ("credit",),
    "source": ("source", "原著", "改编自"),
    "draft_date": ("draft date", "date", "日期"),
    "contact": ("contact", "联系方式"),
}


def _title_page_credits(sp: Screenplay, lang: str) -> dict[str, str]:
    """Author, credit, source, draft date and contact as the title page writes them (emphasis dropped)."""
    out = {}
    for field_name, keys in _CREDITS.items():
        value = next((sp.title_page[k] for k in keys if sp.title_page.get(k, "").strip()), "")
        value = re.sub(r"[*_]+", "", value).strip()
        if value:
            out[field_name] = value
    return out


def _title(sp: Screenplay, title: str | None, screenplay_path: str | None, lang: str) -> str:
    if title and title.strip():
        return title.strip()
    written = re.sub(r"[*_]+", "", sp.title)
    written = re.sub(r"\s+", " ", written).strip()
    if written:
        return written
    if screenplay_path:
        stem = re.sub(r"\.[^./\\]+$", "", screenplay_path.replace("\\", "/").rsplit("/", 1)[-1]).strip()
        if stem and stem.casefold() not in ("screenplay", "script"):
            return stem.replace("-", " ").replace("_", " ")
    return "未命名" if lang == "zh" else "Untitled"


def _people(scenes: list[ScreenplayScene]) -> dict[str, _Person]:
    """Every speaking or declared person, keyed by normalised name, in order of first appearance."""
    people: dict[str, _Person] = {}

    def add(raw: str, description: str = "", *, as_written: bool = True) -> None:
        raw = raw.strip()
        if not normalize_name(raw) or is_narrator(raw):
            return
        key = name_key(raw)
        person = people.setdefault(key, _Person(name=display_name(raw)))
        form = raw.lstrip("@").rstrip("^").strip() if as_written else normalize_name(raw)
        if form not in person.forms:
            person.forms.append(form)
        if description and not person.description:
            person.description = description

    for sc in scenes:
        for raw in sc.characters:
            add(raw, "；".join(parenthesised(raw)), as_written=False)  # 人物：林晓（女，25岁）
        for el in sc.elements:
            if el.type == ElementType.dialogue and el.character:
                add(el.character)
    _introductions(scenes, people)
    return people


def _introductions(scenes: list[ScreenplayScene], people: dict[str, _Person]) -> None:
    """Describe each undescribed person as the action introduces them.

    As in ``MAYA (30s, raincoat)`` or ``林夏（女，26岁）``.
    """
    waiting = {key: person for key, person in people.items() if not person.description}
    if not waiting:
        return
    by_form: dict[str, _Person] = {}
    for person in waiting.values():
        for form in {person.name, *person.forms}:
            form = normalize_name(form)
            if form:
                by_form.setdefault(form if has_cjk(form) else form.upper(), person)
    names = "|".join(re.escape(f) for f in sorted(by_form, key=len, reverse=True))
    intro = re.compile(rf"(?<![\w])({names})\s*[(（]([^()（）]{{2,120}})[)）]", re.I)
    for sc in scenes:
        for el in sc.elements:
            if el.type not in (ElementType.action, ElementType.centered):
                continue
            for m in intro.finditer(el.text):
                person = by_form.get(m.group(1)) or by_form.get(m.group(1).upper())
                note = m.group(2).strip()
                if person is not None and not person.description and not _is_cue_mark(note):
                    person.description = note


def _is_cue_mark(note: str) -> bool:
    """``(V.O.)``, ``(O.S.)``, ``（画外音）``: a voice mark, not a description."""
    return delivery_of(note) != Delivery.on or note.upper().replace(" ", "") in ("CONT'D", "CONTD", "CONT’D")


def _present(
    sc: ScreenplayScene, index: NameIndex, language: str, marks: Mapping[str, Hearing] | None = None
) -> list[str]:
    """Ids of the characters in the scene: declared, speaking on screen or thinking aloud, or named in
    the action (a voice-over's speaker may be somewhere else entirely)."""
    found: dict[str, None] = {}
    for raw in sc.characters:
        cid = index.resolve(raw)
        if cid:
            found.setdefault(cid, None)
    for el in sc.elements:
        if el.type == ElementType.dialogue and el.character:
            cid = index.resolve(el.character)
            heard = hearing_of(el.extension, el.character, el.parenthetical, language=language, marks=marks)
            if cid and heard != Hearing.vo:
                found.setdefault(cid, None)
        elif el.type in (ElementType.action, ElementType.centered):
            for cid in index.mentioned(el.text):
                found.setdefault(cid, None)
    return list(found)
