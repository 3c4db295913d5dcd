"""The offline planner: film-grammar rules turn scenes into a shot script, no model needed.

``plan_scene`` covers one scene; ``plan_document`` (re)plans the whole film and keeps every
locked shot exactly as the director left it. :class:`RulesPlanner` is the same planner as
the ``rules`` backend, the default for the ``planner`` capability.
"""

from __future__ import annotations

from kaipai.backends.base import Backend, Capability, CapabilitySheet, NotConfigured, PlannerBackend, UnsupportedRequest
from kaipai.document.models import Character, Document, Scene, Shot
from kaipai.planning.coverage import plan_scene_shots, scene_elements
from kaipai.planning.names import display_name, is_narrator, name_index, normalize_name, previz_colour, slugify, unique_id
from kaipai.planning.replan import PlanResult, replan
from kaipai.screenplay.model import ElementType

__all__ = ["PlanResult", "RulesPlanner", "plan_document", "plan_scene"]


def plan_scene(doc: Document, scene: Scene) -> list[Shot]:
    """Shots for one scene, ids ``<scene-id>-001``…; every dialogue line in exactly one shot."""
    return plan_scene_shots(doc, scene)


def plan_document(doc: Document, planner: PlannerBackend | None = None) -> PlanResult:
    """(Re)plan every scene. Locked shots stay exactly as they are and where they are.

    ``planner`` plans each scene instead of the rules (e.g. a language-model backend).
    The input document is not modified; the result holds a new one.
    """
    doc = _with_speakers(doc)
    scene_planner = planner.plan_scene if planner is not None else plan_scene
    return replan(doc, scene_planner)


def _with_speakers(doc: Document) -> Document:
    """Add to the cast anyone who speaks in a scene but is missing there, so every line has a speaker."""
    index = name_index(tuple((c.id, c.name, tuple(c.aliases)) for c in doc.cast.characters))
    missing: dict[str, str] = {}
    for scene in doc.scenes:
        for el in scene_elements(doc, scene):
            if el.type == ElementType.dialogue and el.character.strip() and el.text.strip():
                if normalize_name(el.character) and not is_narrator(el.character) and index.resolve(el.character) is None:
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


class RulesPlanner(Backend):
    """The ``rules`` planner backend: film grammar offline; writing and revising need a language model."""

    name = "rules"
    capabilities = frozenset({Capability.planner})

    def sheet(self, capability: Capability) -> CapabilitySheet:
        if capability != Capability.planner:
            raise UnsupportedRequest(f"the rules backend only plans shots; it has no {capability.value} capability")
        return CapabilitySheet(capability=Capability.planner, model="film-grammar rules", max_concurrency=4, typical_seconds=0.01)

    def plan_scene(self, document: Document, scene: Scene) -> list[Shot]:
        return plan_scene(document, scene)

    def write_screenplay(self, idea: str, language: str) -> str:
        raise NotConfigured(
            "writing a screenplay from an idea needs a language-model planner; the offline 'rules' planner only plans shots. "
            "Set one in kaipai.yaml, e.g.  backends: {planner: {use: openai, model: gpt-4o-mini}} (with its API key in the environment)"
        )

    def revise_shot(self, document: Document, shot: Shot, note: str) -> Shot:
        raise NotConfigured(
            "revising a shot from a note needs a language-model planner; the offline 'rules' planner cannot read notes. "
            "Edit the shot in kaipai.yaml, or set  backends: {planner: {use: openai, model: gpt-4o-mini}}  in kaipai.yaml"
        )
