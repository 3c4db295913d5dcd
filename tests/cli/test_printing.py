"""What every command prints goes through one set of helpers: text kaipai did not write is escaped
once (brackets in a hint, a name or a provider's message print as written), and no error reaches a
user as a traceback."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
import typer
from click.testing import Result
from typer.main import get_command
from typer.testing import CliRunner

from kaipai.cli import app
from kaipai.cli.app import console, markup, say

runner = CliRunner()


def invoke(*args: str, **env: str) -> Result:
    return runner.invoke(app, list(args), env={"COLUMNS": "80", **env})


def test_a_line_with_brackets_prints_intact() -> None:
    line = 'add `api_key = "…"` under [dashscope] in /home/林夏/[work]/config.toml'
    with console.capture() as captured:
        say("[bold]error[/] {}", line)
    assert line in captured.get()
    assert markup("{} [green]ok[/]", "[kling]") == "\\[kling] [green]ok[/]"
    assert markup("{:.1f} s", 2.345) == "2.3 s"  # format specs still apply


def test_kaipai_backends_shows_the_config_sections_in_its_hints(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for key in ("DASHSCOPE_API_KEY", "KLING_ACCESS_KEY", "KLING_SECRET_KEY"):
        monkeypatch.delenv(key, raising=False)
    done = invoke("backends", KAIPAI_CONFIG=str(tmp_path / "none.toml"))
    assert done.exit_code == 0, done.output
    assert "[dashscope]" in done.output and "[kling]" in done.output


def test_an_error_message_keeps_its_brackets(film, monkeypatch) -> None:
    from kaipai.backends.base import NotConfigured

    f = film()

    def refused(*args, **kwargs):
        raise NotConfigured("the Kling access key is not set: add access_key under [kling] in config.toml")

    monkeypatch.setattr("kaipai.service.render.render", refused)
    done = invoke("status", "-p", str(f.paths.root))
    assert done.exit_code == 1 and "Traceback" not in done.output
    assert "error the Kling access key is not set: add access_key under [kling] in config.toml" in " ".join(
        done.output.split()
    )


def test_a_failing_ffmpeg_ends_the_cut_in_one_message_not_a_traceback(film, tmp_path: Path, monkeypatch) -> None:
    f = film()
    broken = tmp_path / "ffmpeg"
    broken.write_text("#!/bin/sh\necho '[libx264 @ 0x55] could not open encoder [h264]' >&2\nexit 1\n")
    broken.chmod(broken.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr("imageio_ffmpeg.get_ffmpeg_exe", lambda: str(broken))
    done = invoke("cut", "-p", str(f.paths.root))
    assert done.exit_code == 1, done.output
    assert ("Traceback" not in done.output and done.exception is None) or isinstance(done.exception, SystemExit)
    assert "[libx264 @ 0x55]" in done.output  # ffmpeg's own words, brackets and all


def test_an_unexpected_error_is_one_line_that_says_it_is_a_bug(film, monkeypatch) -> None:
    f = film()

    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero in [the planner]")

    monkeypatch.setattr("kaipai.service.document.plan_project", broken)
    done = invoke("plan", "-p", str(f.paths.root))
    assert done.exit_code == 1 and isinstance(done.exception, SystemExit)
    assert "division by zero in [the planner] (ZeroDivisionError)" in " ".join(done.output.split())
    assert "bug in kaipai" in done.output and "KAIPAI_DEBUG=1" in done.output
    debug = invoke("plan", "-p", str(f.paths.root), KAIPAI_DEBUG="1")
    assert isinstance(debug.exception, ZeroDivisionError)  # a developer gets the traceback


def test_every_command_is_wrapped_in_the_error_handling() -> None:
    unguarded = []

    def walk(command, prefix: str) -> None:
        callback = getattr(command, "callback", None)
        if callback is not None and not getattr(callback, "_user_errors", False):
            # Typer wraps our function; the one it calls is kept in its closure
            inner = [c.cell_contents for c in (callback.__closure__ or ()) if callable(c.cell_contents)]
            if not any(getattr(fn, "_user_errors", False) for fn in inner):
                unguarded.append(prefix or "kaipai")
        for name, child in (getattr(command, "commands", None) or {}).items():
            walk(child, f"{prefix} {name}".strip())

    walk(get_command(app), "")
    assert unguarded == []


def test_help_texts_keep_their_brackets() -> None:
    """`pip install 'kaipai[ray]'` in a help text reads as written, not as `kaipai`."""

    def walk(command, prefix: list[str]) -> None:
        texts = [command.help or ""] + [getattr(p, "help", "") or "" for p in command.params]
        wanted = {m for text in texts for m in re.findall(r"\\\[(\w+)\]", text)}
        if wanted:
            shown = runner.invoke(app, [*prefix, "--help"], env={"COLUMNS": "300"}, terminal_width=300).output
            for word in wanted:
                assert f"[{word}]" in shown, f"kaipai {' '.join(prefix)} --help lost [{word}]"
        for name, child in (getattr(command, "commands", None) or {}).items():
            walk(child, [*prefix, name])

    walk(get_command(app), [])


def test_ctrl_c_keeps_the_work_and_exits_130(film, monkeypatch) -> None:
    f = film()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("kaipai.service.render.render", interrupted)
    done = invoke("status", "-p", str(f.paths.root))
    assert done.exit_code == 130 and "finished work is kept" in done.output


@pytest.mark.skipif(os.name != "posix", reason="pipes")
def test_a_closed_pipe_is_not_an_error(film) -> None:
    import subprocess
    import sys

    f = film()
    src = str(Path(__file__).resolve().parents[2] / "src")
    shots = subprocess.run(
        f"{sys.executable} -m kaipai shots -p {f.paths.root} | head -c 10",
        shell=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": src, "COLUMNS": "80"},
        timeout=120,
    )
    assert shots.returncode == 0 and "Traceback" not in shots.stderr and "Error" not in shots.stderr


def test_a_command_that_exits_with_a_status_is_not_called_a_bug(film) -> None:
    assert isinstance(typer.Exit(3), Exception)  # Typer's Exit is an Exception: the wrapper must let it through
    done = invoke("--version")
    assert done.exit_code == 0 and done.output.startswith("kaipai ")
    f = film()
    done = invoke("backends", "check", "no-such-backend", "-p", str(f.paths.root))  # ends in typer.Exit(1)
    assert done.exit_code == 1 and "bug" not in done.output and "no-such-backend" in done.output
