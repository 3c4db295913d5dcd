"""The demo project, made once per test session with `kaipai demo` and shared by the tests that walk
every command and run the README (marked ``xdist_group("demo")`` so they share one worker)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kaipai.cli import app
from kaipai.document.io import update
from kaipai.document.models import Document
from kaipai.service.demo import create_demo

#: Keys and settings of the person running the tests that must not reach the commands.
KEYS = (
    "DASHSCOPE_API_KEY",
    "KLING_ACCESS_KEY",
    "KLING_SECRET_KEY",
    "KAIPAI_COMFYUI_URL",
    "OPENAI_API_KEY",
    "KAIPAI_OPENAI_BASE_URL",
    "KAIPAI_OPENAI_MODEL",
)

#: What a markup tag printed literally (instead of styling the text) looks like.
MARKUP = re.compile(r"\[/?(bold|dim|green|red|yellow|cyan|italic)\b[^\]]*\]|\[/\]")


def newcomer(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """The environment of someone who just installed kaipai: no keys, no config file, 80 columns."""
    for key in KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("KAIPAI_CONFIG", str(folder / "no-config.toml"))
    monkeypatch.setenv("COLUMNS", "80")


def smaller(doc: Document) -> None:
    """The whole demo film at a sixteenth of its pixels: every command sees the same project, faster."""
    doc.project.resolution = (320, 180)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``kaipai-demo`` made by ``kaipai demo`` in an empty folder, as a new user makes it."""
    folder = tmp_path_factory.mktemp("cli") / "kaipai-demo"
    saved = {k: os.environ.pop(k, None) for k in (*KEYS, "KAIPAI_CONFIG", "COLUMNS")}
    os.environ["KAIPAI_CONFIG"] = str(folder.parent / "no-config.toml")
    os.environ["COLUMNS"] = "80"
    try:
        update(create_demo(folder, "zh").document, smaller)  # the demo the command then renders, at 320×180
        created = CliRunner().invoke(app, ["demo", str(folder)])
        assert created.exit_code == 0 and "Traceback" not in created.output, created.output
        return folder
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
