"""Rewriting one shot from a director's note with the document's language-model planner.

Used by ``kaipai retake SHOT --note "…"`` (through the takes service) and the studio. The
model is asked outside the document lock (it can take a minute); the edit is then applied
under the lock, and refused if someone changed the shot meanwhile, so no edit is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kaipai.backends.base import Backend
from kaipai.backends.registry import Registry
from kaipai.document.io import DocumentError, Problem, load, update
from kaipai.document.models import Document
from kaipai.document.shots import Shot
from kaipai.project import ProjectPaths
from kaipai.service.write import drafts_folder, keep_drafts


@dataclass
class RevisionResult:
    shot_id: str
    before: Shot
    after: Shot
    changed: list[str] = field(default_factory=list)
    summary: str = ""


def _problem(paths: ProjectPaths, where: str, message: str) -> DocumentError:
    return DocumentError([Problem(str(paths.document), 0, 0, where, message)])


def revise_shot(paths: ProjectPaths, shot_id: str, note: str) -> RevisionResult:
    """Ask the planner to rewrite ``shot_id`` from ``note`` and save it; the dialogue and the lock stay."""
    if not note.strip():
        raise _problem(paths, "--note", "the note is empty; say what the shot should change")
    doc = load(paths.document).doc
    before = doc.shot(shot_id)
    if before is None:
        raise _problem(paths, "shots", f"no shot {shot_id!r}; 'kaipai shots' lists the shot ids")
    choice = doc.backend_for("planner", before)
    planner: Backend = Registry().create(choice.use, choice.model, choice.options)
    try:
        with keep_drafts(drafts_folder(paths)):
            after = planner.revise_shot(doc, before, note)  # type: ignore[attr-defined]
        summary = str(getattr(planner, "last_summary", "") or "")
    finally:
        planner.close()
    after = after.model_copy(
        update={
            "id": before.id,
            "scene": before.scene,
            "order": before.order,
            "dialogue": before.dialogue,
            "locked": before.locked,
        }
    )

    def change(current: Document) -> Document:
        for i, shot in enumerate(current.shots):
            if shot.id == shot_id:
                if shot != before:
                    raise _problem(
                        paths,
                        f"shots.{i}",
                        f"shot {shot_id} was edited while the planner rewrote it; "
                        "nothing was changed, run the command again",
                    )
                current.shots[i] = after
                return current
        raise _problem(paths, "shots", f"shot {shot_id} was removed while the planner rewrote it")

    update(paths.document, change)
    changed = [name for name in Shot.model_fields if getattr(before, name) != getattr(after, name)]
    return RevisionResult(shot_id=shot_id, before=before, after=after, changed=changed, summary=summary)
