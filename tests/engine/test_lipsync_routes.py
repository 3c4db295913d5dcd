"""Where a shot's dialogue is lip-synced: never a cartoon mouth on a clip from a real video model.

A previz clip gets the previz lip sync; a clip from another model goes to the lip-sync backend
the document names, or, with none named, is used as it is and the render and ``kaipai status``
say its dialogue is not lip-synced; a model that animates the voice itself (``audio_input``) is
given the shot's dialogue and needs no lip-sync pass.
"""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest
from typer.testing import CliRunner

from kaipai.backends.base import JobContext, LipsyncRequest, UnsupportedRequest
from kaipai.backends.previz import PrevizBackend
from kaipai.cli.app import app
from kaipai.document.backend_choice import BackendChoice
from kaipai.document.io import update
from kaipai.document.models import Document
from kaipai.service.render import render, status
from kaipai.service.takes import circled_media, list_takes
from tests.support.films import Film


def without_lipsync(doc: Document) -> None:
    doc.backends.pop("lipsync", None)


def log_requests(doc: Document, path: str) -> None:
    for choice in doc.backends.values():
        choice.options["requests"] = path


def test_a_real_clip_with_no_lipsync_backend_is_used_as_it_is_and_the_render_says_so(film) -> None:
    f = film()  # simulated video: a stand-in for a paid model
    update(f.paths.document, without_lipsync)
    plan = status(f.paths)
    assert not any(s.stage == "lipsync" for s in plan)
    summary = render(f.paths, settings=f.settings)
    assert summary.ok, summary.failures
    assert set(summary.notes) == {"S2", "S3"}  # both shots with a line spoken on screen
    assert "not lip-synced" in summary.notes["S2"] and "backends.lipsync" in summary.notes["S2"]
    media = circled_media(f.paths)
    assert media["S2"].lipsync is None and media["S2"].picture == media["S2"].clip
    result = CliRunner().invoke(app, ["status", "--project", str(f.paths.root)], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "S2: dialogue is not lip-synced" in result.output


def test_naming_previz_lip_sync_does_not_paint_a_real_clip_either(film) -> None:
    f = film()
    update(f.paths.document, lambda doc: doc.backends.__setitem__("lipsync", BackendChoice(use="previz")))
    assert render(f.paths, settings=f.settings).ok
    assert not [t for t in list_takes(f.paths, "S2") if t.stage == "lipsync"]


def test_a_lipsync_backend_named_in_the_document_syncs_a_real_clip(film) -> None:
    f = film()  # every capability simulated, lip sync too
    summary = render(f.paths, settings=f.settings)
    assert {"S2/lipsync", "S3/lipsync"} <= set(summary.takes) and not summary.notes


def test_the_previz_lip_sync_refuses_a_clip_previz_did_not_make(media, tmp_path: Path) -> None:
    clip, line = media.clip("kling", "red", 1.0), media.tone("line", 1.0)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(UnsupportedRequest, match="previz clips only"):
        PrevizBackend().lipsync(LipsyncRequest(video=clip, audio=line, speakers=[("a", 0, 1)]), JobContext(out))
    assert not list(out.iterdir())


def test_a_model_that_animates_the_voice_gets_the_dialogue_and_no_lip_sync_follows(film) -> None:
    f: Film = film({"media": "real"}, per_cap={"video": {"audio_input": True}})
    f.options["requests"] = str(f.paths.root.parent / "received.jsonl")
    update(f.paths.document, without_lipsync)
    update(f.paths.document, lambda doc: log_requests(doc, f.options["requests"]))
    assert not any(s.stage == "lipsync" for s in status(f.paths))
    summary = render(f.paths, settings=f.settings)
    assert summary.ok and not summary.notes, summary.failures
    sent = [json.loads(line) for line in Path(f.options["requests"]).read_text().splitlines()]
    clips = {r["shot"]["id"]: r for r in sent if r["type"] == "VideoRequest"}
    (audio,) = list_takes(f.paths, "S2", "shot_audio") or [None]
    assert audio is not None and clips["S2"]["audio"] == str(audio.media)
    assert clips["S1"]["audio"] is None  # no line spoken on screen: nothing to animate
    media = circled_media(f.paths)["S2"]
    assert media.lipsync is None and media.picture == media.clip
    with av.open(str(media.clip)) as container:  # the clip comes back with the speaker's voice in it
        assert container.streams.audio and container.streams.audio[0].duration
    # A new voice for the line re-renders the clip that speaks it.
    update(f.paths.document, lambda doc: setattr(doc.shot("S2").dialogue[0], "text", "爸，你怎么还没睡？"))
    stale = {s.node for s in status(f.paths) if s.state != "current"}
    assert "S2/clip" in stale and not any(n.startswith(("S1/", "S3/")) for n in stale)
