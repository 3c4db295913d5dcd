"""Every command of the CLI, with typical arguments, run inside the demo project at 80 columns:
none ends in a traceback, and no markup leaks into what it prints.

A user types these in their project folder; a command that works from elsewhere but crashes there
(as `kaipai backends` once did) is exactly what this walk catches. The studio is the one command
that does not return, so only its help is asked for (tests/cli/test_readme.py runs it).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from typer.main import get_command
from typer.testing import CliRunner

from kaipai.cli import app
from tests.cli.conftest import MARKUP, newcomer

runner = CliRunner()


def command_paths() -> set[str]:
    """Every leaf command as the user types it ('export otio', 'backends check', …)."""
    found: set[str] = set()

    def walk(command: object, prefix: str) -> None:
        children = getattr(command, "commands", None)
        if children:
            if prefix and getattr(command, "invoke_without_command", False):
                found.add(prefix)
            for name, child in children.items():
                walk(child, f"{prefix} {name}".strip())
        else:
            found.add(prefix)

    walk(get_command(app), "")
    return found


@contextlib.contextmanager
def inside(folder: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def run(args: list[str]) -> Result:
    result = runner.invoke(app, args)
    shown = " ".join(args)
    assert "Traceback" not in result.output, f"kaipai {shown} printed a traceback:\n{result.output}"
    if "--json" not in args and args[:1] != ["schema"]:
        assert not MARKUP.search(result.output), f"kaipai {shown} printed markup:\n{result.output}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"kaipai {shown} crashed with {result.exception!r}:\n{result.output}")
    return result


@pytest.mark.xdist_group("demo")
def test_every_command_runs_inside_the_demo_project_without_a_traceback(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    newcomer(monkeypatch, demo.parent)
    exports = demo.parent / "exports"
    ran: set[str] = {"demo"}
    with inside(demo):
        takes = json.loads(run(["takes", "S01-001", "--stage", "keyframe", "--json"]).output)
        first = str(takes[0]["id"])
        typical: list[tuple[str, list[str], bool]] = [
            # (command, arguments, must succeed) — `write` may refuse: the demo's planner writes no screenplays
            ("validate", [], True),
            ("shots", [], True),
            ("shots", ["--json"], True),
            ("schema", ["--out", str(demo.parent / "schema.json")], True),
            ("plan", [], True),
            ("write", ["一个雨夜的故事", "--out", str(demo.parent / "idea.txt")], False),
            ("status", [], True),
            ("status", ["--json"], True),
            ("render", ["--dry-run"], True),
            ("render", ["--dry-run", "--json"], True),
            ("render", [], True),
            ("render", ["--json", "--no-cut"], True),
            ("takes", ["S01-001"], True),
            ("retake", ["S01-001", "--stage", "keyframe"], True),
            ("qc", [], True),
            ("qc", ["S01-001", "--json"], True),
            ("qc", ["--recheck"], True),
            ("reject", ["S01-001", first], False),  # the circled take: refused with a reason, or rejected
            ("circle", ["S01-001", first], True),
            ("cut", [], True),
            ("cut", ["--slate"], True),
            ("verify", ["output/film.mp4"], False),  # says what labels the film carries; exit 1 when unsigned
            ("verify", ["output/film.mp4", "--json"], False),
            ("backends", [], True),
            ("backends", ["--json"], True),
            ("backends", ["--sheets"], True),
            ("backends check", [], True),
            ("backends check", ["--json"], True),
            ("export shotlist", ["--out", str(exports / "shots.csv"), "--format", "csv"], True),
            *((f"export {kind}", ["--dest", str(exports)], True) for kind in ("otio", "fcpxml", "fcp7", "edl")),
            *((f"export {kind}", ["--dest", str(exports)], True) for kind in ("subtitles", "stems", "storyboard")),
            ("export contactsheet", ["--dest", str(exports)], True),
            ("export jianying", ["--dest", str(exports)], True),
            ("export all", ["--dest", str(exports)], True),
            ("new", [str(demo.parent / "second-film")], True),
            ("studio", ["--help"], True),
        ]
        for command, args, must_succeed in typical:
            result = run([*command.split(), *args])
            if must_succeed:
                assert result.exit_code == 0, f"kaipai {command} {' '.join(args)}:\n{result.output}"
            ran.add(command)
        listed = json.loads(run(["backends", "--json"]).output)
        rendered = json.loads(run(["render", "--json"]).stdout)  # progress went to standard error
        assert rendered["failed"] == 0 and rendered["film"].endswith("film.mp4")
    assert {"previz", "espeak"} <= {b["name"] for b in listed if "video" in b["used_for"] or "speech" in b["used_for"]}
    assert command_paths() <= ran, f"commands this walk does not run yet: {sorted(command_paths() - ran)}"
