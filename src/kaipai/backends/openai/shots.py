"""From the model's shot plan to document shots, and the rules a plan must keep.

The dialogue itself never passes through the model: the scene's lines (ids, speakers,
text, delivery) come from the screenplay as the rules planner reads it, the model only
says which shot holds which numbered line. So a plan cannot reword, drop or invent a line
without being caught here.
"""

from __future__ import annotations

from typing import Any

from kaipai.backends.openai.replies import RevisedShot, ScenePlan, ShotFields
from kaipai.document.models import Document
from kaipai.document.scenes import Scene
from kaipai.document.shots import DialogueLine, Placement, Shot
from kaipai.planning.timing import dialogue_seconds

MAX_SHOT_SECONDS = 60.0


def scene_lines(document: Document, scene: Scene) -> list[DialogueLine]:
    """The scene's dialogue lines, in order, exactly as the offline planner reads them from the script."""
    from kaipai.planning.rules import plan_scene

    return [line for shot in plan_scene(document, scene) for line in shot.dialogue]


def _field_problems(where: str, fields: ShotFields, document: Document) -> list[str]:
    problems = []
    cast = {c.id for c in document.cast.characters}
    for j, p in enumerate(fields.composition):
        if p.character not in cast:
            problems.append(
                f"{where}.composition.{j}.character: {p.character!r} is not a cast id "
                f"({', '.join(sorted(cast)) or 'no cast'})"
            )
    if not 0 < fields.duration <= MAX_SHOT_SECONDS:
        problems.append(
            f"{where}.duration: {fields.duration:g} s; give a length between 0 and {MAX_SHOT_SECONDS:g} seconds"
        )
    if not fields.image_prompt.strip():
        problems.append(f"{where}.image_prompt: empty; describe the keyframe")
    if not fields.video_prompt.strip():
        problems.append(f"{where}.video_prompt: empty; describe the motion")
    return problems


def plan_problems(plan: ScenePlan, document: Document, lines: list[DialogueLine]) -> list[str]:
    """Everything wrong with a scene plan: unknown characters, lines lost, doubled or out of order."""
    problems = []
    if not plan.shots:
        problems.append("shots: plan at least one shot")
    seen: list[int] = []
    for i, shot in enumerate(plan.shots):
        problems += _field_problems(f"shots.{i}", shot, document)
        for n in shot.lines:
            if not 1 <= n <= len(lines):
                problems.append(
                    f"shots.{i}.lines: there is no line {n}; the scene has lines 1 to {len(lines)}"
                    if lines
                    else f"shots.{i}.lines: the scene has no dialogue; use []"
                )
            elif n in seen:
                problems.append(
                    f"shots.{i}.lines: line {n} is already in an earlier shot; each line goes in exactly one shot"
                )
            else:
                seen.append(n)
    missing = [n for n in range(1, len(lines) + 1) if n not in seen]
    if missing:
        problems.append(
            f"lines {', '.join(map(str, missing))} are in no shot; every dialogue line must be in exactly one shot"
        )
    if seen != sorted(seen):
        problems.append("dialogue lines must keep the script's order across shots")
    return problems


def _shot_values(fields: ShotFields) -> dict[str, Any]:
    return {
        "kind": fields.kind,
        "size": fields.size,
        "angle": fields.angle,
        "move": fields.move,
        "lens": fields.lens.strip(),
        "composition": [Placement(**p.model_dump()) for p in fields.composition],
        "description": fields.description.strip(),
        "action": fields.action.strip(),
        "lighting": fields.lighting.strip(),
        "image_prompt": fields.image_prompt.strip(),
        "video_prompt": fields.video_prompt.strip(),
        "sfx": [s.strip() for s in fields.sfx if s.strip()],
        "music": fields.music.strip(),
        "caption": fields.caption.strip(),
        "transition": fields.transition,
    }


def shots_from_plan(plan: ScenePlan, scene: Scene, lines: list[DialogueLine]) -> list[Shot]:
    """Document shots ``<scene>-001``…; a dialogue shot lasts at least as long as its lines take to say."""
    shots = []
    for i, planned in enumerate(plan.shots, start=1):
        held = [lines[n - 1] for n in planned.lines]
        duration = planned.duration
        if held:
            duration = max(duration, dialogue_seconds(line.text for line in held))
        shots.append(
            Shot(
                id=f"{scene.id}-{i:03d}",
                scene=scene.id,
                order=i * 10,
                dialogue=held,
                duration=round(min(duration, 600.0), 2),
                duration_source="estimate",
                **_shot_values(planned),
            )
        )
    return shots


def revision_problems(revised: RevisedShot, document: Document) -> list[str]:
    return _field_problems("shot", revised, document)


def apply_revision(shot: Shot, revised: RevisedShot, note: str) -> Shot:
    """The shot with the model's new visual fields; id, scene, order, dialogue and lock stay the director's."""
    update = _shot_values(revised)
    if shot.duration_source != "audio":
        update["duration"] = round(max(0.1, min(revised.duration, 600.0)), 2)
        if abs(update["duration"] - shot.duration) > 1e-6:
            update["duration_source"] = "manual"
    notes = f"{shot.notes}\n{note}".strip() if note.strip() and note.strip() not in shot.notes else shot.notes
    update["notes"] = notes
    return shot.model_copy(update=update)
