"""The artifact graph of a film: which nodes exist and what each depends on.

Stages, in dependency order::

    sheet (one per character in frame without reference images of their own) ──▶ keyframe, end_keyframe, clip
    voice (one per dialogue line) ──▶ shot_audio ─────────────┐
          └── real durations ──▶ shot duration ──▶ clip ──▶ lipsync
    keyframe ──▶ end_keyframe (a shot with ``end:``) ─▶ clip
    keyframe ───────────────────────────────────────▶ clip
    shot_audio ──▶ clip (a video model that animates the voice itself: no lipsync node)
    voices of the shots a music cue spans ──▶ its length ──▶ music
    voices of a scene's shots ──▶ its length ──▶ ambience (one bed per scene)
    clip ──▶ sfx (one per sound effect of the shot; the clip only for video-to-audio backends)

The sheets feed a clip only as reference images, for video models that take them; the lip-sync
route of each shot (:class:`ShotRoute`, decided by :mod:`kaipai.engine.routing`) says whether a
lipsync node follows its clip.

A music cue starts at a shot whose ``music`` field is set and runs until the next cue or the
end of the film (as the edit places it, ``kaipai.post.cut``); it has one ``music`` node,
under the shot where it starts. A scene's ambience bed is filed under the scene's first shot and
runs across its shots. A shot whose ``generation.clip_dialogue`` is set takes its dialogue from
the clip's own sound: it has no voice, shot_audio or lipsync nodes.

Node ids are readable paths (``S01-002/voice/S01-L1``, ``S01-002/clip``) because they
appear in progress output, the takes database and error messages.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass

from kaipai.document.lines import line_timings
from kaipai.document.models import Document
from kaipai.document.scenes import Scene
from kaipai.document.settings import effect_moment, frames
from kaipai.document.shots import Shot
from kaipai.engine.stages import CAPABILITY

LEAD_IN = 0.3  # silence before the first line
GAP = 0.25  # between sequential lines
TAIL = 0.5  # after the last line
MIN_SHOT = 1.5  # no dialogue shot is shorter than this
CROSSFADE = 1.0  # seconds an ambience bed overlaps the next scene's, centred on the cut


@dataclass(frozen=True)
class Node:
    id: str
    shot: str
    stage: str
    item: str  # the dialogue line id for voice nodes, the effect's id for sfx nodes, else ""
    deps: tuple[str, ...]
    position: int  # the shot's place in the film; earlier shots are scheduled first
    span: tuple[str, ...] = ()  # music and ambience: the shots it runs across, in film order

    @property
    def capability(self) -> str | None:
        return CAPABILITY[self.stage]

    @property
    def shared(self) -> bool:
        """It serves more than the shot it is filed under (a character's reference sheet, a scene's
        ambience): that shot's backend overrides and its failures do not apply to it."""
        return self.stage in ("sheet", "ambience")


def node_id(shot: str, stage: str, item: str = "") -> str:
    return f"{shot}/{stage}/{item}" if item else f"{shot}/{stage}"


@dataclass(frozen=True)
class ShotRoute:
    """How a shot's dialogue reaches its picture: a lipsync node after the clip (``lipsync``), the
    clip model animating the voice itself (``clip_hears``: the clip takes the shot's audio), or
    neither (the clip is used as it is; ``note`` says so)."""

    lipsync: bool = True
    clip_hears: bool = False
    note: str = ""


def build_graph(doc: Document, routes: Mapping[str, ShotRoute] | None = None) -> dict[str, Node]:
    """All nodes of the film, in a topological order (dependencies first).

    ``routes`` (shot id → route) say where each shot's dialogue is lip-synced; a lipsync node
    after the clip when not given.
    """
    nodes: dict[str, Node] = {}
    sheets = sheet_nodes(doc)
    for node in sheets.values():
        nodes[node.id] = node
    for position, shot in enumerate(doc.ordered_shots()):
        route = (routes or {}).get(shot.id, ShotRoute())
        voiced = _voiced(shot)  # else the model speaks the lines in its own sound
        voices = [node_id(shot.id, "voice", line.id) for line in shot.dialogue] if voiced else []
        for line, vid in zip(shot.dialogue, voices):
            nodes[vid] = Node(vid, shot.id, "voice", line.id, (), position)
        audio = node_id(shot.id, "shot_audio")
        if voices:
            nodes[audio] = Node(audio, shot.id, "shot_audio", "", tuple(voices), position)
        key = node_id(shot.id, "keyframe")
        framed = dict.fromkeys(p.character for p in shot.composition)
        nodes[key] = Node(key, shot.id, "keyframe", "", tuple(sheets[c].id for c in framed if c in sheets), position)
        ends: tuple[str, ...] = ()
        if shot.end is not None:
            end = node_id(shot.id, "end_keyframe")
            last = dict.fromkeys(p.character for p in shot.end_state().composition)
            nodes[end] = Node(
                end, shot.id, "end_keyframe", "", (key, *(sheets[c].id for c in last if c in sheets)), position
            )
            ends = (end,)
        everyone = dict.fromkeys([*framed, *(p.character for p in shot.end_state().composition)])
        hears = (audio,) if route.clip_hears and voices and shot.speakers_on_screen else ()
        refs = tuple(sheets[c].id for c in everyone if c in sheets)
        clip = node_id(shot.id, "clip")
        nodes[clip] = Node(clip, shot.id, "clip", "", (key, *ends, *voices, *hears, *refs), position)
        if shot.speakers_on_screen and route.lipsync and not hears and voiced:
            lip = node_id(shot.id, "lipsync")
            nodes[lip] = Node(lip, shot.id, "lipsync", "", (clip, audio), position)
    ordered = doc.ordered_shots()
    place = {s.id: i for i, s in enumerate(ordered)}
    for first, span in music_cues(doc):
        music = node_id(first.id, "music")
        voices = tuple(node_id(s.id, "voice", line.id) for s in span for line in s.dialogue if _voiced(s))
        nodes[music] = Node(music, first.id, "music", "", voices, place[first.id], tuple(s.id for s in span))
    for _scene, span in ambience_runs(doc):
        bed = node_id(span[0].id, "ambience")
        voices = tuple(node_id(s.id, "voice", line.id) for s in span for line in s.dialogue if _voiced(s))
        nodes[bed] = Node(bed, span[0].id, "ambience", "", voices, place[span[0].id], tuple(s.id for s in span))
    for shot in ordered:
        for item, _sound, _at in effect_items(shot):
            fx = node_id(shot.id, "sfx", item)
            nodes[fx] = Node(fx, shot.id, "sfx", item, (node_id(shot.id, "clip"),), place[shot.id])
    return nodes


def _voiced(shot: Shot) -> bool:
    return not shot.generation.clip_dialogue


def sheet_nodes(doc: Document) -> dict[str, Node]:
    """A reference sheet for each character seen in frame who has no reference images of their own
    (the director's pictures win), keyed by character id and filed under the first shot showing them
    at its start — or, for someone seen only where shots end, the first shot ending on them. (A sheet's
    node is part of its key: a shot that gains an end never moves anyone's sheet.)"""
    out: dict[str, Node] = {}
    shots = doc.ordered_shots()
    for at_end in (False, True):
        for position, shot in enumerate(shots):
            if at_end:
                framed = shot.end.composition if shot.end is not None and shot.end.composition is not None else []
            else:
                framed = shot.composition
            for p in framed:
                character = doc.character(p.character)
                if character is None or character.reference_images or character.id in out:
                    continue
                nid = node_id(shot.id, "sheet", character.id)
                out[character.id] = Node(nid, shot.id, "sheet", character.id, (), position)
    return dict(sorted(out.items(), key=lambda kv: kv[1].position))


def ambience_runs(doc: Document) -> list[tuple[Scene, list[Shot]]]:
    """Each ambience bed: its scene and the shots it runs under (a scene's consecutive shots in film order)."""
    runs: list[tuple[Scene, list[Shot]]] = []
    previous = None
    for shot in doc.ordered_shots():
        scene = doc.scene(shot.scene)
        if scene is None or not scene.ambience:
            previous = None
            continue
        if previous == scene.id:
            runs[-1][1].append(shot)
        else:
            runs.append((scene, [shot]))
        previous = scene.id
    return runs


def effect_items(shot: Shot) -> list[tuple[str, str, float | None]]:
    """(id, sound, moment) of each sound effect the shot asks for.

    The id follows the sound's words, not its place in the list, so deleting one effect does not
    make the others new (and paid for again).
    """
    out: list[tuple[str, str, float | None]] = []
    seen: set[str] = set()
    for text in shot.sfx:
        sound, at = effect_moment(text)
        if not sound:
            continue
        base = "fx-" + hashlib.sha256(sound.casefold().encode()).hexdigest()[:8]
        item, n = base, 1
        while item in seen:
            n += 1
            item = f"{base}-{n}"
        seen.add(item)
        out.append((item, sound, at))
    return out


def music_cues(doc: Document) -> list[tuple[Shot, list[Shot]]]:
    """Each music cue: the shot it starts at and the shots it runs across (to the next cue or the end)."""
    cues: list[tuple[Shot, list[Shot]]] = []
    for shot in doc.ordered_shots():
        if shot.music:
            cues.append((shot, [shot]))
        elif cues:
            cues[-1][1].append(shot)
    return cues


# --------------------------------------------------------------------------- timing


@dataclass(frozen=True)
class LinePlacement:
    line: str
    speaker: str
    start: float
    end: float
    on_screen: bool


def place_lines(shot: Shot, durations: dict[str, float]) -> list[LinePlacement]:
    """Where each line sits in the shot: at its ``offset``, a dual line over the speech before it,
    else after the previous one (:func:`~kaipai.document.lines.line_timings`)."""
    framed = {p.character for p in shot.composition}
    if shot.end is not None:  # on screen at either end of the shot
        framed |= {p.character for p in shot.end_state().composition}
    timings = line_timings(shot.dialogue, [durations.get(d.id, 0.0) for d in shot.dialogue], LEAD_IN, GAP)
    return [
        LinePlacement(line.id, line.speaker, start, end, line.delivery.value == "on" and line.speaker in framed)
        for line, (start, end) in zip(shot.dialogue, timings, strict=True)
    ]


def effective_duration(shot: Shot, durations: dict[str, float] | None) -> float:
    """The shot's length: manual as written; with dialogue, set by the real audio; else as planned.

    ``durations`` (line id → seconds) is None while the voices are not rendered yet; the
    document's estimate stands in until then. A shot that takes its dialogue from the clip's own
    sound asks for its planned length (the edit then follows the clip).
    """
    if shot.duration_source == "manual" or not shot.dialogue or durations is None or shot.generation.clip_dialogue:
        return shot.duration
    last = max(p.end for p in place_lines(shot, durations))
    return round(max(MIN_SHOT, last + TAIL), 3)


def cue_length(span: list[Shot], durations: dict[str, float] | None, fps: int) -> float:
    """Seconds a music cue runs in the edit: its shots' lengths, each snapped to whole frames as the cut does.

    ``durations`` (line id → seconds) covers the voices of the span; None before they exist.
    """
    total = 0.0
    for shot in span:
        own = None if durations is None else {d.id: durations.get(d.id, 0.0) for d in shot.dialogue}
        total += frames(effective_duration(shot, own), fps) / fps
    return round(total, 3)


def music_duration(length: float) -> float:
    """What is asked of the music backend: the cue's length rounded up to a whole second.

    The edit trims the bed to the cue and fades it out, so a line that grows by a fraction of a
    second does not pay for new music.
    """
    return float(max(1, math.ceil(length - 1e-6)))
