"""Editing shots, dialogue, cast and style: the edits the studio and the CLI share.

Every edit is one read-modify-write through :func:`kaipai.document.io.update`, under the
project's document lock, so the director's comments in ``kaipai.yaml`` survive and two
writers (the studio and a CLI command, say) never lose each other's change. A shot edited
by hand is locked, so re-planning never overwrites the director's work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from kaipai.document.cast import Character
from kaipai.document.io import DocumentError, Problem, update
from kaipai.document.messages import plain_message
from kaipai.document.models import Document
from kaipai.document.settings import Style
from kaipai.document.shots import DialogueLine, Shot
from kaipai.project import ProjectPaths

__all__ = [
    "CHARACTER_FIELDS",
    "LINE_FIELDS",
    "SHOT_FIELDS",
    "STYLE_FIELDS",
    "add_line",
    "add_shot",
    "delete_line",
    "delete_shot",
    "edit_character",
    "edit_line",
    "edit_shot",
    "edit_style",
    "move_shot",
    "set_locked",
]

#: Shot fields a director edits directly (ids, scene and order change through add/move).
SHOT_FIELDS = frozenset(
    {
        "kind",
        "size",
        "angle",
        "move",
        "lens",
        "description",
        "action",
        "lighting",
        "image_prompt",
        "video_prompt",
        "sfx",
        "music",
        "caption",
        "transition",
        "transition_duration",
        "duration",
        "notes",
    }
)
LINE_FIELDS = frozenset({"speaker", "text", "parenthetical", "delivery", "translation", "offset"})
STYLE_FIELDS = frozenset(Style.model_fields)
CHARACTER_FIELDS = frozenset({"name", "description", "wardrobe", "color", "aliases"})
ORDER_STEP = 10

M = TypeVar("M", bound=BaseModel)


def _error(paths: ProjectPaths, field: str, message: str) -> DocumentError:
    return DocumentError([Problem(str(paths.document), 0, 0, field, message)])


def _shot(paths: ProjectPaths, doc: Document, shot_id: str) -> Shot:
    shot = doc.shot(shot_id)
    if shot is None:
        raise _error(paths, "shots", f"no shot {shot_id!r} in the document; 'kaipai shots' lists them")
    return shot


def _assign(paths: ProjectPaths, target: M, changes: dict[str, Any], allowed: frozenset[str], where: str) -> M:
    """Set fields one by one so each bad value is reported with its field name."""
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise _error(
            paths,
            f"{where}.{unknown[0]}",
            f"cannot edit {', '.join(unknown)} here; editable fields: {', '.join(sorted(allowed))}",
        )
    problems = []
    for name, value in changes.items():
        try:
            setattr(target, name, value)
        except ValidationError as exc:
            reason = "; ".join(plain_message(e) for e in exc.errors())
            problems.append(Problem(str(paths.document), 0, 0, f"{where}.{name}", f"{reason} (got {value!r})"))
    if problems:
        raise DocumentError(problems)
    return target


def _edit(paths: ProjectPaths, change: Callable[[Document], Any]) -> Any:
    """Run ``change`` inside one locked update and return what it returned (a copy)."""
    box: list[Any] = []

    def apply(doc: Document) -> Document:
        box.append(change(doc))
        return doc

    update(paths.document, apply)
    value = box[-1]
    return value.model_copy(deep=True) if isinstance(value, BaseModel) else value


def edit_shot(paths: ProjectPaths, shot_id: str, changes: dict[str, Any]) -> Shot:
    """Change shot fields (see :data:`SHOT_FIELDS`). A typed duration becomes ``manual``; the shot is locked."""

    def change(doc: Document) -> Shot:
        shot = _assign(paths, _shot(paths, doc, shot_id), changes, SHOT_FIELDS, f"shots[{shot_id}]")
        if "duration" in changes:
            shot.duration_source = "manual"
        shot.locked = True
        return shot

    return _edit(paths, change)


def _line(paths: ProjectPaths, shot: Shot, line_id: str) -> DialogueLine:
    line = next((d for d in shot.dialogue if d.id == line_id), None)
    if line is None:
        known = ", ".join(d.id for d in shot.dialogue) or "none"
        raise _error(paths, f"shots[{shot.id}].dialogue", f"shot {shot.id} has no line {line_id!r}; its lines: {known}")
    return line


def edit_line(paths: ProjectPaths, shot_id: str, line_id: str, changes: dict[str, Any]) -> DialogueLine:
    """Change one line of dialogue (its voice take is re-rendered by the next render); the shot is locked."""

    def change(doc: Document) -> DialogueLine:
        shot = _shot(paths, doc, shot_id)
        line = _assign(
            paths, _line(paths, shot, line_id), changes, LINE_FIELDS, f"shots[{shot_id}].dialogue[{line_id}]"
        )
        if line.speaker != "narrator" and doc.character(line.speaker) is None:
            raise _error(
                paths,
                f"shots[{shot_id}].dialogue[{line_id}].speaker",
                f"unknown character {line.speaker!r}; use a cast id or 'narrator'",
            )
        shot.locked = True
        return line

    return _edit(paths, change)


def _free_line_id(doc: Document, shot: Shot) -> str:
    used = {d.id for s in doc.shots for d in s.dialogue}
    n = len(shot.dialogue) + 1
    while f"{shot.id}-L{n}" in used:
        n += 1
    return f"{shot.id}-L{n}"


def add_line(paths: ProjectPaths, shot_id: str, speaker: str, text: str) -> DialogueLine:
    """Append a line of dialogue to a shot."""

    def change(doc: Document) -> DialogueLine:
        shot = _shot(paths, doc, shot_id)
        if speaker != "narrator" and doc.character(speaker) is None:
            raise _error(
                paths,
                f"shots[{shot_id}].dialogue.speaker",
                f"unknown character {speaker!r}; use a cast id or 'narrator'",
            )
        try:
            line = DialogueLine(id=_free_line_id(doc, shot), speaker=speaker, text=text)
        except ValidationError:
            raise _error(paths, f"shots[{shot_id}].dialogue.text", "a line needs some text") from None
        shot.dialogue.append(line)
        shot.locked = True
        return line

    return _edit(paths, change)


def delete_line(paths: ProjectPaths, shot_id: str, line_id: str) -> None:
    def change(doc: Document) -> None:
        shot = _shot(paths, doc, shot_id)
        gone = _line(paths, shot, line_id)
        shot.dialogue = [d for d in shot.dialogue if d.id != gone.id]
        shot.locked = True

    _edit(paths, change)


def _renumber(doc: Document, ordered: list[Shot]) -> None:
    for i, shot in enumerate(ordered, start=1):
        shot.order = i * ORDER_STEP


def move_shot(paths: ProjectPaths, shot_id: str, *, before: str | None = None) -> list[str]:
    """Move a shot in front of ``before`` (or to the end); it joins that shot's scene.

    Returns the film order. Orders are renumbered under the lock, so a concurrent add or move
    by another writer is kept.
    """

    def change(doc: Document) -> list[str]:
        moving = _shot(paths, doc, shot_id)
        rest = [s for s in doc.ordered_shots() if s.id != shot_id]
        if before is None:
            rest.append(moving)
        else:
            target = _shot(paths, doc, before)
            if target.id != moving.id:
                moving.scene = target.scene
                rest.insert(rest.index(target), moving)
            else:
                rest = doc.ordered_shots()
        _renumber(doc, rest)
        return [s.id for s in doc.ordered_shots()]

    return _edit(paths, change)


def _free_shot_id(doc: Document, scene: str) -> str:
    used = {s.id for s in doc.shots}
    n = sum(1 for s in doc.shots if s.scene == scene) + 1
    while f"{scene}-{n:03d}" in used:
        n += 1
    return f"{scene}-{n:03d}"


def add_shot(
    paths: ProjectPaths, *, after: str | None = None, scene: str | None = None, fields: dict[str, Any] | None = None
) -> Shot:
    """Add a shot after ``after`` (in its scene), or at the end of ``scene``. It is locked: the director made it."""

    def change(doc: Document) -> Shot:
        ordered = doc.ordered_shots()
        if after is not None:
            anchor = _shot(paths, doc, after)
            where, scene_id = ordered.index(anchor) + 1, anchor.scene
        else:
            scene_id = scene or (doc.scenes[-1].id if doc.scenes else "")
            if doc.scene(scene_id) is None:
                raise _error(
                    paths,
                    "scenes",
                    f"no scene {scene_id!r}; "
                    "add the scene to the screenplay and run 'kaipai plan', or name an existing scene",
                )
            last = [i for i, s in enumerate(ordered) if s.scene == scene_id]
            where = last[-1] + 1 if last else len(ordered)
        shot = Shot(id=_free_shot_id(doc, scene_id), scene=scene_id, locked=True)
        _assign(paths, shot, dict(fields or {}), SHOT_FIELDS, "shots[new]")
        doc.shots.append(shot)
        ordered.insert(where, shot)
        _renumber(doc, ordered)
        return shot

    return _edit(paths, change)


def delete_shot(paths: ProjectPaths, shot_id: str) -> None:
    """Remove a shot from the film. Its takes stay in the project (nothing rendered is deleted)."""

    def change(doc: Document) -> None:
        shot = _shot(paths, doc, shot_id)
        if shot.locked:
            raise _error(
                paths,
                f"shots[{shot_id}].locked",
                f"shot {shot_id} is locked; unlock it first if you really mean to delete it",
            )
        doc.shots = [s for s in doc.shots if s.id != shot_id]

    _edit(paths, change)


def set_locked(paths: ProjectPaths, shot_id: str, locked: bool = True) -> Shot:
    """Lock (approve) a shot so re-planning never touches it, or unlock it."""

    def change(doc: Document) -> Shot:
        shot = _shot(paths, doc, shot_id)
        shot.locked = locked
        return shot

    return _edit(paths, change)


def edit_style(paths: ProjectPaths, changes: dict[str, Any]) -> Style:
    """Change the style bible (visual style, palette, lighting, lens, negative prompt)."""
    return _edit(paths, lambda doc: _assign(paths, doc.style, changes, STYLE_FIELDS, "style"))


def edit_character(paths: ProjectPaths, character_id: str, changes: dict[str, Any]) -> Character:
    def change(doc: Document) -> Character:
        character = doc.character(character_id)
        if character is None:
            known = ", ".join(c.id for c in doc.cast.characters) or "none"
            raise _error(paths, "cast.characters", f"no character {character_id!r}; the cast: {known}")
        return _assign(paths, character, changes, CHARACTER_FIELDS, f"cast.characters[{character_id}]")

    return _edit(paths, change)
