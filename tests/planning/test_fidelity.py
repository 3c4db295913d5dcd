"""What the writer wrote reaches the shot script, and nothing is invented: one screenplay fragment per pattern.

Each test reads a fragment written for it with the real parser, imports and plans it, and checks the
document (what was kept) and the planned shots (their kinds, who is framed, their lengths).
"""

from __future__ import annotations

import re

from kaipai.document.models import Document
from kaipai.document.scenes import IntExt
from kaipai.document.shots import Angle, Delivery, Shot, ShotKind
from kaipai.planning.importer import document_from_screenplay
from kaipai.planning.rules import plan_document
from kaipai.screenplay import parse_text


def imported(text: str) -> Document:
    return document_from_screenplay(parse_text(text))


def planned(doc: Document) -> list[Shot]:
    return plan_document(doc).document.ordered_shots()


def framed(shot: Shot) -> list[str]:
    return [p.character for p in shot.composition]


def words(shots: list[Shot]) -> str:
    return " ".join(f"{s.description} {s.image_prompt} {s.video_prompt}" for s in shots)


# --------------------------------------------------------------------------- Chinese convention

INNER_VOICE = """1-1 夜 内 病房
人物：林夏、老周
△林夏坐在床边，握着老周的手。
林夏（OS）：他还认得我吗？
老周：小夏，你来了。
林夏（内心OS）：他记得。
老周（画外音）：护士，麻烦倒杯水。
"""


def test_os_in_a_chinese_script_is_the_speakers_inner_voice_over_their_silent_face() -> None:
    doc = imported(INNER_VOICE)
    lines = [el for el in doc.scenes[0].elements if el.type == "dialogue"]
    assert [(el.character, el.extension) for el in lines] == [
        ("林夏", "OS"),
        ("老周", ""),
        ("林夏", "内心OS"),
        ("老周", "画外音"),
    ]  # the marks as written
    lin, zhou = (c.id for c in doc.cast.characters)
    shots = planned(doc)
    by_line = {d.id: (s, d) for s in shots for d in s.dialogue}
    for line_id in ("S01-L1", "S01-L3"):  # （OS） and （内心OS）: we watch her, and hear her thought
        shot, line = by_line[line_id]
        assert line.speaker == lin and line.delivery == Delivery.vo
        assert framed(shot) == [lin] and shot.kind in (ShotKind.single, ShotKind.action)
        assert shot.speakers_on_screen == []  # no lip sync: her mouth stays closed
        assert "林夏沉默不语" in shot.video_prompt and "说话" not in shot.video_prompt
    assert framed(by_line["S01-L2"][0])[0] == zhou  # he speaks on screen
    # （画外音） stays off-screen speech: we see her, who hears it
    shot, line = by_line["S01-L4"]
    assert line.delivery == Delivery.os and shot.kind == ShotKind.reaction and framed(shot) == [lin]


def test_a_project_can_read_os_as_off_screen_speech() -> None:
    doc = imported(INNER_VOICE)
    doc.project.voice_marks = {"OS": "O.S."}
    lin, zhou = (c.id for c in doc.cast.characters)
    shot, line = next((s, d) for s in planned(doc) for d in s.dialogue if d.id == "S01-L1")
    assert line.delivery == Delivery.os
    assert shot.kind == ShotKind.reaction and framed(shot) == [zhou]  # the one who hears it
    shot, line = next((s, d) for s in planned(doc) for d in s.dialogue if d.id == "S01-L3")
    assert line.delivery == Delivery.vo and framed(shot) == [lin]  # 内心 still says it is a thought


def test_inner_voice_of_someone_not_yet_seen_still_frames_them() -> None:
    doc = imported("1-1 日 外 天台\n【空镜：城市的黄昏】\n阿杰（OS）：就到这里吧。\n")
    shots = planned(doc)
    assert [s.kind for s in shots] == [ShotKind.cutaway, ShotKind.single]
    assert framed(shots[1]) == ["阿杰"] and shots[1].dialogue[0].delivery == Delivery.vo
    assert doc.scenes[0].characters == ["阿杰"]  # thinking, so present


def test_words_meaning_nobody_are_not_characters() -> None:
    doc = imported(
        "1-1 夜 外 街道\n人物：无\n【空镜：空无一人的街道】\n"
        "1-2 夜 内 客厅\n出场人物：暂无\n△灯亮着。\n"
        "1-3 日 内 厨房\n人物：—\n△水壶响了。\n"
    )
    assert doc.cast.characters == [] and all(s.characters == [] for s in doc.scenes)
    assert all(not s.composition for s in planned(doc))


def test_a_title_in_brackets_after_a_heading_is_the_scenes_title_not_action() -> None:
    doc = imported("剧名：《归途》\n第1集\n《重逢》\n1-1 日 外 车站\n《雨中的站台》\n人物：林夏\n△林夏撑着伞等车。\n")
    scene = doc.scenes[0]
    assert doc.project.title == "归途"
    assert scene.title == "雨中的站台"
    assert [(el.type, el.text) for el in scene.elements] == [
        ("episode", "第1集 《重逢》"),  # the episode keeps its title too
        ("action", "林夏撑着伞等车。"),
    ]
    shots = planned(doc)
    assert [s.kind for s in shots] == [ShotKind.establishing]
    assert shots[0].action == "林夏撑着伞等车。" and framed(shots[0]) == ["林夏"]
    assert "雨中的站台" not in words(shots) and "重逢" not in words(shots)


# --------------------------------------------------------------------------- Fountain

SPEECH_IN_PARTS = """INT. KITCHEN - NIGHT

MARY
(quietly)
I saw him today.
(pause)
He looked old.
(turning away)
Older than Dad.

JOHN
Who?
"""


def test_parentheticals_inside_a_speech_stay_where_they_were_written() -> None:
    doc = imported(SPEECH_IN_PARTS)
    speech = doc.scenes[0].elements[0]
    assert speech.type == "dialogue"
    assert (speech.parenthetical, speech.text) == ("(quietly)", "I saw him today.")
    assert [(p.parenthetical, p.text) for p in speech.parts] == [
        ("(pause)", "He looked old."),
        ("(turning away)", "Older than Dad."),
    ]
    shots = planned(doc)
    lines = [(d.id, d.text, d.parenthetical) for s in shots for d in s.dialogue]
    assert lines == [
        ("S01-L1", "I saw him today.", "quietly"),
        ("S01-L1-2", "He looked old.", "pause"),
        ("S01-L1-3", "Older than Dad.", "turning away"),
        ("S01-L2", "Who?", ""),
    ]
    mary = next(s for s in shots if s.dialogue and s.dialogue[0].id == "S01-L1")
    assert [d.id for d in mary.dialogue] == ["S01-L1", "S01-L1-2", "S01-L1-3"]  # one speech, one shot
    assert framed(mary)[0] == "mary"
    assert mary.duration >= 4.4  # 11 words at 2.5 words/s, two pauses between the parts, a handle each side


FORCED_HEADINGS = """Title: The Scope
Credit: written by
Author: Ana Ruiz
Source: based on a true story
Draft date: 1 May 2025
Contact: ana@example.com

.OPENING TITLES

EXT. ROOFTOP - NIGHT

KARL (40s) lies flat beside a rifle.

KARL
There she is.

.SNIPER SCOPE POV

Through the crosshairs: MAYA crosses the square below.

.KARL'S POV

Maya looks up.

.MONTAGE

- Maya buys bread.
- Maya runs for the bus.
- Karl packs the rifle.

.INSERT - THE LETTER

It reads: come home.

.KITCHEN

Maya sets the bread down.

MAYA
I'm home.
"""


def test_title_page_credits_are_kept() -> None:
    project = imported(FORCED_HEADINGS).project
    assert (project.title, project.author, project.credit) == ("The Scope", "Ana Ruiz", "written by")
    assert (project.source, project.draft_date, project.contact) == (
        "based on a true story",
        "1 May 2025",
        "ana@example.com",
    )


def test_forced_headings_that_are_not_places_are_planned_as_what_they_are() -> None:
    doc = imported(FORCED_HEADINGS)
    kinds = [(s.heading, s.kind, s.int_ext, s.location) for s in doc.scenes]
    assert kinds == [
        ("OPENING TITLES", "title", IntExt.unspecified, None),
        ("EXT. ROOFTOP - NIGHT", "scene", IntExt.EXT, "rooftop"),
        ("SNIPER SCOPE POV", "pov", IntExt.unspecified, None),
        ("KARL'S POV", "pov", IntExt.unspecified, None),
        ("MONTAGE", "montage", IntExt.unspecified, None),
        ("INSERT - THE LETTER", "insert", IntExt.unspecified, None),
        ("KITCHEN", "scene", IntExt.unspecified, "kitchen"),  # a place, int/ext left open
    ]
    assert [loc.name for loc in doc.cast.locations] == ["Rooftop", "Kitchen"]
    shots = planned(doc)
    scene = {sid: [s for s in shots if s.scene == sid] for sid in (s.id for s in doc.scenes)}
    # a caption card with the film's title, nothing else invented
    assert [(s.kind, s.caption) for s in scene["S01"]] == [(ShotKind.caption, "The Scope")]
    # POV: through the scope, the one seen is framed; through Karl's eyes, Karl is not
    (scope,) = scene["S03"]
    assert scope.angle == Angle.pov and framed(scope) == ["maya"] and "Sniper Scope" in scope.description
    (karls,) = scene["S04"]
    assert karls.angle == Angle.pov and framed(karls) == ["maya"]
    # a montage: one short shot per line, bullets dropped, no establishing shot
    montage = scene["S05"]
    assert [s.action for s in montage] == ["Maya buys bread.", "Maya runs for the bus.", "Karl packs the rifle."]
    assert [framed(s) for s in montage] == [["maya"], ["maya"], ["karl"]]
    assert all(s.duration <= 3.0 for s in montage)
    # an insert of what the heading names, described by its action
    (letter,) = scene["S06"]
    assert letter.kind == ShotKind.insert and letter.action == "It reads: come home."
    assert letter.description.startswith("Insert, extreme close-up of the letter.")
    # a forced place: established, without an invented "(interior)"
    assert scene["S07"][0].kind == ShotKind.establishing and doc.scenes[6].characters == ["maya"]
    assert scene["S07"][0].description.startswith("Wide shot of Kitchen.")
    assert not re.search(r"Opening Titles|Sniper Scope Pov|Montage \(|\(interior", words(shots))


DUAL = """INT. KITCHEN - NIGHT

MARY
You never listen to me!

JOHN ^
I'm listening right now, aren't I?
"""


def test_dual_dialogue_is_spoken_at_once_in_one_frame() -> None:
    doc = imported(DUAL)
    assert [el.dual for el in doc.scenes[0].elements] == [False, True]
    shots = planned(doc)
    (both,) = [s for s in shots if s.dialogue]
    assert both.kind == ShotKind.two_shot and framed(both) == ["mary", "john"]
    assert [(d.speaker, d.dual) for d in both.dialogue] == [("mary", False), ("john", True)]
    assert both.speakers_on_screen == ["mary", "john"]  # both mouths move
    # as long as the longer speech (6 words, 2.4 s) with a handle each side, not both in a row (5.2 s)
    assert both.duration == 2.9


def test_two_dual_exchanges_in_a_row_are_two_frames_not_a_jump_cut() -> None:
    doc = imported(DUAL + "\nMARY\nThen say it!\n\nJOHN ^\nI said it.\n")
    pairs = [s for s in planned(doc) if s.dialogue]
    assert [[(d.speaker, d.dual) for d in s.dialogue] for s in pairs] == [[("mary", False), ("john", True)]] * 2
    assert all(s.kind == ShotKind.two_shot and framed(s) == ["mary", "john"] for s in pairs)  # both speak at once
    first, second = pairs
    assert (first.size, first.angle, first.move) != (second.size, second.angle, second.move)  # the size changes


def test_descriptions_do_not_end_in_a_colon_and_a_stop() -> None:
    shots = planned(imported("INT. OFFICE - DAY\n\nAnna takes the phone call:\n\nShe listens, then a pause --\n"))
    text = words(shots)
    assert "call:." not in text and "--." not in text and ":," not in text
    assert any(s.description.endswith("Anna takes the phone call.") for s in shots)


def test_a_speech_is_framed_as_a_whole_and_a_voice_over_stays_one_when_it_continues() -> None:
    doc = imported(
        "INT. HALL - NIGHT\n\nANNA\nListen to me.\n(shouting)\nGet out!\n\nBEN\nNo.\n\n"
        "Ben leaves.\n\nANNA (V.O.)(CONT'D)\nHe never came back.\n"
    )
    shots = planned(doc)
    anna = next(s for s in shots if s.dialogue and s.dialogue[0].id == "S01-L1")
    assert [d.id for d in anna.dialogue] == ["S01-L1", "S01-L1-2"]
    assert anna.size.value == "CU" and anna.move.value == "push_in"  # the cry in its last part frames it close
    (later,) = [d for s in shots for d in s.dialogue if d.id == "S01-L3"]
    assert later.delivery == Delivery.vo  # (V.O.)(CONT'D) is still a voice-over, not a line on screen
