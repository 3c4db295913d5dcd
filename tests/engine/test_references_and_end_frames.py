"""References and end frames, as the simulated provider receives them.

Keyframes and clips carry the pictures of who and what is in the shot (circled sheets, the
director's pictures, the location's and the props'), chosen within each model's limit and
recorded in the take; a shot that says where it ends gets an end keyframe of its own, which
reaches the clip as its last frame — or, on a model that cannot take one, a refusal that names
the shot and the model before anything is spent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kaipai.document.cast import Location, Prop
from kaipai.document.io import update
from kaipai.document.models import Document
from kaipai.document.shots import Placement, ShotEnd
from kaipai.engine.keys import file_digest
from kaipai.engine.stages import STAGES
from kaipai.service.render import render, status
from kaipai.service.takes import character_sheets, circle, list_takes, retake
from tests.support.films import Film


def received(f: Film) -> list[dict[str, Any]]:
    """Every request the simulated provider received, in order."""
    path = Path(f.options["requests"])
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def last_request(f: Film, kind: str, shot: str, purpose: str | None = None) -> dict[str, Any]:
    found = [
        r
        for r in received(f)
        if r["type"] == kind and (r.get("shot") or {}).get("id") == shot and purpose in (None, r.get("purpose"))
    ]
    assert found, f"no {kind} for {shot} reached the provider"
    return found[-1]


def picture(f: Film, name: str, colour: tuple[int, int, int]) -> str:
    from PIL import Image

    (f.paths.root / "refs").mkdir(exist_ok=True)
    Image.new("RGB", (32, 32), colour).save(f.paths.root / "refs" / name)
    return f"refs/{name}"


def with_cast(f: Film) -> None:
    """The kitchen and the birthday card have pictures; shot S2 shows the card."""
    kitchen, card = picture(f, "kitchen.png", (200, 160, 90)), picture(f, "card.png", (230, 40, 60))

    def change(doc: Document) -> None:
        doc.cast.locations.append(Location(id="kitchen", name="厨房", reference_images=[kitchen]))
        doc.cast.props.append(Prop(id="card", name="生日卡", reference_images=[card]))
        doc.scenes[0].location = "kitchen"
        doc.shot("S2").props = ["card"]  # type: ignore[union-attr]

    update(f.paths.document, change)


def test_keyframes_and_clips_carry_who_and_what_is_in_the_shot_within_each_models_limit(film) -> None:
    f = film(per_cap={"image": {"references": 2}, "video": {"references": 3}})
    f.options["requests"] = str(f.paths.root.parent / "received.jsonl")
    update(f.paths.document, lambda doc: _log_requests(doc, f.options["requests"]))
    with_cast(f)
    assert render(f.paths, settings=f.settings).ok
    lin = character_sheets(f.paths)["lin"]
    kitchen, card = f.paths.root / "refs" / "kitchen.png", f.paths.root / "refs" / "card.png"
    keyframe = last_request(f, "ImageRequest", "S2")
    assert keyframe["reference_images"] == [str(lin), str(kitchen)]  # two taken: the character, then the place
    clip = last_request(f, "VideoRequest", "S2")
    assert clip["reference_images"] == [str(lin), str(kitchen), str(card)]  # three: and the prop
    (take,) = list_takes(f.paths, "S2", "clip")
    assert [r["subject"] for r in take_metadata(f, take.id)["references"]] == [
        "character lin",
        "location kitchen",
        "prop card",
    ]
    assert take.params["references"] == [file_digest(p) for p in (lin, kitchen, card)]
    assert "reference_images" in take_request(f, take.id)  # the request itself is kept with the take
    # A new picture of the card touches only what showed it: S2's clip (its keyframe had no room for it).
    picture(f, "card.png", (20, 90, 220))
    stale = {s.node for s in status(f.paths) if s.state != "current"}
    assert stale == {"S2/clip", "S2/lipsync"}
    # A new picture of the kitchen touches every keyframe and clip set there.
    picture(f, "kitchen.png", (90, 90, 90))
    stale = {s.node for s in status(f.paths) if s.state != "current"}
    assert {"S1/keyframe", "S2/keyframe", "S3/keyframe", "S1/clip", "S2/clip", "S3/clip"} <= stale


def test_a_model_that_takes_no_references_is_sent_none(film) -> None:
    f = film(per_cap={"image": {"references": 0}})
    f.options["requests"] = str(f.paths.root.parent / "received.jsonl")
    update(f.paths.document, lambda doc: _log_requests(doc, f.options["requests"]))
    with_cast(f)
    assert render(f.paths, settings=f.settings).ok
    assert all(r["reference_images"] == [] for r in received(f) if r["type"] in ("ImageRequest", "VideoRequest"))
    (take,) = list_takes(f.paths, "S2", "clip")
    assert "references" not in take.params  # a clip key without references is the one kaipai always made


def ends_walking_in(doc: Document) -> None:
    """S3 ends with the father at the right and Lin come in on the left."""
    doc.shot("S3").end = ShotEnd(  # type: ignore[union-attr]
        composition=[Placement(character="father", third="right"), Placement(character="lin", third="left")],
        description="林晓走进厨房",
    )


def test_a_shot_that_says_where_it_ends_gets_an_end_keyframe_that_the_clip_ends_on(film) -> None:
    f = film(per_cap={"video": {"first_last_frame": True}})
    f.options["requests"] = str(f.paths.root.parent / "received.jsonl")
    update(f.paths.document, lambda doc: _log_requests(doc, f.options["requests"]))
    before = {s.node: s.key for s in status(f.paths)}
    update(f.paths.document, ends_walking_in)
    now = {s.node: s for s in status(f.paths)}
    assert now["S3/keyframe"].key == before["S3/keyframe"]  # the start frame does not depend on the end
    assert now["S3/end_keyframe"].state == "missing"
    summary = render(f.paths, settings=f.settings)
    assert summary.ok, summary.failures
    (start,) = list_takes(f.paths, "S3", "keyframe")
    (end,) = list_takes(f.paths, "S3", "end_keyframe")
    last = last_request(f, "ImageRequest", "S3", purpose="last_frame")
    assert [p["character"] for p in last["shot"]["composition"]] == ["father", "lin"]
    assert last["shot"]["description"] == "林晓走进厨房"
    assert last["reference_images"][0] == str(start.media)  # the end follows the start it continues
    clip = last_request(f, "VideoRequest", "S3")
    assert clip["image"] == str(start.media) and clip["last_image"] == str(end.media)
    assert "ending on: 林晓走进厨房" in clip["prompt"]
    # The end keyframe is a take like any other: retaken, circled, and the clip follows it.
    (new,) = retake(f.paths, "S3", stage="end_keyframe", seed=5, settings=f.settings)
    assert new.stage == "end_keyframe" and new.status == "pending"
    circle(f.paths, "S3", new.id)
    stale = {s.node for s in status(f.paths) if s.state != "current"}
    assert stale == {"S3/clip", "S3/lipsync"}


def test_rendering_the_keyframe_stage_makes_the_end_keyframes_too(film) -> None:
    f = film(per_cap={"video": {"first_last_frame": True}})
    update(f.paths.document, ends_walking_in)
    summary = render(f.paths, settings=f.settings, stages={"keyframe"})
    assert "S3/end_keyframe" in summary.takes and not any("/clip" in n for n in summary.takes)
    assert STAGES.index("keyframe") < STAGES.index("end_keyframe") < STAGES.index("clip")


def test_an_end_on_a_model_without_last_frames_is_refused_naming_the_shot_and_the_model(film) -> None:
    f = film()  # the simulated video model takes no last frame
    update(f.paths.document, ends_walking_in)
    blocked = {s.node: s.reason for s in status(f.paths) if s.state == "blocked"}
    assert set(blocked) >= {"S3/end_keyframe", "S3/clip"}  # refused before a render, the end frame first
    reason = blocked["S3/end_keyframe"]
    assert "shot S3" in reason and "simulated" in reason and "cannot take a last frame" in reason
    assert blocked["S3/clip"] == "waits on S3/end_keyframe"
    summary = render(f.paths, settings=f.settings)
    assert "S3/clip" in summary.failures and "S3/end_keyframe" in summary.failures
    assert not [t for t in list_takes(f.paths, "S3") if t.stage in ("end_keyframe", "clip")]  # nothing paid for
    assert summary.takes.keys() >= {"S1/clip", "S2/clip"}  # the other shots render


def take_metadata(f: Film, take_id: int) -> dict[str, Any]:
    from kaipai.engine.db import TakesDB

    with TakesDB(f.paths.database) as db:
        take = db.take(take_id)
        assert take is not None
        return take.metadata


def take_request(f: Film, take_id: int) -> dict[str, Any]:
    from kaipai.engine.db import TakesDB

    with TakesDB(f.paths.database) as db:
        take = db.take(take_id)
        assert take is not None
        return take.request


def _log_requests(doc: Document, path: str) -> None:
    for choice in doc.backends.values():
        choice.options["requests"] = path


def test_giving_a_shot_an_end_re_renders_that_shot_alone(film) -> None:
    f = film(per_cap={"video": {"first_last_frame": True}})
    assert render(f.paths, settings=f.settings).ok

    def father_comes_in(doc: Document) -> None:  # the father's sheet is filed under S3, where he is first framed
        doc.shot("S2").end = ShotEnd(  # type: ignore[union-attr]
            composition=[Placement(character="lin", third="left"), Placement(character="father", third="right")]
        )

    update(f.paths.document, father_comes_in)
    stale = {s.node for s in status(f.paths) if s.state != "current"}
    assert stale == {"S2/end_keyframe", "S2/clip", "S2/lipsync"}
