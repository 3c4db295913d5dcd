"""kaipai's own stages against the DashScope double: voices (the default model, over the WebSocket),
keyframes and clips render, and a dialogue shot lip-synced by VideoRetalk speaks its circled voice."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from kaipai.document.backend_choice import BackendChoice
from kaipai.document.cast import Cast, Character
from kaipai.document.io import new_document_text
from kaipai.document.models import Document
from kaipai.document.scenes import Scene
from kaipai.document.settings import Project
from kaipai.document.shots import DialogueLine, Placement, Shot
from kaipai.engine.db import TakesDB
from kaipai.project import ProjectPaths
from kaipai.service.render import render
from kaipai.service.takes import circled_media
from tests.backends.doubles.dashscope_double import KEY, DashScopeDouble
from tests.backends.task_checks import serving
from tests.support.media import voice_likeness

FAST = {"poll_interval": 0.01, "poll_max_interval": 0.02, "deadline": 10, "timeout": 5}


@pytest.fixture
def double(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[DashScopeDouble]:
    yield from serving(DashScopeDouble(polls_to_finish=1), monkeypatch, tmp_path, {"DASHSCOPE_API_KEY": KEY})


def film(root: Path, double: DashScopeDouble, backends: tuple[str, ...]) -> ProjectPaths:
    dash = BackendChoice(use="dashscope", options={"base_url": double.base_url, **FAST})
    doc = Document(
        project=Project(title="末班车", resolution=(832, 480), fps=24),
        cast=Cast(
            characters=[
                Character(id="林夏", name="林夏", description="女，26岁，刚下夜班的护士"),
                Character(id="老周", name="老周", description="男，60岁，末班车司机"),
            ]
        ),
        scenes=[Scene(id="SC1", heading="1-1 夜 内 公交车厢")],
        shots=[
            Shot(
                id="S1",
                scene="SC1",
                order=1,
                size="MCU",
                composition=[Placement(character="林夏")],
                description="林夏坐在最后一排",
                dialogue=[DialogueLine(id="L1", speaker="林夏", text="师傅，这是最后一班车吗？外面下着雨呢。")],
            ),
            Shot(
                id="S2",
                scene="SC1",
                order=2,
                size="CU",
                composition=[Placement(character="老周")],
                description="老周从后视镜里看她",
                dialogue=[DialogueLine(id="L2", speaker="老周", text="是啊，坐稳了，我们这就出发。")],
            ),
        ],
        backends=dict.fromkeys(backends, dash),
    )
    root.mkdir()
    paths = ProjectPaths(root)
    paths.document.write_text(new_document_text(doc), encoding="utf-8")
    return paths


def test_voices_keyframes_and_clips_render_against_the_double(double: DashScopeDouble, tmp_path: Path) -> None:
    paths = film(tmp_path / "film", double, ("speech", "image", "video"))
    summary = render(paths, stages={"voice", "shot_audio", "keyframe", "clip"})
    assert summary.failed == 0, summary
    media = circled_media(paths)
    assert all(m.keyframe and m.clip and m.audio for m in media.values())
    runs = [session[0]["payload"] for session in double.speech_sessions]
    assert {r["model"] for r in runs} == {"cosyvoice-v3-flash"}  # the default model, over the WebSocket
    voices = {r["parameters"]["voice"] for r in runs}
    assert len(voices) == 2  # 林夏 and 老周 sound like two people
    with TakesDB(paths.database) as db:
        spoken = {t.item: t.metadata["voice"] for t in db.all_takes() if t.stage == "voice"}
    assert spoken["L1"] != spoken["L2"]
    kinds = Counter(path.rsplit("/", 2)[-2] for path, _, _ in double.requests)
    assert kinds == {"text2image": 4, "video-generation": 2}  # two reference sheets, two keyframes; two clips


def test_a_dialogue_shot_lip_synced_by_videoretalk_speaks_its_circled_voice(
    double: DashScopeDouble, tmp_path: Path
) -> None:
    paths = film(tmp_path / "film", double, ("video", "lipsync"))
    summary = render(paths, stages={"voice", "shot_audio", "keyframe", "clip", "lipsync"})
    assert summary.failed == 0, summary
    for shot in circled_media(paths).values():
        assert shot.lipsync is not None and shot.audio is not None
        assert voice_likeness(shot.lipsync, shot.audio) > 0.9
    retalks = [body for path, body, _ in double.requests if body.get("model") == "videoretalk"]
    assert len(retalks) == 2 and all(b["input"]["video_url"].startswith("oss://") for b in retalks)
