"""Music: one bed per cue, as long as the cue runs in the edit, rendered only when the cue changes."""

from __future__ import annotations

import math
import wave

from kaipai.document.io import load, update
from kaipai.document.settings import frames
from kaipai.post.cut import build_cut
from kaipai.service.render import render, status
from kaipai.service.takes import circled_media, list_takes, retake


def with_cues(doc) -> None:
    doc.shot("S1").music = "低沉的大提琴，缓慢"
    doc.shot("S3").music = "温柔的钢琴"


def test_a_film_without_music_cues_asks_for_no_music(film) -> None:
    f = film()
    summary = render(f.paths, settings=f.settings)
    assert not any(n.endswith("/music") for n in summary.takes)
    assert all(m.music is None for m in circled_media(f.paths).values())


def test_each_cue_gets_one_bed_covering_the_shots_it_runs_across(film) -> None:
    f = film()
    update(f.paths.document, with_cues)
    summary = render(f.paths, settings=f.settings)
    assert {n for n in summary.takes if n.endswith("/music")} == {"S1/music", "S3/music"}
    media = circled_media(f.paths)
    # The first cue runs across S1 and S2 (up to the next cue), the second from S3 to the end:
    # each bed is as long as the edit plays its cue, rounded up to a whole second.
    cut = build_cut(load(f.paths.document).doc, media)
    assert [(round(c.start, 3), round(c.end, 3)) for c in cut.music] == [
        (0.0, round(media["S1"].duration + frames(media["S2"].duration, 12) / 12, 3)),
        (round(cut.music[1].start, 3), round(cut.duration, 3)),
    ]
    for start, cue in zip(("S1", "S3"), cut.music):
        with wave.open(str(media[start].music)) as fh:
            seconds = fh.getnframes() / fh.getframerate()
        assert seconds == math.ceil(cue.end - cue.start - 1e-6)
    assert media["S2"].music is None
    prompts = sorted(
        t.params["prompt"] for t in list_takes(f.paths, "S1", "music") + list_takes(f.paths, "S3", "music")
    )
    assert prompts == ["低沉的大提琴，缓慢", "温柔的钢琴"]


def test_changing_a_cue_rerenders_only_that_bed_and_nothing_else(film) -> None:
    f = film()
    update(f.paths.document, with_cues)
    render(f.paths, settings=f.settings)
    update(f.paths.document, lambda doc: setattr(doc.shot("S3"), "music", "明亮的弦乐"))
    states = {s.node: s.state for s in status(f.paths)}
    assert states["S3/music"] == "stale" and {s for n, s in states.items() if n != "S3/music"} == {"current"}
    summary = render(f.paths, settings=f.settings)
    assert set(summary.takes) == {"S3/music"}


def test_music_follows_the_cue_length_not_the_words_of_a_line(film) -> None:
    f = film()
    update(f.paths.document, with_cues)
    render(f.paths, settings=f.settings)
    # Same length, other words: the voice is re-made, the bed under it is not.
    update(f.paths.document, lambda doc: setattr(doc.shot("S3").dialogue[0], "text", "你也早点睡吧。"))
    assert "S1/music" not in render(f.paths, settings=f.settings).takes
    # A much longer line makes the first cue's shots longer than its bed: a new bed.
    update(
        f.paths.document,
        lambda doc: setattr(doc.shot("S2").dialogue[0], "text", "爸，" + "这么晚了，你怎么还没睡？" * 3),
    )
    summary = render(f.paths, settings=f.settings)
    assert "S1/music" in summary.takes and "S3/music" not in summary.takes


def test_a_music_retake_is_pending_until_circled(film) -> None:
    f = film()
    update(f.paths.document, with_cues)
    render(f.paths, settings=f.settings)
    (new,) = retake(f.paths, "S1", stage="music", seed=7, settings=f.settings)
    assert new.status == "pending" and new.seed == 7
    assert circled_media(f.paths)["S1"].music != new.media


def test_dry_run_estimates_music_by_the_second(film) -> None:
    f = film({"cost": {"music": 0.1}})
    update(f.paths.document, with_cues)
    nodes = {s.node: s for s in status(f.paths)}
    assert nodes["S1/music"].state == "missing"
    assert math.isclose(nodes["S1/music"].est_cost, 0.1 * math.ceil(2.0 + 3.0))  # S1 2 s + S2's planned 3 s


def test_the_edit_plays_the_circled_bed_and_a_pad_only_where_none_is_rendered(film) -> None:
    from kaipai.service.cut import current_cut, music_beds

    f = film()
    update(f.paths.document, with_cues)
    render(f.paths, settings=f.settings, stages={"voice", "music"}, shots={"S1", "S2"})
    cut = current_cut(f.paths)
    beds = music_beds(f.paths, cut)
    assert beds[0] == circled_media(f.paths)["S1"].music
    # S3's cue has no bed yet: the edit still has music there, a previz pad.
    assert beds[1].name.startswith("pad-") and beds[1].exists()
