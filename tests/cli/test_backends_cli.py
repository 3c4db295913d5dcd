"""`kaipai backends` and `kaipai backends check`, as a user runs them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kaipai.backends.registry import Registry
from kaipai.cli import app
from tests.backends.doubles.comfyui_double import ComfyDouble
from tests.backends.doubles.dashscope_double import KEY, DashScopeDouble
from tests.backends.doubles.server import serve

runner = CliRunner()


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("KAIPAI_CONFIG", str(tmp_path / "no-config.toml"))
    for name in (
        "DASHSCOPE_API_KEY",
        "KLING_ACCESS_KEY",
        "KLING_SECRET_KEY",
        "KAIPAI_COMFYUI_URL",
        "DASHSCOPE_BASE_URL",
        "DASHSCOPE_REGION",
        "KLING_REGION",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "300")  # one table row per backend, whatever the terminal
    monkeypatch.chdir(tmp_path)
    return


def test_lists_backends_with_readiness_and_sheets(monkeypatch: pytest.MonkeyPatch) -> None:
    names = Registry.names
    monkeypatch.setattr(
        Registry, "names", lambda self: [n for n in names(self) if n != "diffusers"]
    )  # importing torch takes seconds
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-secret-never-shown")
    result = runner.invoke(app, ["backends", "--json"])
    assert result.exit_code == 0, result.output
    found = {b["name"]: b for b in json.loads(result.output)}
    assert {"comfyui", "dashscope", "kling", "previz", "espeak"} <= set(found)
    assert found["dashscope"]["configured"] and not found["kling"]["configured"]
    assert "KLING_ACCESS_KEY" in found["kling"]["status"]
    assert found["kling"]["sheets"]["kling-v2-1@pro"]["first_last_frame"] is True
    assert found["dashscope"]["sheets"]["wan2.2-i2v-flash"]["durations"] == [5.0]
    assert {"videoretalk", "wan2.2-s2v", "wan2.2-kf2v-flash", "wan2.6-r2v", "cosyvoice-v3-flash"} <= set(
        found["dashscope"]["sheets"]
    )
    assert found["dashscope"]["sheets"]["wan2.2-s2v"]["audio_input"] is True
    assert "lipsync" in found["kling"]["capabilities"] and found["kling"]["sheets"]["lip-sync"]["max_duration"] == 60
    assert "cosyvoice-v1" not in found["dashscope"]["sheets"]  # retired
    assert "sk-secret-never-shown" not in result.output
    table = runner.invoke(app, ["backends", "--sheets"])
    assert table.exit_code == 0 and "kling-v1-6@pro" in table.output and "first+last frame" in table.output
    assert "takes the voice (lip-synced)" in table.output and "takes cfg_scale" in table.output
    monkeypatch.setenv("DASHSCOPE_REGION", "singapore")  # the listing follows the region
    intl = {b["name"]: b for b in json.loads(runner.invoke(app, ["backends", "--json"]).output)}
    assert "wan2.1-i2v-turbo" not in intl["dashscope"]["sheets"] and "wanx2.1-i2v-turbo" in intl["dashscope"]["sheets"]
    assert "videoretalk" not in intl["dashscope"]["sheets"] and "(singapore)" in intl["dashscope"]["status"]


def test_check_reports_reachability_and_fails_when_a_backend_is_not_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    dash, comfy = DashScopeDouble(), ComfyDouble()
    with serve(dash.app()) as dash_url, serve(comfy.app()) as comfy_url:
        monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)
        monkeypatch.setenv("DASHSCOPE_BASE_URL", dash_url)
        monkeypatch.setenv("KAIPAI_COMFYUI_URL", comfy_url)
        ok = runner.invoke(app, ["backends", "check", "dashscope", "comfyui"])
        assert ok.exit_code == 0, ok.output
        assert "key accepted" in ok.output and "0.3.99-double" in ok.output
        monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-wrong")
        bad = runner.invoke(app, ["backends", "check", "dashscope", "kling"])
        assert bad.exit_code == 1
        assert "refused the API key" in bad.output and "KLING_ACCESS_KEY" in bad.output and "sk-wrong" not in bad.output


def test_inside_a_project_the_judges_are_listed_with_the_one_it_uses(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from kaipai.document.backend_choice import BackendChoice
    from kaipai.document.io import new_document_text
    from kaipai.document.models import Document
    from kaipai.document.settings import Project

    names = Registry.names
    monkeypatch.setattr(Registry, "names", lambda self: [n for n in names(self) if n != "diffusers"])
    doc = Document(
        project=Project(title="t"), backends={"judge": BackendChoice(use="openai-judge", model="gpt-4o-mini")}
    )
    (tmp_path / "kaipai.yaml").write_text(new_document_text(doc), encoding="utf-8")
    result = runner.invoke(app, ["backends", "--json", "-p", str(tmp_path)])
    assert result.exit_code == 0, result.output
    found = {b["name"]: b for b in json.loads(result.output)}
    assert {"openai-judge", "clip"} <= set(found)
    assert found["openai-judge"]["sheets"]["judge"]["model"] == "gpt-4o-mini"
    assert found["openai-judge"]["used_for"] == ["judge"] and not found["openai-judge"]["configured"]
    assert "OPENAI_API_KEY" in found["openai-judge"]["status"] and "not on this machine" in found["clip"]["status"]
    assert found["clip"]["extra"] == "clip" and found["openai-judge"]["extra"] is None  # httpx is always there
