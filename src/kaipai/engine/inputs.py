"""What a node is made from: its request, built from the document and its upstream takes.

Kept apart from the :class:`~kaipai.engine.engine.Engine`, which snaps and checks the request,
keys it and runs it. Here each stage gathers what its backend is given: the circled reference
sheets and the director's pictures chosen within the model's limit, the keyframe and, for a
shot that says where it ends, the end keyframe; the dialogue for a model that animates it;
the lengths a lip-sync model's limits are checked against. The references chosen are returned
as provenance, so a take says whom each picture showed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kaipai.backends.base import CapabilitySheet, Request, UnsupportedRequest
from kaipai.document.backend_choice import BackendChoice
from kaipai.document.models import Document
from kaipai.document.shots import Shot
from kaipai.engine import requests as rq
from kaipai.engine.db import Take
from kaipai.engine.graph import Node, cue_length, effective_duration, node_id
from kaipai.engine.jobs import speech_seconds
from kaipai.engine.references import Reference, shot_references


@dataclass
class Built:
    """A node's request, the media seconds it is priced on, and what to record about its inputs."""

    request: Request
    media_seconds: float
    provenance: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Sources:
    """Where a request's material comes from: the document, the store and the project folder."""

    doc: Document
    shots: dict[str, Shot]
    media: Callable[[str], Path]  # a take's media digest -> its file in the store
    resolve: Callable[[str], Path]  # a project-relative path -> a file inside the project
    digest: Callable[[Path], str]  # a file -> its content hash
    video_sheet: Callable[[Shot], CapabilitySheet]  # the sheet of the video model a shot's clip is made with


def end_frame_refusal(shot: Shot, video: CapabilitySheet, choice: BackendChoice) -> str | None:
    """Why the shot's end cannot be honoured by its video model, or None (no end, or a model that takes it)."""
    if shot.end is None or video.first_last_frame:
        return None
    model = choice.use + (f":{video.model or choice.model}" if (video.model or choice.model) else "")
    return (
        f"shot {shot.id} says where it ends (end:), and {model} cannot take a last frame: choose a video model "
        "that takes first and last frames for this shot (generation.backends.video) or remove its end"
    )


def build(
    src: Sources, node: Node, shot: Shot, upstream: dict[str, Take], choice: BackendChoice, sheet: CapabilitySheet
) -> Built:
    """The node's request with seed 0 (the engine sets the seed once the key is known)."""
    doc = src.doc
    if node.stage == "voice":
        request = rq.speech_request(doc, shot, node.item, 0, choice)
        return Built(request, speech_seconds(request.text))
    if node.stage == "sheet":
        character = doc.character(node.item)
        assert character is not None
        return Built(rq.sheet_request(doc, character, 0, choice), shot.duration)
    sheets = {t.item: src.media(t.media) for t in upstream.values() if t.stage == "sheet"}
    if node.stage == "keyframe":
        refs = shot_references(doc, shot, [shot.composition], sheets, src.resolve, sheet.max_reference_images)
        request = rq.keyframe_request(doc, shot, 0, choice, src.resolve, references=[r.path for r in refs])
        return Built(request, shot.duration, _provenance(src, refs))
    if node.stage == "end_keyframe":
        video_choice = doc.backend_for("video", shot)
        refusal = end_frame_refusal(shot, src.video_sheet(shot), video_choice)
        if refusal:
            raise UnsupportedRequest(refusal)
        start = upstream[node_id(shot.id, "keyframe")]
        lead = [Reference(src.media(start.media), "start keyframe", "keyframe")]
        last = shot.end_state()
        refs = shot_references(doc, last, [last.composition], sheets, src.resolve, sheet.max_reference_images, lead)
        request = rq.keyframe_request(
            doc, last, 0, choice, src.resolve, references=[r.path for r in refs], purpose="last_frame"
        )
        return Built(request, shot.duration, _provenance(src, refs))
    if node.stage == "music":
        length = cue_length(
            [src.shots[sid] for sid in node.span],
            {t.item: float(t.duration or 0.0) for t in upstream.values()},
            doc.project.fps,
        )
        request = rq.music_request(shot, rq.bed_seconds(sheet, length), 0, choice)
        return Built(request, request.duration)
    if node.stage == "clip":
        return _clip(src, node, shot, upstream, sheet, choice, sheets)
    if node.stage in ("ambience", "sfx"):
        spoken = {t.item: float(t.duration or 0.0) for d, t in upstream.items() if "/voice/" in d}
        clip = src.media(upstream[node.deps[0]].media) if node.stage == "sfx" else None
        sound = rq.sound_request(doc, node, src.shots, spoken, clip, sheet, choice)
        return Built(sound, sound.duration or sheet.max_duration or 4.0)
    clip, audio = upstream[node.deps[0]], upstream[node.deps[1]]  # lipsync
    speakers = [(line[1], float(line[2]), float(line[3])) for line in audio.params.get("lines", []) if line[4]]
    request = rq.lipsync_request(
        doc,
        shot,
        src.media(clip.media),
        src.media(audio.media),
        speakers,
        0,
        choice,
        seconds=(clip.duration, audio.duration),
    ).model_copy(update={"clip_source": dict(clip.metadata)})  # where a lip-sync service finds the clip
    return Built(request, float(audio.duration or shot.duration))


def _clip(
    src: Sources,
    node: Node,
    shot: Shot,
    upstream: dict[str, Take],
    sheet: CapabilitySheet,
    choice: BackendChoice,
    sheets: dict[str, Path],
) -> Built:
    doc = src.doc
    voices = {t.item: float(t.duration or 0.0) for d, t in upstream.items() if "/voice/" in d}
    duration = effective_duration(shot, voices if shot.dialogue else None)
    keyframe = src.media(upstream[node_id(shot.id, "keyframe")].media)
    last_image = None
    if shot.end is not None:
        refusal = end_frame_refusal(shot, sheet, choice)
        if refusal:
            raise UnsupportedRequest(refusal)
        last_image = src.media(upstream[node_id(shot.id, "end_keyframe")].media)
    framings = [shot.composition, shot.end_state().composition]
    refs = shot_references(doc, shot, framings, sheets, src.resolve, sheet.max_reference_images)
    audio_node = node_id(shot.id, "shot_audio")
    audio = src.media(upstream[audio_node].media) if audio_node in node.deps else None
    request = rq.clip_request(
        doc,
        shot,
        keyframe,
        duration,
        0,
        choice,
        last_image=last_image,
        references=[r.path for r in refs],
        audio=audio,
    )
    return Built(request, duration, _provenance(src, refs))


def _provenance(src: Sources, refs: list[Reference]) -> dict[str, Any]:
    return {"references": [r.provenance(src.digest(r.path)) for r in refs]} if refs else {}
