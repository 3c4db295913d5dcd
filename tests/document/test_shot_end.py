"""``end:``: where a shot ends, in the document — checked with located errors and kept across a save."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kaipai.cli.app import app
from kaipai.document.cast import Character
from kaipai.document.io import load, new_document_text, parse_text
from kaipai.document.models import Document
from kaipai.document.scenes import Scene
from kaipai.document.settings import Project
from kaipai.document.shots import Placement, Shot, ShotEnd

runner = CliRunner()
HEAD = "project: {title: x}\ncast:\n  characters: [{id: lin, name: 林晓}]\nscenes: [{id: S1, heading: h}]\nshots:\n"


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        ("  - id: a\n    scene: S1\n    end: {}\n", 8, "end: says nothing"),
        (
            "  - id: a\n    scene: S1\n    end:\n      composition:\n        - {character: ghost, third: right}\n",
            10,
            "end.composition[0].character: unknown character 'ghost'",
        ),
        ("  - id: a\n    scene: S1\n    end:\n      descripton: 她走了\n", 9, "descripton: unknown field"),
    ],
    ids=["empty end", "unknown character at the end", "misspelt key"],
)
def test_a_bad_end_is_reported_where_it_is_written(tmp_path: Path, body: str, line: int, words: str) -> None:
    (tmp_path / "kaipai.yaml").write_text(HEAD + body, encoding="utf-8")
    result = runner.invoke(app, ["validate", str(tmp_path)])
    out = " ".join(result.output.split())
    assert result.exit_code == 1 and f"kaipai.yaml:{line}:" in out and words in out, out
    assert "Traceback" not in result.output


def test_the_end_state_is_the_shot_as_its_last_frame_shows_it() -> None:
    text = HEAD + (
        "  - id: a\n    scene: S1\n    description: 林晓站在门口\n    image_prompt: a girl at the door\n"
        "    composition: [{character: lin, third: left}]\n    end: {description: 林晓走到窗边}\n"
    )
    shot = parse_text(text).doc.shots[0]
    last = shot.end_state()
    assert last.description == "林晓走到窗边" and last.image_prompt == "" and last.end is None
    assert [p.third.value for p in last.composition] == ["left"]  # no composition at the end: as at the start
    emptied = shot.model_copy(update={"end": ShotEnd(composition=[])}).end_state()
    assert emptied.composition == [] and emptied.description == "林晓站在门口"  # an empty frame at the end


thirds = st.sampled_from(["left", "center", "right"])
words = st.text(alphabet="林晓父亲走进厨房窗门 abcde", min_size=1, max_size=12).map(str.strip).filter(bool)


@settings(max_examples=40, deadline=None)
@given(
    start=st.lists(thirds, max_size=2),
    end=st.one_of(st.none(), st.lists(thirds, max_size=2)),
    description=st.one_of(st.just(""), words),
)
def test_an_end_survives_a_save_and_a_load(start: list[str], end: list[str] | None, description: str) -> None:
    cast = [Character(id="lin", name="林晓"), Character(id="dad", name="父亲")]
    ids = ["lin", "dad"]
    if end is None and not description:
        description = "走开"
    shot = Shot(
        id="a",
        scene="S1",
        composition=[Placement(character=ids[i], third=t) for i, t in enumerate(start)],
        end=ShotEnd(
            composition=None if end is None else [Placement(character=ids[i], third=t) for i, t in enumerate(end)],
            description=description,
        ),
    )
    doc = Document(project=Project(title="x"), scenes=[Scene(id="S1", heading="h")], shots=[shot])
    doc.cast.characters = cast
    again = parse_text(new_document_text(doc)).doc
    assert again.shots[0].end == shot.end
    assert again.shots[0].end_state() == shot.end_state()


def test_a_shot_without_an_end_is_written_as_before(tmp_path: Path) -> None:
    doc = Document(project=Project(title="x"), scenes=[Scene(id="S1", heading="h")], shots=[Shot(id="a", scene="S1")])
    path = tmp_path / "kaipai.yaml"
    path.write_text(new_document_text(doc), encoding="utf-8")
    assert "end:" not in path.read_text(encoding="utf-8") and load(path).doc.shots[0].end is None
