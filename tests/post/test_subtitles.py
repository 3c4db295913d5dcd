"""Subtitles follow the heard dialogue, read comfortably, and carry the translation when there is one."""

from __future__ import annotations

import itertools
from pathlib import Path

import pysubs2
from hypothesis import given, settings
from hypothesis import strategies as st

from kaipai.post.cut import CutLine
from kaipai.post.subtitles import READING, hold_for_reading, split_line, wrap, write_subtitles
from tests.support.media import Media

words = st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12), min_size=1, max_size=40)
hanzi = st.text(alphabet="雨夜的公交站台她看着远处灯光，。！？我们走吧", min_size=1, max_size=120)


@given(words, st.integers(min_value=8, max_value=50))
def test_latin_wrap_keeps_every_word_and_the_width(ws: list[str], width: int) -> None:
    rows = wrap(" ".join(ws), width)
    assert " ".join(rows) == " ".join(ws)
    assert all(len(r) <= width or " " not in r for r in rows)


@given(hanzi)
def test_chinese_wrap_keeps_every_character_and_no_row_starts_with_punctuation(text: str) -> None:
    rows = wrap(text, 16)
    assert "".join(rows) == "".join(text.split())
    assert all(len(r) <= 18 for r in rows)
    assert all(r[0] not in "，。！？" for r in rows[1:])


@settings(max_examples=60)
@given(
    st.one_of(words.map(" ".join), hanzi),
    st.floats(min_value=0, max_value=100),
    st.floats(min_value=0.05, max_value=30),
)
def test_split_line_covers_the_line_in_order_within_its_time(text: str, start: float, length: float) -> None:
    events = split_line(text, start, start + length, "en")
    assert events[0][0] == start and abs(events[-1][1] - (start + length)) < 1e-9
    assert all(abs(a[1] - b[0]) < 1e-9 for a, b in itertools.pairwise(events))
    assert all(len(e[2].split("\n")) <= 2 for e in events)
    joined = "".join(e[2].replace("\n", "" if any("\u4e00" <= c <= "\u9fff" for c in text) else " ") for e in events)
    assert joined.replace(" ", "") == text.replace(" ", "")


def test_a_fast_line_stays_up_long_enough_to_read_but_never_over_the_next() -> None:
    text = "A line said far faster than anyone could read it"
    held = hold_for_reading([(1.0, 1.5, text), (2.5, 3.0, "next")], "en", 10.0)
    assert held[0][1] == 2.5  # stopped by the next subtitle
    alone = hold_for_reading([(1.0, 1.5, text)], "en", 10.0)
    assert abs(alone[0][1] - (1.0 + len(text) / READING["en"].cps)) < 1e-9


def test_srt_times_match_the_dialogue_and_translations_appear(media: Media, tmp_path: Path) -> None:
    cut = media.film(["red", "blue", "green"])
    long = (
        "A rather long line of dialogue that a viewer cannot read in one go, "
        "so it is wrapped and split into two subtitles"
    )
    cut.lines[0].text, cut.lines[0].end = long, cut.lines[0].start + 1.9
    cut.lines[1].translation = "第二句"
    out = write_subtitles(cut, tmp_path)
    subs = pysubs2.load(str(out["srt"]))
    first = [e for e in subs if e.start < cut.lines[1].start * 1000]
    assert len(first) == 2 and first[0].start == round(cut.lines[0].start * 1000)
    assert first[0].end == first[1].start  # the second half appears as the first half goes
    assert " ".join(e.plaintext.replace("\n", " ") for e in first) == long
    assert all(len(row) <= 42 for e in subs for row in e.plaintext.splitlines())
    second = next(e for e in subs if "line 1" in e.plaintext)
    assert second.plaintext.splitlines() == ["line 1", "第二句"]
    assert second.start == round(cut.lines[1].start * 1000)
    for line, event in zip(cut.lines[1:], [e for e in subs if e.start >= cut.lines[1].start * 1000], strict=True):
        assert event.start == round(line.start * 1000) and event.end >= round(line.end * 1000)
    ass = pysubs2.load(str(out["ass"]))
    assert ass.styles["Default"].fontname == "Noto Sans CJK SC"
    assert any(r"{\rTranslation}第二句" in e.text for e in ass)


def test_chinese_lines_wrap_at_sixteen_characters(media: Media, tmp_path: Path) -> None:
    cut = media.film(["red"], language="zh")
    cut.lines[0] = CutLine(
        line="L0",
        speaker="a",
        name="林",
        text="雨夜的公交站台上，她看着远处的灯光慢慢靠近，终于说出了那句话。",
        translation="",
        path=cut.lines[0].path,
        start=0.2,
        end=1.9,
        on_screen=True,
    )
    subs = pysubs2.load(str(write_subtitles(cut, tmp_path)["srt"]))
    rows = [r for e in subs for r in e.plaintext.splitlines()]
    assert "".join(rows) == cut.lines[0].text and all(len(r) <= 18 for r in rows) and len(rows) >= 2


def test_the_ass_burns_chinese_with_plain_ffmpeg_on_a_machine_without_cjk_fonts(tmp_path: Path) -> None:
    """libass with fontconfig pointed at an empty font set: the font embedded in the ASS draws the
    characters (compared with a render without subtitles, and with the same ASS stripped of its font,
    which draws boxes or nothing)."""
    import os
    import subprocess

    import numpy as np
    from PIL import Image

    from kaipai.post.assemble import ffmpeg
    from kaipai.post.cut import Cut, CutLine, CutShot
    from kaipai.post.subtitles import FONT_FILE, write_subtitles

    cut = Cut(title="t", language="zh", width=640, height=360, fps=25)
    cut.shots.append(CutShot(shot="S1", start=0, duration=3, picture=None, still=None, description=""))
    text = "十一点四十，末班车应该还没走吧"
    cut.lines.append(CutLine("L1", "lin", "林夏", text, "", None, 0.2, 2.8, True))
    folder = tmp_path / "export"
    written = write_subtitles(cut, folder)
    assert written["font"].name == FONT_FILE and written["font"].stat().st_size < 200_000  # a subset, beside it
    bare = folder / "bare.ass"  # the same subtitles without the embedded font
    bare.write_text(
        written["ass"].read_text(encoding="utf-8").split("[Fonts]")[0]
        + "[Events]"
        + written["ass"].read_text(encoding="utf-8").split("[Events]")[1],
        encoding="utf-8",
    )
    config = tmp_path / "fonts.conf"
    config.write_text(
        f'<?xml version="1.0"?><fontconfig><cachedir>{tmp_path / "fc-cache"}</cachedir></fontconfig>',
        encoding="utf-8",
    )
    env = {**os.environ, "FONTCONFIG_FILE": str(config)}

    def frame(vf: str, name: str) -> np.ndarray:
        out = tmp_path / f"{name}.png"
        subprocess.run(
            [ffmpeg(), "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=gray:s=640x360:d=3", "-vf", vf,
             "-ss", "1", "-frames:v", "1", "-update", "1", str(out)],
            check=True, cwd=folder, env=env,
        )  # fmt: skip
        return np.asarray(Image.open(out).convert("L")).astype(int)

    plain = frame("null", "plain")
    burned = frame("subtitles=film.ass", "burned")
    boxes = frame("subtitles=bare.ass", "bare")
    region = slice(int(360 * 0.7), 360)  # where the safe-area subtitles sit
    ink = np.abs(burned[region] - plain[region]) > 40
    assert ink.mean() > 0.01, "nothing was burned"
    rows = np.nonzero(ink.any(axis=1))[0]
    assert rows.max() + int(360 * 0.7) < 360 * 0.95  # inside the title-safe area
    # glyphs, not boxes: the burned strokes differ from what the font-less ASS draws, and are as dense as the
    # font's own glyphs drawn by Pillow at that size
    assert np.abs(burned[region] - boxes[region]).mean() > 1.0
    from PIL import ImageDraw, ImageFont

    glyphs = Image.new("L", (640, 40), 0)
    # libass sizes a font by its ascent plus descent (1.448 em for Noto Sans CJK): the style's 18 is a 12.4 px em
    font = ImageFont.truetype(str(written["font"]), round(18 / 1.448))
    ImageDraw.Draw(glyphs).text((0, 5), text, font=font, fill=255, stroke_width=1)
    expected = int((np.asarray(glyphs) > 40).sum())
    drawn = int(ink.sum())
    assert 0.6 * expected < drawn < 1.6 * expected, (drawn, expected)
