"""The artifact graph of a film: which nodes exist and what each depends on.

Stages, in dependency order::

    voice (one per dialogue line) ──▶ shot_audio ─────────────┐
          └── real durations ──▶ shot duration ──▶ clip ──▶ lipsync
    keyframe ───────────────────────────────────────▶ clip

Node ids are readable paths (``S01-002/voice/S01-L1``, ``S01-002/clip``) because they
appear in progress output, the takes database and error messages.
"""

from __future__ import annotations

from dataclasses import dataclass

from kaipai.document.models import Document, Shot

STAGES: tuple[str, ...] = ("voice", "shot_audio", "keyframe", "clip", "lipsync")
#: Stages a director can retake (shot_audio is computed, not generated).
GENERATED_STAGES: tuple[str, ...] = ("voice", "keyframe", "clip", "lipsync")
CAPABILITY: dict[str, str | None] = {"voice": "speech", "shot_audio": None, "keyframe": "image", "clip": "video", "lipsync": "lipsync"}

LEAD_IN = 0.3  # silence before the first line
GAP = 0.25  # between sequential lines
TAIL = 0.5  # after the last line
MIN_SHOT = 1.5  # no dialogue shot is shorter than this


@dataclass(frozen=True)
class Node:
    id: str
    shot: str
    stage: str
    item: str  # the dialogue line id for voice nodes, else ""
    deps: tuple[str, ...]
    position: int  # the shot's place in the film; earlier shots are scheduled first

    @property
    def capability(self) -> str | None:
        return CAPABILITY[self.stage]


def node_id(shot: str, stage: str, item: str = "") -> str:
    return f"{shot}/{stage}/{item}" if item else f"{shot}/{stage}"


def build_graph(doc: Document) -> dict[str, Node]:
    """All nodes of the film, in a topological order (dependencies first)."""
    nodes: dict[str, Node] = {}
    for position, shot in enumerate(doc.ordered_shots()):
        voices = [node_id(shot.id, "voice", line.id) for line in shot.dialogue]
        for line, vid in zip(shot.dialogue, voices):
            nodes[vid] = Node(vid, shot.id, "voice", line.id, (), position)
        audio = node_id(shot.id, "shot_audio")
        if voices:
            nodes[audio] = Node(audio, shot.id, "shot_audio", "", tuple(voices), position)
        key = node_id(shot.id, "keyframe")
        nodes[key] = Node(key, shot.id, "keyframe", "", (), position)
        clip = node_id(shot.id, "clip")
        nodes[clip] = Node(clip, shot.id, "clip", "", (key, *voices), position)
        if shot.speakers_on_screen:
            lip = node_id(shot.id, "lipsync")
            nodes[lip] = Node(lip, shot.id, "lipsync", "", (clip, audio), position)
    return nodes


# --------------------------------------------------------------------------- timing


@dataclass(frozen=True)
class LinePlacement:
    line: str
    speaker: str
    start: float
    end: float
    on_screen: bool


def place_lines(shot: Shot, durations: dict[str, float]) -> list[LinePlacement]:
    """Where each line sits in the shot: at its ``offset``, else after the previous one."""
    framed = {p.character for p in shot.composition}
    cursor = LEAD_IN
    placed: list[LinePlacement] = []
    for line in shot.dialogue:
        start = line.offset if line.offset is not None else cursor
        end = round(start + durations.get(line.id, 0.0), 4)
        placed.append(LinePlacement(line.id, line.speaker, round(start, 4), end, line.delivery.value == "on" and line.speaker in framed))
        cursor = max(cursor, end + GAP)
    return placed


def effective_duration(shot: Shot, durations: dict[str, float] | None) -> float:
    """The shot's length: manual as written; with dialogue, set by the real audio; else as planned.

    ``durations`` (line id → seconds) is None while the voices are not rendered yet; the
    document's estimate stands in until then.
    """
    if shot.duration_source == "manual" or not shot.dialogue or durations is None:
        return shot.duration
    last = max(p.end for p in place_lines(shot, durations))
    return round(max(MIN_SHOT, last + TAIL), 3)
