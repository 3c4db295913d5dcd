"""`kaipai backends` for the cloud backends on official SDKs: the extra each needs, regional prices, a free check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kaipai.backends import registry
from kaipai.backends.registry import Registry
from kaipai.cli import app
from tests.backends.doubles.ark_double import KEY as ARK_KEY
from tests.backends.doubles.ark_double import ArkDouble
from tests.backends.doubles.minimax_double import KEY as MINIMAX_KEY
from tests.backends.doubles.minimax_double import MiniMaxDouble
from tests.backends.doubles.server import serve

runner = CliRunner()
CLOUD = ("ark", "minimax", "vidu", "veo", "runway", "openai-speech", "openai-image")
KEYS = ("ARK_API_KEY", "MINIMAX_API_KEY", "VIDU_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "RUNWAYML_API_SECRET")


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KAIPAI_CONFIG", str(tmp_path / "no-config.toml"))
    for name in (*KEYS, "OPENAI_API_KEY", "ARK_BASE_URL", "MINIMAX_BASE_URL", "KAIPAI_OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.chdir(tmp_path)
    names = Registry.names
    monkeypatch.setattr(Registry, "names", lambda self: [n for n in names(self) if n in CLOUD])


def test_the_list_says_which_extra_each_needs_and_prices_each_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINIMAX_API_KEY", "sk-api-never-shown")
    result = runner.invoke(app, ["backends", "--json"])
    assert result.exit_code == 0, result.output
    found = {b["name"]: b for b in json.loads(result.output)}
    assert set(found) == set(CLOUD)
    assert {n: found[n]["extra"] for n in CLOUD} == {
        "ark": "ark",
        "minimax": None,
        "vidu": None,
        "veo": "veo",
        "runway": "runway",
        "openai-speech": "openai",
        "openai-image": "openai",
    }
    assert found["minimax"]["configured"] and not found["ark"]["configured"] and "ARK_API_KEY" in found["ark"]["status"]
    assert found["ark"]["prices"]["doubao-seedance-1-0-pro-250528@1080p"] == {
        "cn": {"cost_per_unit": 0.7344, "currency": "CNY"},
        "intl": {"cost_per_unit": 0.1224, "currency": "USD"},
    }
    assert found["veo"]["sheets"]["veo-3.1-generate-preview@720p"]["native_audio"] is True
    assert "sk-api-never-shown" not in result.output
    table = runner.invoke(app, ["backends", "--sheets"])
    assert table.exit_code == 0 and "kaipai[ark]" in table.output and "cn 0.4 CNY · global 0.056 USD" in table.output


def test_a_backend_whose_extra_is_missing_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.EXTRAS, "runway", ("runway", "no_such_module_kaipai"))
    result = runner.invoke(app, ["backends", "--json"])
    runway = next(b for b in json.loads(result.output) if b["name"] == "runway")
    assert runway["installed"] is False and runway["extra"] == "runway"


def test_check_proves_keys_without_spending(monkeypatch: pytest.MonkeyPatch) -> None:
    ark, minimax = ArkDouble(), MiniMaxDouble()
    with serve(ark.app()) as ark_url, serve(minimax.app()) as minimax_url:
        ark.base_url, minimax.base_url = ark_url, minimax_url
        monkeypatch.setenv("ARK_API_KEY", ARK_KEY)
        monkeypatch.setenv("ARK_BASE_URL", ark_url + "/api/v3")
        monkeypatch.setenv("MINIMAX_API_KEY", MINIMAX_KEY)
        monkeypatch.setenv("MINIMAX_BASE_URL", minimax_url)
        ok = runner.invoke(app, ["backends", "check", "ark", "minimax"])
        assert ok.exit_code == 0, ok.output
        assert ok.output.count("key accepted") == 2 and ark.submissions == 0 and minimax.submissions == 0
        monkeypatch.setenv("ARK_API_KEY", "ark-wrong")
        bad = runner.invoke(app, ["backends", "check", "ark", "vidu"])
        assert bad.exit_code == 1 and "refused the API key" in bad.output and "VIDU_API_KEY" in bad.output
        assert "ark-wrong" not in bad.output
