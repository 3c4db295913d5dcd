"""What each studio page shows, as JSON, assembled from the service layer (never from files directly)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kaipai.document.models import Document
from kaipai.document.problems import DocumentError, Problem
from kaipai.document.shots import Angle, CameraMove, Delivery, Shot, ShotKind, ShotSize, Transition
from kaipai.engine.stages import GENERATED_STAGES, STAGES
from kaipai.project import ProjectPaths, load_document
from kaipai.qc.report import QC_STAGES, stored
from kaipai.service.qc import ShotQC, shots_qc
from kaipai.service.render import NodeStatus, status
from kaipai.service.takes import TakeInfo, character_sheets, list_takes, spent, take_history

#: A shot's status is its worst node's; "blocked" reads as failed to the director, with the reason.
SEVERITY = ("current", "missing", "stale", "blocked", "failed")
IMAGE = {".png", ".jpg", ".jpeg", ".webp", ".gif"}
VIDEO = {".mp4", ".webm", ".mov", ".m4v"}
AUDIO = {".wav", ".mp3", ".m4a", ".ogg", ".flac", ".aac"}
SUBTITLES = {".srt", ".vtt", ".ass"}
MEDIA_SUFFIXES = IMAGE | VIDEO | AUDIO | SUBTITLES | {".pdf"}


def media_url(paths: ProjectPaths, path: Path | None) -> str | None:
    """The studio URL of a file inside the project (None for anything outside it)."""
    if path is None:
        return None
    try:
        rel = Path(path).resolve().relative_to(paths.root.resolve())
    except ValueError:
        return None
    return "/media/" + rel.as_posix()


def media_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    return "image" if suffix in IMAGE else "video" if suffix in VIDEO else "audio" if suffix in AUDIO else "file"


def enums() -> dict[str, list[str]]:
    return {
        "size": [e.value for e in ShotSize],
        "angle": [e.value for e in Angle],
        "move": [e.value for e in CameraMove],
        "kind": [e.value for e in ShotKind],
        "transition": [e.value for e in Transition],
        "delivery": [e.value for e in Delivery],
        "stages": list(GENERATED_STAGES),
    }


def _take_qc(qc: dict[str, Any]) -> dict[str, Any]:
    """A take's quality-control verdict as the studio shows it (a badge and the reasons)."""
    report = stored(qc)
    if report is None:
        return {"verdict": "unchecked", "score": None, "reasons": [], "scores": {}}
    return {
        "verdict": "passed" if report.passed else "failed",
        "score": report.score,
        "reasons": report.reasons,
        "scores": {c.name: c.score for c in report.checks},
    }


def _shot_qc(found: ShotQC | None) -> dict[str, Any]:
    if found is None:
        return {"verdict": "missing", "score": None, "reasons": []}
    return {"verdict": found.verdict, "score": found.score, "reasons": found.reasons}


def _take(paths: ProjectPaths, t: TakeInfo) -> dict[str, Any]:
    data = t.model_dump(mode="json", exclude={"media", "params", "qc"})
    data["qc"] = _take_qc(t.qc) if t.stage in QC_STAGES else {"verdict": "missing", "score": None, "reasons": []}
    data["url"] = media_url(paths, t.media)
    data["media_kind"] = media_kind(t.media)
    data["prompt"] = str(t.params.get("prompt") or t.params.get("text") or "")
    data["params"] = {k: v for k, v in t.params.items() if isinstance(v, (str, int, float, bool))}
    return data


def _shot_state(nodes: list[NodeStatus]) -> tuple[str, str]:
    if not nodes:
        return "missing", ""
    worst = max(nodes, key=lambda n: SEVERITY.index(n.state))
    return worst.state, worst.reason


def _shot_card(
    paths: ProjectPaths,
    doc: Document,
    shot: Shot,
    nodes: list[NodeStatus],
    takes: dict[int, TakeInfo],
    qc: ShotQC | None = None,
) -> dict[str, Any]:
    state, reason = _shot_state(nodes)
    picture = {}
    for stage in ("keyframe", "clip", "lipsync"):
        node = next((n for n in nodes if n.stage == stage), None)
        take = takes.get(node.take_id) if node and node.take_id is not None else None
        picture[stage] = media_url(paths, take.media) if take else None
    data = shot.model_dump(mode="json", exclude={"generation"})
    scene = doc.scene(shot.scene)
    data.update(
        status=state,
        reason=reason,
        stages={
            st: _shot_state([n for n in nodes if n.stage == st])[0]
            for st in STAGES
            if any(n.stage == st for n in nodes)
        },
        keyframe=picture["keyframe"],
        clip=picture["lipsync"] or picture["clip"],
        scene_heading=scene.heading if scene else shot.scene,
        speakers={d.speaker: _name(doc, d.speaker) for d in shot.dialogue},
        qc=_shot_qc(qc),
    )
    return data


def _name(doc: Document, speaker: str) -> str:
    character = doc.character(speaker)
    return character.name if character else speaker


def storyboard(
    paths: ProjectPaths,
    *,
    offset: int = 0,
    limit: int | None = None,
    query: str = "",
    scene: str = "",
    totals: bool = False,
) -> dict[str, Any]:
    """Shots in film order with each shot's current picture and status, a page at a time.

    ``query`` keeps the shots whose id, scene, description or dialogue contain it (any case);
    ``scene`` keeps one scene. ``limit`` None lists every shot (a short film); a feature film's
    studio asks for one page, and only that page's shots are resolved. ``index`` lists every
    scene with where its first matching shot sits, for jumping; ``total`` counts the matches.
    ``spent`` and ``estimate`` (the whole film) come when every shot is listed, or with ``totals``.
    """
    doc = load_document(paths)
    headings = {s.id: s.heading for s in doc.scenes}
    matching = [s for s in doc.ordered_shots() if (not scene or s.scene == scene) and _matches(s, query, headings)]
    page = matching[offset : offset + limit] if limit is not None else matching[offset:]
    whole = limit is None and not offset and not query and not scene
    scope = None if whole else {s.id for s in page}  # what is resolved: the whole film, or this page's shots
    resolve = whole or bool(scope)
    nodes = status(paths, shots=scope) if resolve else []
    current = {n.node: n for n in nodes}  # the states just worked out
    takes = {t.id: t for t in take_history(paths, shots=scope, current=current)} if resolve else {}
    by_shot: dict[str, list[NodeStatus]] = {}
    for n in nodes:
        by_shot.setdefault(n.shot, []).append(n)
    index: dict[str, dict[str, Any]] = {}
    for position, s in enumerate(matching):
        entry = index.setdefault(s.scene, {"id": s.scene, "heading": headings.get(s.scene, ""), "first": position})
        entry["shots"] = entry.get("shots", 0) + 1
    qc = {s.shot: s for s in shots_qc(paths, shots=scope)} if resolve else {}
    data: dict[str, Any] = {
        "project": doc.project.model_dump(mode="json"),
        "scenes": [{"id": s.id, "heading": s.heading} for s in doc.scenes],
        "characters": [{"id": c.id, "name": c.name, "color": c.color} for c in doc.cast.characters],
        "shots": [_shot_card(paths, doc, s, by_shot.get(s.id, []), takes, qc.get(s.id)) for s in page],
        "enums": enums(),
        "total": len(matching),
        "offset": offset,
        "index": list(index.values()),
    }
    if whole:
        data["spent"] = round(sum(t.cost for t in takes.values()), 4)
        data["estimate"] = round(sum(n.est_cost for n in nodes if n.will_run), 4)
    elif totals:
        data["spent"] = round(spent(paths), 4)
        data["estimate"] = round(sum(n.est_cost for n in status(paths) if n.will_run), 4)
    return data


def _matches(shot: Shot, query: str, headings: dict[str, str]) -> bool:
    if not query:
        return True
    needle = query.casefold()
    texts = [shot.id, shot.scene, headings.get(shot.scene, ""), shot.description, *(d.text for d in shot.dialogue)]
    return any(needle in t.casefold() for t in texts)


def shot_page(paths: ProjectPaths, shot_id: str) -> dict[str, Any]:
    """One shot and all its takes, stage by stage, oldest first."""
    doc = load_document(paths)
    shot = doc.shot(shot_id)
    if shot is None:
        list_takes(paths, shot_id)  # refuses an unknown shot, as every other page does
        message = f"{shot_id!r} is a character, not a shot: their reference sheet is on the cast page"
        raise DocumentError([Problem(str(paths.document), 0, 0, "shots", message)])
    nodes = [n for n in status(paths, shots={shot_id}) if n.shot == shot_id]
    takes = list_takes(paths, shot_id, current={n.node: n for n in nodes})  # the states just worked out
    (qc,) = shots_qc(paths, shot_id)
    card = _shot_card(paths, doc, shot, nodes, {t.id: t for t in takes}, qc)
    stages = [
        {
            "stage": st,
            "state": _shot_state([n for n in nodes if n.stage == st])[0],
            "takes": [_take(paths, t) for t in takes if t.stage == st],
        }
        for st in STAGES
        if any(n.stage == st for n in nodes)
    ]
    return {
        "shot": card,
        "stages": stages,
        "enums": enums(),
        "characters": [{"id": c.id, "name": c.name} for c in doc.cast.characters],
    }


def cast_page(paths: ProjectPaths) -> dict[str, Any]:
    """Characters with their reference sheets and a voice preview (their circled voice takes), and the style bible."""
    doc = load_document(paths)
    lines = {d.id: (d.speaker, d.text) for s in doc.shots for d in s.dialogue}
    voices: dict[str, list[dict[str, Any]]] = {}
    for t in take_history(paths):
        if t.stage == "voice" and t.status == "circled" and t.item in lines:
            speaker, text = lines[t.item]
            voices.setdefault(speaker, []).append(
                {"line": t.item, "text": text, "url": media_url(paths, t.media), "stale": t.stale}
            )
    sheets = character_sheets(paths)
    characters = []
    for c in doc.cast.characters:
        data = c.model_dump(mode="json")
        data["references"] = [media_url(paths, paths.root / r) for r in c.reference_images] or (
            [media_url(paths, sheets[c.id])] if c.id in sheets else []
        )
        data["voices"] = voices.get(c.id, [])
        characters.append(data)
    places = [
        {**loc.model_dump(mode="json"), "references": [media_url(paths, paths.root / r) for r in loc.reference_images]}
        for loc in doc.cast.locations
    ]
    return {
        "project": doc.project.model_dump(mode="json"),
        "characters": characters,
        "locations": places,
        "style": doc.style.model_dump(mode="json"),
    }
