"""The production document: round trips keep the director's file intact, bad input is located."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kaipai.cli import app
from kaipai.document.cast import Character
from kaipai.document.elements import (
    DialogueElement,
    SceneElement,
    SectionElement,
    TextElement,
    TransitionElement,
)
from kaipai.document.io import DocumentError, dump_text, load, new_document_text, parse_text, save, update
from kaipai.document.models import Document
from kaipai.document.scenes import Scene
from kaipai.document.settings import Project
from kaipai.document.shots import CameraMove, DialogueLine, Placement, Shot, ShotSize

runner = CliRunner()


@pytest.fixture
def sample(fixtures: Path, tmp_path: Path) -> Path:
    target = tmp_path / "kaipai.yaml"
    target.write_text((fixtures / "documents" / "sample.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    return target


def test_unchanged_document_saves_byte_identical(sample: Path) -> None:
    before = sample.read_bytes()
    save(load(sample))
    assert sample.read_bytes() == before


def test_edit_keeps_comments_order_and_flow_style(sample: Path) -> None:
    loaded = load(sample)
    loaded.doc.shots[1].dialogue[0].text = "爸，你怎么还没睡？"
    loaded.doc.shots[0].move = CameraMove.push_in
    save(loaded)
    text = sample.read_text(encoding="utf-8")
    assert "# The opening: hold on the kitchen before anyone speaks." in text
    assert "# previz size; the master can be 1920x1080" in text
    assert "locked: true   # approved by the director" in text
    assert "resolution: [1280, 720]" in text
    assert "爸，你怎么还没睡？" in text and "move: push_in" in text
    # Keys keep the director's order, and defaults the file never had are not spelled out.
    assert text.index("title:") < text.index("language:") < text.index("fps:")
    assert "lens:" not in text
    assert load(sample).doc.shots[1].dialogue[0].text == "爸，你怎么还没睡？"


def test_adding_and_removing_shots_keeps_the_rest(sample: Path) -> None:
    loaded = load(sample)
    loaded.doc.shots.insert(1, Shot(id="S01-001b", scene="S01", order=1, size=ShotSize.CU, description="生日卡的特写"))
    save(loaded)
    loaded = load(sample)
    assert [s.id for s in loaded.doc.shots] == ["S01-001", "S01-001b", "S01-002"]
    assert "# The opening" in sample.read_text(encoding="utf-8")
    del loaded.doc.shots[1]
    save(loaded)
    assert [s.id for s in load(sample).doc.shots] == ["S01-001", "S01-002"]


# --------------------------------------------------------------------------- hypothesis round trip

texts = st.text(
    alphabet=st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="\x85\u2028\u2029\ufeff"),
    max_size=40,
)
ids = st.from_regex(r"[a-z][a-z0-9_\-]{0,8}", fullmatch=True)


def scene_elements(char_ids: list[str]) -> st.SearchStrategy[SceneElement]:
    lines = st.integers(0, 5000)
    return st.one_of(
        st.builds(
            DialogueElement,
            type=st.just("dialogue"),
            character=st.sampled_from(char_ids),
            text=texts,
            extension=st.sampled_from(["", "V.O.", "O.S."]),
            parenthetical=texts,
            dual=st.booleans(),
            line=lines,
        ),
        st.builds(SectionElement, type=st.just("section"), text=texts, depth=st.integers(1, 6), line=lines),
        st.builds(TransitionElement, type=st.just("transition"), text=texts, line=lines),
        st.builds(TextElement, type=st.sampled_from(["action", "caption", "cutaway", "note", "lyric"]), text=texts),
    )


@st.composite
def documents(draw: st.DrawFn) -> Document:
    char_ids = draw(st.lists(ids, min_size=1, max_size=4, unique=True))
    chars = [Character(id=c, name=draw(texts) or c, description=draw(texts)) for c in char_ids]
    elements = draw(st.lists(scene_elements(char_ids), max_size=5))
    scene = Scene(id="S01", heading=draw(texts) or "INT. ROOM - DAY", synopsis=draw(texts), elements=elements)
    shots = []
    line_no = 0
    for i in range(draw(st.integers(0, 4))):
        lines = []
        for _ in range(draw(st.integers(0, 3))):
            line_no += 1
            lines.append(
                DialogueLine(
                    id=f"L{line_no}",
                    speaker=draw(st.sampled_from(char_ids)),
                    text=draw(texts.filter(lambda t: len(t) > 0)),
                    parenthetical=draw(texts),
                )
            )
        shots.append(
            Shot(
                id=f"S01-{i:03d}",
                scene="S01",
                order=i,
                size=draw(st.sampled_from(list(ShotSize))),
                move=draw(st.sampled_from(list(CameraMove))),
                description=draw(texts),
                composition=[
                    Placement(character=c) for c in draw(st.lists(st.sampled_from(char_ids), max_size=2, unique=True))
                ],
                dialogue=lines,
                duration=draw(st.floats(0.1, 60, allow_nan=False)),
                locked=draw(st.booleans()),
            )
        )
    return Document(
        project=Project(title=draw(texts) or "t", fps=draw(st.integers(1, 120))),
        cast={"characters": chars},
        scenes=[scene],
        shots=shots,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_save_load_save_is_byte_identical(doc: Document) -> None:
    first = new_document_text(doc, "a comment header")
    loaded = parse_text(first)
    assert loaded.doc == doc
    assert dump_text(loaded) == first


# --------------------------------------------------------------------------- located errors

BAD_INPUTS: list[tuple[str, str, int, str]] = [
    # (name, document text, expected line, expected words in the message)
    ("yaml syntax", "project:\n  title: [unclosed\n", 3, "YAML syntax error"),
    ("tab indentation", "project:\n\ttitle: x\n", 2, "YAML syntax error"),
    ("empty", "", 1, "empty"),
    ("not a mapping", "- a\n- b\n", 1, "must be a mapping"),
    ("missing project", "version: 1\nshots: []\n", 1, "project: this field is required"),
    ("unknown field", "project:\n  title: x\n  titel: y\n", 3, "project.titel: unknown field"),
    (
        "wrong type",
        "project:\n  title: x\n  fps: fast\n",
        3,
        "project.fps: expected a whole number, e.g. 24 (got 'fast')",
    ),
    (
        "a section that is not a mapping",
        "project: My Film\n",
        1,
        "project: expected a mapping of fields here, e.g. {title:",
    ),
    (
        "out of range",
        "project:\n  title: x\n  fps: 0\n",
        3,
        "project.fps: expected a number of at least 1, e.g. 24 (got 0)",
    ),
    ("odd resolution", "project:\n  title: x\n  resolution: [1281, 720]\n", 3, "even"),
    (
        "bad enum",
        "project: {title: x}\nscenes: [{id: S1, heading: h}]\nshots:\n  - id: a\n    scene: S1\n    size: HUGE\n",
        6,
        "shots[0].size: expected one of ECU, CU, MCU, MS, MLS, LS, WS, EWS (got 'HUGE')",
    ),
    (
        "a name where a placement goes",
        "project: {title: x}\nscenes: [{id: S1, heading: h}]\nshots:\n  - id: a\n    scene: S1\n"
        "    composition: [maya]\n",
        6,
        "shots[0].composition[0]: expected a mapping of fields here, e.g. {character: maya, third: left",
    ),
    (
        "a space in an id",
        "project: {title: x}\ncast:\n  characters:\n    - {id: old man, name: Old Man}\n",
        4,
        "cast.characters[0].id: expected letters, digits, _ and - only (no spaces), e.g. maya (got 'old man')",
    ),
    (
        "an element without a kind",
        "project: {title: x}\nscenes:\n  - id: S1\n    heading: h\n    elements:\n      - {text: a}\n",
        6,
        "elements[0].type: this field is required: say what kind of element this is, e.g. type: action",
    ),
    ("unknown scene", "project: {title: x}\nshots:\n  - id: a\n    scene: nowhere\n", 4, "unknown scene 'nowhere'"),
    (
        "unknown speaker",
        "project: {title: x}\nscenes: [{id: S1, heading: h}]\n"
        "shots:\n  - id: a\n    scene: S1\n    dialogue:\n      - {id: L1, speaker: ghost, text: hi}\n",
        7,
        "unknown character 'ghost'",
    ),
    (
        "duplicate shot id",
        "project: {title: x}\nscenes: [{id: S1, heading: h}]\nshots:\n  - {id: a, scene: S1}\n  - {id: a, scene: S1}\n",
        5,
        "used twice",
    ),
    (
        "escaping reference",
        "project: {title: x}\n"
        "cast:\n  characters:\n    - id: a\n      name: A\n      reference_images: [../../etc/passwd]\n",
        6,
        "reference_images: path '../../etc/passwd' leaves the project folder",
    ),
    (
        "absolute reference",
        "project: {title: x}\n"
        "cast:\n  characters:\n    - id: a\n      name: A\n      reference_images: [/etc/passwd]\n",
        6,
        "not absolute",
    ),
    ("bad colour", "project: {title: x}\nstyle:\n  palette: ['red']\n", 3, "#RRGGBB"),
    (
        "misspelt key in a speech",
        "project: {title: x}\nscenes:\n  - id: S1\n    heading: h\n    elements:\n      - type: dialogue\n"
        "        character: A\n        txet: hello\n",
        8,
        "txet: unknown field",
    ),
    (
        "unknown element kind",
        "project: {title: x}\nscenes:\n  - id: S1\n    heading: h\n    elements:\n      - {type: action, text: a}\n"
        "      - type: actoin\n        text: b\n",
        7,
        "elements[1].type: unknown kind 'actoin'",
    ),
    (
        "a speaker on an action line",
        "project: {title: x}\nscenes:\n  - id: S1\n    heading: h\n    elements:\n      - type: action\n"
        "        text: a\n        character: A\n",
        8,
        "elements[0].character: unknown field",
    ),
    (
        "negative duration",
        "project: {title: x}\nscenes: [{id: S1, heading: h}]\nshots:\n  - id: a\n    scene: S1\n    duration: -2\n",
        6,
        "greater than 0",
    ),
]


@pytest.mark.parametrize(("name", "text", "line", "words"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_validate_locates_bad_input(tmp_path: Path, name: str, text: str, line: int, words: str) -> None:
    doc = tmp_path / "kaipai.yaml"
    doc.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 1, result.output
    out = " ".join(result.output.split())
    assert f"kaipai.yaml:{line}:" in out, out
    assert words in out, out
    assert "Traceback" not in result.output
    for library in ("Value error", "Input should", "String should", "valid dictionary", "instance of"):
        assert library not in out, out


def test_validate_reports_missing_reference_file(tmp_path: Path) -> None:
    (tmp_path / "kaipai.yaml").write_text(
        "project: {title: x}\ncast:\n  characters:\n    - id: a\n      name: A\n      reference_images: [refs/a.png]\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "kaipai.yaml:6:" in result.output and "does not exist" in result.output
    (tmp_path / "refs").mkdir()
    (tmp_path / "refs" / "a.png").write_bytes(b"png")
    assert runner.invoke(app, ["validate", str(tmp_path)]).exit_code == 0


def test_validate_missing_file_and_non_utf8(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1 and "no such file" in result.output
    (tmp_path / "kaipai.yaml").write_bytes("project: {title: 标题}\n".encode("gb18030"))
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 1 and "UTF-8" in result.output


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    (tmp_path / "kaipai.yaml").write_text("project:\n  title: x\n  fps: 0\n  aspect_ratio: wide\n", encoding="utf-8")
    with pytest.raises(DocumentError) as err:
        load(tmp_path)
    assert {p.line for p in err.value.problems} == {3, 4}


def test_failed_update_writes_nothing(sample: Path) -> None:
    before = sample.read_bytes()

    def break_it(doc: Document) -> None:
        doc.shots[0].scene = "missing"

    with pytest.raises(DocumentError):
        update(sample, break_it)
    assert sample.read_bytes() == before
    assert not [p for p in sample.parent.iterdir() if p.name.endswith(".tmp")]


def _append_note(path: str, shot: int, note: str) -> None:
    def change(doc: Document) -> None:
        doc.shots[shot].notes += note

    update(Path(path), change)


def test_concurrent_writers_lose_nothing(sample: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_note, args=(str(sample), i % 2, f"[{i}]")) for i in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    doc = load(sample).doc
    notes = doc.shots[0].notes + doc.shots[1].notes
    assert sorted(notes.replace("]", "] ").split()) == sorted(f"[{i}]" for i in range(8))


def test_schema_command_prints_json_schema() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert "shots" in schema["properties"] and "Shot" in schema["$defs"]
    assert "locked" in schema["$defs"]["Shot"]["properties"]
    # screenplay elements are documented kind by kind, with their own fields
    assert {"DialogueElement", "SectionElement", "TransitionElement", "TextElement"} <= set(schema["$defs"])
    assert "parenthetical" in schema["$defs"]["DialogueElement"]["properties"]
    assert "character" not in schema["$defs"]["TextElement"]["properties"]


VERSION_1 = """\
# written by the first kaipai release
version: 1
project: {title: x}
scenes:
  - id: S1
    heading: INT. ROOM - DAY
    elements:
      - type: action   # the room
        text: Rain on the window.
        line: 3
        character: ''
        extension: ''
        parenthetical: ''
        dual: false
        depth: 0
      - type: dialogue
        text: Hello.
        line: 5
        character: ANNA
        extension: ''
        parenthetical: ''
        dual: false
        depth: 0
"""


def test_a_version_1_document_loads_and_saves_in_the_typed_form_keeping_comments(tmp_path: Path) -> None:
    path = tmp_path / "kaipai.yaml"
    path.write_text(VERSION_1, encoding="utf-8")
    loaded = load(path)
    action, speech = loaded.doc.scenes[0].elements
    assert isinstance(action, TextElement) and action.text == "Rain on the window." and action.line == 3
    assert isinstance(speech, DialogueElement) and speech.character == "ANNA"
    save(loaded)
    text = path.read_text(encoding="utf-8")
    assert "version: 2" in text and "# the room" in text and "# written by the first kaipai release" in text
    assert "depth" not in text and text.count("character") == 1  # keys foreign to a kind are gone
    assert load(path).doc.scenes == loaded.doc.scenes


def test_new_elements_are_written_without_their_default_keys() -> None:
    doc = Document(
        project=Project(title="x"),
        scenes=[Scene(id="S1", heading="h", elements=[TextElement(type="action", text="Rain.")])],
    )
    text = new_document_text(doc)
    assert "- type: action\n        text: Rain.\n" in text and "line" not in text
