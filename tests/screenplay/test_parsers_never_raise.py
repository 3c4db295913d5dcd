"""On any text the parsers either return a screenplay or raise the one documented error."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaipai.screenplay import ScreenplayError, detect_format, parse_file, parse_text
from kaipai.screenplay.fountain import parse_fountain
from kaipai.screenplay.zh import parse_zh

FRAGMENTS = [
    "INT. HOUSE - DAY",
    "EXT",
    ".KITCHEN",
    "BOB",
    "BOB (V.O.)",
    "@mcduck",
    "EVE ^",
    "(softly)",
    "Hello.",
    "CUT TO:",
    "> FADE <",
    ">",
    "~la la",
    "[[note",
    "]]",
    "/*",
    "*/",
    "# Act",
    "= synopsis",
    "===",
    "**bold",
    "_u_",
    "\\*",
    "Title: X",
    "  ",
    "",
    "1-1 日 内 客厅",
    "第1场 夜 外",
    "场景一：",
    "### 场1-1",
    "日 内 地点",
    "第1集",
    "人物：张三、李四",
    "张三：你好",
    "张三（低声）：",
    "（OS）",
    "△",
    "旁白：",
    "【空镜：",
    "【字幕：字】",
    "】",
    "晨外",
    "：",
    "（",
    "）",
    "日 内 客厅",
    "内景 仓库 夜",
    "1-1 客厅（日/内）",
    "张三（内心OS）：",
    "“接着说”",
    "5 * 3",
    "his_name",
    "\x07",
]
script_like = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=12), max_size=40).map("\n".join)


def _parse(text: str) -> None:
    try:
        sp = parse_text(text)
    except ScreenplayError:
        return
    assert sp.format in ("fountain", "zh")
    for scene in sp.scenes:
        assert scene.line >= 1


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_unicode(text: str) -> None:
    _parse(text)
    detect_format(text)
    parse_fountain(text)
    parse_zh(text)


@settings(max_examples=300, deadline=None)
@given(script_like)
def test_screenplay_like_text(text: str) -> None:
    _parse(text)
    parse_fountain(text)
    parse_zh(text)


def test_documented_errors_name_the_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n\n", encoding="utf-8")
    binary = tmp_path / "film.mp4"
    binary.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    for path, words in (
        (empty, "empty"),
        (binary, "not a text file"),
        (tmp_path / "missing.fountain", "no such file"),
        (tmp_path, "folder"),
    ):
        with pytest.raises(ScreenplayError) as info:
            parse_file(path)
        assert str(path) in str(info.value) and words in str(info.value)


def test_gb18030_file(tmp_path: Path) -> None:
    path = tmp_path / "script.txt"
    path.write_bytes("1-1 日 内 客厅\n张三：你好。\n".encode("gb18030"))
    assert parse_file(path).scenes[0].elements[0].text == "你好。"


def test_documents_that_need_exporting_say_how(tmp_path: Path) -> None:
    cases = {
        "script.pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF"),
        "script.docx": (b"PK\x03\x04\x14\x00\x06\x00", "Word"),
        "script.fdx": (b'<?xml version="1.0" encoding="UTF-8"?>\n<FinalDraft DocumentType="Script">', "Final Draft"),
        "noise.txt": (bytes(range(1, 32)) * 20, "not a text file"),
    }
    for name, (data, words) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(ScreenplayError) as info:
            parse_file(path)
        assert str(path) in str(info.value) and words in str(info.value), str(info.value)
