"""Continuity: the ledger the planner fills and the director edits, wardrobe and props in prompts, a
wardrobe change inside a scene flagged, and the 180° check flagging a cut that crosses the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaipai.backends.synthetic import shirt_colour
from kaipai.document.backend_choice import BackendChoice
from kaipai.document.cast import Cast, Character
from kaipai.document.io import load, update
from kaipai.document.models import Document
from kaipai.document.qc import Continuity
from kaipai.document.scenes import Scene
from kaipai.document.settings import Project
from kaipai.document.shots import Placement, Shot
from kaipai.engine.requests import keyframe_prompt
from kaipai.planning.continuity import line_crossings
from kaipai.planning.importer import document_from_screenplay
from kaipai.planning.rules import plan_document
from kaipai.project import ProjectPaths
from kaipai.qc.continuity import WARDROBE_DELTA, colour_change, lab, wardrobe_differs
from kaipai.screenplay import parse_file
from kaipai.service.document import new_project, plan_project
from kaipai.service.qc import shots_qc
from kaipai.service.render import render
from tests.backends.doubles.server import serve
from tests.backends.doubles.vision_double import KEY, MODEL, VisionDouble, colour_name
from tests.support.films import FAST

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "kaipai" / "examples"
SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "screenplays"


def _ledger(doc: Document, scene: str) -> dict[str, Continuity]:
    found = doc.scene(scene)
    assert found is not None
    return {e.character: e for e in found.continuity}


def test_the_planner_fills_the_ledger_from_the_screenplay_and_its_shots() -> None:
    en = plan_document(document_from_screenplay(parse_file(EXAMPLES / "en" / "screenplay.fountain"))).document
    pier = _ledger(en, "S01")
    assert pier["maya"].wardrobe == "raincoat" and pier["maya"].holds == ["sealed envelope"]
    assert pier["eli"].wardrobe == "oilskin coat" and pier["eli"].holds == ["lantern"]
    assert (pier["maya"].side, pier["maya"].facing) == ("left", "right")
    assert (pier["eli"].side, pier["eli"].facing) == ("right", "left")
    zh = plan_document(document_from_screenplay(parse_file(EXAMPLES / "zh" / "screenplay.txt"))).document
    assert any("雨伞" in h for e in zh.scenes[0].continuity for h in e.holds)


def test_wardrobe_and_props_from_the_ledger_reach_the_keyframe_prompt(tmp_path: Path) -> None:
    paths = new_project(tmp_path / "film", script=EXAMPLES / "en" / "screenplay.fountain")
    plan_project(paths)

    def edit(doc: Document) -> None:
        scene = doc.scene("S01")
        assert scene is not None
        scene.continuity = [
            e.model_copy(update={"wardrobe": "yellow raincoat", "holds": ["umbrella"]}) if e.character == "maya" else e
            for e in scene.continuity
        ]

    update(paths.document, edit)
    plan_project(paths)  # a re-plan keeps the director's entry as written
    doc = load(paths.document).doc
    assert _ledger(doc, "S01")["maya"].wardrobe == "yellow raincoat"
    shot = next(s for s in doc.shots if s.scene == "S01" and [p.character for p in s.composition] == ["maya"])
    prompt = keyframe_prompt(doc, shot)
    assert "Maya wears yellow raincoat, holds umbrella" in prompt


def _scene_doc(shots: list[Shot], **extra: Any) -> Document:
    return Document(
        project=Project(title="t", language="en", resolution=(320, 180), fps=12),
        cast=Cast(characters=[Character(id="maya", name="Maya"), Character(id="eli", name="Eli")]),
        scenes=[Scene(id="S1", heading="EXT. PIER - NIGHT", characters=["maya", "eli"])],
        shots=shots,
        **extra,
    )


def _shot(n: int, size: str = "MCU", move: str = "static", kind: str = "single", **places: tuple[str, str]) -> Shot:
    composition = [Placement(character=c, third=t, facing=f) for c, (t, f) in places.items()]
    return Shot(id=f"S1-{n:03d}", scene="S1", order=n, size=size, move=move, kind=kind, composition=composition)


def test_the_180_check_flags_a_cut_that_crosses_the_line() -> None:
    two = _shot(1, "MS", kind="two_shot", maya=("left", "right"), eli=("right", "left"))
    keeps = _shot(2, maya=("left", "right"))
    jumps = _shot(3, maya=("right", "left"))
    swapped = _shot(4, "MS", kind="two_shot", maya=("right", "left"), eli=("left", "right"))
    crossings = line_crossings(_scene_doc([two, keeps, jumps, swapped]))
    assert [(c.previous, c.shot) for c in crossings] == [("S1-002", "S1-003"), ("S1-003", "S1-004")]
    assert "Maya looks left, right before" in crossings[0].reason
    assert "Eli is left of Maya here, right of them before" in crossings[1].reason


def test_an_orbit_carries_the_camera_across_the_line_without_a_flag() -> None:
    two = _shot(1, "MS", kind="two_shot", maya=("left", "right"), eli=("right", "left"))
    orbit = _shot(2, "MS", move="orbit", kind="two_shot", maya=("left", "right"), eli=("right", "left"))
    other_side = _shot(3, maya=("right", "left"))
    assert line_crossings(_scene_doc([two, orbit, other_side])) == []


def test_the_ledger_sets_the_line_before_the_first_shot() -> None:
    doc = _scene_doc([_shot(1, maya=("right", "left")), _shot(2, maya=("right", "left"))])
    assert line_crossings(doc) == []
    doc.scenes[0].continuity = [Continuity(character="maya", side="left", facing="right")]
    assert [c.shot for c in line_crossings(doc)] == ["S1-002"]  # the first cut in breaks the ledger's line


@pytest.mark.parametrize("name", ["Big-Fish.fountain", "The-Last-Birthday-Card.fountain"])
def test_the_planner_never_crosses_the_line_it_keeps(name: str) -> None:
    doc = plan_document(document_from_screenplay(parse_file(SAMPLES / name))).document
    assert line_crossings(doc) == []


def test_wardrobe_descriptions_differ_by_colour_or_garment() -> None:
    assert wardrobe_differs("red wool coat", "blue coat") and wardrobe_differs("raincoat", "evening dress")
    assert not wardrobe_differs("red wool coat", "a red coat, buttoned") and not wardrobe_differs("coat", "red coat")
    assert wardrobe_differs("红色外套", "蓝色外套") and not wardrobe_differs("", "blue dress")


def _two_closeups(tmp_path: Path, defects: list[dict[str, Any]], **extra: Any) -> ProjectPaths:
    shots = [_shot(1, "CU", maya=("center", "camera")), _shot(2, "CU", maya=("center", "camera"))]
    options = {"media": "real", "defects": defects}
    backends = {cap: BackendChoice(use="simulated", options=options) for cap in ("image", "video", "speech")}
    doc = _scene_doc(shots, backends={**backends, **extra.pop("backends", {})}, **extra)
    paths = ProjectPaths(tmp_path / "film")
    paths.root.mkdir(parents=True)
    from kaipai.document.io import new_document_text

    paths.document.write_text(new_document_text(doc), encoding="utf-8")
    return paths


def test_a_wardrobe_change_inside_a_scene_is_flagged_from_the_colour_worn(tmp_path: Path) -> None:
    paths = _two_closeups(tmp_path, [{"shot": "S1-002", "kind": "wardrobe"}])
    summary = render(paths, settings=FAST)
    assert list(summary.flagged) == ["S1-002"]
    assert "Maya's clothes change colour after S1-001 (wardrobe)" in summary.flagged["S1-002"]
    verdicts = {s.shot: s.verdict for s in shots_qc(paths)}
    assert verdicts == {"S1-001": "passed", "S1-002": "flagged"}


def test_the_same_clothes_in_every_shot_are_not_flagged(tmp_path: Path) -> None:
    summary = render(_two_closeups(tmp_path, []), settings=FAST)
    assert summary.flagged == {}


def test_the_judge_sees_the_wardrobe_change_and_the_ledger_it_contradicts(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    worn = colour_name(shirt_colour("maya"))
    other = "purple" if worn != "purple" else "orange"
    double = VisionDouble()
    with serve(double.app()) as url:
        judge = BackendChoice(use="openai-judge", model=MODEL, options={"base_url": f"{url}/v1", "timeout": 10})
        paths = _two_closeups(tmp_path, [{"shot": "S1-002", "kind": "wardrobe"}], backends={"judge": judge})

        def ledger(doc: Document) -> None:
            doc.scenes[0].continuity = [Continuity(character="maya", wardrobe=f"{other} coat")]

        update(paths.document, ledger)
        summary = render(paths, settings=FAST)
    flags = " | ".join(summary.flagged.get("S1-002", []))
    changed = colour_name(shirt_colour("maya", changed=True))
    assert f"Maya wears '{changed} clothes', '{worn} clothes' in S1-001 (wardrobe)" in flags
    assert f"the scene's ledger says '{other} coat'" in " ".join(summary.flagged["S1-001"])
    assert len(double.requests) >= 4  # each keyframe and clip was shown to the judge


_RGB = st.tuples(*[st.integers(0, 255)] * 3)


@settings(max_examples=300)
@given(_RGB, _RGB)
def test_colours_worn_compare_as_opencv_sees_them(a: tuple[int, int, int], b: tuple[int, int, int]) -> None:
    """The Lab conversion is the CIE formula with OpenCV's constants: within OpenCV's own float path's
    approximations of it; its 8-bit path (what was used before) rounds by up to 2.4 ΔE per colour, so only
    a change within that of the threshold can be judged otherwise."""
    import cv2
    import numpy as np

    def cv_lab(rgb: tuple[int, int, int], depth: Any) -> Any:
        if depth is np.float32:
            pixel = np.array([[rgb]], dtype=np.float32) / 255
            return cv2.cvtColor(pixel, cv2.COLOR_RGB2LAB)[0, 0].astype(np.float64)
        pixel = np.array([[rgb]], dtype=np.uint8)
        return cv2.cvtColor(pixel, cv2.COLOR_RGB2LAB)[0, 0].astype(np.float64) * [100 / 255, 1, 1] - [0, 128, 128]

    assert np.allclose(lab(a), cv_lab(a, np.float32), atol=0.5)
    rounded = float(np.linalg.norm(cv_lab(a, np.uint8) - cv_lab(b, np.uint8)))
    assert abs(colour_change(a, b) - rounded) < 5
    if abs(rounded - WARDROBE_DELTA) > 5:
        assert (colour_change(a, b) > WARDROBE_DELTA) == (rounded > WARDROBE_DELTA)
