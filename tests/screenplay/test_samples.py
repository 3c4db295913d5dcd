"""Every public sample screenplay imports, with the counts a reader gets by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from kaipai.screenplay import ElementType, parse_file
from kaipai.screenplay.examples import example_path

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "screenplays"

# (scenes, dialogue blocks, characters). Counted by reading the files: a scene is a heading line
# standing alone between blank lines (INT/EXT/EST/I/E or a forced "."); a dialogue block is a
# character cue (an upper-case line, or "@name", followed directly by text); characters are the
# distinct cue names without extensions such as (V.O.). For the two feature samples the cue count was
# cross-checked with a grep for upper-case lines after a blank line and before a non-blank one
# (Big Fish has one cue, "WILL", written with a no-break space that such a grep misses: 767 + 1).
COUNTS = {
    "Big-Fish.fountain": (190, 768, 48),
    "The-Last-Birthday-Card.fountain": (48, 134, 12),
    "syntax-Boneyard.fountain": (0, 0, 0),
    "syntax-CenteredText.fountain": (0, 0, 0),
    "syntax-DualDialogue.fountain": (0, 2, 2),  # ADAM, EVE ^
    "syntax-ForcedElements.fountain": (0, 2, 2),  # @McDUCK, SINGER (lyrics)
    "syntax-Notes.fountain": (0, 0, 0),
    "syntax-PageBreaks.fountain": (0, 0, 0),
    "syntax-SceneHeaders.fountain": (16, 0, 0),  # 19 candidates; "... not", the two stacked lines, ESTABLISHING are not
    "syntax-SceneNumbers.fountain": (7, 0, 0),
    "syntax-Sections-Complex.fountain": (2, 0, 0),
    "syntax-Synopses.fountain": (0, 0, 0),
    "syntax-Transitions.fountain": (0, 0, 0),
}


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_sample_counts(name: str) -> None:
    sp = parse_file(SAMPLES / name)
    assert (len(sp.scenes), sp.dialogue_count(), len(sp.characters())) == COUNTS[name]


def test_every_sample_is_counted() -> None:
    assert sorted(p.name for p in SAMPLES.glob("*.fountain")) == sorted(COUNTS)


def test_feature_sample_details() -> None:
    sp = parse_file(SAMPLES / "The-Last-Birthday-Card.fountain")
    assert sp.title == "THE LAST BIRTHDAY CARD"
    assert "BAXTER" in sp.characters() and "THE BOSS" in sp.characters()
    assert all(s.line > 0 for s in sp.scenes)
    big = parse_file(SAMPLES / "Big-Fish.fountain")
    assert big.title == "Big Fish"
    assert big.scenes[0].int_ext in ("INT", "EXT", "INT/EXT")
    assert sum(1 for s in big.scenes if s.time_of_day == "night") > 10


# Bundled examples: counted by reading src/kaipai/examples.
def test_bundled_chinese_example() -> None:
    sp = parse_file(example_path("zh"))
    assert sp.format == "zh" and sp.title == "最后一班车"
    assert len(sp.scenes) == 3 and sp.dialogue_count() == 12
    assert sp.characters() == ["林夏", "老周"]  # 旁白 is the narrator, not a character
    assert [s.time_of_day for s in sp.scenes] == ["night", "night", "day"]
    assert [s.int_ext for s in sp.scenes] == ["EXT", "INT", "EXT"]
    kinds = [el.type for s in sp.scenes for el in s.elements]
    assert ElementType.cutaway in kinds and ElementType.caption in kinds
    whisper = next(el for el in sp.scenes[0].elements if el.type == ElementType.dialogue)
    assert (whisper.character, whisper.parenthetical) == ("林夏", "低声")
    narrator = [el for s in sp.scenes for el in s.elements if el.character == "旁白"]
    assert len(narrator) == 1 and narrator[0].extension == "VO"


def test_bundled_english_example() -> None:
    sp = parse_file(example_path("en"))
    assert sp.format == "fountain" and sp.title == "The Lighthouse Keeper's Letter"
    assert len(sp.scenes) == 3 and sp.dialogue_count() == 8 and sp.characters() == ["MAYA", "ELI"]
    assert [s.time_of_day for s in sp.scenes] == ["night", "night", "day"]  # MORNING reads as day
    assert [s.int_ext for s in sp.scenes] == ["EXT", "INT", "EXT"]
    lines = [el for s in sp.scenes for el in s.elements if el.type == ElementType.dialogue]
    assert lines[0].parenthetical == "(whispering)"
    assert any(el.extension == "V.O." for el in lines)
