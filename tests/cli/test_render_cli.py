"""The render commands as a director types them: status, render (dry run, budget, summary), takes, circle, retake."""

from __future__ import annotations

import json
import re

import av
from typer.testing import CliRunner

from kaipai.cli import app
from kaipai.document.io import update
from tests.support.tables import rows

runner = CliRunner()


def kaipai(f, *args: str):
    return runner.invoke(app, [*args, "-p", str(f.paths.root)], env={"COLUMNS": "200"})


def test_status_and_dry_run_list_every_shot_and_stage_with_estimates_and_spend_nothing(film) -> None:
    f = film({"cost": {"image": 0.04, "video": 0.5, "lipsync": 0.1, "speech": 0.001}})
    for command in (["status"], ["render", "--dry-run"]):
        done = kaipai(f, *command)
        assert done.exit_code == 0, done.output
        found = rows(done.output)
        assert set(found) == {"S1", "S2", "S3"}
        # the keyframe and the clip missing, the end keyframe not needed; keyframe 0.04 + a 2 s clip at 0.5/s
        assert found["S1"][4:7] == ["○", "—", "○"] and "1.04" in found["S1"]
        assert "○ missing" in done.output and "— not needed" in done.output  # the legend
        assert re.search(r"15 to render, 0 current; estimated cost \d+\.\d\d", done.output)  # 13 + two reference sheets
    assert f.requests() == []

    assert kaipai(f, "render", "--no-cut").exit_code == 0
    update(f.paths.document, lambda doc: setattr(doc.shot("S3").dialogue[0], "text", "你也早点睡吧，别熬夜了。"))
    done = kaipai(f, "status", "--json")
    states = {n["node"]: n["state"] for n in json.loads(done.output)}
    assert states["S3/voice/F1"] == "stale" and states["S1/clip"] == "current"
    done = kaipai(f, "status")
    found = rows(done.output)
    assert found["S3"][2:4] == ["↻", "↻"] and found["S1"][6] == "✓"  # S3's voice and shot audio stale; S1's clip
    assert "4 to render, 11 current" in done.output


def test_render_shows_progress_and_a_summary_and_a_rerender_reuses_everything(film) -> None:
    f = film({"cost": {"video": 0.5}})
    done = kaipai(f, "render", "--no-cut")
    assert done.exit_code == 0, done.output
    assert (
        re.search(r"overall .*15/15", done.output)
        and re.search(r"clip .*3/3", done.output)
        and re.search(r"sheet .*2/2", done.output)
    )
    assert re.search(r"15 generated, 0 reused, 0 failed, 0 not run; cost \d+\.\d\d", done.output)
    done = kaipai(f, "render", "--no-cut")
    assert "0 generated, 15 reused, 0 failed" in done.output


def test_budget_refuses_work_beyond_it_and_says_so(film) -> None:
    f = film({"cost": {"image": 1.0, "video": 1.0}, "concurrency": 1})
    done = kaipai(f, "render", "--dry-run", "--budget", "2")
    assert "estimate exceeds the budget" in done.output and f.requests() == []
    done = kaipai(f, "render", "--no-cut", "--budget", "2")
    assert "over budget" in done.output
    assert "cost 2.00" in done.output or "cost 1.00" in done.output


def test_takes_circle_and_retake_from_the_command_line(film) -> None:
    f = film()
    assert kaipai(f, "render", "--no-cut").exit_code == 0
    done = kaipai(f, "retake", "S2", "--stage", "keyframe", "--seed", "1234")
    assert done.exit_code == 0, done.output
    new_id = int(re.search(r"take (\d+) of S2/keyframe \(seed 1234\) — pending", done.output).group(1))
    assert "kaipai circle S2" in done.output

    listed = rows(kaipai(f, "takes", "S2", "--stage", "keyframe").output, r"\d")
    assert listed[str(new_id)][1:4] == ["keyframe", "○ pending", "1234"]
    assert any(cells[2] == "● circled" for cells in listed.values())

    done = kaipai(f, "circle", "S2", str(new_id))
    assert done.exit_code == 0 and f"circled take {new_id} of S2/keyframe" in done.output
    takes = json.loads(kaipai(f, "takes", "S2", "--json").output)
    assert next(t for t in takes if t["id"] == new_id)["status"] == "circled"
    states = {n["node"]: n["state"] for n in json.loads(kaipai(f, "status", "--json").output)}
    assert states["S2/clip"] == "stale" and states["S1/clip"] == "current"

    done = kaipai(f, "circle", "S2", "999")
    assert done.exit_code == 1 and "has no take 999" in done.output
    done = kaipai(f, "retake", "S1", "--stage", "voice")
    assert done.exit_code == 1 and "S1 has no dialogue" in done.output


def test_render_ends_with_the_cut_film(film) -> None:
    f = film({"media": "real"})
    done = kaipai(f, "render")
    assert done.exit_code == 0, done.output
    film_path = f.paths.output / "film.mp4"
    assert f"film {film_path}" in done.output.replace("\n", "")
    with av.open(str(film_path)) as c:
        assert c.streams.video[0].frames > 0 and c.streams.audio


def test_a_reason_that_blocks_many_shots_is_said_once(film) -> None:
    """A feature film with a backend missing blocks thousands of nodes for one reason: one line names
    the first few and counts the rest, instead of a line each."""
    f = film()

    def many(doc):
        from kaipai.document.backend_choice import BackendChoice

        for i in range(9):
            extra = doc.shot("S1").model_copy(deep=True)
            extra.id, extra.order = f"X{i}", 10 + i
            doc.shots.append(extra)
        doc.backends["video"] = BackendChoice(use="no-such-backend")

    update(f.paths.document, many)
    done = kaipai(f, "render", "--dry-run")
    assert done.exit_code == 0, done.output
    said = [line for line in done.output.splitlines() if "no backend named 'no-such-backend'" in line]
    assert len(said) == 1 and "blocked" in said[0] and "and 9 more" in said[0], done.output
