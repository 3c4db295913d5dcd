"""The listings in an 80-column terminal: every shot id whole, every state readable, nothing wider.

The project is the bundled Chinese screenplay, planned, with its voices and keyframes rendered and
one line changed since: states of every kind, and long Chinese descriptions.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import Result
from rich.cells import cell_len
from typer.testing import CliRunner

from kaipai.cli import app
from kaipai.document.io import load, update
from kaipai.screenplay.examples import example_path
from tests.cli.conftest import MARKUP
from tests.support.tables import rows

runner = CliRunner()
STATE = re.compile(r"^[✓○↻✗⊘—]( \d+/\d+)?$")


def kaipai(*args: str) -> Result:
    result = runner.invoke(app, list(args), env={"COLUMNS": "80"})
    assert "Traceback" not in result.output and not MARKUP.search(result.output), result.output
    return result


def check_width(output: str) -> None:
    wide = [line for line in output.splitlines() if cell_len(line.rstrip()) > 80]
    assert not wide, "wider than 80 columns:\n" + "\n".join(wide)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("narrow") / "film"
    assert kaipai("new", str(folder), "--script", str(example_path("zh"))).exit_code == 0
    assert kaipai("plan", "-p", str(folder)).exit_code == 0
    done = kaipai("render", "-p", str(folder), "--stage", "voice", "--stage", "keyframe", "--no-cut")
    assert done.exit_code == 0, done.output
    first = next(s for s in load(folder / "kaipai.yaml").doc.ordered_shots() if s.dialogue)
    update(folder / "kaipai.yaml", lambda doc: setattr(doc.shot(first.id).dialogue[0], "text", "改过的一句台词。"))
    return folder


def test_status_and_the_dry_run_show_every_shot_id_whole_and_every_state_as_a_symbol(project: Path) -> None:
    doc = load(project / "kaipai.yaml").doc
    for command in (["status"], ["render", "--dry-run"]):
        done = kaipai(*command, "-p", str(project))
        assert done.exit_code == 0, done.output
        check_width(done.output)
        found = rows(done.output)
        assert list(found) == [s.id for s in doc.ordered_shots()]  # whole, and in the film's order
        for cells in found.values():
            states = cells[1:9]  # sheet … music
            assert len(states) == 8 and all(STATE.match(c) for c in states), cells
        seen = {c[0] for cells in found.values() for c in cells[1:9]}
        assert {"✓", "○", "↻", "—"} <= seen  # voices and keyframes current, clips missing, a changed line stale
        assert "✓ current" in done.output and "↻ stale" in done.output and "lips: lip sync" in done.output


def test_shots_keep_one_line_per_description_and_line_of_dialogue(project: Path) -> None:
    doc = load(project / "kaipai.yaml").doc
    done = kaipai("shots", "-p", str(project))
    check_width(done.output)
    assert list(rows(done.output)) == [s.id for s in doc.ordered_shots()]
    body = done.output.split("─\n", 1)[1].split("\ntotal ")[0].splitlines()
    assert len(body) == sum(1 + len(s.dialogue) for s in doc.ordered_shots())  # no description wrapped
    assert "…" in done.output  # long descriptions are shortened, not folded into a sliver
    wide = runner.invoke(app, ["shots", "-p", str(project)], env={"COLUMNS": "240"}).output
    longest = max((s.description for s in doc.shots), key=len)
    assert longest in wide  # a wider terminal shows more


def test_takes_show_whole_take_ids_and_their_status(project: Path) -> None:
    shot = next(s for s in load(project / "kaipai.yaml").doc.ordered_shots() if s.dialogue)
    listed = json.loads(kaipai("takes", shot.id, "-p", str(project), "--json").output)
    done = kaipai("takes", shot.id, "-p", str(project))
    check_width(done.output)
    found = rows(done.output, r"\d")
    assert set(found) == {str(t["id"]) for t in listed}
    for take in listed:
        cells = found[str(take["id"])]
        assert cells[1] == take["stage"] + (f" {take['item']}" if take["item"] else "")
        assert cells[2] == {"circled": "● circled", "pending": "○ pending", "rejected": "✗ rejected"}[take["status"]]
        assert str(take["seed"]) in cells


def test_backends_fit_and_never_call_an_unchecked_server_ready(project: Path, monkeypatch) -> None:
    monkeypatch.setenv("KAIPAI_CONFIG", str(project.parent / "none.toml"))
    monkeypatch.setenv("KAIPAI_COMFYUI_URL", "http://127.0.0.1:9")  # nothing listens there
    for key in ("DASHSCOPE_API_KEY", "KLING_ACCESS_KEY", "KLING_SECRET_KEY"):
        monkeypatch.delenv(key, raising=False)
    done = kaipai("backends", "-p", str(project))
    assert done.exit_code == 0, done.output
    check_width(done.output)
    listed = {b["name"]: b for b in json.loads(kaipai("backends", "-p", str(project), "--json").output)}
    table = rows(done.output.split("\nto set up")[0], r"[a-z]")
    for name, backend in listed.items():
        assert table[name][0] == name  # whole
        assert table[name][-1].endswith(backend["state"])  # ✓ ready, ? not checked, ○ not configured …
    assert listed["comfyui"]["state"] == "not checked" and table["comfyui"][-1] == "? not checked"
    assert listed["previz"]["state"] == "ready" and {"image*", "lipsync*", "video*"} <= set(table["previz"][1].split())
    assert "[dashscope]" in done.output and "[kling]" in done.output
    check = kaipai("backends", "check", "comfyui", "-p", str(project))
    assert check.exit_code == 1 and "127.0.0.1:9" in check.output  # only the check says it cannot be reached


def test_qc_fits_and_keeps_shot_ids_whole(project: Path) -> None:
    doc = load(project / "kaipai.yaml").doc
    listed = json.loads(kaipai("qc", "-p", str(project), "--json").output)
    done = kaipai("qc", "-p", str(project))
    assert done.exit_code == 0, done.output
    check_width(done.output)
    found = rows(done.output)
    assert list(found) == [s["shot"] for s in listed if s["verdict"] != "missing"]
    assert found and set(found) <= {s.id for s in doc.shots}
    assert all(cells[1] in ("✓ passed", "⚑ flagged", "unchecked") for cells in found.values()), found
