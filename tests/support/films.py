"""A small film rendered with the ``simulated`` backends, and readers of what they logged."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from kaipai.document.backend_choice import BackendChoice
from kaipai.document.cast import Cast, Character
from kaipai.document.io import new_document_text
from kaipai.document.models import Document
from kaipai.document.scenes import Scene
from kaipai.document.settings import Project, Style
from kaipai.document.shots import DialogueLine, Placement, Shot
from kaipai.engine.engine import EngineSettings
from kaipai.engine.scheduling import RetryPolicy
from kaipai.project import ProjectPaths

CAPS = ("speech", "image", "video", "lipsync", "music")
FAST = EngineSettings(retry=RetryPolicy(max_attempts=4, base=0.01, cap=0.05))


def small_film(options: dict[str, Any], per_cap: dict[str, dict[str, Any]] | None = None) -> Document:
    """Three shots: an establishing shot, a single with two lines (one off screen), a single with one line."""
    shots = [
        Shot(
            id="S1", scene="SC1", order=1, size="WS", move="pan_right", description="深夜的厨房，一盏暖灯", duration=2.0
        ),
        Shot(
            id="S2",
            scene="SC1",
            order=2,
            size="MCU",
            composition=[Placement(character="lin", third="left")],
            description="林晓站在门口",
            dialogue=[
                DialogueLine(id="L1", speaker="lin", text="爸，你还没睡？"),
                DialogueLine(id="L2", speaker="father", text="睡不着。", delivery="O.S."),
            ],
        ),
        Shot(
            id="S3",
            scene="SC1",
            order=3,
            size="CU",
            composition=[Placement(character="father")],
            description="父亲的脸",
            dialogue=[DialogueLine(id="F1", speaker="father", text="你也早点休息。")],
        ),
    ]
    backends = {
        cap: BackendChoice(use="simulated", options={**options, **(per_cap or {}).get(cap, {})}) for cap in CAPS
    }
    return Document(
        project=Project(title="生日卡", resolution=(320, 180), fps=12),
        style=Style(visual_style="温暖的现实主义", negative_prompt="水印"),
        cast=Cast(
            characters=[Character(id="lin", name="林晓", description="短发"), Character(id="father", name="父亲")]
        ),
        scenes=[Scene(id="SC1", heading="1-1 夜 内 厨房")],
        shots=shots,
        backends=backends,
    )


def many_shot_film(count: int, options: dict[str, Any]) -> Document:
    """``count`` shots cycling through the small film's three kinds (new ids, lines varied), a music cue every
    five shots."""
    doc = small_film(options)
    originals = list(doc.shots)
    doc.shots = []
    for i in range(count):
        shot = originals[i % 3].model_copy(deep=True)
        shot.id, shot.order = f"S{i + 1:03d}", i + 1
        shot.dialogue = [
            DialogueLine(
                id=f"L{i + 1:03d}{d.id}", speaker=d.speaker, text=d.text + "嗯。" * (i // 3), delivery=d.delivery
            )
            for d in shot.dialogue
        ]
        shot.music = f"第{i // 5 + 1}段配乐，弦乐" if i % 5 == 0 else ""
        doc.shots.append(shot)
    return doc


class Film:
    """A project on disk plus the simulated provider's request log."""

    def __init__(self, root: Path, options: dict[str, Any]) -> None:
        self.paths = ProjectPaths(root)
        self.log = root.parent / f"{root.name}-requests.log"
        self.options = {"log": str(self.log), "media": "bytes", **options}
        self.settings = FAST

    def write(self, doc: Document) -> None:
        self.paths.document.write_text(new_document_text(doc), encoding="utf-8")

    def requests(self) -> list[str]:
        """Keys of every generation the provider accepted, in order."""
        if not self.log.exists():
            return []
        return [line.split("\t")[0] for line in self.log.read_text().splitlines() if line]

    def repeated(self) -> list[str]:
        return [k for k, n in Counter(self.requests()).items() if n > 1]
