"""Whatever a screenplay holds, the plan keeps the film grammar's promises (hypothesis)."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kaipai.document.models import reference_errors
from kaipai.document.shots import ShotKind
from kaipai.planning.importer import document_element, document_from_screenplay
from kaipai.planning.rules import plan_document
from kaipai.screenplay.model import Element, ElementType, Screenplay, ScreenplayScene
from tests.support.scripts import line_owners, screenplay_lines, side_violations

NAMES = ["MARY", "JOHN", "ELI", "林晓", "父亲", "NARRATOR", "旁白", "MARY (CONT'D)", "阿强（OS）"]
WORDS = [
    "She hands him the card.",
    "他拿起一封信。",
    "JOHN enters.",
    "The phone RINGS!",
    "FADE IN:",
    "雨夜。",
    "Mary and Eli run.",
    "哭",
    "！",
    " ",
]
text = st.one_of(st.sampled_from(WORDS), st.text(min_size=0, max_size=40))
element = st.one_of(
    st.builds(Element, type=st.just(ElementType.action), text=text),
    st.builds(
        Element,
        type=st.just(ElementType.dialogue),
        text=text,
        character=st.one_of(st.sampled_from(NAMES), st.text(max_size=8)),
        extension=st.sampled_from(["", "V.O.", "O.S.", "CONT'D", "OS"]),
        parenthetical=st.sampled_from(["", "(angry)", "（低声）", "哽咽"]),
        dual=st.booleans(),
    ),
    st.builds(
        Element,
        type=st.sampled_from(
            [
                ElementType.caption,
                ElementType.cutaway,
                ElementType.transition,
                ElementType.lyric,
                ElementType.centered,
                ElementType.note,
            ]
        ),
        text=text,
    ),
)
scene = st.builds(
    ScreenplayScene,
    heading=st.sampled_from(["INT. KITCHEN - NIGHT", "EXT. PIER - DAY", "1-1 日 内 客厅", "INT. KITCHEN - NIGHT"]),
    int_ext=st.sampled_from(["INT", "EXT", "INT/EXT"]),
    time_of_day=st.sampled_from(["day", "night", "dawn", "dusk", "unspecified"]),
    location=st.sampled_from(["", "KITCHEN", "PIER", "客厅"]),
    characters=st.lists(st.sampled_from(["林晓（女，25岁）", "父亲", "MARY"]), max_size=2),
    elements=st.lists(element, max_size=12),
)
screenplay = st.builds(
    Screenplay,
    format=st.sampled_from(["fountain", "zh"]),
    scenes=st.lists(scene, min_size=1, max_size=4),
    preamble=st.lists(element, max_size=3),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(screenplay)
def test_any_screenplay_plans_into_a_valid_shot_script(sp: Screenplay) -> None:
    first = plan_document(document_from_screenplay(sp))
    doc = first.document
    owners = line_owners(doc)
    assert sorted(owners) == sorted(screenplay_lines(doc)) and set(owners.values()) <= {1}
    assert side_violations(doc) == []
    assert reference_errors(doc) == []
    shots = doc.ordered_shots()
    assert [s.order for s in shots] == sorted({s.order for s in shots})
    for a, b in itertools.pairwise(shots):
        if a.scene == b.scene and b.kind != ShotKind.caption:
            assert (a.kind, a.size, a.angle, a.move, a.composition) != (b.kind, b.size, b.angle, b.move, b.composition)
    assert all(s.duration >= 1.5 and s.description and s.lens for s in shots)
    again = plan_document(doc)
    assert again.added == again.changed == again.removed == [] and again.document == doc


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(screenplay, st.data())
def test_replanning_an_edited_script_never_touches_locked_shots_or_drops_a_line(
    sp: Screenplay, data: st.DataObject
) -> None:
    doc = plan_document(document_from_screenplay(sp)).document
    if doc.shots:
        for i in data.draw(st.sets(st.integers(0, len(doc.shots) - 1), max_size=3)):
            doc.shots[i] = doc.shots[i].model_copy(update={"locked": True, "description": "hand-drawn"})
    locked = {s.id: s for s in doc.shots if s.locked}
    for scene in doc.scenes:  # the writer edits: some elements go, others arrive
        keep = data.draw(st.lists(st.booleans(), min_size=len(scene.elements), max_size=len(scene.elements)))
        scene.elements = [el for el, k in zip(scene.elements, keep, strict=True) if k]
        scene.elements += [document_element(el) for el in data.draw(st.lists(element, max_size=3))]
    result = plan_document(doc)
    new = result.document
    assert {s.id: s for s in new.shots if s.locked} == locked
    assert sorted(result.kept_locked) == sorted(locked)
    assert set(line_owners(new).values()) <= {1} and len({s.id for s in new.shots}) == len(new.shots)
    held = [(d.speaker, d.text) for s in new.shots for d in s.dialogue]
    ids = {d.id: d for s in new.shots for d in s.dialogue}
    for scene in new.scenes:
        for el in scene.elements:
            if el.type == "dialogue" and el.text.strip() and el.character.strip():
                assert any(t == el.text.strip() for _, t in held), el  # every line of the script is in a shot
    assert all(ids[d.id] == d for s in locked.values() for d in s.dialogue)
    orders = [s.order for s in new.shots]
    assert orders == sorted(orders)
