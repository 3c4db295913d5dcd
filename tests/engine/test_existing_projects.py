"""A project made by an earlier kaipai keeps every take: its artifact keys do not move.

The fixture is the Chinese demo's kaipai.yaml exactly as the first release wrote it (document
format 1, every screenplay element with all its keys), and the keys that release computed for its
reference sheets, voices and keyframes (the nodes whose keys follow from the document alone). If a
change moved one of them, every existing project would pay for those takes again.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from kaipai.engine.db import TakesDB
from kaipai.engine.engine import Engine
from kaipai.project import ProjectPaths, load_document
from kaipai.service.render import render

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "projects"


def test_a_version_1_demo_keeps_its_keys(tmp_path: Path) -> None:
    root = tmp_path / "film"
    root.mkdir()
    shutil.copy(FIXTURES / "demo-zh-v1.yaml", root / "kaipai.yaml")
    paths = ProjectPaths(root)
    summary = render(paths, stages={"sheet"})  # keyframe keys follow from the sheets' keys
    assert summary.failed == 0, summary.failures
    with TakesDB(paths.database) as db:
        statuses, _ = Engine(paths, load_document(paths), db).plan()
    now = {s.node: s.key for s in statuses if s.stage in ("voice", "sheet", "keyframe")}
    assert now == json.loads((FIXTURES / "demo-zh-v1.keys.json").read_text(encoding="utf-8"))
