"""Where a shot's lines fall in it: the meaning of a line's ``offset`` and ``dual``.

The planner estimates a shot's length with it and the engine places the rendered voices with it,
so a dual-dialogue pair overlaps the same way in the shot script and in the mix.
"""

from __future__ import annotations

from collections.abc import Sequence

from kaipai.document.shots import DialogueLine


def line_timings(
    lines: Sequence[DialogueLine], seconds: Sequence[float], lead: float, gap: float
) -> list[tuple[float, float]]:
    """Where each line of a shot starts and ends, given how long each one lasts.

    A line starts at its ``offset``; else a ``dual`` line starts where the speech before it
    started (the two overlap) and the later parts of the same dual speech follow it; else a
    line starts ``gap`` after everything before it has ended (``lead`` into the shot for the first).
    """
    out: list[tuple[float, float]] = []
    cursor = speech_start = lead
    dual_next: float | None = None  # where the next part of a dual speech goes
    prev: DialogueLine | None = None
    for line, length in zip(lines, seconds, strict=True):
        continuing = prev is not None and prev.speaker == line.speaker and prev.dual == line.dual
        if line.offset is not None:
            start = line.offset
        elif line.dual:
            start = dual_next if continuing and dual_next is not None else speech_start
        else:
            start = cursor
        if not line.dual and not continuing:
            speech_start = start
        end = round(start + max(0.0, length), 4)  # to a tenth of a millisecond, so sums do not drift
        dual_next = end + gap if line.dual else None
        cursor = max(cursor, end + gap)
        prev = line
        out.append((round(start, 4), end))
    return out
