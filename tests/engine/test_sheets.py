"""Reference sheets: one per character in frame, made before the keyframes that are conditioned on it."""

from __future__ import annotations

from kaipai.document.io import update
from kaipai.document.shots import Placement
from kaipai.engine.keys import file_digest
from kaipai.service.render import render, status
from kaipai.service.takes import character_sheets, circle, list_takes, retake


def test_each_character_in_frame_gets_one_sheet_and_their_keyframes_are_conditioned_on_it(film) -> None:
    f = film()
    summary = render(f.paths, settings=f.settings)
    assert {n for n in summary.takes if "/sheet/" in n} == {"S2/sheet/lin", "S3/sheet/father"}
    sheets = character_sheets(f.paths)
    assert set(sheets) == {"lin", "father"}
    (keyframe,) = list_takes(f.paths, "S2", "keyframe")
    assert keyframe.params["references"] == [file_digest(sheets["lin"])]
    (empty,) = list_takes(f.paths, "S1", "keyframe")  # nobody in frame: no reference
    assert empty.params.get("references", []) == []


def test_the_directors_own_pictures_replace_the_sheet(film) -> None:
    f = film()
    (f.paths.root / "lin.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    update(f.paths.document, lambda doc: setattr(doc.character("lin"), "reference_images", ["lin.png"]))
    summary = render(f.paths, settings=f.settings)
    assert {n for n in summary.takes if "/sheet/" in n} == {"S3/sheet/father"}
    (keyframe,) = list_takes(f.paths, "S2", "keyframe")
    assert keyframe.params["references"] == [file_digest(f.paths.root / "lin.png")]


def test_a_new_description_remakes_that_sheet_and_only_the_shots_showing_that_character(film) -> None:
    f = film()
    render(f.paths, settings=f.settings)
    update(f.paths.document, lambda doc: setattr(doc.character("father"), "description", "白发，灰色毛衣"))
    stale = {s.node for s in status(f.paths) if s.state != "current"}
    assert {"S3/sheet/father", "S3/keyframe", "S3/clip", "S3/lipsync"} <= stale
    assert not any(n.startswith(("S1/", "S2/")) for n in stale)
    summary = render(f.paths, settings=f.settings)
    assert not any(n.startswith(("S1/", "S2/")) for n in summary.takes)


def test_a_sheet_is_retaken_by_the_characters_id_and_circling_it_restales_their_keyframes(film) -> None:
    f = film()
    render(f.paths, settings=f.settings)
    (new,) = retake(f.paths, "lin", seed=11, settings=f.settings)
    assert new.stage == "sheet" and new.status == "pending" and new.seed == 11
    assert [t.id for t in list_takes(f.paths, "lin")] == [t.id for t in list_takes(f.paths, "S2", "sheet")]
    assert all(s.state == "current" for s in status(f.paths))  # pending takes change nothing
    circle(f.paths, "lin", new.id)
    stale = {s.node for s in status(f.paths) if s.state != "current"}
    assert stale == {"S2/keyframe", "S2/clip", "S2/lipsync"}


def test_rendering_one_later_shot_or_only_keyframes_brings_the_sheet_it_needs(film) -> None:
    f = film()
    update(f.paths.document, lambda doc: doc.shot("S3").composition.append(Placement(character="lin", third="right")))
    summary = render(f.paths, settings=f.settings, shots={"S3"}, stages={"keyframe"})
    assert summary.failed == 0 and set(summary.takes) == {"S2/sheet/lin", "S3/sheet/father", "S3/keyframe"}
