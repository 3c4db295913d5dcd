"""Re-planning a document that already has shots, without touching what the director locked.

A locked shot stays byte for byte what it was, in the same place in the film. Fresh shots
fill in around it; a fresh shot never repeats a line a locked shot already holds, and a
fresh shot whose slot (its id) a locked shot occupies gives way to it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Set
from dataclasses import dataclass, field

from kaipai.document.models import Document
from kaipai.document.scenes import Scene
from kaipai.document.shots import DialogueLine, Shot
from kaipai.planning.continuity import fill_ledgers
from kaipai.planning.coverage import DIALOGUE_KINDS
from kaipai.planning.timing import shot_dialogue_seconds

#: Gap between consecutive ``order`` values of fresh shots, so a director can slot a shot in by hand.
ORDER_STEP = 10


@dataclass
class PlanResult:
    """The re-planned document and what happened to its shots (ids, in film order)."""

    document: Document
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept_locked: list[str] = field(default_factory=list)
    #: Locked shots holding a line the script no longer has (as written): worth a look.
    stale_locked: list[str] = field(default_factory=list)
    #: Music cues the planner proposed (the script names none): "shot id: cue".
    music_proposed: list[str] = field(default_factory=list)


def replan(
    doc: Document,
    plan_scene: Callable[[Document, Scene], list[Shot]],
    finish: Callable[[Document], Document] | None = None,
) -> PlanResult:
    """Plan every scene with ``plan_scene`` and merge the result with the locked shots of ``doc``.

    ``finish`` completes the merged document (the sound design) before what changed is reported.
    """
    # A shallow copy: the input keeps its own shot list, and shots are replaced, never edited in place
    # (a deep copy of a feature-length document would cost more than planning it).
    doc = doc.model_copy()
    old_order = doc.ordered_shots()
    old_by_scene: dict[str, list[Shot]] = defaultdict(list)
    for s in old_order:
        old_by_scene[s.scene].append(s)
    locked = [s for s in old_order if s.locked]
    locked_lines = {d.id for s in locked for d in s.dialogue}
    locked_by_scene: dict[str, list[Shot]] = defaultdict(list)
    for s in locked:
        locked_by_scene[s.scene].append(s)
    used_ids = {s.id for s in locked}

    sequence: list[Shot] = []
    scene_ids = [s.id for s in doc.scenes]
    script_lines: set[tuple[str, str, str]] = set()
    for scene in doc.scenes:
        scene_old = old_by_scene.get(scene.id, [])
        fresh = _keep_line_ids(
            plan_scene(doc, scene), [d for s in scene_old for d in s.dialogue], scene.id, locked_lines
        )
        fresh = _keep_durations(_keep_shot_ids(fresh, scene_old, scene.id), scene_old)
        script_lines.update((scene.id, d.speaker, d.text) for s in fresh for d in s.dialogue)
        mine = {s.id: s for s in locked_by_scene.get(scene.id, [])}
        reserved = used_ids | {s.id for s in fresh}
        keyed: list[tuple[tuple[float, int], Shot]] = []
        line_pos: dict[str, int] = {}
        slot_pos: dict[str, int] = {}
        for pos, shot in enumerate(fresh):
            slot_pos[shot.id] = pos
            for d in shot.dialogue:
                line_pos.setdefault(d.id, pos)
            lines = [d for d in shot.dialogue if d.id not in locked_lines]
            if shot.dialogue and not lines:
                continue  # every line it held is in a locked shot now
            stand_in = mine.get(shot.id)
            if stand_in is not None and not shot.dialogue and stand_in.kind == shot.kind:
                continue  # the director's locked version of this very shot takes its place
            if len(lines) != len(shot.dialogue):
                update: dict[str, object] = {"dialogue": lines}
                if shot.kind in DIALOGUE_KINDS and shot.duration_source != "manual":
                    update["duration"] = shot_dialogue_seconds(lines)
                    update["duration_source"] = "estimate"
                shot = shot.model_copy(update=update)
            if shot.id in used_ids:
                shot = shot.model_copy(update={"id": _free_id(scene.id, reserved)})
            used_ids.add(shot.id)
            reserved.add(shot.id)
            keyed.append(((pos, 0), shot))
        floor = float("-inf")  # locked shots keep their order among themselves: their ``order`` never changes
        for rank, lk in enumerate(locked_by_scene.get(scene.id, [])):
            floor = max(floor, _anchor(lk, scene_old, slot_pos, line_pos))
            keyed.append(((floor, 1 + rank), lk))
        sequence.extend(shot for _, shot in sorted(keyed, key=lambda item: item[0]))
    # Locked shots of scenes that are gone stay, at the end, in their old order.
    sequence.extend(s for s in locked if s.scene not in scene_ids)

    _assign_orders(sequence)
    if finish is not None:
        merged = doc.model_copy()
        merged.shots = sequence
        merged = finish(merged)
        sequence, doc.scenes = list(merged.shots), merged.scenes
    old_free = {s.id: s for s in doc.shots if not s.locked}
    new_free = {s.id: s for s in sequence if not s.locked}
    result = PlanResult(
        document=doc,
        added=[s.id for s in sequence if not s.locked and s.id not in old_free],
        changed=[i for i in new_free if i in old_free and _content(new_free[i]) != _content(old_free[i])],
        removed=[s.id for s in old_order if not s.locked and s.id not in new_free],
        kept_locked=[s.id for s in sequence if s.locked],
        stale_locked=[
            s.id
            for s in sequence
            if s.locked and any((s.scene, d.speaker, d.text) not in script_lines for d in s.dialogue)
        ],
    )
    doc.shots = sequence
    fill_ledgers(doc)  # the continuity ledger follows the shots; the director's entries are kept
    return result


def _keep_line_ids(
    fresh: list[Shot], old_lines: list[DialogueLine], scene_id: str, locked_lines: Set[str] = frozenset()
) -> list[Shot]:
    """Give each planned line the id it had before, so its voice take and any locked shot still find it.

    A line is the same line when speaker and text match; failing that, when it keeps its place
    (same positional id) and speaker while its old text appears nowhere now (the text was
    edited) and no locked shot holds the old text. Any other line is new and gets an id no
    earlier line used.
    """
    planned = [d for s in fresh for d in s.dialogue]
    if not old_lines or not planned:
        return fresh
    by_content: dict[tuple[str, str], list[str]] = defaultdict(list)
    old_by_id = {d.id: d for d in old_lines}
    for d in old_lines:
        by_content[(d.speaker, d.text)].append(d.id)
    chosen: dict[int, str] = {}
    taken: set[str] = set()
    for i, d in enumerate(planned):
        ids = by_content.get((d.speaker, d.text))
        if ids:
            chosen[i] = ids.pop(0)
            taken.add(chosen[i])
    texts_now = {(d.speaker, d.text) for d in planned}
    for i, d in enumerate(planned):
        old = old_by_id.get(d.id)
        edited = (
            old is not None
            and old.speaker == d.speaker
            and (old.speaker, old.text) not in texts_now
            and d.id not in locked_lines
        )
        if i not in chosen and edited and d.id not in taken:
            chosen[i] = d.id
            taken.add(d.id)
    reserved = taken | set(old_by_id) | {d.id for i, d in enumerate(planned) if i not in chosen}
    for i, d in enumerate(planned):
        if i in chosen:
            continue
        chosen[i] = _free_id(scene_id, reserved, kind="L", width=1) if d.id in old_by_id or d.id in taken else d.id
        taken.add(chosen[i])
        reserved.add(chosen[i])
    out, i = [], 0
    for shot in fresh:
        if shot.dialogue:
            lines = []
            for d in shot.dialogue:
                lines.append(d if chosen[i] == d.id else d.model_copy(update={"id": chosen[i]}))
                i += 1
            shot = shot.model_copy(update={"dialogue": lines})
        out.append(shot)
    return out


def _keep_shot_ids(fresh: list[Shot], scene_old: list[Shot], scene_id: str) -> list[Shot]:
    """Give each planned shot the id of the shot it was before, so a script edit only touches what it changed.

    A shot is the same shot when it holds the same lines (ids kept by :func:`_keep_line_ids`);
    without lines, when it shows the same thing (kind, action, caption, props, and for an
    empty frame its description), failing that the same action however it was described,
    failing that the same kind in the same slot. A new shot takes its place-numbered id when
    no earlier shot had it, else the next unused number: an id never passes to another shot.
    """
    if not scene_old or not fresh:
        return fresh
    chosen: dict[int, str] = {}
    for key in (_identity, _loose_identity, _slot):
        pool: dict[tuple[object, ...], list[str]] = defaultdict(list)
        for s in scene_old:
            if s.id not in chosen.values():
                pool[key(s)].append(s.id)
        for i, s in enumerate(fresh):
            if i not in chosen and (ids := pool.get(key(s))):
                chosen[i] = ids.pop(0)
    old_ids = {s.id for s in scene_old}
    used = set(chosen.values())
    reserved = old_ids | used | {s.id for s in fresh}
    for i, s in enumerate(fresh):
        if i in chosen:
            continue
        chosen[i] = s.id if s.id not in old_ids and s.id not in used else _free_id(scene_id, reserved)
        used.add(chosen[i])
        reserved.add(chosen[i])
    return [s if chosen[i] == s.id else s.model_copy(update={"id": chosen[i]}) for i, s in enumerate(fresh)]


def _keep_durations(fresh: list[Shot], scene_old: list[Shot]) -> list[Shot]:
    """A re-planned shot keeps a length the director typed, and one its rendered voices set while
    it still holds the same lines, so planning an unchanged script changes nothing."""
    old = {s.id: s for s in scene_old if not s.locked}
    out = []
    for shot in fresh:
        before = old.get(shot.id)
        if before is not None and (
            before.duration_source == "manual"
            or (before.duration_source == "audio" and _voiced(before) == _voiced(shot) and shot.dialogue)
        ):
            shot = shot.model_copy(update={"duration": before.duration, "duration_source": before.duration_source})
        out.append(shot)
    return out


def _voiced(shot: Shot) -> list[tuple[object, ...]]:
    """What of a shot's lines decides its voices and where they fall in it."""
    return [(d.id, d.speaker, d.text, d.parenthetical, d.delivery, d.offset, d.dual) for d in shot.dialogue]


def _identity(shot: Shot) -> tuple[object, ...]:
    if shot.dialogue:
        return ("lines", *(d.id for d in shot.dialogue))
    return (shot.kind, shot.action, shot.caption, *shot.props, "" if shot.composition else shot.description)


def _loose_identity(shot: Shot) -> tuple[object, ...]:
    if shot.dialogue:
        return ("lines", *(d.id for d in shot.dialogue))
    return (shot.kind, shot.action, shot.caption, *shot.props)


def _slot(shot: Shot) -> tuple[object, ...]:
    return (shot.kind, shot.id)


def _anchor(shot: Shot, scene_old: list[Shot], slot_pos: dict[str, int], line_pos: dict[str, int]) -> float:
    """Where a locked shot goes among the fresh ones: where its lines were planned, else in its own
    slot, else right after the shot that preceded it before."""
    spots = [line_pos[d.id] for d in shot.dialogue if d.id in line_pos]
    if spots:
        return min(spots)
    if shot.id in slot_pos:
        return slot_pos[shot.id]
    idx = next((i for i, s in enumerate(scene_old) if s.id == shot.id), 0)
    for prev in reversed(scene_old[:idx]):
        if prev.id in slot_pos:
            return slot_pos[prev.id] + 0.5
    return -1.0


def _free_id(scene_id: str, used: set[str], kind: str = "", width: int = 3) -> str:
    """The next free id after the highest of its kind in ``used``: ``S01-004`` for shots, ``S01-L7`` for
    lines (``kind="L", width=1``)."""
    numbers = [int(m.group(1)) for i in used if (m := re.fullmatch(rf"{re.escape(scene_id)}-{kind}(\d+)", i))]
    n = max(numbers, default=0) + 1
    while f"{scene_id}-{kind}{n:0{width}d}" in used:
        n += 1
    return f"{scene_id}-{kind}{n:0{width}d}"


def _assign_orders(sequence: list[Shot]) -> None:
    """Number unlocked shots in play order around the locked ones, whose ``order`` never changes.

    Runs between two locked shots are spread over the gap; when the gap is too narrow the
    run shares the last free value (ties play in document order, which is play order).
    """
    i = 0
    prev_order = 0
    while i < len(sequence):
        if sequence[i].locked:
            prev_order = max(prev_order, sequence[i].order)
            i += 1
            continue
        j = i
        while j < len(sequence) and not sequence[j].locked:
            j += 1
        run = j - i
        if j < len(sequence):
            hi = sequence[j].order
            step = min(ORDER_STEP, (hi - prev_order) // (run + 1)) if hi > prev_order else 0
        else:
            hi, step = None, ORDER_STEP
        for k in range(run):
            if step >= 1:
                value = prev_order + step * (k + 1)
            else:  # no room: stay just below the next locked shot, never below the previous one
                value = max(prev_order, (hi or prev_order) - 1)
            sequence[i + k] = sequence[i + k].model_copy(update={"order": max(0, value)})
        prev_order = sequence[j - 1].order if run else prev_order
        i = j


def _content(shot: Shot) -> dict[str, object]:
    """A shot's content for 'changed': everything but its position in the film."""
    return shot.model_dump(mode="json", exclude={"order"})
