"""Which convention a screenplay is written in, from its file name and its text."""

from __future__ import annotations

import re

from kaipai.screenplay import zh
from kaipai.screenplay.fountain import HEADING

_CJK = re.compile(r"[\u3400-\u9fff]")


def detect_format(text: str, filename: str = "") -> str:
    """``fountain`` or ``zh``. A .fountain file is Fountain; otherwise the text decides. Never raises."""
    if filename.lower().endswith((".fountain", ".spmd")):
        return "fountain"
    lines = [line.strip() for line in text.splitlines() if line.strip()][:400]
    if not lines:
        return "fountain"
    fountain_headings = sum(1 for line in lines if HEADING.match(line))
    zh_marks = sum(
        1
        for line in lines
        if zh._heading(line) or zh._CAST.match(line) or zh._EPISODE.match(line) or line.startswith(("△", "▲", "【"))
    )
    cjk = sum(len(_CJK.findall(line)) for line in lines)
    total = sum(len(line) for line in lines) or 1
    if zh_marks > fountain_headings:
        return "zh"
    if fountain_headings:
        return "fountain"
    return "zh" if cjk / total > 0.2 else "fountain"
