"""Continuity breaks at the film's cuts, from the reports stored with the circled takes.

Apart from :mod:`kaipai.engine.quality` (which makes and checks takes) so that reading a film's
verdicts (``kaipai export shotlist``, ``kaipai qc``, the studio) loads no request building, no
backend and no media tools.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kaipai.document.models import Document
from kaipai.engine.db import Take
from kaipai.qc.continuity import film_breaks
from kaipai.qc.report import QCReport, stored


def circled_breaks(
    doc: Document,
    takes: list[Take],
    report: Callable[[Take], QCReport | None] | None = None,
    scenes: set[str] | None = None,
) -> dict[str, list[str]]:
    """:meth:`~kaipai.engine.quality.Quality.breaks` from takes read from the database (in id order: the
    last circled one of a node is its circled take, as the engine keeps it), without building an engine.
    ``report``: a take's stored report, when the caller already read them; ``scenes``: only these scenes'."""
    circled = {t.node: t for t in takes if t.status == "circled"}
    return breaks(doc, list(circled.values()), report, scenes)


def breaks(
    doc: Document,
    circled: list[Take],
    report: Callable[[Take], QCReport | None] | None = None,
    scenes: set[str] | None = None,
) -> dict[str, list[str]]:
    """Shot → what breaks continuity at the cut into it, given each node's circled take."""
    read: Callable[[Take], Any] = report or (lambda t: stored(t.qc))
    reports = {t.node: r for t in circled if t.stage in ("keyframe", "clip") and (r := read(t))}
    return film_breaks(doc, reports, scenes)
