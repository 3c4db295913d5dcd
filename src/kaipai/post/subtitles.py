"""Subtitles from the real dialogue timing: SRT for players and editors, styled ASS for burn-in.

The ASS carries the font it names: the CJK font cut down to the characters the subtitles use is
embedded in its ``[Fonts]`` section (libass reads it there) and written beside it in ``fonts/``, so
burning it on a machine without Chinese fonts still draws the characters, not boxes. Subtitles sit
inside the title-safe area.

A subtitle appears when its line starts to be heard. Lines are wrapped to what a viewer reads at a
glance (two rows at most); a longer line becomes several subtitles that share the line's time by
length, and a subtitle whose line is spoken faster than it can be read stays up longer, into the
silence after it, never over the next line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pysubs2

from kaipai.fonts import FONT_FAMILY, subset_font
from kaipai.post.cut import Cut


@dataclass(frozen=True)
class Reading:
    width: int  # characters per row
    cps: float  # characters a viewer reads per second
    max_seconds: float = 7.0  # longest a single subtitle stays up
    min_seconds: float = 1.0  # shortest


READING = {"zh": Reading(16, 6.0), "en": Reading(42, 17.0)}
FONT_NAME = FONT_FAMILY
FONT_FILE = "NotoSansCJKsc-Regular-subset.otf"
#: the bottom and side margins: inside the title-safe area (EBU R 95 puts it 5 % in from each edge)
SAFE_BOTTOM, SAFE_SIDE = 0.08, 0.10
#: punctuation that must not begin a row (kinsoku), and where a Chinese row prefers to break
_NO_START = "，。、；：！？）》」』”’…,.;:!?)"
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


def is_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def reading_for(text: str, language: str) -> Reading:
    """Reading figures by the script of the text itself (a Chinese film may have English lines)."""
    return READING["zh"] if is_cjk(text) else READING.get(language if language != "zh" else "en", READING["en"])


def _wrap_cjk(text: str, width: int) -> list[str]:
    rows: list[str] = []
    rest = text
    while len(rest) > width:
        cut = width
        # break after a punctuation mark near the end of the row, if there is one
        for i in range(width, max(0, width - 5), -1):
            if rest[i - 1] in _NO_START:
                cut = i
                break
        # never begin the next row with closing punctuation
        while cut < len(rest) and rest[cut] in _NO_START and cut - width < 2:
            cut += 1
        rows.append(rest[:cut].strip())
        rest = rest[cut:].lstrip()
    if rest:
        rows.append(rest)
    return rows or [""]


def wrap(text: str, width: int) -> list[str]:
    """Break ``text`` into rows of about ``width`` characters (at spaces for Latin text; a Chinese
    row may run two characters over to keep punctuation off the start of the next row)."""
    text = " ".join(text.split())
    if is_cjk(text):
        return _wrap_cjk(text, width)
    lines, current = [], ""
    for word in text.split(" "):
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return [*lines, current] if current else lines or [""]


def split_line(text: str, start: float, end: float, language: str) -> list[tuple[float, float, str]]:
    """One dialogue line → subtitles of at most two rows, each up at most ``max_seconds``, sharing the
    line's own time by length (so each appears about when it is said)."""
    reading = reading_for(text, language)
    rows = wrap(text, reading.width)
    per = 2
    while True:
        chunks = ["\n".join(rows[i : i + per]) for i in range(0, len(rows), per)]
        total = sum(len(c) for c in chunks) or 1
        if per == 1 or max((end - start) * len(c) / total for c in chunks) <= reading.max_seconds:
            break
        per = 1
    out, t = [], start
    for i, chunk in enumerate(chunks):
        length = (end - start) * len(chunk) / total
        out.append((t, end if i == len(chunks) - 1 else t + length, chunk))
        t += length
    return out


def hold_for_reading(
    events: list[tuple[float, float, str]], language: str, limit: float
) -> list[tuple[float, float, str]]:
    """Keep each subtitle up long enough to read (``min_seconds``, or its characters at ``cps``),
    running into the silence after it but never past the next subtitle or ``limit``."""
    out = []
    for i, (start, end, text) in enumerate(events):
        reading = reading_for(text, language)
        need = max(reading.min_seconds, len(text.replace("\n", "")) / reading.cps)
        nxt = events[i + 1][0] if i + 1 < len(events) else limit
        out.append((start, max(end, min(start + need, nxt, limit)), text))
    return out


def subtitle_events(cut: Cut) -> list[tuple[float, float, str, str, str]]:
    """(start, end, text, translation, speaker name) of every subtitle, in order."""
    pieces = []
    for line in sorted(cut.lines, key=lambda ln: ln.start):
        for start, end, text in split_line(line.text, line.start, line.end, cut.language):
            pieces.append((start, end, text, line))
    held = hold_for_reading(
        [(s, e, t) for s, e, t, _ in pieces],
        cut.language,
        cut.duration or max((e for _, e, _, _ in pieces), default=0.0),
    )
    return [(s, e, t, line.translation, line.name) for (s, e, t), (_, _, _, line) in zip(held, pieces, strict=True)]


def build_subtitles(cut: Cut, *, bilingual: bool = True, above: float = 0.0) -> pysubs2.SSAFile:
    """The subtitles with two styles: the original line, and its translation beneath when there is one.

    ``above`` (a share of the height) lifts them over something at the bottom of the frame, such as the
    animatic's info bar.
    """
    subs = pysubs2.SSAFile()
    subs.info["PlayResX"], subs.info["PlayResY"] = str(cut.width), str(cut.height)
    subs.info["WrapStyle"] = "2"  # rows are broken here, not by the renderer
    size = max(18, int(cut.height * 0.05))
    margin = int(cut.height * (SAFE_BOTTOM + above))
    side = int(cut.width * SAFE_SIDE)
    white, black, gold = pysubs2.Color(255, 255, 255), pysubs2.Color(0, 0, 0, 64), pysubs2.Color(255, 230, 150)
    subs.styles["Default"] = pysubs2.SSAStyle(
        fontname=FONT_NAME,
        fontsize=size,
        outline=max(1, size // 14),
        shadow=0.5,
        marginv=margin,
        marginl=side,
        marginr=side,
        primarycolor=white,
        outlinecolor=black,
        backcolor=black,
    )
    subs.styles["Translation"] = pysubs2.SSAStyle(
        fontname=FONT_NAME,
        fontsize=int(size * 0.75),
        outline=max(1, size // 18),
        shadow=0.5,
        marginv=margin,
        marginl=side,
        marginr=side,
        primarycolor=gold,
        outlinecolor=black,
        backcolor=black,
    )
    for start, end, text, translation, name in subtitle_events(cut):
        body = text.replace("\n", r"\N")
        if bilingual and translation:
            body += r"\N{\rTranslation}" + " ".join(translation.split())
        subs.append(pysubs2.SSAEvent(start=round(start * 1000), end=round(end * 1000), text=body, name=name))
    return subs


def write_subtitles(
    cut: Cut, folder: Path, stem: str = "film", *, bilingual: bool = True, above: float = 0.0
) -> dict[str, Path]:
    """``film.srt`` and ``film.ass`` in ``folder``, and the font the ASS uses in ``folder/fonts``."""
    subs = build_subtitles(cut, bilingual=bilingual, above=above)
    folder.mkdir(parents=True, exist_ok=True)
    out = {"srt": folder / f"{stem}.srt", "ass": folder / f"{stem}.ass", "font": folder / "fonts" / FONT_FILE}
    subs.save(str(out["srt"]), format_="srt")
    text = "".join(e.plaintext for e in subs) + cut.title
    font = subset_font(text, out["font"])
    subs.fonts_opaque[FONT_FILE.replace(".otf", "_0.otf")] = ass_encode(font.read_bytes())
    subs.save(str(out["ass"]), format_="ass")
    return out


def ass_encode(data: bytes) -> list[str]:
    """A file as the lines of an ASS ``[Fonts]`` entry: the format's own uuencoding (6 bits + 33 per
    character, 80 characters a line, a short last group written as 2 or 3 characters)."""
    chars: list[str] = []
    for i in range(0, len(data), 3):
        chunk = data[i : i + 3]
        value = int.from_bytes(chunk.ljust(3, b"\0"), "big")
        quads = [(value >> shift) & 63 for shift in (18, 12, 6, 0)]
        chars.extend(chr(q + 33) for q in quads[: len(chunk) + 1])
    text = "".join(chars)
    return [text[i : i + 80] for i in range(0, len(text), 80)]
