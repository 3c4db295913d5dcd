"""Turning a shot into backend requests, and a request into what its key depends on.

Keys must change when, and only when, the output could change. So a request is not
hashed whole: a keyframe depends on the shot's visual fields, its scene's place and time
and its characters' looks — never on the dialogue — and a voice depends on the line and
the speaker's voice, never on the style bible. ``key_params`` spells that out per type.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from kaipai.backends.base import (
    CapabilitySheet,
    ImageRequest,
    LipsyncRequest,
    MusicRequest,
    Request,
    SoundRequest,
    SpeechRequest,
    VideoRequest,
)
from kaipai.document.backend_choice import BackendChoice
from kaipai.document.cast import Character
from kaipai.document.models import Document
from kaipai.document.scenes import Scene
from kaipai.document.shots import Shot
from kaipai.engine.graph import CROSSFADE, Node, cue_length, effect_items, music_duration
from kaipai.engine.references import shot_references
from kaipai.planning.continuity import continuity_clause

#: The shot fields a picture depends on (dialogue, duration and notes are not among them).
SHOT_VISUAL = frozenset(
    {
        "id",
        "kind",
        "size",
        "angle",
        "move",
        "lens",
        "composition",
        "description",
        "action",
        "lighting",
        "image_prompt",
        "video_prompt",
        "props",
        "caption",
    }
)
SCENE_VISUAL = frozenset({"id", "heading", "int_ext", "time_of_day", "location"})

_SIZE_WORDS = {
    "ECU": "extreme close-up",
    "CU": "close-up",
    "MCU": "medium close-up",
    "MS": "medium shot",
    "MLS": "medium long shot",
    "LS": "long shot",
    "WS": "wide shot",
    "EWS": "extreme wide shot",
}


def _join(parts: list[str]) -> str:
    return ", ".join(p.strip() for p in parts if p and p.strip())


def framed_characters(doc: Document, shot: Shot) -> list[Character]:
    found = [doc.character(p.character) for p in shot.composition]
    return [c for c in found if c is not None]


def shot_characters(doc: Document, shot: Shot) -> list[Character]:
    """Everyone in frame at the start of the shot or at its end, once each."""
    ends = shot.end.composition if shot.end is not None and shot.end.composition is not None else []
    found = [doc.character(cid) for cid in dict.fromkeys(p.character for p in [*shot.composition, *ends])]
    return [c for c in found if c is not None]


def keyframe_prompt(doc: Document, shot: Shot) -> str:
    """The shot's ``image_prompt`` when written, else one derived from the shot and the style bible; then
    what the scene's continuity ledger says the framed characters wear and hold, where the prompt is silent."""
    if shot.image_prompt:
        return _join([shot.image_prompt, continuity_clause(doc, shot), shot.generation.extra_prompt])
    people = [_join([c.name, c.description, c.wardrobe]) for c in framed_characters(doc, shot)]
    scene = doc.scene(shot.scene)
    place = ""
    if scene is not None and scene.location:
        loc = next((x for x in doc.cast.locations if x.id == scene.location), None)
        place = _join([loc.name, loc.description]) if loc else ""
    style = doc.style
    return _join(
        [
            f"{_SIZE_WORDS.get(shot.size.value, shot.size.value)}, {shot.angle.value} angle",
            shot.description,
            "; ".join(people),
            continuity_clause(doc, shot),
            place,
            shot.lighting,
            style.visual_style,
            style.lighting,
            style.lens,
            shot.generation.extra_prompt,
        ]
    )


def clip_prompt(doc: Document, shot: Shot) -> str:
    """The shot's ``video_prompt`` when written, else the action, the camera move and the look."""
    if shot.video_prompt:
        return _join([shot.video_prompt, shot.generation.extra_prompt])
    move = "" if shot.move.value == "static" else f"camera {shot.move.value.replace('_', ' ')}"
    ending = ""
    if shot.end is not None:  # only a shot that says where it ends: every other prompt stays as it was
        last = shot.end_state()
        people = ", ".join(c.name for c in framed_characters(doc, last)) or "nobody in frame"
        ending = f"ending on: {_join([last.description, people])}"
    return _join(
        [
            shot.action or shot.description,
            move,
            ending,
            shot.lighting,
            doc.style.visual_style,
            spoken_lines(doc, shot) if shot.generation.clip_dialogue else "",
            shot.generation.extra_prompt,
        ]
    )


def spoken_lines(doc: Document, shot: Shot) -> str:
    """The shot's lines as a video model with its own sound is asked to speak them: 'Lin says: "…"'."""
    said = []
    for line in shot.dialogue:
        who = doc.character(line.speaker)
        name = who.name if who is not None else line.speaker
        how = f" ({line.parenthetical})" if line.parenthetical else ""
        said.append(f'{name} says{how}: "{line.text}"')
    return "; ".join(said)


def speech_choice(doc: Document, shot: Shot, character: Character | None) -> BackendChoice:
    """Shot override first, then the character's own voice backend, then the project's default."""
    if "speech" in shot.generation.backends:
        return shot.generation.backends["speech"]
    if character is not None and character.voice.backend:
        return BackendChoice(use=character.voice.backend)
    return doc.backend_for("speech")


def speech_request(doc: Document, shot: Shot, line_id: str, seed: int, choice: BackendChoice) -> SpeechRequest:
    line = next(d for d in shot.dialogue if d.id == line_id)
    return SpeechRequest(
        text=line.text,
        language=doc.project.language.value,
        character=doc.character(line.speaker),
        speaker=line.speaker,
        parenthetical=line.parenthetical,
        cast=list(doc.cast.characters),
        seed=seed,
        model=choice.model,
        options=dict(choice.options),
    )


def keyframe_request(
    doc: Document,
    shot: Shot,
    seed: int,
    choice: BackendChoice,
    resolve: Callable[[str], Path],
    sheets: dict[str, Path] | None = None,
    references: list[Path] | None = None,
    purpose: Literal["keyframe", "last_frame"] = "keyframe",
) -> ImageRequest:
    """``resolve`` turns a project-relative reference path into an absolute one (refusing escapes);
    ``sheets`` are the circled reference sheets of the framed characters who have no pictures of their own.
    ``references`` are the chosen ones (:mod:`kaipai.engine.references`); every one of the shot's when None.
    A ``last_frame`` is the keyframe of the shot's end (pass ``shot.end_state()``)."""
    if references is None:
        chosen = shot_references(doc, shot, [shot.composition], sheets or {}, resolve, limit=1_000)
        references = [r.path for r in chosen]
    w, h = doc.project.resolution
    return ImageRequest(
        prompt=keyframe_prompt(doc, shot),
        negative_prompt=doc.style.negative_prompt,
        width=w,
        height=h,
        reference_images=references,
        purpose=purpose,
        shot=shot,
        scene=doc.scene(shot.scene),
        characters=framed_characters(doc, shot),
        style=doc.style,
        language=doc.project.language.value,
        seed=seed,
        model=choice.model,
        options=dict(choice.options),
    )


def sheet_request(doc: Document, character: Character, seed: int, choice: BackendChoice) -> ImageRequest:
    """A character's reference sheet: front, side and back on a neutral background, in the film's look."""
    w, h = doc.project.resolution
    return ImageRequest(
        prompt=_join(
            [
                f"character reference sheet of {character.name}",
                character.description,
                character.wardrobe,
                doc.style.visual_style,
                "full body, neutral grey background, even light",
            ]
        ),
        negative_prompt=doc.style.negative_prompt,
        width=w,
        height=h,
        purpose="reference_sheet",
        characters=[character],
        style=doc.style,
        language=doc.project.language.value,
        seed=seed,
        model=choice.model,
        options=dict(choice.options),
    )


def clip_request(
    doc: Document,
    shot: Shot,
    keyframe: Path,
    duration: float,
    seed: int,
    choice: BackendChoice,
    *,
    last_image: Path | None = None,
    references: list[Path] | None = None,
    audio: Path | None = None,
) -> VideoRequest:
    """The clip from its keyframe; with the end keyframe (``last_image``) for a shot that says where it
    ends, the chosen ``references`` for models that take them, and the dialogue (``audio``) for models
    that animate speech themselves."""
    w, h = doc.project.resolution
    return VideoRequest(
        prompt=clip_prompt(doc, shot),
        negative_prompt=doc.style.negative_prompt,
        image=keyframe,
        last_image=last_image,
        reference_images=references or [],
        audio=audio,
        width=w,
        height=h,
        fps=doc.project.fps,
        duration=duration,
        shot=shot,
        scene=doc.scene(shot.scene),
        characters=shot_characters(doc, shot),
        style=doc.style,
        language=doc.project.language.value,
        seed=seed,
        model=choice.model,
        options=dict(choice.options),
    )


def lipsync_request(
    doc: Document,
    shot: Shot,
    clip: Path,
    audio: Path,
    speakers: list[tuple[str, float, float]],
    seed: int,
    choice: BackendChoice,
    seconds: tuple[float | None, float | None] = (None, None),
) -> LipsyncRequest:
    """``seconds`` are the lengths of the clip and of the dialogue track, for the sheet's limits."""
    return LipsyncRequest(
        video=clip,
        audio=audio,
        speakers=speakers,
        video_seconds=seconds[0],
        audio_seconds=seconds[1],
        shot=shot,
        characters=framed_characters(doc, shot),
        fps=doc.project.fps,
        seed=seed,
        model=choice.model,
        options=dict(choice.options),
    )


def music_request(shot: Shot, duration: float, seed: int, choice: BackendChoice) -> MusicRequest:
    """The cue as the director wrote it: music never depends on the picture's style bible."""
    return MusicRequest(
        prompt=shot.music, duration=duration, seed=seed, model=choice.model, options=dict(choice.options)
    )


def bed_seconds(sheet: CapabilitySheet, length: float) -> float:
    """A music cue's or an ambience bed's length in whole seconds, within what the backend makes (the edit
    trims music and loops ambience)."""
    seconds = max(music_duration(length), sheet.min_duration)
    return min(seconds, sheet.max_duration) if sheet.max_duration is not None else seconds


def sound_request(
    doc: Document,
    node: Node,
    shots: dict[str, Shot],
    spoken: dict[str, float],
    clip: Path | None,
    sheet: CapabilitySheet,
    choice: BackendChoice,
) -> SoundRequest:
    """An ambience or sfx node's request. ``spoken`` (line id → seconds) sizes a bed to its scene, one
    crossfade longer; an effect gets ``clip`` only from a backend that makes sound from the picture."""
    shot = shots[node.shot]
    if node.stage == "ambience":
        scene = doc.scene(shot.scene)
        assert scene is not None
        length = CROSSFADE + cue_length([shots[s] for s in node.span], spoken, doc.project.fps)
        return ambience_request(doc, scene, bed_seconds(sheet, length), 0, choice)
    sound = next(s for item, s, _ in effect_items(shot) if item == node.item)
    return effect_request(doc, sound, clip if sheet.video_input else None, 0, choice)


def ambience_request(doc: Document, scene: Scene, duration: float, seed: int, choice: BackendChoice) -> SoundRequest:
    """The scene's bed as the document describes it; made to loop, so the edit can run it as long as the scene."""
    return SoundRequest(
        prompt=scene.ambience or "",
        kind="ambience",
        duration=duration,
        language=doc.project.language.value,
        seed=seed,
        model=choice.model,
        options=dict(choice.options),
    )


def effect_request(doc: Document, sound: str, clip: Path | None, seed: int, choice: BackendChoice) -> SoundRequest:
    """One sound effect at its natural length; ``clip`` for backends that make sound from the picture."""
    return SoundRequest(
        prompt=sound,
        kind="effect",
        video=clip,
        language=doc.project.language.value,
        seed=seed,
        model=choice.model,
        options=dict(choice.options),
    )


# --------------------------------------------------------------------------- key material

_NOT_PARAMS = {
    "seed",
    "model",
    "shot",
    "scene",
    "characters",
    "reference_images",
    "image",
    "last_image",
    "video",
    "audio",
    "character",
    "cast",
    "clip_source",
}
#: What a clip's key leaves out besides: its look and words come with its keyframes' keys.
_NOT_CLIP_PARAMS = {"style", "language"}
#: What a lip sync's key leaves out besides: the lengths of its inputs, which come with their keys.
_NOT_LIPSYNC_PARAMS = {"video_seconds", "audio_seconds"}


def key_params(request: Request, file_digest: Callable[[Path], str], resolve: Callable[[str], Path]) -> dict[str, Any]:
    """Everything in a request that decides its output, except seed, model and upstream files.

    Upstream artifacts enter the key as their own keys (the ``inputs``), not here; files
    the director supplies (reference images, voice samples) enter by content hash.
    """
    exclude = set(_NOT_PARAMS)
    if isinstance(request, VideoRequest):
        exclude |= _NOT_CLIP_PARAMS
    if isinstance(request, LipsyncRequest):
        exclude |= _NOT_LIPSYNC_PARAMS
    params: dict[str, Any] = request.model_dump(mode="json", exclude=exclude)
    params["type"] = type(request).__name__
    if isinstance(request, (ImageRequest, VideoRequest, LipsyncRequest)) and request.shot is not None:
        params["shot"] = request.shot.model_dump(mode="json", include=set(SHOT_VISUAL))
    if isinstance(request, ImageRequest):
        if request.scene is not None:
            params["scene"] = request.scene.model_dump(mode="json", include=set(SCENE_VISUAL))
        params["characters"] = [
            c.model_dump(mode="json", include={"id", "name", "description", "wardrobe", "color"})
            for c in request.characters
        ]
        params["references"] = [file_digest(p) for p in request.reference_images]
    if isinstance(request, VideoRequest) and request.reference_images:  # absent without: older keys stay
        params["references"] = [file_digest(p) for p in request.reference_images]
    if isinstance(request, LipsyncRequest):
        params["characters"] = [c.id for c in request.characters]
    if isinstance(request, SpeechRequest) and request.character is not None:
        voice = request.character.voice
        params["voice"] = voice.model_dump(mode="json", exclude={"sample"})
        params["voice_sample"] = file_digest(resolve(voice.sample)) if voice.sample else ""
    return params
