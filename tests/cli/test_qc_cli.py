"""kaipai qc and kaipai render --best-of as a director types them."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from kaipai.cli import app
from kaipai.document.io import update
from kaipai.document.models import Document
from kaipai.document.qc import QCPolicy
from tests.support.tables import rows

runner = CliRunner()


def kaipai(f, *args: str):
    return runner.invoke(app, [*args, "-p", str(f.paths.root)], env={"COLUMNS": "80"})


def _retakes(doc: Document) -> None:
    doc.qc = {"clip": QCPolicy(max_retakes=1)}


def test_render_reports_retakes_and_flags_and_qc_shows_why(film) -> None:
    f = film({"media": "real", "defects": [{"shot": "S2", "kind": "black", "capability": "video"}]})
    update(f.paths.document, _retakes)
    done = kaipai(f, "render", "--no-cut")
    assert done.exit_code == 0, done.output  # a flagged shot does not fail the render
    assert "quality control made 1 retake" in done.output
    assert re.search(r"⚑ S2: S2/clip: black: black for \d+% of the clip", done.output)

    done = kaipai(f, "qc")
    assert done.exit_code == 0, done.output
    found = rows(done.output)
    assert found["S1"][1] == "✓ passed" and found["S2"][1] == "⚑ flagged" and "black" in found["S2"][3]
    assert "1 flagged: S2" in done.output

    done = kaipai(f, "qc", "S2")
    assert done.exit_code == 0, done.output
    clip_rows = [cells for cells in rows(done.output, r"\d").values() if cells[1] == "clip"]
    assert len(clip_rows) == 2 and all("✗ black" in cells[4] for cells in clip_rows)
    assert sum(cells[2].startswith("● circled") for cells in clip_rows) == 1

    found = json.loads(kaipai(f, "qc", "S2", "--json").output)
    (s2,) = found
    clips = [t for t in s2["takes"] if t["stage"] == "clip"]
    assert s2["verdict"] == "flagged" and [t["passed"] for t in clips] == [False, False]
    assert clips[0]["failed"] == ["black", "frozen", "faces"] and clips[0]["scores"]["black"] < 0.1


def test_best_of_on_the_command_line(film) -> None:
    f = film({"media": "real"})
    done = kaipai(f, "render", "--no-cut", "--best-of", "2", "--stage", "keyframe", "--stage", "sheet")
    assert done.exit_code == 0, done.output
    takes = json.loads(kaipai(f, "takes", "S2", "--json").output)
    assert sum(t["stage"] == "keyframe" for t in takes) == 2 and sum(t["stage"] == "voice" for t in takes) == 0
    assert "Make N takes" in kaipai(f, "render", "--help").output


def test_qc_measures_takes_made_before_it_and_refuses_an_unknown_shot(film) -> None:
    f = film({"media": "real"})
    assert kaipai(f, "render", "--no-cut").exit_code == 0
    from kaipai.engine.db import TakesDB

    with TakesDB(f.paths.database) as db:  # as if made by a kaipai without quality control
        for t in db.all_takes():
            db.set_qc(t.id, {})
    done = kaipai(f, "qc", "--recheck")
    assert done.exit_code == 0 and re.search(r"measured \d+ takes", done.output), done.output
    assert "no shot flagged" in done.output
    done = kaipai(f, "qc", "S9")
    assert done.exit_code == 1 and "no shot 'S9'" in done.output and "Traceback" not in done.output


def test_qc_help_says_what_is_checked() -> None:
    done = runner.invoke(app, ["qc", "--help"], env={"COLUMNS": "120"})
    assert done.exit_code == 0 and "lip sync" in done.output and "--recheck" in done.output


def test_the_shot_list_carries_the_qc_verdict_and_why(film, tmp_path) -> None:
    import csv
    import io

    import pypdf

    f = film({"media": "real", "defects": [{"shot": "S3", "kind": "faceless", "capability": "image"}]})
    assert kaipai(f, "render", "--no-cut").exit_code == 0
    target = tmp_path / "shots.csv"
    assert kaipai(f, "export", "shotlist", "-o", str(target)).exit_code == 0
    rows = list(csv.reader(io.StringIO(target.read_bytes().decode("utf-8-sig"))))
    assert rows[0][-2:] == ["质检", "质检说明"]
    qc = {r[0]: (r[-2], r[-1]) for r in rows[1:]}
    assert qc["S1"][0] == "合格 1.00" and qc["S2"][0].startswith("合格")
    assert qc["S3"][0].startswith("需复查") and "no face where a close-up of 父亲 is planned" in qc["S3"][1]
    pdf = tmp_path / "shots.pdf"
    assert kaipai(f, "export", "shotlist", "-f", "pdf", "-o", str(pdf)).exit_code == 0
    text = "".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages).replace("\x00", "")
    assert "质检" in text.replace(" ", "") and "需复查" in text.replace(" ", "")


def test_qc_rechecks_from_inside_a_project_that_was_rendered_from_outside(film, monkeypatch) -> None:
    """``kaipai demo film`` renders with the project named relative to the folder above; a later
    ``kaipai qc --recheck`` typed inside the project still finds every voice its lip sync was made from."""
    from kaipai.project import ProjectPaths
    from kaipai.service.render import render

    f = film({"media": "real"})
    monkeypatch.chdir(f.paths.root.parent)
    summary = render(ProjectPaths(Path(f.paths.root.name)), settings=f.settings)
    assert not summary.failed
    monkeypatch.chdir(f.paths.root)
    done = runner.invoke(app, ["qc", "--recheck"], env={"COLUMNS": "200"})
    assert done.exit_code == 0 and re.search(r"measured \d+ takes", done.output), done.output
