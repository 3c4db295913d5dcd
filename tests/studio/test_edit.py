"""Shot edits shared by the studio and the command line: comments survive, mistakes are named, nothing is lost."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kaipai.document.io import DocumentError, load
from kaipai.project import ProjectPaths
from kaipai.service import edit


def test_editing_a_shot_keeps_comments_and_locks_it(project: ProjectPaths) -> None:
    text = project.document.read_text(encoding="utf-8")
    project.document.write_text(text.replace("  - id: S01-002\n", "  - id: S01-002  # the whisper\n"), encoding="utf-8")
    shot = edit.edit_shot(
        project, "S01-002", {"size": "CU", "duration": 4.5, "description": "Maya, close, rain on her face."}
    )
    assert (shot.size.value, shot.duration, shot.duration_source, shot.locked) == ("CU", 4.5, "manual", True)
    saved = project.document.read_text(encoding="utf-8")
    assert "# the whisper" in saved and saved.startswith("# kaipai production document")
    assert load(project.document).doc.shot("S01-002").description == "Maya, close, rain on her face."


def test_bad_values_are_named_and_nothing_is_written(project: ProjectPaths) -> None:
    before = project.document.read_bytes()
    with pytest.raises(DocumentError) as exc:
        edit.edit_shot(project, "S01-002", {"size": "huge", "duration": -1})
    fields = {p.field for p in exc.value.problems}
    assert fields == {"shots[S01-002].size", "shots[S01-002].duration"}
    assert "'huge'" in str(exc.value)
    messages = {p.field: p.message for p in exc.value.problems}
    assert messages["shots[S01-002].size"].startswith("expected one of ECU, CU, MCU, MS, MLS, LS, WS, EWS")
    assert messages["shots[S01-002].duration"].startswith("expected a number greater than 0, e.g. 3.5")
    with pytest.raises(DocumentError) as exc:
        edit.edit_line(project, "S01-002", "S01-L1", {"offset": "soon"})
    assert exc.value.problems[0].message == "expected a number, e.g. 1.2 (got 'soon')"
    assert "Input should" not in str(exc.value)
    with pytest.raises(DocumentError, match="cannot edit id"):
        edit.edit_shot(project, "S01-002", {"id": "X"})
    with pytest.raises(DocumentError, match="no shot 'S09-001'"):
        edit.edit_shot(project, "S09-001", {"size": "CU"})
    with pytest.raises(DocumentError, match="unknown character 'ghost'"):
        edit.edit_line(project, "S01-002", "S01-L1", {"speaker": "ghost"})
    assert project.document.read_bytes() == before


def test_lines_can_be_edited_added_and_removed(project: ProjectPaths) -> None:
    edit.edit_line(project, "S01-002", "S01-L1", {"text": "He promised the light would be on."})
    added = edit.add_line(project, "S01-004", "eli", "Still burning.")
    doc = load(project.document).doc
    assert doc.shot("S01-002").dialogue[0].text == "He promised the light would be on."
    assert doc.shot("S01-004").dialogue[-1].id == added.id and doc.shot("S01-004").locked
    edit.delete_line(project, "S01-004", added.id)
    assert not load(project.document).doc.shot("S01-004").dialogue


def test_reorder_add_and_delete_shots(project: ProjectPaths) -> None:
    order = edit.move_shot(project, "S01-004", before="S01-002")
    assert order[:4] == ["S01-001", "S01-004", "S01-002", "S01-003"]
    new = edit.add_shot(project, after="S01-001", fields={"description": "The lantern, close.", "size": "ECU"})
    doc = load(project.document).doc
    assert [s.id for s in doc.ordered_shots()][:3] == ["S01-001", new.id, "S01-004"]
    assert new.scene == "S01" and new.locked and doc.shot(new.id).size.value == "ECU"
    with pytest.raises(DocumentError, match="locked; unlock it first"):
        edit.delete_shot(project, new.id)
    edit.set_locked(project, new.id, False)
    edit.delete_shot(project, new.id)
    assert load(project.document).doc.shot(new.id) is None


def test_style_and_cast_edits(project: ProjectPaths) -> None:
    edit.edit_style(project, {"palette": ["#102030", "#E4572E"], "lighting": "low-key, sodium lamps"})
    edit.edit_character(project, "maya", {"wardrobe": "yellow raincoat"})
    doc = load(project.document).doc
    assert doc.style.palette == ["#102030", "#E4572E"] and doc.cast.characters[0].wardrobe == "yellow raincoat"
    with pytest.raises(DocumentError, match="#RRGGBB"):
        edit.edit_style(project, {"palette": ["red"]})


CLI_WRITER = """
import sys
from pathlib import Path
from kaipai.service.edit import edit_shot
from kaipai.project import ProjectPaths
paths = ProjectPaths(Path(sys.argv[1]))
for i in range(int(sys.argv[2])):
    edit_shot(paths, "S01-003", {"notes": f"cli note {i}"})
    edit_shot(paths, "S01-004", {"lens": f"{i + 10}mm"})
"""


def test_studio_and_command_line_writing_at_once_lose_nothing(project: ProjectPaths, client: TestClient) -> None:
    """A second process (the CLI) and the studio's threads edit the same file at the same time."""
    rounds = 6
    cli = subprocess.Popen([sys.executable, "-c", CLI_WRITER, str(project.root), str(rounds)])
    errors: list[str] = []

    def studio_writer(line: bool) -> None:
        for i in range(rounds):
            response = (
                client.patch("/api/shots/S01-002/lines/S01-L1", json={"text": f"studio line {i}"})
                if line
                else client.patch("/api/shots/S01-001", json={"description": f"studio description {i}"})
            )
            if response.status_code != 200:
                errors.append(response.text)

    threads = [threading.Thread(target=studio_writer, args=(flag,)) for flag in (True, False)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cli.wait(timeout=120) == 0
    assert not errors
    doc = load(project.document).doc
    last = rounds - 1
    assert doc.shot("S01-002").dialogue[0].text == f"studio line {last}"
    assert doc.shot("S01-001").description == f"studio description {last}"
    assert doc.shot("S01-003").notes == f"cli note {last}"
    assert doc.shot("S01-004").lens == f"{last + 10}mm"
    assert project.document.read_text(encoding="utf-8").startswith("# kaipai production document")


def test_a_change_made_elsewhere_is_never_overwritten_by_a_stale_page(
    project: ProjectPaths, client: TestClient
) -> None:
    """The studio sends only the field that changed, so an edit made in an editor meanwhile stays."""
    text = project.document.read_text(encoding="utf-8")
    project.document.write_text(text.replace("lens: 40mm", "lens: 45mm  # changed by hand"), encoding="utf-8")
    assert client.patch("/api/shots/S01-002", json={"move": "push_in"}).status_code == 200
    saved = Path(project.document).read_text(encoding="utf-8")
    assert "lens: 45mm  # changed by hand" in saved and "move: push_in" in saved
