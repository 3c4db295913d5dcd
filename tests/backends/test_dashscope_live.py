"""Live checks against DashScope; they run only when DASHSCOPE_API_KEY is set (one image costs about 0.14 CNY)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kaipai.backends.base import ImageRequest, JobContext
from kaipai.backends.dashscope import DashScopeBackend

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not os.environ.get("DASHSCOPE_API_KEY"), reason="needs DASHSCOPE_API_KEY"),
]


def test_key_and_region_are_accepted() -> None:
    assert "key accepted" in DashScopeBackend().reachable()


def test_one_small_keyframe(tmp_path: Path) -> None:
    recorded: list[str] = []
    ctx = JobContext(out_dir=tmp_path, key="live", on_job_id=recorded.append)
    result = DashScopeBackend(model="wan2.2-t2i-flash", deadline=600).generate_image(
        ImageRequest(prompt="一只橘猫坐在窗台上，电影感", width=768, height=512, seed=1), ctx
    )
    assert recorded and result.files[0].stat().st_size > 1000 and result.cost_units == 1
