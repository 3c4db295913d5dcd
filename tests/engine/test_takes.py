"""Takes: nothing is overwritten, the director circles, rejects and retakes, the edit gets circled media."""

from __future__ import annotations

import sys
import threading
import types

import av
import pytest

from kaipai.document.io import DocumentError, update
from kaipai.engine.db import Take, TakesDB
from kaipai.service.render import render, status
from kaipai.service.takes import circle, circled_media, list_takes, reject, retake


def test_retake_makes_a_pending_take_and_circling_it_rerenders_only_what_follows(film) -> None:
    f = film()
    render(f.paths, settings=f.settings)
    original = list_takes(f.paths, "S2", "keyframe")[0]
    (new,) = retake(f.paths, "S2", stage="keyframe", settings=f.settings)
    assert new.status == "pending" and new.seed != original.seed and new.media != original.media
    assert {s.state for s in status(f.paths)} == {"current"}  # a pending take changes nothing yet

    circle(f.paths, "S2", new.id)
    takes = {t.id: t for t in list_takes(f.paths, "S2", "keyframe")}
    assert takes[new.id].status == "circled" and takes[original.id].status == "pending"
    states = {s.node: s.state for s in status(f.paths)}
    assert states["S2/clip"] == "stale" and states["S2/lipsync"] == "stale" and states["S2/keyframe"] == "current"

    summary = render(f.paths, settings=f.settings)
    assert set(summary.takes) == {"S2/clip", "S2/lipsync"}
    assert circled_media(f.paths)["S2"].keyframe == new.media


def test_retake_with_a_seed_that_has_a_take_returns_it_without_paying_again(film) -> None:
    f = film()
    render(f.paths, settings=f.settings)
    (first,) = retake(f.paths, "S1", stage="clip", seed=42, settings=f.settings)
    count = len(f.requests())
    (again,) = retake(f.paths, "S1", stage="clip", seed=42, settings=f.settings)
    assert again.id == first.id and len(f.requests()) == count


def test_voice_retake_covers_every_line_and_old_takes_are_kept(film) -> None:
    f = film()
    render(f.paths, settings=f.settings)
    made = retake(f.paths, "S2", stage="voice", settings=f.settings)
    assert sorted(t.item for t in made) == ["L1", "L2"] and all(t.status == "pending" for t in made)
    assert len(list_takes(f.paths, "S2", "voice")) == 4


def test_rejecting_the_circled_take_makes_the_next_render_use_a_fresh_seed(film) -> None:
    f = film()
    render(f.paths, settings=f.settings)
    old = list_takes(f.paths, "S1", "keyframe")[0]
    reject(f.paths, "S1", old.id)
    summary = render(f.paths, settings=f.settings)
    assert set(summary.takes) == {"S1/keyframe", "S1/clip"}
    takes = list_takes(f.paths, "S1", "keyframe")
    fresh = next(t for t in takes if t.id != old.id)
    assert fresh.status == "circled" and fresh.seed != old.seed
    assert next(t for t in takes if t.id == old.id).status == "rejected"


def test_a_stale_circled_take_stays_usable_and_is_flagged(film) -> None:
    f = film()
    render(f.paths, settings=f.settings)
    before = circled_media(f.paths)["S2"]

    def restyle(doc):
        doc.shot("S2").lighting = "冷色月光"

    update(f.paths.document, restyle)
    media = circled_media(f.paths)["S2"]
    assert media.stale and media.keyframe == before.keyframe and media.picture == before.lipsync
    keyframe = list_takes(f.paths, "S2", "keyframe")[0]
    assert keyframe.stale and keyframe.status == "circled"
    assert not circled_media(f.paths)["S1"].stale


def test_a_shot_without_a_clip_yet_gets_none_for_the_slate(film) -> None:
    f = film()
    render(f.paths, stages=["voice", "keyframe"], settings=f.settings)
    media = circled_media(f.paths)
    assert media["S1"].clip is None and media["S1"].picture is None and media["S1"].keyframe is not None
    assert media["S2"].duration > 0 and len(media["S2"].voices) == 2
    assert [m.shot for m in media.values()] == ["S1", "S2", "S3"]


def test_wrong_shot_take_or_stage_is_one_clear_error(film) -> None:
    f = film()
    render(f.paths, settings=f.settings)
    with pytest.raises(DocumentError, match="no shot 'S9'"):
        list_takes(f.paths, "S9")
    with pytest.raises(DocumentError, match="has no take 999"):
        circle(f.paths, "S2", 999)
    s1_take = list_takes(f.paths, "S1")[0].id
    with pytest.raises(DocumentError, match="shot S2 has no take"):
        circle(f.paths, "S2", s1_take)  # a take of another shot
    with pytest.raises(DocumentError, match="S1 has no dialogue"):
        retake(f.paths, "S1", stage="voice")


def test_retake_with_a_note_needs_a_language_model_planner(film, monkeypatch) -> None:
    from kaipai.service.takes import retake_with_note

    f = film()
    monkeypatch.setitem(sys.modules, "kaipai.service.revise", None)  # no planner installed
    with pytest.raises(DocumentError, match="language-model planner"):
        retake_with_note(f.paths, "S2", "更紧张一些")


def test_retake_with_a_note_revises_the_shot_then_retakes_it(film, monkeypatch) -> None:
    from kaipai.service.takes import retake_with_note

    f = film()
    render(f.paths, settings=f.settings)
    notes = []

    def revise_shot(paths, shot_id, note):
        notes.append((shot_id, note))
        update(paths.document, lambda doc: setattr(doc.shot(shot_id), "description", "林晓紧张地站在门口"))

    monkeypatch.setitem(sys.modules, "kaipai.service.revise", types.SimpleNamespace(revise_shot=revise_shot))
    made = retake_with_note(f.paths, "S2", "更紧张一些", stage="keyframe")
    assert notes == [("S2", "更紧张一些")]
    assert made[0].stage == "keyframe" and not made[0].stale


def accepted_clips(f) -> list[str]:
    """Keys of the clip jobs the simulated provider has accepted (its log: key, capability, pid)."""
    lines = f.log.read_text().splitlines() if f.log.exists() else []
    return [line.split("\t")[0] for line in lines if line.split("\t")[1:2] == ["video"]]


def test_an_asynchronous_job_interrupted_while_waiting_is_resumed_not_resubmitted(film, tmp_path) -> None:
    f = film({"asynchronous": True, "server": str(tmp_path / "provider"), "latency": {"video": 0.6}})
    cancel = threading.Event()

    def cancel_once_a_clip_is_waiting() -> None:  # the provider has it, and it is due 0.6 s later
        while not accepted_clips(f) and not cancel.wait(0.01):
            pass
        cancel.set()

    watcher = threading.Thread(target=cancel_once_a_clip_is_waiting)
    watcher.start()
    first = render(f.paths, cancel=cancel, settings=f.settings)
    cancel.set()
    watcher.join()
    assert first.cancelled and first.skipped > 0
    waiting = [f"sim-{key[:32]}" for key in accepted_clips(f)]  # the provider's job ids
    waiting = [job for job in waiting if job not in clip_takes(f)]
    assert waiting  # interrupted while the provider had it
    second = render(f.paths, settings=f.settings)
    assert second.failed == 0 and not f.repeated()
    assert len(f.requests()) == 13
    assert all(clip_takes(f)[job].metadata["resumed"] for job in waiting)  # polled again, not paid again


def clip_takes(f) -> dict[str, Take]:
    """The clips' takes by their provider job id."""
    with TakesDB(f.paths.database) as db:
        return {t.metadata["job_id"]: t for t in db.all_takes() if t.stage == "clip"}


def test_real_media_files(film) -> None:
    f = film({"media": "real"})
    render(f.paths, settings=f.settings)
    media = circled_media(f.paths)["S2"]
    with av.open(str(media.clip)) as c:
        stream = c.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (320, 180)
        assert abs(stream.frames / float(stream.average_rate) - media.duration) < 0.1
    assert media.keyframe.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with av.open(str(media.lipsync)) as c:
        assert c.streams.video[0].frames > 0
