"""The film-grammar planner: coverage, screen direction, inserts, timing, words."""

from __future__ import annotations

import itertools
import re

import pytest

from kaipai.document.cast import Prop
from kaipai.document.models import Document, reference_errors
from kaipai.document.settings import Style
from kaipai.document.shots import Angle, CameraMove, Delivery, ShotKind, ShotSize, Transition
from kaipai.planning.importer import document_from_screenplay
from kaipai.planning.names import has_cjk
from kaipai.planning.rules import plan_document, plan_scene
from kaipai.screenplay.model import Element, ElementType, Screenplay, ScreenplayScene
from tests.support.scripts import (
    en_screenplay,
    line_owners,
    screenplay_lines,
    side_violations,
    speakers_by_scene,
    zh_screenplay,
)


def planned(sp: Screenplay, **kw: object) -> Document:
    return plan_document(document_from_screenplay(sp, **kw)).document  # type: ignore[arg-type]


@pytest.mark.parametrize("make", [en_screenplay, zh_screenplay])
def test_every_dialogue_line_is_in_exactly_one_shot_with_a_scene_based_id(make) -> None:
    doc = planned(make())
    owners = line_owners(doc)
    assert sorted(owners) == sorted(screenplay_lines(doc))
    assert set(owners.values()) == {1}
    assert reference_errors(doc) == []


@pytest.mark.parametrize("make", [en_screenplay, zh_screenplay])
def test_speakers_keep_their_screen_side_for_the_whole_scene(make) -> None:
    doc = planned(make())
    assert side_violations(doc) == []
    # the first two speakers of a scene take opposite thirds and face each other
    for scene_id, speakers in speakers_by_scene(doc).items():
        if len(speakers) < 2:
            continue
        a, b = speakers[:2]
        placements = {
            p.character: p for s in doc.shots if s.scene == scene_id for p in s.composition if p.facing.value != "away"
        }
        assert placements[a].third.value == "left" and placements[a].facing.value == "right"
        assert placements[b].third.value == "right" and placements[b].facing.value == "left"


def test_dialogue_is_covered_by_a_two_shot_then_shot_reverse_shot() -> None:
    doc = planned(en_screenplay())
    kitchen = [
        s for s in doc.ordered_shots() if s.scene == "S01" and s.dialogue and s.dialogue[0].delivery == Delivery.on
    ]
    kinds = [s.kind for s in kitchen]
    assert ShotKind.ots in kinds and ShotKind.single in kinds
    first_exchange = next(s for s in kitchen if s.dialogue[0].speaker == "john")
    ots = [s for s in kitchen if s.kind == ShotKind.ots]
    assert all(s.angle == Angle.ots and len(s.composition) == 2 for s in ots)
    assert all(s.composition[1].depth.value == "foreground" and s.composition[1].facing.value == "away" for s in ots)
    assert first_exchange.kind in (ShotKind.ots, ShotKind.two_shot, ShotKind.single)
    zh = planned(zh_screenplay())
    first = next(s for s in zh.ordered_shots() if s.dialogue)
    assert first.kind == ShotKind.two_shot and {p.character for p in first.composition} == {"林晓", "父亲"}


def test_an_emotional_line_gets_a_push_in_close_up_and_a_reaction() -> None:
    doc = planned(zh_screenplay())
    shots = doc.ordered_shots()
    i = next(k for k, s in enumerate(shots) if any("我一直都记得" in d.text for d in s.dialogue))
    assert shots[i].size == ShotSize.CU and shots[i].move == CameraMove.push_in
    assert shots[i].dialogue[0].parenthetical == "哽咽"
    assert shots[i + 1].kind == ShotKind.reaction and shots[i + 1].composition[0].character == "父亲"
    assert shots[i + 1].dialogue == []


def test_establishing_shot_at_each_new_location_only() -> None:
    doc = planned(en_screenplay())
    firsts = {sid: next(s for s in doc.ordered_shots() if s.scene == sid) for sid in ("S01", "S02", "S03")}
    assert firsts["S01"].kind == ShotKind.establishing and firsts["S01"].size == ShotSize.WS
    assert firsts["S01"].move == CameraMove.pan_right and firsts["S01"].dialogue == []
    # the kitchen again: no new establishing shot
    assert not any(s.kind == ShotKind.establishing for s in doc.shots if s.scene == "S02")
    # an exterior gets an extreme wide shot
    assert firsts["S03"].kind == ShotKind.establishing and firsts["S03"].size == ShotSize.EWS
    # a 空镜 opening a scene at a new place is itself the wide opening
    zh = planned(zh_screenplay())
    opening = zh.ordered_shots()[0]
    assert opening.kind == ShotKind.cutaway and opening.size in (ShotSize.WS, ShotSize.EWS) and not opening.composition


def test_inserts_for_objects_the_action_names() -> None:
    doc = planned(en_screenplay())
    inserts = [s for s in doc.ordered_shots() if s.kind == ShotKind.insert]
    assert inserts and "birthday card" in inserts[0].description.lower()
    assert inserts[0].size == ShotSize.ECU and inserts[0].composition == []
    assert any("card" in s.description for s in inserts if s.scene == "S03")
    zh = planned(zh_screenplay())
    assert any(s.kind == ShotKind.insert and "生日卡" in s.description for s in zh.shots)


def test_inserts_use_cast_props_when_the_cast_has_them() -> None:
    doc = document_from_screenplay(en_screenplay())
    doc.cast.props = [Prop(id="card", name="birthday card")]
    shots = plan_document(doc).document.ordered_shots()
    inserts = [s for s in shots if s.kind == ShotKind.insert]
    assert inserts and all(s.props == ["card"] for s in inserts)
    assert reference_errors(plan_document(doc).document) == []


def test_durations_follow_reading_speed() -> None:
    long_zh = "我" * 45  # 45 characters at 4.5/s = 10 s
    ten_words = "one two three four five six seven eight nine ten"  # 10 words at 2.5/s = 4 s
    sp = Screenplay(
        format="zh",
        scenes=[
            ScreenplayScene(
                heading="INT. ROOM",
                location="ROOM",
                elements=[
                    Element(type=ElementType.dialogue, character="A", text=long_zh),
                    Element(type=ElementType.dialogue, character="B", text=ten_words),
                    Element(type=ElementType.dialogue, character="A", text="嗯"),
                ],
            )
        ],
    )
    doc = planned(sp)
    by_text = {s.dialogue[0].text: s for s in doc.shots if s.dialogue}
    assert 10.0 < by_text[long_zh].duration <= 10.6
    assert 4.0 < by_text[ten_words].duration <= 4.6
    assert by_text["嗯"].duration == 1.5  # never shorter than a readable shot
    assert all(s.duration_source == "estimate" for s in doc.shots)


def test_voice_over_and_off_screen_lines() -> None:
    doc = planned(en_screenplay())
    lines = {d.text: (d, s) for s in doc.shots for d in s.dialogue}
    narr, shot = lines["That was the last card he ever sent."]
    assert narr.speaker == "narrator" and narr.delivery == Delivery.vo
    assert "narrator" not in {p.character for p in shot.composition}
    os_line, os_shot = lines["Mary? Are you still up?"]
    assert os_line.delivery == Delivery.os and os_line.speaker == "john"
    assert [p.character for p in os_shot.composition] == ["mary"]  # we watch the one who hears it
    vo, _ = lines["Some things you keep by letting them go."]
    assert vo.delivery == Delivery.vo and vo.speaker == "mary"
    quiet, _ = lines["Go to bed, John."]
    assert quiet.parenthetical == "quietly"


def test_cutaways_captions_and_transitions() -> None:
    doc = planned(zh_screenplay())
    shots = doc.ordered_shots()
    caption = next(s for s in shots if s.kind == ShotKind.caption)
    assert caption.caption == "三年后" and caption.composition == []
    assert any(s.kind == ShotKind.cutaway and "窗外的雨夜" in s.description for s in shots)
    first_of_s2 = next(s for s in shots if s.scene == "S02")
    assert first_of_s2.transition == Transition.dissolve  # 叠化 at the end of the previous scene


def test_words_lighting_and_lens_follow_the_scene_and_the_language() -> None:
    doc = document_from_screenplay(zh_screenplay())
    doc.style = Style(
        lighting="低调光，暖色实用光源", visual_style="温暖的现实主义，35mm 胶片质感", palette=["#FFB000", "#007F80"]
    )
    shots = plan_document(doc).document.ordered_shots()
    night = [s for s in shots if s.scene == "S01"]
    assert all(s.lighting.startswith("内景·夜") and "暖色实用光源" in s.lighting for s in night)
    assert all(s.lighting.endswith("主色调：琥珀色、青色") for s in shots)  # the palette, in words
    assert all("主色调" in s.image_prompt for s in shots if s.kind != ShotKind.caption)
    assert all("外景·日" in s.lighting for s in shots if s.scene == "S02")
    for s in shots:
        assert has_cjk(s.description) and has_cjk(s.image_prompt) and has_cjk(s.video_prompt)
        assert "温暖的现实主义" in s.image_prompt
        assert re.fullmatch(r"\d+mm( macro)?", s.lens)
    en_doc = document_from_screenplay(en_screenplay())
    en_doc.style = Style(palette=["#0A1A50"])
    en = plan_document(en_doc).document
    assert all(s.lighting.endswith("palette of navy") for s in en.shots)
    for s in en.shots:
        assert not has_cjk(s.description + s.image_prompt + s.video_prompt)
        assert s.image_prompt and s.video_prompt and s.description
    assert any(s.lighting.lower().startswith("exterior, dawn") for s in en.shots)
    speaking = next(s for s in en.shots if s.kind == ShotKind.single)
    assert "speaks" in speaking.video_prompt


def test_ids_are_readable_and_order_runs_through_the_film() -> None:
    doc = planned(en_screenplay())
    shots = doc.ordered_shots()
    assert all(re.fullmatch(rf"{s.scene}-\d{{3}}", s.id) for s in shots)
    orders = [s.order for s in shots]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)
    scene_seq = [s.scene for s in shots]
    assert scene_seq == sorted(scene_seq)


def test_plan_scene_alone_covers_one_scene() -> None:
    doc = document_from_screenplay(en_screenplay())
    shots = plan_scene(doc, doc.scenes[1])
    assert [s.id for s in shots] == [f"S02-{i:03d}" for i in range(1, len(shots) + 1)]
    assert sum(len(s.dialogue) for s in shots) == 2


def test_dual_dialogue_is_one_two_shot_and_sounds_become_sfx() -> None:
    sp = Screenplay(
        format="fountain",
        scenes=[
            ScreenplayScene(
                heading="INT. HALLWAY - DAY",
                location="HALLWAY",
                elements=[
                    Element(
                        type=ElementType.action, text="Brick and Steel wait. The phone rings. A SOUND in the hall."
                    ),
                    Element(type=ElementType.dialogue, character="BRICK", text="Screw retirement."),
                    Element(type=ElementType.dialogue, character="STEEL", text="Screw retirement.", dual=True),
                ],
            )
        ],
    )
    doc = planned(sp)
    both = [s for s in doc.shots if len(s.dialogue) == 2]
    assert len(both) == 1 and both[0].kind == ShotKind.two_shot
    assert [p.character for p in both[0].composition] == ["brick", "steel"]
    assert {"phone rings", "sound"} <= set(doc.ordered_shots()[0].sfx)
    assert side_violations(doc) == []


def _scene(*elements: Element, heading: str = "EXT. PIER - NIGHT", location: str = "PIER") -> Screenplay:
    return Screenplay(
        format="fountain",
        scenes=[
            ScreenplayScene(
                heading=heading, int_ext="EXT", time_of_day="night", location=location, elements=list(elements)
            )
        ],
    )


def test_an_action_that_names_nobody_frames_who_is_there_and_inserts_what_is_handed_over() -> None:
    doc = planned(
        _scene(
            Element(type=ElementType.action, text="Rain on the planks."),
            Element(type=ElementType.dialogue, character="MAYA", text="He said the light would still be on."),
            Element(type=ElementType.dialogue, character="ELI", text="It has been on every night."),
            Element(type=ElementType.action, text="She hands him the envelope. He does not open it."),
        )
    )
    shots = doc.ordered_shots()
    handing = next(s for s in shots if s.action.startswith("She hands him"))
    assert handing.kind == ShotKind.two_shot and [p.character for p in handing.composition] == ["maya", "eli"]
    after = shots[shots.index(handing) + 1]
    assert after.kind == ShotKind.insert and "envelope" in after.description
    assert side_violations(doc) == []


def test_a_voice_over_from_someone_in_the_scene_watches_them_silent() -> None:
    doc = planned(
        _scene(
            Element(type=ElementType.dialogue, character="ELI", text="Your mother wrote this?"),
            Element(type=ElementType.dialogue, character="MAYA", text="She never sent it."),
            Element(
                type=ElementType.dialogue, character="ELI", extension="V.O.", text="Some letters take forty years."
            ),
            Element(type=ElementType.dialogue, character="ELI", extension="V.O.", text="This one took forty-one."),
        )
    )
    thought = next(s for s in doc.shots if any(d.delivery == Delivery.vo for d in s.dialogue))
    assert [p.character for p in thought.composition] == ["eli"] and thought.size == ShotSize.CU
    assert [d.text for d in thought.dialogue] == ["Some letters take forty years.", "This one took forty-one."]
    assert "speaks" not in thought.video_prompt and "lips still" in thought.video_prompt


def test_the_first_line_is_spoken_in_the_two_shot_the_action_just_drew() -> None:
    doc = planned(
        _scene(
            Element(type=ElementType.action, text="Gulls overhead."),
            Element(type=ElementType.action, text="Eli and Maya stand at the railing."),
            Element(type=ElementType.dialogue, character="ELI", text="She asked me to keep the light on."),
            Element(type=ElementType.dialogue, character="MAYA", text="She did come home."),
        )
    )
    shots = doc.ordered_shots()
    railing = next(s for s in shots if "railing" in s.action)
    assert railing.kind == ShotKind.two_shot and [d.text for d in railing.dialogue] == [
        "She asked me to keep the light on."
    ]
    assert railing.duration >= 2.0  # long enough for the action as well as the line
    assert shots[shots.index(railing) + 1].kind != ShotKind.two_shot


def test_fade_in_written_as_action_opens_the_film_with_a_fade_and_is_not_a_shot() -> None:
    doc = planned(
        _scene(
            Element(type=ElementType.action, text="**FADE IN:**"),
            Element(type=ElementType.action, text="A river at dawn."),
        )
    )
    shots = doc.ordered_shots()
    assert all("FADE" not in s.action for s in shots)
    assert shots[0].transition == Transition.fade_in


def test_the_same_frame_is_never_cut_to_itself() -> None:
    doc = planned(
        _scene(
            Element(type=ElementType.action, text="The lamp room, late."),
            Element(type=ElementType.action, text="Eli polishes the brass."),
            Element(type=ElementType.action, text="Eli hums to himself."),
            Element(type=ElementType.action, text="Eli yawns."),
            Element(type=ElementType.dialogue, character="ELI", text="Bed."),
        )
    )
    shots = [s for s in doc.ordered_shots() if s.kind == ShotKind.action]
    assert len(shots) == 3
    assert all(a.size != b.size for a, b in itertools.pairwise(shots))
    assert all(s.lens for s in shots) and shots[0].lens != shots[1].lens  # the lens follows the size


def test_an_opening_without_a_heading_names_no_place() -> None:
    sp = _scene(Element(type=ElementType.action, text="Mary walks to the pier."))
    sp.preamble = [Element(type=ElementType.action, text="A river at dawn.")]
    doc = planned(sp)
    opening = next(s for s in doc.ordered_shots() if s.scene == "S01")
    assert "OPENING" not in opening.description + opening.image_prompt and "A river at dawn." in opening.description
    zh = Screenplay(
        format="zh",
        preamble=[Element(type=ElementType.action, text="雨夜，城市的灯光。")],
        scenes=zh_screenplay().scenes,
    )
    first = plan_document(document_from_screenplay(zh)).document.ordered_shots()[0]
    assert "序幕" not in first.description and "：。" not in first.description and "雨夜" in first.description


def test_centered_text_is_a_title_card() -> None:
    doc = planned(
        _scene(
            Element(type=ElementType.action, text="Night falls."),
            Element(type=ElementType.centered, text="**THE END**"),
        )
    )
    last = doc.ordered_shots()[-1]
    assert last.kind == ShotKind.caption and last.caption == "THE END" and last.composition == []


def test_prompts_read_script_capitals_and_introductions_as_plain_words() -> None:
    doc = planned(
        _scene(
            Element(type=ElementType.action, text="Gulls."),
            Element(type=ElementType.action, text="WILL (29, soaked) drops a BIRTHDAY CARD. The TV is on."),
            Element(type=ElementType.dialogue, character="WILL", text="I will keep it."),
        )
    )
    shot = next(s for s in doc.shots if s.action.startswith("WILL (29"))
    assert doc.character("will").description == "29, soaked"  # type: ignore[union-attr]
    assert "Will (29, soaked) at screen" in shot.image_prompt  # the look, once, where the person is placed
    assert "Will drops a birthday card" in shot.image_prompt and "The TV is on" in shot.video_prompt
    assert shot.action.startswith("WILL (29, soaked)")  # the shot keeps the script's own words
