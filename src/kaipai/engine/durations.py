"""Shot lengths back to the document: a shot with dialogue lasts as long as its rendered voices say.

Kept apart from the :class:`~kaipai.engine.engine.Engine`: the render writes them once every voice
is settled, while pictures are still rendering.
"""

from __future__ import annotations

from pathlib import Path

from kaipai.document.models import Document
from kaipai.document.shots import Shot
from kaipai.engine.db import Take
from kaipai.engine.graph import effective_duration


def audio_durations(shots: list[Shot], resolved: dict[str, Take]) -> dict[str, float]:
    """Shot id → duration set by its rendered voices, for shots whose every line is current."""
    out: dict[str, float] = {}
    for shot in shots:
        if not shot.dialogue or shot.duration_source == "manual":
            continue
        ids = [f"{shot.id}/voice/{d.id}" for d in shot.dialogue]
        if all(i in resolved for i in ids):
            out[shot.id] = effective_duration(shot, {resolved[i].item: float(resolved[i].duration or 0.0) for i in ids})
    return out


def write_durations(document: Path, shots: dict[str, Shot], resolved: dict[str, Take]) -> list[str]:
    """Write audio-derived durations into kaipai.yaml (locked, comment-preserving); return changed shots.

    ``shots`` are the shots as the render read them: a shot whose lines were edited since keeps its length.
    """
    wanted = {
        sid: d
        for sid, d in audio_durations(list(shots.values()), resolved).items()
        if abs(shots[sid].duration - d) > 1e-6 or shots[sid].duration_source != "audio"
    }
    if not wanted or not document.exists():
        return []
    from kaipai.document.io import update

    changed: list[str] = []
    rendered = {sid: shots[sid].dialogue for sid in wanted}

    def change(doc: Document) -> None:
        for shot in doc.shots:
            if shot.id in wanted and shot.dialogue == rendered[shot.id] and shot.duration_source != "manual":
                shot.duration = wanted[shot.id]
                shot.duration_source = "audio"
                changed.append(shot.id)

    update(document, change)
    return changed
