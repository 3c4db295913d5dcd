"""The ``rules`` planner backend: the offline film-grammar planner behind the backend interface.

It is the default for the ``planner`` capability; writing a screenplay and revising a shot from
a note need a language model, so it says how to configure one.
"""

from __future__ import annotations

from kaipai.backends.base import (
    Backend,
    Capability,
    CapabilitySheet,
    NotConfigured,
)
from kaipai.document.models import Document
from kaipai.document.scenes import Scene
from kaipai.document.shots import Shot
from kaipai.planning.rules import plan_scene


class RulesPlanner(Backend):
    """The ``rules`` planner backend: film grammar offline; writing and revising need a language model."""

    name = "rules"
    generative = False  # drawn or synthesised by rules, offline: nothing to label
    capabilities = frozenset({Capability.planner})

    def describe(self, capability: Capability) -> CapabilitySheet:
        return CapabilitySheet(
            capability=Capability.planner,
            model="film-grammar rules",
            max_concurrency=4,
            typical_seconds=0.01,
            deterministic=True,
        )

    def plan_scene(self, document: Document, scene: Scene) -> list[Shot]:
        return plan_scene(document, scene)

    def write_screenplay(self, idea: str, language: str) -> str:
        raise NotConfigured(
            "writing a screenplay from an idea needs a language-model planner; "
            "the offline 'rules' planner only plans shots. "
            "Set one in kaipai.yaml, e.g.  backends: {planner: {use: openai, model: gpt-4o-mini}} "
            "(with its API key in the environment)"
        )

    def revise_shot(self, document: Document, shot: Shot, note: str) -> Shot:
        raise NotConfigured(
            "revising a shot from a note needs a language-model planner; "
            "the offline 'rules' planner cannot read notes. "
            "Edit the shot in kaipai.yaml, "
            "or set  backends: {planner: {use: openai, model: gpt-4o-mini}}  in kaipai.yaml"
        )
