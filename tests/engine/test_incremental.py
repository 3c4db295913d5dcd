"""A film is an incremental build: only what an edit touches is rendered again."""

from __future__ import annotations

import wave
from dataclasses import replace

from kaipai.document.io import load, update
from kaipai.service.render import render, status


def generated_nodes(summary) -> set[str]:
    return set(summary.takes)


def test_first_render_makes_every_take_and_a_second_render_makes_none(film) -> None:
    f = film()
    first = render(f.paths, settings=f.settings)
    assert first.failed == 0 and first.generated == 15
    assert len(f.requests()) == 13  # shot_audio is mixed by the engine, not requested
    assert {s.state for s in status(f.paths)} == {"current"}
    # The voices set the dialogue shots' durations, written back into kaipai.yaml.
    doc = load(f.paths.document).doc
    assert doc.shot("S2").duration_source == "audio" and doc.shot("S1").duration_source == "estimate"
    assert set(first.durations_updated) == {"S2", "S3"}

    again = render(f.paths, settings=f.settings)
    assert again.generated == 0 and again.reused == 15
    assert len(f.requests()) == 13


def test_editing_one_line_rerenders_exactly_that_line_and_what_depends_on_it(film) -> None:
    f = film()
    render(f.paths, settings=f.settings)
    before = f.requests()

    def longer_line(doc):
        doc.shot("S2").dialogue[0].text = "爸，这么晚了，你怎么还没睡？"

    update(f.paths.document, longer_line)
    # A longer line lengthens the shot, so its clip is re-made to fit; nothing else moves.
    summary = render(f.paths, settings=f.settings)
    assert generated_nodes(summary) == {"S2/voice/L1", "S2/shot_audio", "S2/clip", "S2/lipsync"}
    assert len(f.requests()) == len(before) + 3 and not f.repeated()


def test_a_same_length_line_keeps_the_clip(film) -> None:
    f = film()
    render(f.paths, settings=f.settings)

    def reword(doc):
        doc.shot("S3").dialogue[0].text = "你也早点睡吧。"  # as long as before: the shot keeps its length

    update(f.paths.document, reword)
    summary = render(f.paths, settings=f.settings)
    assert generated_nodes(summary) == {"S3/voice/F1", "S3/shot_audio", "S3/lipsync"}


def test_changing_the_style_bible_rerenders_pictures_but_not_voices(film) -> None:
    f = film()
    render(f.paths, settings=f.settings)

    def restyle(doc):
        doc.style.visual_style = "冷峻的黑色电影，高反差"

    update(f.paths.document, restyle)
    summary = render(f.paths, settings=f.settings)
    assert generated_nodes(summary) == {
        "S2/sheet/lin", "S3/sheet/father",  # the sheets are drawn in the film's look
        "S1/keyframe", "S1/clip",
        "S2/keyframe", "S2/clip", "S2/lipsync",
        "S3/keyframe", "S3/clip", "S3/lipsync",
    }  # fmt: skip
    assert not any("/voice/" in n or "shot_audio" in n for n in summary.takes)


def test_status_lists_states_and_estimates_before_and_after_an_edit(film) -> None:
    f = film({"cost": {"image": 0.04, "video": 0.5, "lipsync": 0.1, "speech": 0.001}})
    fresh = {s.node: s for s in status(f.paths)}
    assert {s.state for s in fresh.values()} == {"missing"}
    assert fresh["S1/clip"].est_cost == 0.5 * 2.0  # 0.5 per second of a 2 s shot
    dry = render(f.paths, dry_run=True)
    assert dry.est_cost > 0 and len(f.requests()) == 0  # a dry run spends nothing

    render(f.paths, settings=f.settings)

    def edit(doc):
        doc.shot("S2").dialogue[1].text = "我睡不着，在想你妈妈。"

    update(f.paths.document, edit)
    states = {s.node: s.state for s in status(f.paths)}
    assert states["S2/voice/L2"] == "stale" and states["S2/voice/L1"] == "current"
    assert states["S2/shot_audio"] == states["S2/clip"] == states["S2/lipsync"] == "stale"
    assert all(
        state == "current"
        for node, state in states.items()
        if not node.startswith("S2/") or node in ("S2/keyframe", "S2/voice/L1")
    )


def test_unknown_backend_blocks_its_shot_with_the_reason(film) -> None:
    f = film()

    def bad(doc):
        from kaipai.document.backend_choice import BackendChoice

        doc.shot("S1").generation.backends["video"] = BackendChoice(use="no-such-backend")

    update(f.paths.document, bad)
    states = {s.node: s for s in status(f.paths)}
    assert states["S1/clip"].state == "blocked" and "no backend named 'no-such-backend'" in states["S1/clip"].reason
    summary = render(f.paths, settings=f.settings)
    assert "no-such-backend" in summary.failures["S1/clip"]
    assert "S2/lipsync" in summary.takes  # other shots are unaffected


def test_a_request_the_backend_cannot_honour_is_refused_before_anything_is_spent(film) -> None:
    f = film(per_cap={"speech": {"sheet": {"speech": {"languages": ["en"]}}}})
    states = {s.node: s for s in status(f.paths)}
    assert states["S2/voice/L1"].state == "blocked" and "language 'zh'" in states["S2/voice/L1"].reason
    summary = render(f.paths, settings=f.settings)
    assert "language 'zh'" in summary.failures["S2/voice/L1"]
    assert "S1/clip" in summary.takes
    # S1's keyframe and clip and the characters' sheets (they serve every shot of theirs): no voice
    # and nothing else for the stopped shots
    assert (
        sorted(summary.takes) == ["S1/clip", "S1/keyframe", "S2/sheet/lin", "S3/sheet/father"]
        and len(f.requests()) == 4
    )


def test_clip_durations_are_snapped_up_to_what_the_model_accepts(film) -> None:
    f = film(per_cap={"video": {"sheet": {"video": {"durations": [5.0, 10.0]}}}})
    render(f.paths, settings=f.settings)
    from kaipai.service.takes import list_takes

    clip = list_takes(f.paths, "S1", "clip")[0]
    assert clip.params["duration"] == 5.0  # a 2 s shot asks for the shortest clip that covers it


def test_transient_failures_are_retried_and_a_hopeless_shot_stops_with_a_reason(film) -> None:
    f = film({"failure_rate": 0.3, "retry_after": 0.01}, per_cap={"image": {"fail_text": "父亲的脸"}})
    events = []
    # Ten attempts: a node that draws 30 % failures ten times in a row (~6e-6) cannot make the test flaky.
    patient = replace(f.settings, retry=replace(f.settings.retry, max_attempts=10))
    summary = render(f.paths, settings=patient, on_event=events.append)
    assert any(e.kind == "retry" for e in events)
    assert "gave up after 10 attempts" in summary.failures["S3/keyframe"]
    assert "S3/clip" not in summary.takes and "S3/lipsync" not in summary.takes
    assert {"S1/clip", "S2/lipsync"} <= set(summary.takes)
    assert not f.repeated()
    assert {s.node: s.state for s in status(f.paths)}["S3/keyframe"] == "failed"


def test_a_refused_request_is_not_retried(film) -> None:
    f = film(per_cap={"image": {"refuse": "深夜"}})
    events = []
    summary = render(f.paths, settings=f.settings, on_event=events.append)
    assert "refused" in summary.failures["S1/keyframe"]
    assert not [e for e in events if e.kind == "retry" and e.node == "S1/keyframe"]
    assert "S1/clip" not in summary.takes


def test_the_budget_stops_work_that_would_exceed_it_and_a_later_render_finishes(film) -> None:
    f = film({"cost": {"image": 1.0, "video": 1.0, "lipsync": 0.0, "speech": 0.0}, "concurrency": 1})
    summary = render(f.paths, budget=4.0, settings=f.settings)
    assert summary.cost <= 4.0 and summary.skipped > 0
    assert any("over budget" in why for why in summary.failures.values())
    rest = render(f.paths, settings=f.settings)
    assert rest.failed == 0 and rest.reused >= summary.generated
    assert not f.repeated()


def test_rate_limits_space_requests(film) -> None:
    import time

    f = film({"rpm": {"image": 600}})  # one picture every 0.1 s: reference sheets and keyframes alike
    starts = []
    render(
        f.paths,
        settings=f.settings,
        on_event=lambda e: (
            starts.append(time.monotonic()) if e.kind == "started" and e.stage in ("sheet", "keyframe") else None
        ),
    )
    # Each start is seen on the render's thread before the next one can be let go, so however late the
    # first is seen, every later start comes at least one interval after the one before it.
    assert len(starts) == 5 and starts[-1] - starts[0] >= 3 * 0.1 - 1e-9


def test_shot_audio_places_each_line_after_a_lead_in(film) -> None:
    f = film()
    render(f.paths, settings=f.settings)
    from kaipai.service.takes import circled_media

    media = circled_media(f.paths)["S2"]
    with wave.open(str(media.audio)) as fh:
        rate = fh.getframerate()
        import numpy as np

        samples = np.frombuffer(fh.readframes(fh.getnframes()), dtype="<i2")
    assert abs(len(samples) / rate - media.duration) < 0.01
    first, second = media.voices
    assert first.start == 0.3 and abs(second.start - (first.end + 0.25)) < 1e-6
    assert np.abs(samples[: int(0.29 * rate)]).max() == 0  # silence before the first line
    assert np.abs(samples[int(0.3 * rate) : int(first.end * rate)]).max() > 1000
    assert abs(media.duration - (second.end + 0.5)) < 1e-3
