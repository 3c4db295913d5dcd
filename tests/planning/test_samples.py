"""The planner on real scripts: the bundled examples and the public Fountain samples, parsed for real."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from kaipai.document.models import Document, reference_errors
from kaipai.document.shots import ShotKind, ShotSize
from kaipai.planning.importer import document_from_screenplay
from kaipai.planning.names import has_cjk
from kaipai.planning.rules import plan_document
from kaipai.screenplay.examples import example_path
from tests.support.scripts import line_owners, screenplay_lines, side_violations

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "screenplays"
SAMPLES_DIR = FIXTURES if any(FIXTURES.glob("*.fountain")) else Path("/work/shared/screenplays")
SAMPLES = sorted(SAMPLES_DIR.glob("*.fountain"))
BUNDLED = [example_path("zh"), example_path("en")]


def plan_file(path: Path) -> Document:
    from kaipai.screenplay import parse_file  # the real parser, as `kaipai new --script` uses it

    sp = parse_file(path)
    return plan_document(document_from_screenplay(sp, screenplay_path=path.name)).document


def check_grammar(doc: Document) -> None:
    assert side_violations(doc) == [], "a character crossed the 180° line"
    owners = line_owners(doc)
    assert sorted(owners) == sorted(screenplay_lines(doc)), "a dialogue line is missing or unexpected"
    assert set(owners.values()) <= {1}, "a dialogue line is in two shots"
    assert reference_errors(doc) == []
    previous = None
    ordered = doc.ordered_shots()
    for scene in doc.scenes:
        shots = [s for s in ordered if s.scene == scene.id]
        if scene.location and scene.location != previous and shots:
            assert shots[0].kind in (ShotKind.establishing, ShotKind.cutaway), (
                f"{scene.id} opens without an establishing shot"
            )
            assert shots[0].size in (ShotSize.WS, ShotSize.EWS)
        previous = scene.location
    orders = [s.order for s in ordered]
    assert orders == sorted(set(orders))
    for a, b in itertools.pairwise(ordered):
        if (
            a.scene == b.scene and b.kind != ShotKind.caption
        ):  # the same frame twice in a row is a jump cut (title cards aside)
            assert (a.kind, a.size, a.angle, a.move, a.composition) != (
                b.kind,
                b.size,
                b.angle,
                b.move,
                b.composition,
            ), f"{a.id} → {b.id}"
    for shot in ordered:
        if shot.kind == ShotKind.ots:  # over a shoulder on the other side of the frame
            speaker, shoulder = shot.composition
            assert speaker.third != shoulder.third and shoulder.facing.value == "away", shot.id
        assert not re.search(r"：。|\bof \.|\bof$|OPENING|序幕", shot.description), f"{shot.id}: {shot.description!r}"


def test_the_sample_folder_holds_the_fountain_samples() -> None:
    assert len(SAMPLES) >= 10 and any(p.name == "Big-Fish.fountain" for p in SAMPLES)


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_fountain_samples_plan_by_the_grammar(path: Path) -> None:
    doc = plan_file(path)
    check_grammar(doc)
    if doc.shots:
        assert doc.project.language.value == "en"
        assert all(not has_cjk(s.image_prompt) for s in doc.shots)


@pytest.mark.parametrize("path", BUNDLED, ids=["zh", "en"])
def test_bundled_examples_plan_by_the_grammar(path: Path) -> None:
    doc = plan_file(path)
    check_grammar(doc)
    assert doc.shots and doc.cast.characters
    zh = path.parent.name == "zh"
    assert doc.project.language.value == ("zh" if zh else "en")
    assert all(has_cjk(s.description + s.image_prompt) == zh for s in doc.shots)
    # dialogue is covered with more than one kind of shot, and the film opens on a wide shot
    assert len({s.kind for s in doc.shots if s.dialogue}) >= 2
    assert doc.ordered_shots()[0].size in (ShotSize.WS, ShotSize.EWS)
