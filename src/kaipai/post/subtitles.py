"""Subtitles from the real dialogue timing: SRT for players and editors, styled ASS for burn-in.

Lines are wrapped to what a viewer reads at a glance and long lines are split into several
subtitles at a reading speed, timed inside the line's own audio.
"""

from __future__ import annotations

import re
from pathlib import Path

import pysubs2

from kaipai.post.cut import Cut

#: (characters per subtitle line, characters per second) by language
READING = {"zh": (16, 6.0), "en": (42, 17.0)}
FONT_NAME = "Noto Sans CJK SC"


def _is_cjk(text: str) -> bool:
    return bool(re.search(r"[\u3400-\u9fff]", text))


def wrap(text: str, width: int) -> list[str]:
    """Break ``text`` into lines of at most ``width`` characters (at spaces for Latin text)."""
    text = " ".join(text.split())
    if _is_cjk(text):
        return [text[i : i + width] for i in range(0, len(text), width)] or [""]
    lines, current = [], ""
    for word in text.split(" "):
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return [*lines, current] if current else lines or [""]


def split_line(text: str, start: float, end: float, language: str) -> list[tuple[float, float, str]]:
    """One dialogue line → subtitles of at most two lines each, sharing the line's time by length."""
    width, _cps = READING.get(language, READING["en"])
    rows = wrap(text, width)
    chunks = ["\n".join(rows[i : i + 2]) for i in range(0, len(rows), 2)]
    total = sum(len(c) for c in chunks) or 1
    out, t = [], start
    for chunk in chunks:
        length = (end - start) * len(chunk) / total
        out.append((t, t + length, chunk))
        t += length
    return out


def build_subtitles(cut: Cut, *, bilingual: bool = True) -> pysubs2.SSAFile:
    subs = pysubs2.SSAFile()
    subs.info["PlayResX"], subs.info["PlayResY"] = str(cut.width), str(cut.height)
    size = max(18, int(cut.height * 0.05))
    subs.styles["Default"] = pysubs2.SSAStyle(fontname=FONT_NAME, fontsize=size, outline=2, shadow=0.5, marginv=int(cut.height * 0.16), primarycolor=pysubs2.Color(255, 255, 255), outlinecolor=pysubs2.Color(0, 0, 0))
    subs.styles["Translation"] = pysubs2.SSAStyle(fontname=FONT_NAME, fontsize=int(size * 0.75), outline=2, marginv=int(cut.height * 0.16) - size, primarycolor=pysubs2.Color(255, 230, 150), outlinecolor=pysubs2.Color(0, 0, 0))
    for line in cut.lines:
        for start, end, text in split_line(line.text, line.start, line.end, cut.language):
            body = text.replace("\n", r"\N")
            if bilingual and line.translation:
                body += r"\N{\rTranslation}" + " ".join(line.translation.split())
            subs.append(pysubs2.SSAEvent(start=int(round(start * 1000)), end=int(round(end * 1000)), text=body, name=line.name))
    subs.sort()
    return subs


def write_subtitles(cut: Cut, folder: Path, stem: str = "film") -> dict[str, Path]:
    subs = build_subtitles(cut)
    folder.mkdir(parents=True, exist_ok=True)
    out = {"srt": folder / f"{stem}.srt", "ass": folder / f"{stem}.ass"}
    subs.save(str(out["srt"]), format_="srt")
    subs.save(str(out["ass"]), format_="ass")
    return out
