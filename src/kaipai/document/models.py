"""The production document: the whole film as the director sees it.

These models are the source of truth shared by every stage. They are strict
(unknown keys are errors, so a typo in ``kaipai.yaml`` is caught, not ignored)
and carry enough description for ``kaipai schema`` to document the file.
The document's parts live beside it: ``settings.py`` (project and style), ``cast.py``,
``scenes.py``, ``shots.py``, ``backend_choice.py``, ``execution.py`` and ``publish.py``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from pydantic import Field, model_validator

from kaipai.document.backend_choice import DEFAULT_BACKENDS, BackendChoice, Capability
from kaipai.document.cast import Cast, Character
from kaipai.document.elements import element_from_flat
from kaipai.document.execution import ExecutorChoice
from kaipai.document.publish import Publish
from kaipai.document.qc import QCPolicy, QCStage, ledger_errors
from kaipai.document.scenes import Scene
from kaipai.document.settings import Project, Style
from kaipai.document.shots import Shot
from kaipai.document.strict import RelPath, Strict

#: 2: scene elements are typed (each kind has its own keys); version-1 files are upgraded on load.
SCHEMA_VERSION = 2


class Document(Strict):
    """The production document (``kaipai.yaml``)."""

    version: int = Field(default=SCHEMA_VERSION, description="Document format version.")
    project: Project
    style: Style = Field(default_factory=Style)
    cast: Cast = Field(default_factory=Cast)
    backends: dict[Capability, BackendChoice] = Field(
        default_factory=dict, description="Backend chosen per capability; previz/espeak/rules when absent."
    )
    qc: dict[QCStage, QCPolicy] = Field(default_factory=dict, description="Quality control per stage (or 'all').")
    screenplay: RelPath | None = Field(default=None, description="The imported screenplay file.")
    executor: ExecutorChoice = Field(default_factory=ExecutorChoice, description="Where backend jobs run.")
    scenes: list[Scene] = Field(default_factory=list)
    shots: list[Shot] = Field(default_factory=list)
    publish: Publish = Field(default_factory=Publish, description="AIGC labels and the producer named in them.")

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any) -> Any:
        """Read a file written by an earlier version of kaipai as today's format."""
        if not isinstance(data, dict) or not isinstance(data.get("version", 1), int) or data.get("version", 1) >= 2:
            return data
        data = dict(data)
        scenes = data.get("scenes")
        if isinstance(scenes, list):
            data["scenes"] = [
                {**s, "elements": [element_from_flat(e) for e in s["elements"]]}
                if isinstance(s, dict) and isinstance(s.get("elements"), list)
                else s
                for s in scenes
            ]
        data["version"] = SCHEMA_VERSION
        return data

    # ------------------------------------------------------------------ lookups

    def character(self, cid: str) -> Character | None:
        return _find(self.cast.characters, cid)

    def scene(self, sid: str) -> Scene | None:
        return _find(self.scenes, sid)

    def shot(self, sid: str) -> Shot | None:
        return _find(self.shots, sid)

    def ordered_shots(self) -> list[Shot]:
        scene_pos = {s.id: i for i, s in enumerate(self.scenes)}
        return sorted(self.shots, key=lambda s: (s.order, scene_pos.get(s.scene, 0)))

    def backend_for(self, capability: str, shot: Shot | None = None) -> BackendChoice:
        if shot is not None and capability in shot.generation.backends:
            return shot.generation.backends[capability]  # type: ignore[index]
        if capability in self.backends:
            return self.backends[capability]  # type: ignore[index]
        return BackendChoice(use=DEFAULT_BACKENDS[capability])


Loc = tuple[str | int, ...]


def reference_errors(doc: Document) -> list[tuple[Loc, str]]:
    """Cross-references a schema cannot express: ids that must exist and ids that must be unique.

    Returned as (path, message) so the loader can point at the offending line.
    """
    errors: list[tuple[Loc, str]] = []
    char_ids = {c.id for c in doc.cast.characters}
    loc_ids = {loc.id for loc in doc.cast.locations}
    prop_ids = {p.id for p in doc.cast.props}
    scene_ids = {s.id for s in doc.scenes}
    _unique(("cast", "characters"), [c.id for c in doc.cast.characters], errors)
    _unique(("cast", "locations"), [c.id for c in doc.cast.locations], errors)
    _unique(("cast", "props"), [c.id for c in doc.cast.props], errors)
    _unique(("scenes",), [s.id for s in doc.scenes], errors)
    _unique(("shots",), [s.id for s in doc.shots], errors)
    seen_lines: dict[str, Loc] = {}
    for i, sc in enumerate(doc.scenes):
        if sc.location and sc.location not in loc_ids:
            errors.append((("scenes", i, "location"), f"unknown location {sc.location!r}; add it under cast.locations"))
        for j, c in enumerate(sc.characters):
            if c not in char_ids:
                errors.append(
                    (("scenes", i, "characters", j), f"unknown character {c!r}; add it under cast.characters")
                )
    for i, sh in enumerate(doc.shots):
        if sh.scene not in scene_ids:
            errors.append((("shots", i, "scene"), f"unknown scene {sh.scene!r}; expected one of the scene ids"))
        for j, p in enumerate(sh.composition):
            if p.character not in char_ids:
                errors.append((("shots", i, "composition", j, "character"), f"unknown character {p.character!r}"))
        for j, d in enumerate(sh.dialogue):
            loc: Loc = ("shots", i, "dialogue", j)
            if d.id in seen_lines:
                errors.append(((*loc, "id"), f"dialogue line id {d.id!r} is used twice"))
            seen_lines[d.id] = loc
            if d.speaker not in char_ids and d.speaker != "narrator":
                errors.append(((*loc, "speaker"), f"unknown character {d.speaker!r}; use a cast id or 'narrator'"))
        for j, p in enumerate((sh.end.composition or []) if sh.end else []):
            if p.character not in char_ids:
                errors.append(
                    (("shots", i, "end", "composition", j, "character"), f"unknown character {p.character!r}")
                )
        for j, p in enumerate(sh.props):
            if p not in prop_ids:
                errors.append((("shots", i, "props", j), f"unknown prop {p!r}; add it under cast.props"))
    return errors + ledger_errors(doc, char_ids)


def _unique(where: Loc, ids: list[str], errors: list[tuple[Loc, str]]) -> None:
    seen: set[str] = set()
    for i, ident in enumerate(ids):
        if ident in seen:
            errors.append(((*where, i, "id"), f"id {ident!r} is used twice"))
        seen.add(ident)


#: Where each id was last found in the lists most recently searched (a lookup by id is asked for
#: every node of a feature film): list id → (the list, id → position). Kept outside the models so a
#: document's equality and copies never see it; the few newest lists only.
_WHERE: OrderedDict[int, tuple[list[Any], dict[str, int]]] = OrderedDict()
_KEPT = 16
_WHERE_LOCK = threading.Lock()  # the studio serves requests on several threads


def _find(items: list[Any], item_id: str) -> Any:
    """The first item of ``items`` with this id, through a remembered position checked on every use:
    the lists are edited in place, so a position that no longer holds the id is looked up again (a
    missing id costs one pass over the list, as a plain search did)."""
    entry = _WHERE.get(id(items))
    if entry is not None and entry[0] is items:
        at = entry[1].get(item_id)
        if at is not None and at < len(items) and items[at].id == item_id:
            return items[at]
    positions: dict[str, int] = {}
    for i, item in enumerate(items):
        positions.setdefault(item.id, i)
    with _WHERE_LOCK:
        _WHERE[id(items)] = (items, positions)
        _WHERE.move_to_end(id(items))
        while len(_WHERE) > _KEPT:
            _WHERE.popitem(last=False)
    at = positions.get(item_id)
    return items[at] if at is not None else None
