"""The Chinese screenplay convention, form by form, as short-drama writers use it."""

from __future__ import annotations

import pytest

from kaipai.planning.lexicon import hearing_of
from kaipai.screenplay import ElementType, detect_format, parse_text


def parse(text: str):
    sp = parse_text(text)
    assert sp.format == "zh"
    return sp


@pytest.mark.parametrize(
    ("heading", "number", "int_ext", "tod", "location"),
    [
        ("1-1 日 内 客厅", "1-1", "INT", "day", "客厅"),
        ("2-3 夜 外 街道", "2-3", "EXT", "night", "街道"),
        ("第1场 夜 外 街道", "1", "EXT", "night", "街道"),
        ("第十二场 日 内 医院走廊", "十二", "INT", "day", "医院走廊"),
        ("场景一：咖啡馆 日 内", "一", "INT", "day", "咖啡馆"),
        ("1-2 晨外 江边", "1-2", "EXT", "dawn", "江边"),
        ("3-1 夜内 出租屋", "3-1", "INT", "night", "出租屋"),
        ("4-1 黄昏 外 天台", "4-1", "EXT", "dusk", "天台"),
    ],
)
def test_scene_heading_forms(heading: str, number: str, int_ext: str, tod: str, location: str) -> None:
    sp = parse(f"{heading}\n△她走进来。\n")
    scene = sp.scenes[0]
    assert (scene.number, scene.int_ext, scene.time_of_day, scene.location) == (number, int_ext, tod, location)


def test_markdown_heading_with_place_on_the_next_line() -> None:
    sp = parse("### 场1-1\n日 内 办公室\n人物：王总、小李\n王总：进来。\n")
    scene = sp.scenes[0]
    assert (scene.number, scene.time_of_day, scene.int_ext, scene.location) == ("1-1", "day", "INT", "办公室")
    assert scene.characters == ["王总", "小李"]
    assert scene.elements[0].character == "王总"


def test_episodes_and_cast_lines() -> None:
    sp = parse(
        "第1集\n1-1 日 内 客厅\n出场人物：张三（男，30岁）、李四\n张三：你好。\n"
        "第2集\n2-1 夜 外 街道\n角色：李四\n李四：再见。\n"
    )
    assert [s.episode for s in sp.scenes] == [1, 2]
    assert sp.scenes[0].characters == ["张三（男，30岁）", "李四"]
    assert sp.characters() == ["张三", "李四"]


@pytest.mark.parametrize(
    ("line", "character", "extension", "parenthetical", "text"),
    [
        ("张三：今天天气不错。", "张三", "", "", "今天天气不错。"),
        ("张三:“今天天气不错。”", "张三", "", "", "今天天气不错。"),
        ("张三（低声）：别出声。", "张三", "", "低声", "别出声。"),
        ("张三(低声):别出声。", "张三", "", "低声", "别出声。"),
        ("张三：（冷笑）你以为呢？", "张三", "", "冷笑", "你以为呢？"),
        ("张三（OS）：我在门外。", "张三", "OS", "", "我在门外。"),
        ("张三（vo）：那年我十岁。", "张三", "VO", "", "那年我十岁。"),
        ("张三（画外音）：开门！", "张三", "画外音", "", "开门！"),
        ("旁白：故事从这里开始。", "旁白", "VO", "", "故事从这里开始。"),
    ],
)
def test_dialogue_forms(line: str, character: str, extension: str, parenthetical: str, text: str) -> None:
    el = parse(f"1-1 日 内 客厅\n{line}\n").scenes[0].elements[0]
    assert el.type == ElementType.dialogue
    assert (el.character, el.extension, el.parenthetical, el.text) == (character, extension, parenthetical, text)


def test_action_brackets_and_transitions() -> None:
    sp = parse("1-1 夜 外 码头\n【空镜：海面上的月亮】\n△他把信放进瓶子里。\n【字幕：十年后】\n叠化\n时间：凌晨三点\n")
    kinds = [(el.type, el.text) for el in sp.scenes[0].elements]
    assert kinds == [
        (ElementType.cutaway, "海面上的月亮"),
        (ElementType.action, "他把信放进瓶子里。"),
        (ElementType.caption, "十年后"),
        (ElementType.transition, "叠化"),
        (ElementType.action, "时间：凌晨三点"),  # a label, not a speaker
    ]


def test_an_action_sentence_with_a_colon_is_not_dialogue() -> None:
    sp = parse("1-1 日 内 教室\n人物：老师\n黑板上写着一行大字：明天考试\n老师：都看见了吧？\n")
    els = sp.scenes[0].elements
    assert els[0].type == ElementType.action
    assert els[1].type == ElementType.dialogue and els[1].character == "老师"


def test_title_and_line_numbers() -> None:
    sp = parse("剧名：《回家》\n\n1-1 日 外 车站\n△人潮涌动。\n")
    assert sp.title == "回家"
    assert sp.scenes[0].line == 3 and sp.scenes[0].elements[0].line == 4


def test_detection() -> None:
    assert detect_format("1-1 日 内 客厅\n张三：你好\n") == "zh"
    assert detect_format("INT. HOUSE - DAY\n\nBOB\nHi.\n") == "fountain"
    assert detect_format("anything", "a.fountain") == "fountain"
    assert detect_format("他走进房间，看着窗外的雨。") == "zh"


@pytest.mark.parametrize(
    ("heading", "int_ext", "tod", "location"),
    [
        ("1-1 客厅（日/内）", "INT", "day", "客厅"),
        ("场景1：咖啡馆（日，内）", "INT", "day", "咖啡馆"),
        ("日 内 客厅", "INT", "day", "客厅"),
        ("内景 仓库 夜", "INT", "night", "仓库"),
        ("外景·天台·黄昏", "EXT", "dusk", "天台"),
    ],
)
def test_bracketed_and_unnumbered_headings(heading: str, int_ext: str, tod: str, location: str) -> None:
    sp = parse(f"{heading}\n张三：到了。\n")
    assert len(sp.scenes) == 1
    assert (sp.scenes[0].int_ext, sp.scenes[0].time_of_day, sp.scenes[0].location) == (int_ext, tod, location)
    assert sp.scenes[0].elements[0].character == "张三"


def test_a_sentence_with_time_words_is_not_a_heading() -> None:
    sp = parse("1-1 日 内 客厅\n夜里，外面下起了雨。\n△她关上窗。\n")
    assert len(sp.scenes) == 1 and sp.scenes[0].elements[0].type == ElementType.action


@pytest.mark.parametrize(
    ("cue", "extension", "heard"),
    [
        ("OS", "OS", "inner"),  # the speaker's thought, in this convention
        ("os", "OS", "inner"),
        ("内心OS", "内心OS", "inner"),
        ("心声", "心声", "inner"),
        ("画外音", "画外音", "O.S."),  # a voice from off screen
        ("画外", "画外", "O.S."),
        ("电话 OS", "电话 OS", "O.S."),
        ("V.O.", "V.O.", "V.O."),
    ],
)
def test_voice_marks_are_kept_as_written_and_read_by_the_convention(cue: str, extension: str, heard: str) -> None:
    el = parse(f"1-1 日 内 客厅\n张三（{cue}）：我知道。\n").scenes[0].elements[0]
    assert (el.character, el.extension, el.parenthetical) == ("张三", extension, "")
    assert hearing_of(el.extension, language="zh").value == heard


def test_a_quoted_line_after_dialogue_continues_it() -> None:
    els = parse("1-1 日 内 客厅\n张三：“你听我说。”\n“这件事不怪你。”\n△李四低头。\n").scenes[0].elements
    assert [(e.type, e.text) for e in els] == [
        (ElementType.dialogue, "你听我说。\n这件事不怪你。"),
        (ElementType.action, "李四低头。"),
    ]
