"""Which reference images a keyframe or clip request carries: who and what is in the shot.

A model takes a limited number of references (``max_reference_images`` on its sheet), so they
are chosen by priority: one picture of each framed character first (their own first picture,
else their circled reference sheet), then the location's first picture, then each prop's, then
the rest of the characters' pictures, then the rest of the location's and props'. What is chosen
is presented grouped by subject — each character's pictures together, in composition order, then
the location, then the props — so a request that fits its model is the same one kaipai always
sent, and its key does not move.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kaipai.document.models import Document
from kaipai.document.shots import Placement, Shot


@dataclass(frozen=True)
class Reference:
    """One reference image and whom or what it shows (recorded in the take's provenance)."""

    path: Path
    subject: str  # "character lin", "location kitchen", "prop card", "start keyframe"
    source: str  # "sheet", "picture", "keyframe"

    def provenance(self, digest: str) -> dict[str, str]:
        return {"subject": self.subject, "source": self.source, "file": str(self.path), "digest": digest}


def shot_references(
    doc: Document,
    shot: Shot,
    compositions: Sequence[Sequence[Placement]],
    sheets: dict[str, Path],
    resolve: Callable[[str], Path],
    limit: int,
    lead: Sequence[Reference] = (),
) -> list[Reference]:
    """The references of a shot within ``limit``, best chosen first and presented grouped by subject.

    ``compositions`` are the framings the request covers (the start, or the start and the end);
    ``sheets`` the circled reference sheets by character id; ``lead`` references that come before
    all others (the start keyframe, for the end keyframe).
    """
    groups: list[list[Reference]] = [[r] for r in lead]
    seen: set[str] = set()
    for placements in compositions:
        for p in placements:
            character = doc.character(p.character)
            if character is None or character.id in seen:
                continue
            seen.add(character.id)
            subject = f"character {character.id}"
            own = [Reference(resolve(r), subject, "picture") for r in character.reference_images]
            if own:
                groups.append(own)
            elif character.id in sheets:
                groups.append([Reference(sheets[character.id], subject, "sheet")])
    scene = doc.scene(shot.scene)
    location = next((x for x in doc.cast.locations if scene is not None and x.id == scene.location), None)
    if location is not None and location.reference_images:
        groups.append([Reference(resolve(r), f"location {location.id}", "picture") for r in location.reference_images])
    for pid in dict.fromkeys(shot.props):
        prop = next((x for x in doc.cast.props if x.id == pid), None)
        if prop is not None and prop.reference_images:
            groups.append([Reference(resolve(r), f"prop {prop.id}", "picture") for r in prop.reference_images])
    return _within(groups, limit)


def _within(groups: list[list[Reference]], limit: int) -> list[Reference]:
    """Choose up to ``limit`` (the first of every group before any group's second), keep group order."""
    unique: list[list[Reference]] = []
    paths: set[Path] = set()
    for group in groups:
        kept = []
        for r in group:  # one picture used twice (a prop that is also the location's) is sent once
            if r.path not in paths:
                paths.add(r.path)
                kept.append(r)
        if kept:
            unique.append(kept)
    chosen: set[tuple[int, int]] = set()
    rank = 0
    while len(chosen) < limit and any(rank < len(g) for g in unique):
        for gi, group in enumerate(unique):
            if rank < len(group) and len(chosen) < limit:
                chosen.add((gi, rank))
        rank += 1
    return [r for gi, group in enumerate(unique) for ri, r in enumerate(group) if (gi, ri) in chosen]
