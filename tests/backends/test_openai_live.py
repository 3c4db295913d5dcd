"""The openai planner against a real endpoint, when KAIPAI_LIVE_OPENAI_BASE_URL, _KEY and _MODEL are set."""

from __future__ import annotations

import os

import pytest

from kaipai.backends.openai.planner import OpenAIPlanner
from kaipai.planning.importer import document_from_screenplay
from kaipai.screenplay import parse_file, parse_text
from kaipai.screenplay.examples import example_path

LIVE = {k: os.environ.get(f"KAIPAI_LIVE_OPENAI_{k}") for k in ("BASE_URL", "KEY", "MODEL")}
pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not all(LIVE.values()), reason="set KAIPAI_LIVE_OPENAI_BASE_URL, _KEY and _MODEL to run"),
]


@pytest.fixture
def live_planner(monkeypatch: pytest.MonkeyPatch) -> OpenAIPlanner:
    monkeypatch.setenv("KAIPAI_LIVE_KEY_FOR_TEST", LIVE["KEY"] or "")
    return OpenAIPlanner(
        model=LIVE["MODEL"], base_url=LIVE["BASE_URL"], api_key_env="KAIPAI_LIVE_KEY_FOR_TEST", temperature=0.3
    )


def test_a_real_model_plans_a_scene_with_every_line_once(live_planner: OpenAIPlanner) -> None:
    doc = document_from_screenplay(parse_file(example_path("en")))
    shots = live_planner.plan_scene(doc, doc.scenes[0])
    texts = [d.text for s in shots for d in s.dialogue]
    assert texts == [el.text for el in doc.scenes[0].elements if el.type == "dialogue"]
    assert all(s.image_prompt and s.video_prompt for s in shots)


def test_a_real_model_writes_a_chinese_screenplay_that_parses(live_planner: OpenAIPlanner) -> None:
    text = live_planner.write_screenplay("一位老灯塔看守人收到一封迟到四十年的信", "zh")
    assert len(parse_text(text, format="zh").scenes) >= 1
