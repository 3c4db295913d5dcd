"""The offline planner: film-grammar rules turn scenes into a shot script, no model needed.

``plan_scene`` covers one scene; ``plan_document`` (re)plans the whole film and keeps every
locked shot exactly as the director left it. The ``rules`` backend
(:mod:`kaipai.backends.rules`) offers the same planner behind the backend interface.
"""

from __future__ import annotations

from typing import Protocol

from kaipai.document.cast import Character
from kaipai.document.models import Document
from kaipai.document.scenes import Scene
from kaipai.document.shots import Shot
from kaipai.planning.beats import scene_elements
from kaipai.planning.coverage import plan_scene_shots
from kaipai.planning.names import (
    display_name,
    is_narrator,
    name_index,
    normalize_name,
    previz_colour,
    slugify,
    unique_id,
)
from kaipai.planning.replan import PlanResult, replan
from kaipai.planning.sound import with_sound_design
from kaipai.screenplay.model import ElementType

__all__ = ["PlanResult", "ShotPlanner", "plan_document", "plan_scene"]


def plan_scene(doc: Document, scene: Scene) -> list[Shot]:
    """Shots for one scene, ids ``<scene-id>-001``…; every dialogue line in exactly one shot."""
    return plan_scene_shots(doc, scene)


class ShotPlanner(Protocol):
    """Anything that plans one scene's shots (the rules below, or a language-model backend)."""

    def plan_scene(self, document: Document, scene: Scene) -> list[Shot]: ...


def plan_document(doc: Document, planner: ShotPlanner | None = None) -> PlanResult:
    """(Re)plan every scene. Locked shots stay exactly as they are and where they are.

    ``planner`` plans each scene instead of the rules (e.g. a language-model backend).
    Every scene gets an ambience bed, and a film whose script names no music gets proposed cues
    (:mod:`kaipai.planning.sound`). The input document is not modified; the result holds a new one.
    """
    doc = _with_speakers(doc)
    scene_planner = planner.plan_scene if planner is not None else plan_scene
    proposed: list[str] = []

    def finish(merged: Document) -> Document:
        merged, proposals = with_sound_design(merged)
        proposed.extend(f"{p.shot}: {p.cue}" for p in proposals)
        return merged

    result = replan(doc, scene_planner, finish)
    result.music_proposed = proposed
    return result


def _with_speakers(doc: Document) -> Document:
    """Add to the cast anyone who speaks in a scene but is missing there, so every line has a speaker."""
    index = name_index(tuple((c.id, c.name, tuple(c.aliases)) for c in doc.cast.characters))
    missing: dict[str, str] = {}
    for scene in doc.scenes:
        for el in scene_elements(doc, scene):
            if (
                el.type == ElementType.dialogue
                and el.character.strip()
                and el.text.strip()
                and (
                    normalize_name(el.character)
                    and not is_narrator(el.character)
                    and index.resolve(el.character) is None
                )
            ):
                missing.setdefault(normalize_name(el.character).casefold(), el.character)
    if not missing:
        return doc
    doc = doc.model_copy(deep=True)
    taken = {c.id for c in doc.cast.characters} | {"narrator"}
    colours = [c.color for c in doc.cast.characters if c.color]
    for raw in missing.values():
        # The planner falls back to the slug of the name; the new character must carry exactly that id.
        cid = slugify(normalize_name(raw))
        if cid in taken:
            cid = unique_id(cid, taken)
        taken.add(cid)
        colour = previz_colour(len(doc.cast.characters), colours)
        colours.append(colour)
        doc.cast.characters.append(Character(id=cid, name=display_name(raw), color=colour))
    return doc
