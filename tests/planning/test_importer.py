"""Screenplay → document: cast, locations, scenes, language and title."""

from __future__ import annotations

import re

from kaipai.document.io import new_document_text, parse_text
from kaipai.document.models import reference_errors
from kaipai.document.scenes import IntExt, TimeOfDay
from kaipai.planning.importer import document_from_screenplay, keep_scene_ids
from kaipai.screenplay.model import Element, ElementType, Screenplay, ScreenplayScene
from tests.support.scripts import en_screenplay, zh_screenplay


def test_english_cast_merges_forms_of_one_person_and_leaves_the_narrator_out() -> None:
    doc = document_from_screenplay(en_screenplay())
    ids = [c.id for c in doc.cast.characters]
    assert ids == ["mary", "john"]
    mary = doc.character("mary")
    assert mary is not None and mary.name == "Mary"
    assert "MARY (CONT'D)" in mary.aliases
    assert "narrator" not in ids and all("narrat" not in c.name.lower() for c in doc.cast.characters)


def test_every_character_gets_a_distinct_previz_colour() -> None:
    names = [f"PERSON {i}" for i in range(30)]
    sp = Screenplay(
        format="fountain",
        scenes=[
            ScreenplayScene(
                heading="INT. ROOM",
                location="ROOM",
                elements=[Element(type=ElementType.dialogue, character=n, text="Hi.") for n in names],
            )
        ],
    )
    doc = document_from_screenplay(sp)
    colours = [c.color for c in doc.cast.characters]
    assert len(colours) == 30 and all(colours) and len(set(colours)) == 30
    assert all(re.fullmatch(r"#[0-9A-F]{6}", c or "") for c in colours)


def test_chinese_names_stay_chinese_and_declared_details_become_the_description() -> None:
    doc = document_from_screenplay(zh_screenplay())
    assert doc.project.language.value == "zh"
    assert doc.project.title == "最后一张生日卡"
    lin = doc.character("林晓")
    assert lin is not None and lin.description == "女，25岁" and lin.aliases == []
    assert [c.id for c in doc.cast.characters] == ["林晓", "父亲"]  # 旁白 is the narrator, not cast
    assert {loc.id for loc in doc.cast.locations} == {"厨房", "墓地"}


def test_scenes_keep_heading_place_time_and_the_screenplay_body() -> None:
    sp = en_screenplay()
    doc = document_from_screenplay(sp, screenplay_path="screenplay.fountain")
    assert [s.id for s in doc.scenes] == ["S01", "S02", "S03"]
    s1, s2, s3 = doc.scenes
    assert s1.heading == "INT. KITCHEN - NIGHT" and s1.int_ext == IntExt.INT and s1.time_of_day == TimeOfDay.night
    assert s3.int_ext == IntExt.EXT and s3.time_of_day == TimeOfDay.dawn
    # KITCHEN appears twice but is one location
    assert [loc.name for loc in doc.cast.locations] == ["Kitchen", "Harbour"]
    assert s1.location == s2.location == "kitchen" and s3.location == "harbour"
    assert [el.model_dump(exclude_defaults=True) for el in s1.elements] == [
        el.model_dump(exclude_defaults=True) for el in sp.scenes[0].elements
    ]
    assert s1.characters == ["mary", "john"]
    assert s2.characters == ["john", "mary"]  # John is off screen but in the scene; order of appearance
    assert s3.characters == ["mary"]  # heard in voice-over and seen walking
    assert doc.shots == [] and doc.screenplay == "screenplay.fountain"
    assert reference_errors(doc) == []


def test_title_and_language_arguments_win_and_title_page_markup_is_dropped() -> None:
    doc = document_from_screenplay(en_screenplay())
    assert doc.project.title == "The Card" and doc.project.language.value == "en"
    doc = document_from_screenplay(en_screenplay(), title="Another Title", language="zh")
    assert doc.project.title == "Another Title" and doc.project.language.value == "zh"
    untitled = Screenplay(format="fountain", scenes=[ScreenplayScene(heading="EXT. FIELD", location="FIELD")])
    assert document_from_screenplay(untitled).project.title == "Untitled"
    assert document_from_screenplay(untitled, screenplay_path="scripts/big-night.fountain").project.title == "big night"


def test_language_is_detected_from_the_text_not_the_format() -> None:
    sp = Screenplay(
        format="fountain",
        scenes=[
            ScreenplayScene(
                heading="INT. 客厅 - 夜",
                location="客厅",
                elements=[Element(type=ElementType.action, text="她关上灯，屋里一片漆黑。")],
            )
        ],
    )
    assert document_from_screenplay(sp).project.language.value == "zh"


def test_a_preamble_with_action_becomes_an_opening_scene() -> None:
    sp = en_screenplay()
    sp.preamble = [
        Element(type=ElementType.transition, text="FADE IN:"),
        Element(type=ElementType.action, text="Rain on a window."),
    ]
    doc = document_from_screenplay(sp)
    assert doc.scenes[0].heading == "OPENING" and len(doc.scenes) == 4
    assert doc.scenes[0].elements[1].text == "Rain on a window."


def test_import_is_deterministic_and_round_trips_through_yaml() -> None:
    a = document_from_screenplay(zh_screenplay(), screenplay_path="screenplay.txt")
    b = document_from_screenplay(zh_screenplay(), screenplay_path="screenplay.txt")
    assert a == b
    loaded = parse_text(new_document_text(a))
    assert loaded.doc == a


def test_a_character_is_described_as_the_action_introduces_them() -> None:
    sp = Screenplay(
        format="fountain",
        scenes=[
            ScreenplayScene(
                heading="EXT. PIER - NIGHT",
                location="PIER",
                elements=[
                    Element(
                        type=ElementType.action,
                        text="MAYA (30s, raincoat, a sealed envelope in her hand) walks to the end of the pier.",
                    ),
                    Element(type=ElementType.dialogue, character="MAYA", text="He said the light would still be on."),
                    Element(
                        type=ElementType.action,
                        text="ELI (V.O.) is heard first. Then Eli (70s, oilskin coat) steps out of the shadows.",
                    ),
                    Element(type=ElementType.dialogue, character="ELI", text="Every night."),
                    Element(type=ElementType.action, text="MAYA (smiling) nods."),
                ],
            )
        ],
    )
    doc = document_from_screenplay(sp)
    assert doc.character("maya").description == "30s, raincoat, a sealed envelope in her hand"  # type: ignore[union-attr]
    assert doc.character("eli").description == "70s, oilskin coat"  # type: ignore[union-attr]  # not the voice mark
    lin = document_from_screenplay(
        Screenplay(
            format="zh",
            scenes=[
                ScreenplayScene(
                    heading="1-1 夜 外 站台",
                    location="站台",
                    elements=[
                        Element(type=ElementType.action, text="林夏（女，26岁，护士）站在站牌下。"),
                        Element(type=ElementType.dialogue, character="林夏", text="末班车还没走吧。"),
                    ],
                )
            ],
        )
    ).character("林夏")
    assert lin is not None and lin.description == "女，26岁，护士"


def test_reimported_scenes_keep_their_ids_and_new_ones_get_letters() -> None:
    old = document_from_screenplay(en_screenplay()).scenes
    sp = en_screenplay()
    extra = ScreenplayScene(
        heading="EXT. STREET - NIGHT", location="STREET", elements=[Element(type=ElementType.action, text="Rain.")]
    )
    sp.scenes = [
        extra.model_copy(),
        sp.scenes[0],
        extra,
        sp.scenes[1],
        sp.scenes[2].model_copy(update={"heading": "EXT. HARBOUR - DUSK"}),
    ]
    fresh = document_from_screenplay(sp).scenes
    assert [s.id for s in fresh] == ["S01", "S02", "S03", "S04", "S05"]
    kept = keep_scene_ids(old, fresh)
    assert [s.id for s in kept] == ["S00A", "S01", "S01A", "S02", "S03"]  # an edited heading in place keeps its id
    assert [s.heading for s in kept] == [s.heading for s in fresh]
    assert keep_scene_ids([], fresh) == fresh
