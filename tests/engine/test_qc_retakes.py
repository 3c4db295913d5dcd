"""Quality control in the render: bad takes (injected through the simulated provider) are retaken,
within max_retakes and the budget; the best passing take is circled; every take is kept; a shot
whose takes all fail is flagged and still cut; the director's own circle is never overridden."""

from __future__ import annotations

from collections import Counter
from typing import Any

from kaipai.document.io import update
from kaipai.document.models import Document
from kaipai.document.qc import QCPolicy
from kaipai.engine.db import TakesDB
from kaipai.engine.keys import default_seed
from kaipai.qc.report import stored
from kaipai.service.cut import make_cut
from kaipai.service.qc import shots_qc
from kaipai.service.render import render
from kaipai.service.takes import circle, list_takes, retake

REAL = {"media": "real"}


def _film(film: Any, defects: list[dict[str, Any]], **policy: Any) -> Any:
    f = film({**REAL, "defects": defects}, per_cap={"video": {"cost": 1.0}})
    if policy:

        def change(doc: Document) -> None:
            doc.qc = {"all": QCPolicy(**policy)}

        update(f.paths.document, change)
    return f


def _takes(f: Any) -> Counter[str]:
    with TakesDB(f.paths.database) as db:
        return Counter(t.node for t in db.all_takes())


def _circled(f: Any, node: str) -> Any:
    with TakesDB(f.paths.database) as db:
        return next(t for t in db.all_takes() if t.node == node and t.status == "circled")


def test_bad_takes_are_retaken_exactly_and_a_passing_take_is_circled(film) -> None:
    f = _film(
        film,
        [
            {"shot": "S2", "kind": "black", "takes": 1, "capability": "video"},  # S2's first clip is black
            {"shot": "S3", "kind": "faceless", "takes": 1},  # a close-up of the father with no face
            {"shot": "S1", "kind": "short", "takes": 1, "capability": "video"},  # half as long as asked
            {"text": "你也早点休息", "kind": "silent", "takes": 1},  # the father's line, silent
        ],
        max_retakes=2,
    )
    events: list[Any] = []
    summary = render(f.paths, settings=f.settings, on_event=events.append)
    counts = _takes(f)
    bad = {"S2/clip", "S3/keyframe", "S3/clip", "S1/clip", "S3/voice/F1"}
    assert {n for n, c in counts.items() if c == 2} == bad, counts
    assert all(c == 1 for n, c in counts.items() if n not in bad)
    assert summary.retakes == len(bad) and not summary.flagged and summary.failed == 0
    for node in bad:
        chosen = _circled(f, node)
        assert stored(chosen.qc).passed, node
        with TakesDB(f.paths.database) as db:
            first = min((t for t in db.all_takes() if t.node == node), key=lambda t: t.id)
        assert first.id != chosen.id and not stored(first.qc).passed  # the bad take is kept, not circled
    reasons = {n: " ".join(stored(t.qc).reasons) for n in bad for t in [_first(f, n)]}
    assert "black" in reasons["S2/clip"] and "no face where a close-up" in reasons["S3/keyframe"]
    assert "silent" in reasons["S3/voice/F1"] and "asked 2.00 s" in reasons["S1/clip"]
    assert {e.kind for e in events} >= {"checked", "retake", "done"}


def _first(f: Any, node: str) -> Any:
    with TakesDB(f.paths.database) as db:
        return min((t for t in db.all_takes() if t.node == node), key=lambda t: t.id)


def test_retakes_stop_at_max_retakes_the_best_is_circled_and_the_shot_is_flagged_but_cut(film) -> None:
    f = _film(film, [{"shot": "S2", "kind": "frozen", "capability": "video"}], max_retakes=2)
    summary = render(f.paths, settings=f.settings)
    assert _takes(f)["S2/clip"] == 3  # the first take and two retakes, all kept
    assert summary.failed == 0 and "S2" in summary.flagged
    assert "frozen" in " ".join(summary.flagged["S2"]) and "after 2 retakes" in " ".join(summary.flagged["S2"])
    assert _takes(f)["S2/lipsync"] == 1  # what follows is rendered from the flagged clip, not blocked
    verdicts = {s.shot: s.verdict for s in shots_qc(f.paths)}
    assert verdicts == {"S1": "passed", "S2": "flagged", "S3": "passed"}
    result = make_cut(f.paths)
    assert result.film.exists() and result.duration > 5


def test_retakes_stop_at_the_stage_budget(film) -> None:
    # S1's clip is 2 s at 1.00 a second: a budget of 5 pays for the first take and one retake only.
    f = _film(film, [{"shot": "S1", "kind": "black", "capability": "video"}], max_retakes=5, budget=5.0)
    summary = render(f.paths, settings=f.settings)
    assert _takes(f)["S1/clip"] == 2 and summary.retakes == 1
    assert "budget of 5.00" in " ".join(summary.flagged["S1"])
    with TakesDB(f.paths.database) as db:
        assert sum(t.cost for t in db.all_takes() if t.node == "S1/clip") <= 5.0


def test_the_render_budget_also_stops_retakes(film) -> None:
    f = _film(film, [{"shot": "S1", "kind": "black", "capability": "video"}], max_retakes=5)
    render(f.paths, settings=f.settings, stages=["sheet", "voice", "shot_audio", "keyframe"])
    summary = render(f.paths, settings=f.settings, budget=7.0, stages=["clip"], shots=["S1"])
    assert _takes(f)["S1/clip"] == 3 and summary.cost == 6.0  # a fourth 2-second take would pass 7.00
    assert "over budget" in " ".join(summary.flagged["S1"])


def test_best_of_makes_n_takes_and_circles_a_passing_one(film) -> None:
    f = _film(film, [{"shot": "S2", "kind": "flash", "takes": 2, "capability": "video"}])
    summary = render(f.paths, settings=f.settings, best_of=3)
    counts = _takes(f)
    assert counts["S1/clip"] == counts["S2/clip"] == counts["S3/clip"] == 3
    assert counts["S2/keyframe"] == 3 and counts["S2/voice/L1"] == 1  # best-of is for the pictures
    chosen = stored(_circled(f, "S2/clip").qc)
    assert chosen.passed and not summary.flagged
    flashed = [stored(t.qc) for t in _all(f, "S2/clip") if not stored(t.qc).passed]
    assert flashed and all("flash" in " ".join(r.reasons) for r in flashed)


def _all(f: Any, node: str) -> list[Any]:
    with TakesDB(f.paths.database) as db:
        return [t for t in db.all_takes() if t.node == node]


def test_a_retake_never_circles_over_the_directors_choice_but_replaces_a_failing_engine_pick(film) -> None:
    first = default_seed("S2/clip")  # the seed a render gives the clip; any retake uses another
    f = _film(film, [{"shot": "S2", "kind": "frozen", "seeds": [first], "capability": "video"}])  # flagged
    render(f.paths, settings=f.settings)
    flagged = _circled(f, "S2/clip")
    assert not stored(flagged.qc).passed and flagged.circled_by == "engine"

    (new,) = retake(f.paths, "S2", stage="clip", settings=f.settings)  # the engine's own failing pick goes
    assert stored(_circled(f, "S2/clip").qc).passed and _circled(f, "S2/clip").id == new.id

    circle(f.paths, "S2", flagged.id)  # the director prefers the frozen one
    assert _circled(f, "S2/clip").circled_by == "director"
    retake(f.paths, "S2", stage="clip", settings=f.settings)
    assert _circled(f, "S2/clip").id == flagged.id  # kept: a person chose it
    assert {t.status for t in list_takes(f.paths, "S2", "clip")} == {"circled", "pending"}


def test_a_rerender_reuses_every_take_and_checks_nothing_again(film) -> None:
    f = _film(film, [{"shot": "S2", "kind": "black", "takes": 1, "capability": "video"}], max_retakes=2)
    render(f.paths, settings=f.settings)
    before = _takes(f)
    summary = render(f.paths, settings=f.settings)
    assert summary.generated == 0 and summary.retakes == 0 and _takes(f) == before


def test_a_check_that_breaks_leaves_the_take_unchecked_and_the_render_finishes(film, monkeypatch) -> None:
    """A library missing a part (OpenCV 5 has no face cascade) must not fail a render or pay for a retake."""

    def broken(*args, **kwargs):
        raise AttributeError("module 'cv2' has no attribute 'CascadeClassifier'")

    monkeypatch.setattr("kaipai.qc.inspect.inspect", broken)  # quality control imports it when it checks
    f = _film(film, [], max_retakes=2)
    summary = render(f.paths, settings=f.settings)
    assert not summary.failures and summary.retakes == 0
    assert "CascadeClassifier" in summary.notes["quality control"]
    assert not f.repeated()
