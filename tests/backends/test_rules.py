"""The ``rules`` backend: found by name, plans like the rules, and says what it cannot do."""

from __future__ import annotations

import pytest

from kaipai.backends.base import Capability, NotConfigured, PlannerBackend, UnsupportedRequest
from kaipai.backends.registry import Registry
from kaipai.backends.rules import RulesPlanner
from kaipai.planning.importer import document_from_screenplay
from kaipai.planning.rules import plan_document, plan_scene
from tests.support.scripts import en_screenplay


def test_registry_creates_the_rules_planner_and_it_plans_like_the_rules() -> None:
    backend = Registry().create("rules")
    assert isinstance(backend, RulesPlanner) and isinstance(backend, PlannerBackend)
    assert backend.capabilities == frozenset({Capability.planner})
    assert backend.sheet(Capability.planner).cost_per_unit == 0
    with pytest.raises(UnsupportedRequest):
        backend.sheet(Capability.video)
    doc = document_from_screenplay(en_screenplay())
    assert backend.plan_scene(doc, doc.scenes[0]) == plan_scene(doc, doc.scenes[0])
    assert plan_document(doc, planner=backend).document == plan_document(doc).document


def test_writing_and_revising_need_a_language_model_and_say_how_to_configure_one() -> None:
    backend = RulesPlanner()
    doc = plan_document(document_from_screenplay(en_screenplay())).document
    with pytest.raises(NotConfigured, match=r"language-model planner.*use: openai"):
        backend.write_screenplay("a film about a birthday card", "en")
    with pytest.raises(NotConfigured, match=r"language-model planner"):
        backend.revise_shot(doc, doc.shots[0], "make it darker")


def test_a_speaker_missing_from_the_cast_is_added_so_every_line_keeps_a_speaker() -> None:
    doc = document_from_screenplay(en_screenplay())
    doc.cast.characters = [c for c in doc.cast.characters if c.id != "john"]
    result = plan_document(doc).document
    john = result.character("john")
    assert (
        john is not None
        and john.color
        and john.color not in {c.color for c in result.cast.characters if c.id != "john"}
    )
    assert any(d.speaker == "john" for s in result.shots for d in s.dialogue)
