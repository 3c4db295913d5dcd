"""Takes: what the director reviews, circles, rejects and retakes — and what the edit uses.

Every render or retake adds takes; none is ever overwritten. Per node (one stage of one
shot, or one voice line) at most one take is *circled*: the edit uses circled takes, and
a circled take stays usable even when the document has changed since (it is then marked
``stale``) until a render or retake replaces it.

``circled_media`` is the contract with the edit (``kaipai.service.cut.make_cut``).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from kaipai.backends.base import BackendError
from kaipai.document.io import DocumentError, Problem
from kaipai.document.models import Document
from kaipai.document.shots import Shot
from kaipai.engine.db import Take, TakesDB, TakeStatus
from kaipai.engine.engine import Engine, EngineSettings
from kaipai.engine.events import EventSink
from kaipai.engine.graph import (
    LEAD_IN,
    TAIL,
    ambience_runs,
    effect_items,
    effective_duration,
    node_id,
    place_lines,
    sheet_nodes,
)
from kaipai.engine.report import NodeStatus
from kaipai.engine.stages import GENERATED_STAGES
from kaipai.engine.store import Store
from kaipai.project import ProjectPaths, load_document

__all__ = [
    "CircledMedia",
    "RetakeFailed",
    "TakeInfo",
    "VoiceMedia",
    "circle",
    "circled_media",
    "list_takes",
    "reject",
    "retake",
    "retake_with_note",
    "take_history",
]


class RetakeFailed(BackendError):
    """A retake could not be made; the message says why."""


class TakeInfo(BaseModel):
    """One take as the director sees it."""

    id: int
    shot: str
    stage: str
    item: str = Field(default="", description="Dialogue line id for voice takes.")
    node: str
    key: str
    status: TakeStatus
    seed: int
    backend: str
    model: str
    params: dict[str, Any]
    created: str
    seconds: float
    cost: float
    qc: dict[str, Any]
    media: Path = Field(description="The take's file in the project store.")
    duration: float | None = None
    stale: bool = Field(description="Made from inputs that have changed since (still usable if circled).")


class VoiceMedia(BaseModel):
    """A circled voice line and where it sits in its shot (no file when the clip's own sound speaks it)."""

    line: str
    speaker: str
    path: Path | None
    start: float
    end: float
    duration: float
    on_screen: bool


class EffectMedia(BaseModel):
    """One sound effect the shot asks for: its moment as written, and its circled take once rendered."""

    item: str
    sound: str
    at: float | None = None
    path: Path | None = None


class CircledMedia(BaseModel):
    """What the edit needs of one shot: its circled files and its length.

    ``picture`` is the lip-synced clip when there is one, else the clip; None means no
    clip exists yet and the edit shows a slate for ``duration`` seconds. ``music`` is set on
    the shot where a music cue starts, once its bed is rendered: a WAV at least as long as
    the cue (whole seconds), which the edit trims to the cue and fades out.
    """

    shot: str
    position: int
    duration: float
    keyframe: Path | None = None
    clip: Path | None = None
    lipsync: Path | None = None
    audio: Path | None = Field(
        default=None, description="The shot's dialogue track (voices placed), a WAV as long as the shot."
    )
    voices: list[VoiceMedia] = Field(default_factory=list)
    music: Path | None = Field(
        default=None, description="The music bed of the cue starting at this shot (circled take)."
    )
    stale: bool = Field(default=False, description="Some circled take was made from inputs that changed since.")
    ambience: Path | None = Field(
        default=None, description="The circled ambience bed of the scene that starts at this shot."
    )
    effects: list[EffectMedia] = Field(default_factory=list, description="The shot's sound effects, in order.")
    clip_sound: Path | None = Field(
        default=None, description="The clip, when it carries its own sound (a video model with native audio)."
    )
    band: float = Field(
        default=0.0, description="Share of the picture's height taken by an info bar a first-release previz baked in."
    )

    @property
    def picture(self) -> Path | None:
        return self.lipsync or self.clip


# --------------------------------------------------------------------------- helpers


def _problem(paths: ProjectPaths, field: str, message: str) -> DocumentError:
    return DocumentError([Problem(str(paths.document), 0, 0, field, message)])


def _owner(paths: ProjectPaths, doc: Document, ident: str) -> tuple[str, str | None]:
    """A shot id, or a character id standing for their reference sheet: (the shot holding the
    takes, the one node meant or None for the whole shot)."""
    if doc.shot(ident) is not None:
        return ident, None
    sheet = sheet_nodes(doc).get(ident)
    if sheet is not None:
        return sheet.shot, sheet.id
    if doc.character(ident) is not None:
        raise _problem(
            paths,
            "cast",
            f"{ident!r} has no reference sheet: "
            "they have reference images of their own, or appear in no shot's composition",
        )
    raise _problem(
        paths,
        "shots",
        f"no shot {ident!r} in the document (nor a character of that id); 'kaipai shots' lists the shots",
    )


def _info(take: Take, store: Store, current: dict[str, NodeStatus]) -> TakeInfo:
    st = current.get(take.node)
    stale = st is None or st.inputs_key is None or st.inputs_key != take.inputs_key
    return TakeInfo(
        id=take.id,
        shot=take.shot,
        stage=take.stage,
        item=take.item,
        node=take.node,
        key=take.key,
        status=take.status,
        seed=take.seed,
        backend=take.backend,
        model=take.model,
        params=take.params,
        created=take.created,
        seconds=take.seconds,
        cost=take.cost,
        qc=take.qc,
        media=store.path(take.media),
        duration=take.duration,
        stale=stale,
    )


def _plan(paths: ProjectPaths, doc: Document, db: TakesDB, shots: set[str] | None = None) -> dict[str, NodeStatus]:
    engine = Engine(paths, doc, db, shots=shots)
    try:
        statuses, _ = engine.plan()
    finally:
        engine.close()
    return {s.node: s for s in statuses}


# --------------------------------------------------------------------------- API


def list_takes(
    paths: ProjectPaths, shot_id: str, stage: str | None = None, *, current: dict[str, NodeStatus] | None = None
) -> list[TakeInfo]:
    """Every take of a shot (optionally one stage), oldest first; a character id lists their reference sheets.

    ``current``: the shot's node states when the caller already has them (the studio's shot page)."""
    doc = load_document(paths)
    shot_id, node = _owner(paths, doc, shot_id)
    with TakesDB(paths.database) as db:
        takes = [
            t
            for t in db.takes_for_shot(shot_id)
            if (stage is None or t.stage == stage) and (node is None or t.node == node)
        ]
        if current is None:
            current = _plan(paths, doc, db, {shot_id}) if takes else {}
    store = Store(paths.store)
    return [_info(t, store, current) for t in takes]


def _set_status(paths: ProjectPaths, shot_id: str, take_id: int, status: TakeStatus) -> TakeInfo:
    doc = load_document(paths)
    shot_id, _ = _owner(paths, doc, shot_id)
    with TakesDB(paths.database) as db:
        take = db.take(take_id)
        if take is None or take.shot != shot_id:
            known = ", ".join(str(t.id) for t in db.takes_for_shot(shot_id)) or "none yet"
            raise _problem(
                paths, "takes", f"shot {shot_id} has no take {take_id}; its takes: {known} ('kaipai takes {shot_id}')"
            )
        take = db.set_status(take_id, status)
        current = _plan(paths, doc, db, {shot_id})
    return _info(take, Store(paths.store), current)


def circle(paths: ProjectPaths, shot_id: str, take_id: int) -> TakeInfo:
    """Make a take its node's choice (the previous choice becomes pending). What depends on it
    becomes stale and is re-rendered by the next render."""
    return _set_status(paths, shot_id, take_id, "circled")


def reject(paths: ProjectPaths, shot_id: str, take_id: int) -> TakeInfo:
    """Reject a take: it is kept (nothing is deleted) but never used or reused again; when it was
    the circled one, the next render makes a new take with a fresh seed."""
    return _set_status(paths, shot_id, take_id, "rejected")


def retake(
    paths: ProjectPaths,
    shot_id: str,
    stage: str | None = None,
    seed: int | None = None,
    on_event: EventSink | None = None,
    *,
    settings: EngineSettings | None = None,
) -> list[TakeInfo]:
    """Make a new take of one stage of a shot (default: the clip) with a new seed, or ``seed``.

    For ``voice`` every line of the shot gets a new take. The new takes are pending — the
    director circles the one they prefer — unless the node had no circled take yet. Inputs
    the stage needs that are not rendered yet are rendered first. A seed that already has a
    take returns that take instead of paying for it again.
    """
    if seed is not None and not 0 <= seed <= 2**32 - 1:
        raise _problem(paths, "--seed", f"seed {seed} is out of range; use 0 to {2**32 - 1}")
    doc = load_document(paths)
    shot_id, node = _owner(paths, doc, shot_id)
    stage = "sheet" if node is not None else stage or "clip"
    if stage not in GENERATED_STAGES:
        raise _problem(paths, "--stage", f"cannot retake {stage!r}; choose from {', '.join(GENERATED_STAGES)}")
    with TakesDB(paths.database) as db:
        engine = Engine(paths, doc, db, settings=settings)
        targets = [
            n
            for n in engine.graph.values()
            if n.shot == shot_id and n.stage == stage and (node is None or n.id == node)
        ]
        if not targets:
            why = {
                "voice": "has no dialogue",
                "lipsync": "has no on-screen speaker",
                "music": "starts no music cue",
                "sheet": (
                    "is not where a character without reference images first appears "
                    "(retake a sheet by the character's id)"
                ),
                "end_keyframe": "does not say where it ends (end:)",
            }.get(stage, f"has no {stage}")
            raise _problem(paths, "--stage", f"shot {shot_id} {why}, so there is nothing to retake at that stage")
        forced = {n.id: seed if seed is not None else secrets.randbelow(2**32) for n in targets}
        needed: set[str] = set()
        todo = list(forced)
        while todo:
            for dep in engine.graph[todo.pop()].deps:
                if dep not in needed:
                    needed.add(dep)
                    todo.append(dep)
        summary = engine.render(
            shots={shot_id} | {engine.graph[n].shot for n in needed},
            stages={engine.graph[n].stage for n in needed} or {stage},
            forced=forced,
            on_event=on_event,
            circle_forced=None,
        )
        failed = {n: summary.failures[n] for n in forced if n in summary.failures}
        if failed:
            raise RetakeFailed("; ".join(f"{n}: {why}" for n, why in failed.items()))
        takes = []
        for n, s in forced.items():
            take = (
                db.take(summary.takes[n])
                if n in summary.takes
                else next((t for t in db.takes_for_shot(shot_id) if t.node == n and t.seed == s), None)
            )
            if take is not None:
                takes.append(take)
        current = _plan(paths, doc, db)
    store = Store(paths.store)
    return [_info(t, store, current) for t in takes]


def retake_with_note(
    paths: ProjectPaths,
    shot_id: str,
    note: str,
    stage: str | None = None,
    seed: int | None = None,
    on_event: EventSink | None = None,
) -> list[TakeInfo]:
    """Revise the shot from a director's note (a language-model planner rewrites it), then retake."""
    try:
        from kaipai.service.revise import revise_shot  # type: ignore[import-not-found]
    except ImportError:
        raise _problem(
            paths,
            "backends.planner",
            "a note needs a language-model planner to rewrite the shot; set backends.planner (e.g. use: openai) "
            "or edit the shot in kaipai.yaml and run 'kaipai retake' without --note",
        ) from None
    revise_shot(paths, shot_id, note)
    return retake(paths, shot_id, stage=stage, seed=seed, on_event=on_event)


def circled_media(paths: ProjectPaths) -> dict[str, CircledMedia]:
    """Per shot id, in film order: the circled files the edit uses and the shot's length.

    A stale circled take is still returned (flagged); a shot with no clip yet has ``clip=None``.
    """
    doc = load_document(paths)
    store = Store(paths.store)
    with TakesDB(paths.database) as db:
        circled = {t.node: t for t in db.all_takes() if t.status == "circled"}
        current = _plan(paths, doc, db) if circled else {}
    by_shot: dict[str, dict[str, Take]] = {}
    for n, t in circled.items():
        by_shot.setdefault(t.shot, {})[n] = t
    out: dict[str, CircledMedia] = {}
    bed_starts = {span[0].id for _, span in ambience_runs(doc)}
    for position, shot in enumerate(doc.ordered_shots()):
        mine = by_shot.get(shot.id, {})

        def take(stage: str, item: str = "", _mine: dict[str, Take] = mine, _sid: str = shot.id) -> Take | None:
            node = node_id(_sid, stage, item)
            # A node the film no longer has (a lip sync where the clip now comes lip-synced, or
            # must not be drawn on) leaves its old takes out of the edit.
            return _mine.get(node) if node in current else None

        def media(stage: str, item: str = "") -> Path | None:
            t = take(stage, item)
            return store.path(t.media) if t is not None else None

        clip = take("clip")
        if shot.generation.clip_dialogue:
            duration = float(clip.duration or shot.duration) if clip is not None else shot.duration
            voices = spoken_in_clip(shot, duration)
        else:
            duration, voices = _voices(shot, mine, store)
        picture = take("lipsync") or clip
        stale = any(_info(t, store, current).stale for t in mine.values())
        out[shot.id] = CircledMedia(
            shot=shot.id,
            position=position,
            duration=duration,
            keyframe=media("keyframe"),
            clip=media("clip"),
            lipsync=media("lipsync"),
            audio=media("shot_audio"),
            voices=voices,
            music=media("music"),
            stale=stale,
            ambience=media("ambience") if shot.id in bed_starts else None,
            effects=[EffectMedia(item=i, sound=s, at=at, path=media("sfx", i)) for i, s, at in effect_items(shot)],
            clip_sound=_own_sound(clip, store),
            band=_baked_band(picture or take("keyframe"), store),
        )
    return out


def _voices(shot: Shot, mine: dict[str, Take], store: Store) -> tuple[float, list[VoiceMedia]]:
    """The shot's length and its circled lines placed in it (the document's estimate until all are voiced)."""
    voice_takes = {line.id: mine.get(node_id(shot.id, "voice", line.id)) for line in shot.dialogue}
    durations = {lid: float(t.duration or 0.0) for lid, t in voice_takes.items() if t is not None}
    complete = bool(shot.dialogue) and len(durations) == len(shot.dialogue)
    voices = []
    for p in place_lines(shot, durations):
        t = voice_takes.get(p.line)
        if t is not None:
            voices.append(
                VoiceMedia(
                    line=p.line,
                    speaker=p.speaker,
                    path=store.path(t.media),
                    start=p.start,
                    end=p.end,
                    duration=p.end - p.start,
                    on_screen=p.on_screen,
                )
            )
    return effective_duration(shot, durations if complete else None), voices


def spoken_in_clip(shot: Shot, duration: float) -> list[VoiceMedia]:
    """Where the lines of a shot that takes its dialogue from the clip's own sound are shown as subtitles:
    one after another across the clip, each for a share of it as long as its text."""
    span = max(0.1, duration - LEAD_IN - TAIL)
    total = sum(len(d.text) for d in shot.dialogue) or 1
    framed = {p.character for p in shot.composition}
    out, t = [], LEAD_IN
    for d in shot.dialogue:
        length = span * len(d.text) / total
        out.append(
            VoiceMedia(
                line=d.id,
                speaker=d.speaker,
                path=None,
                start=round(t, 4),
                end=round(t + length, 4),
                duration=round(length, 4),
                on_screen=d.delivery.value == "on" and d.speaker in framed,
            )
        )
        t += length
    return out


def _own_sound(clip: Take | None, store: Store) -> Path | None:
    """The clip's file when the model gave it sound (its result said so and the file has a sound stream)."""
    if clip is None or not clip.metadata.get("audio"):
        return None
    from kaipai.post.probe import has_audio

    path = store.path(clip.media)
    return path if has_audio(path) else None


def _baked_band(take: Take | None, store: Store) -> float:
    if take is None or take.backend != "previz":
        return 0.0
    from kaipai.previz.draw import baked_band

    return baked_band(str(store.path(take.media)))


def character_sheets(paths: ProjectPaths) -> dict[str, Path]:
    """Each character's circled reference sheet (character id → image)."""
    doc = load_document(paths)
    wanted = {n.id: cid for cid, n in sheet_nodes(doc).items()}
    if not wanted or not paths.database.exists():
        return {}
    store = Store(paths.store)
    with TakesDB(paths.database) as db:
        return {
            wanted[t.node]: store.path(t.media) for t in db.all_takes() if t.node in wanted and t.status == "circled"
        }


def take_history(
    paths: ProjectPaths, shots: set[str] | None = None, *, current: dict[str, NodeStatus] | None = None
) -> list[TakeInfo]:
    """Every take of the project (for the studio's review page), or of ``shots``.

    ``current``: those shots' node states when the caller already has them (the storyboard)."""
    doc = load_document(paths)
    with TakesDB(paths.database) as db:
        takes = db.all_takes() if shots is None else db.takes_for_shots(shots)
        if current is None:
            current = _plan(paths, doc, db, shots) if takes else {}
    store = Store(paths.store)
    return [_info(t, store, current) for t in takes]


def spent(paths: ProjectPaths) -> float:
    """What every take of the project cost."""
    with TakesDB(paths.database) as db:
        return sum(t.cost for t in db.all_takes())
