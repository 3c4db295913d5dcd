"""Shot durations before any audio exists, from reading speed.

The estimate only has to be close: once voices are rendered the real audio decides each
shot's length. It errs long (rounded up), so a clip generated early still covers its line.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from kaipai.document.lines import line_timings
from kaipai.document.shots import DialogueLine
from kaipai.planning.names import cjk_count, has_cjk, latin_words

ZH_CHARS_PER_SECOND = 4.5
EN_WORDS_PER_SECOND = 2.5
#: Breathing room before the first and after the last line of a shot (each side).
HANDLE_SECONDS = 0.25
#: Pause between two lines in the same shot.
LINE_GAP_SECONDS = 0.3
MIN_SHOT_SECONDS = 1.5


def speech_seconds(text: str) -> float:
    """Seconds to say ``text``: Chinese at 4.5 characters/s, English at 2.5 words/s."""
    if has_cjk(text):
        return (cjk_count(text) + len(latin_words(text))) / ZH_CHARS_PER_SECOND
    return len(latin_words(text)) / EN_WORDS_PER_SECOND


def round_up(seconds: float) -> float:
    """Up to the next tenth of a second (never shorter than what it covers)."""
    return math.ceil(round(seconds * 10, 6)) / 10


def dialogue_seconds(texts: Iterable[str]) -> float:
    """A shot holding these lines: speech, pauses between lines, a handle each side; at least 1.5 s."""
    texts = list(texts)
    if not texts:
        return MIN_SHOT_SECONDS
    total = sum(speech_seconds(t) for t in texts) + LINE_GAP_SECONDS * (len(texts) - 1) + 2 * HANDLE_SECONDS
    return max(MIN_SHOT_SECONDS, round_up(total))


def shot_dialogue_seconds(lines: Sequence[DialogueLine]) -> float:
    """A shot holding these lines as they are placed in it: a dual speech overlaps the one before
    it, so the shot lasts as long as the longer of the two, not both in a row."""
    if not any(d.dual or d.offset is not None for d in lines):
        return dialogue_seconds(d.text for d in lines)
    timings = line_timings(lines, [speech_seconds(d.text) for d in lines], HANDLE_SECONDS, LINE_GAP_SECONDS)
    return max(MIN_SHOT_SECONDS, round_up(max(end for _, end in timings) + HANDLE_SECONDS))


def action_seconds(text: str, *, base: float = 2.0, low: float = 2.0, high: float = 8.0) -> float:
    """An action beat lasts about half the time it takes to read, within sensible bounds."""
    return min(high, max(low, round_up(base + 0.5 * speech_seconds(text))))


def caption_seconds(text: str) -> float:
    """Long enough to read the card twice over: reading time plus a second, at least 2.5 s."""
    return max(2.5, round_up(speech_seconds(text) + 1.0))
