"""Each piece of Fountain syntax becomes the element a writer meant."""

from __future__ import annotations

from pathlib import Path

from kaipai.screenplay import ElementType, parse_text
from kaipai.screenplay.fountain import parse_fountain, strip_emphasis

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "screenplays"


def elements(text: str):
    sp = parse_fountain(text)
    return sp, [*sp.preamble, *(el for s in sp.scenes for el in s.elements)]


def of(path: str):
    return elements((SAMPLES / path).read_text(encoding="utf-8"))


def test_title_page_with_indented_values() -> None:
    sp, _ = elements(
        "Title: **BRICK & STEEL**\nCredit: Written by\nAuthor: Stu Maschwitz\n"
        "Contact:\n    Next Level Productions\n    1588 Mission Dr.\n\n"
        "EXT. BRICK'S PATIO - DAY\n\nA gorgeous day.\n"
    )
    assert sp.title_page["title"] == "BRICK & STEEL"
    assert sp.title_page["contact"] == "Next Level Productions\n1588 Mission Dr."
    assert len(sp.scenes) == 1 and sp.scenes[0].line == 8


def test_scene_headings_and_their_parts() -> None:
    sp, _ = of("syntax-SceneHeaders.fountain")
    assert [s.int_ext for s in sp.scenes[:4]] == ["INT", "EXT", "INT", "EXT"]
    assert {s.int_ext for s in sp.scenes[4:9]} == {"INT/EXT"}
    assert sp.scenes[11].int_ext == "EXT"  # EST.
    assert sp.scenes[14].heading == "KITCHEN"  # forced with "."
    assert all(s.location.upper() == "HOUSE" for i, s in enumerate(sp.scenes) if i != 14)


def test_scene_numbers() -> None:
    sp, _ = of("syntax-SceneNumbers.fountain")
    assert [s.number for s in sp.scenes] == ["1", "1A", "1a", "A1", "I-1-A", "1.", "110A"]
    assert all("#" not in s.heading for s in sp.scenes)


def test_dialogue_extensions_parentheticals_and_dual() -> None:
    _, els = elements("INT. ROOM - NIGHT\n\nMOM (V.O.) (CONT'D)\n(softly)\nGo to sleep.\n\nKID ^\nNo!\n")
    mom, kid = [e for e in els if e.type == ElementType.dialogue]
    assert (mom.character, mom.extension, mom.parenthetical, mom.text) == (
        "MOM",
        "V.O. CONT'D",
        "(softly)",
        "Go to sleep.",
    )
    assert kid.dual and not mom.dual


def test_dual_dialogue_sample() -> None:
    _, els = of("syntax-DualDialogue.fountain")
    assert [(e.character, e.dual) for e in els] == [("ADAM", False), ("EVE", True)]


def test_forced_action_character_and_lyrics() -> None:
    _, els = of("syntax-ForcedElements.fountain")
    assert els[0].type == ElementType.action and els[0].text == "BANG\nBANG\nBANG"
    assert els[1].character == "McDUCK"
    assert els[2].text == "These are the songs\nThat I sing."
    _, lyric = elements("~Willy Wonka! Willy Wonka!\n")
    assert lyric[0].type == ElementType.lyric


def test_transitions_forced_and_standard() -> None:
    _, els = of("syntax-Transitions.fountain")
    assert [e.type for e in els] == [ElementType.transition] * 7
    assert els[3].text == "NOT A STANDARD TRANSITION:"


def test_centered_text_is_not_a_transition() -> None:
    _, els = of("syntax-CenteredText.fountain")
    assert [(e.type, e.text) for e in els] == [
        (ElementType.centered, "Centered"),
        (ElementType.transition, "Not centered"),
        (ElementType.centered, "No space"),
        (ElementType.centered, "Lots of Space"),
    ]


def test_notes_inline_and_multiline_are_kept_out_of_the_action() -> None:
    _, els = of("syntax-Notes.fountain")
    notes = [e.text for e in els if e.type == ElementType.note]
    assert notes == ["A note.", "This line spans multiple lines.", "internal"]
    assert [e.text for e in els if e.type == ElementType.action] == ["A line.", "This is an note."]


def test_boneyard_is_ignored_and_lines_still_count() -> None:
    _, els = of("syntax-Boneyard.fountain")
    assert [(e.line, e.text) for e in els] == [(1, "A line of action."), (11, "This is an boneyard.")]


def test_sections_synopses_page_breaks() -> None:
    _, els = of("syntax-Sections-Complex.fountain")
    assert [(e.text, e.depth) for e in els if e.type == ElementType.section] == [
        ("Act 1", 1),
        ("Act 2", 1),
        ("Sequence 1", 2),
    ]
    _, syn = of("syntax-Synopses.fountain")
    assert [e.text for e in syn if e.type == ElementType.synopsis] == [
        "This is the first act.",
        "This is another act.",
        "THE FINAL ACT",
    ]
    _, pages = of("syntax-PageBreaks.fountain")
    assert sum(e.type == ElementType.page_break for e in pages) == 2


def test_emphasis_markup_is_stripped_unless_escaped() -> None:
    assert strip_emphasis("*italic* **bold** ***both*** _under_ \\*literal\\*") == "italic bold both under *literal*"
    _, els = elements("INT. A - DAY\n\nShe is **very** _late_.\n")
    assert els[0].text == "She is very late."


def test_time_of_day_words() -> None:
    sp = parse_text(
        "EXT. FIELD - DUSK\n\nWind.\n\nINT. BARN - NIGHT\n\nDark.\n\nEXT. ROAD - DAWN\n\nLight.\n",
        filename="x.fountain",
    )
    assert [s.time_of_day for s in sp.scenes] == ["dusk", "night", "dawn"]


def test_emphasis_needs_markers_that_hug_words() -> None:
    # arithmetic and file names keep their asterisks and underscores
    assert strip_emphasis("5 * 3 and 2 * 4 in his_head_now.") == "5 * 3 and 2 * 4 in his_head_now."
    assert (
        strip_emphasis("**bold *and italic* words** and _*underlined italic*_")
        == "bold and italic words and underlined italic"
    )


def test_stacked_headings_are_not_scenes_as_the_spec_says() -> None:
    sp = parse_fountain("INT. HOUSE - DAY\nEXT. HOUSE - DAY\n\nEXT. YARD - NIGHT\n\nQuiet.\n")
    assert [s.heading for s in sp.scenes] == ["EXT. YARD - NIGHT"]
    assert sp.preamble[0].type == ElementType.action
