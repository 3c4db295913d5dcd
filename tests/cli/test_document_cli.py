"""The planner from the command line: new --script, plan, shots, export shotlist, and re-planning."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pypdf
import pytest
from typer.testing import CliRunner

from kaipai.cli import app
from kaipai.document.io import load, update
from kaipai.document.models import Document
from kaipai.screenplay.examples import example_path
from tests.support.scripts import line_owners, screenplay_lines, side_violations

runner = CliRunner()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def zh_project(tmp_path: Path) -> Path:
    folder = tmp_path / "film"
    out = invoke("new", str(folder), "--script", str(example_path("zh")))
    assert "kaipai.yaml" in out and (folder / "screenplay.txt").is_file()
    return folder


def test_new_then_plan_writes_a_shot_script_and_says_what_it_added(zh_project: Path) -> None:
    before = load(zh_project / "kaipai.yaml").doc
    assert before.shots == [] and before.scenes and before.project.language.value == "zh"
    out = invoke("plan", "-p", str(zh_project))
    doc = load(zh_project / "kaipai.yaml").doc
    assert re.search(rf"planned {len(doc.shots)} shots in {len(doc.scenes)} scenes", out)
    assert f"added {len(doc.shots)}" in " ".join(out.split())
    assert side_violations(doc) == []
    assert sorted(line_owners(doc)) == sorted(screenplay_lines(doc)) and set(line_owners(doc).values()) == {1}
    # planning again with nothing changed changes nothing
    again = invoke("plan", "-p", str(zh_project))
    assert "added" not in again and "changed" not in again and "removed" not in again
    assert load(zh_project / "kaipai.yaml").doc == doc


def test_shots_lists_the_script_with_names_and_as_json(zh_project: Path) -> None:
    invoke("plan", "-p", str(zh_project))
    doc = load(zh_project / "kaipai.yaml").doc
    table = invoke("shots", "-p", str(zh_project))
    assert doc.ordered_shots()[0].id in table and "林夏" in table and "旁白" in table and "narrator" not in table
    listed = json.loads(invoke("shots", "-p", str(zh_project), "--json", "--scene", "S02"))
    assert [s["id"] for s in listed] == [s.id for s in doc.ordered_shots() if s.scene == "S02"]
    assert sum(len(s["dialogue"]) for s in listed) == sum(1 for el in doc.scenes[1].elements if el.type == "dialogue")


def test_export_shotlist_as_csv_and_as_a_pdf_with_chinese(zh_project: Path, tmp_path: Path) -> None:
    invoke("plan", "-p", str(zh_project))
    doc = load(zh_project / "kaipai.yaml").doc
    invoke("export", "shotlist", "-p", str(zh_project), "--format", "csv")
    rows = list(csv.reader(io.StringIO((zh_project / "output" / "shotlist.csv").read_bytes().decode("utf-8-sig"))))
    assert rows[0][0] == "镜号" and [r[0] for r in rows[1:]] == [s.id for s in doc.ordered_shots()]
    pdf = tmp_path / "分镜.pdf"
    invoke("export", "shotlist", "-p", str(zh_project), "--format", "pdf", "--out", str(pdf))
    text = re.sub(r"[\s\x00]+", "", "".join(p.extract_text() for p in pypdf.PdfReader(str(pdf)).pages))
    assert "分镜头脚本" in text and "十一点四十" in text
    assert all(s.id in text for s in doc.shots)


def test_replan_after_a_script_edit_keeps_the_locked_shot_and_reports_the_changes(zh_project: Path) -> None:
    invoke("plan", "-p", str(zh_project))
    document = zh_project / "kaipai.yaml"
    first = load(document).doc
    target = next(
        s for s in first.ordered_shots() if s.scene == "S02" and any("二十年了" in d.text for d in s.dialogue)
    )

    def lock(doc: Document) -> Document:
        shot = doc.shot(target.id)
        assert shot is not None
        shot.description = "导演手写：老周握紧方向盘，不敢回头。"
        shot.duration, shot.duration_source, shot.locked = 4.0, "manual", True
        return doc

    update(document, lock)
    locked = load(document).doc.shot(target.id)
    # The writer cuts Lin Xia's question and adds a new exchange at the end of the scene.
    script = zh_project / "screenplay.txt"
    text = script.read_text(encoding="utf-8")
    text = text.replace("林夏：那这张车票，您还认得吗？\n", "")
    text = text.replace("旁白：有些人", "老周：到站了，姑娘。\n林夏：谢谢您，周师傅。\n旁白：有些人")
    script.write_text(text, encoding="utf-8")

    out = " ".join(invoke("plan", "-p", str(zh_project)).split())
    new = load(document).doc
    assert new.shot(target.id) == locked  # untouched, to the byte of every field
    assert f"kept (locked) 1: {target.id}" in out and "check" not in out  # its line is still in the script
    assert re.search(r"added \d+", out) and re.search(r"removed \d+|changed \d+", out)
    texts = [d.text for s in new.ordered_shots() for d in s.dialogue]
    assert "那这张车票，您还认得吗？" not in texts and "到站了，姑娘。" in texts and "谢谢您，周师傅。" in texts
    script_lines = [el.text for sc in new.scenes for el in sc.elements if el.type == "dialogue"]
    assert sorted(texts) == sorted(script_lines)  # every line of the new script in exactly one shot
    assert set(line_owners(new).values()) == {1}
    kept = {d.text: d.id for s in first.shots for d in s.dialogue}
    assert all(d.id == kept[d.text] for s in new.shots for d in s.dialogue if d.text in kept)  # voice takes still match
    assert side_violations(new) == []
    # Now the writer rewrites the very line the locked shot holds: the shot stays, and the director is told.
    script.write_text(
        script.read_text(encoding="utf-8").replace("老周：二十年了。", "老周：整整二十年了。"), encoding="utf-8"
    )
    out = " ".join(invoke("plan", "-p", str(zh_project)).split())
    assert load(document).doc.shot(target.id) == locked
    assert re.search(rf"check locked shots whose lines the script has changed or cut: {target.id}\b", out)


def test_new_refuses_an_unreadable_script_with_one_clear_message(tmp_path: Path) -> None:
    bad = tmp_path / "script.pdf"
    bad.write_bytes(b"%PDF-1.7 not a screenplay")
    result = runner.invoke(app, ["new", str(tmp_path / "film"), "--script", str(bad)])
    assert result.exit_code == 1
    assert "script.pdf" in result.output and "Fountain" in result.output
    assert not (tmp_path / "film" / "kaipai.yaml").exists()


def test_a_scene_written_in_between_gets_a_letter_and_the_scenes_after_it_keep_their_shots(zh_project: Path) -> None:
    invoke("plan", "-p", str(zh_project))
    before = load(zh_project / "kaipai.yaml").doc
    script = zh_project / "screenplay.txt"
    text = script.read_text(encoding="utf-8")
    text = text.replace(
        "1-2 夜 内 公交车厢", "1-1A 夜 外 路口\n△公交车拐过空无一人的路口。\n老周：坐稳了。\n\n1-2 夜 内 公交车厢"
    )
    script.write_text(text, encoding="utf-8")
    out = " ".join(invoke("plan", "-p", str(zh_project)).split())
    after = load(zh_project / "kaipai.yaml").doc
    assert [s.id for s in after.scenes] == ["S01", "S01A", "S02", "S03"]
    new_shots = [s.id for s in after.ordered_shots() if s.scene == "S01A"]
    assert new_shots and all(i.startswith("S01A-") for i in new_shots)
    assert f"added {len(new_shots)}" in out and "removed" not in out
    old = {s.id: s for s in before.shots if s.scene in ("S02", "S03")}
    assert all(
        after.shot(i) is not None and after.shot(i).model_copy(update={"order": 0}) == s.model_copy(update={"order": 0})
        for i, s in old.items()
    )  # type: ignore[union-attr]
    assert [s.scene for s in after.ordered_shots()] == sorted(
        [s.scene for s in after.shots], key=["S01", "S01A", "S02", "S03"].index
    )


def test_a_script_without_a_title_page_names_the_film_after_its_file(tmp_path: Path) -> None:
    script = tmp_path / "night-bus.txt"
    script.write_text("1-1 夜 外 公交站台\n△林夏看了看手表。\n林夏：末班车还没走吧。\n", encoding="utf-8")
    invoke("new", str(tmp_path / "film"), "--script", str(script))
    doc = load(tmp_path / "film" / "kaipai.yaml").doc
    assert doc.project.title == "night bus" and doc.screenplay == "screenplay.txt"


REPLAN = """Title: Twice
Author: Test

INT. KITCHEN - NIGHT

MARY (30s) waits by the stove.

MARY
(quietly)
I saw him today.
(pause)
He looked old.

JOHN
Who?

MARY
Dad!

JOHN ^
Dad?

Mary answers the phone call:
"""


def test_planning_an_unchanged_script_twice_or_after_a_render_changes_nothing(tmp_path: Path) -> None:
    script = tmp_path / "twice.fountain"
    script.write_text(REPLAN, encoding="utf-8")
    folder = tmp_path / "film"
    invoke("new", str(folder), "--script", str(script))
    document = folder / "kaipai.yaml"
    invoke("plan", "-p", str(folder))
    planned = document.read_bytes()
    again = " ".join(invoke("plan", "-p", str(folder)).split())
    assert not re.search(r"\b(added|changed|removed)\b", again), again
    assert document.read_bytes() == planned

    # the voices set the dialogue shots' lengths; planning again keeps them
    rendered = " ".join(invoke("render", "-p", str(folder), "--stage", "voice", "--no-cut").split())
    assert "shot durations set from the voices" in rendered, rendered
    after_render = document.read_bytes()
    doc = load(document).doc
    assert {s.duration_source for s in doc.shots if s.dialogue} == {"audio"}
    for _ in range(2):
        out = " ".join(invoke("plan", "-p", str(folder)).split())
        assert not re.search(r"\b(added|changed|removed)\b", out), out
        assert document.read_bytes() == after_render
    again = " ".join(invoke("render", "-p", str(folder), "--stage", "voice", "--no-cut").split())
    assert "shot durations set" not in again and document.read_bytes() == after_render

    # a length typed by hand stays too, and an edited line goes back to an estimate
    def by_hand(d: Document) -> None:
        both = next(s for s in d.shots if len(s.dialogue) == 2 and s.dialogue[1].dual)
        both.duration, both.duration_source = 9.0, "manual"

    update(document, by_hand)
    manual = document.read_bytes()
    invoke("plan", "-p", str(folder))
    assert document.read_bytes() == manual
    script.write_text(REPLAN.replace("He looked old.", "He looked so much older."), encoding="utf-8")
    (folder / "screenplay.fountain").write_text(script.read_text(encoding="utf-8"), encoding="utf-8")
    out = " ".join(invoke("plan", "-p", str(folder)).split())
    doc = load(document).doc
    (mary,) = [s for s in doc.shots if any(d.id == "S01-L1-2" for d in s.dialogue)]
    assert mary.duration_source == "estimate" and f"changed 1: {mary.id}" in out


def test_a_long_shot_list_and_status_print_as_aligned_columns(
    zh_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past a couple of hundred rows a Rich table takes seconds; the long form keeps every row and line."""
    invoke("plan", "-p", str(zh_project))
    doc = load(zh_project / "kaipai.yaml").doc
    monkeypatch.setattr("kaipai.cli.tables.RICH_ROWS", 1)
    table = invoke("shots", "-p", str(zh_project))
    lines = table.splitlines()
    starts = [line.split()[0] for line in lines if line and not line.startswith(" ")]
    assert [s.id for s in doc.ordered_shots()] == [s for s in starts if s in {x.id for x in doc.shots}]
    column = lines[1].index("description")
    spoken = next(s for s in doc.ordered_shots() if s.dialogue)
    row = next(i for i, line in enumerate(lines) if line.startswith(spoken.id + " "))
    assert any(line[column:].startswith("林夏") or line[column:].startswith("旁白") for line in lines[row : row + 8])
    status = invoke("status", "-p", str(zh_project))
    assert "missing" in status and all(s.id in status for s in doc.shots)
    assert "┃" not in status and "│" not in status  # no box drawing: the long form


def test_tab_completes_shot_and_scene_ids_of_the_project(zh_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    invoke("plan", "-p", str(zh_project))
    doc = load(zh_project / "kaipai.yaml").doc
    monkeypatch.chdir(zh_project)

    def completing(*words: str) -> list[str]:
        env = {
            "_KAIPAI_COMPLETE": "complete_bash",
            "COMP_WORDS": " ".join(["kaipai", *words]),
            "COMP_CWORD": str(len(words)),
        }
        return runner.invoke(app, [], env=env, prog_name="kaipai").output.split()

    first = doc.ordered_shots()[0]
    assert first.id in completing("takes", first.id[:-1])
    assert set(completing("takes", "")) >= {s.id for s in doc.shots} | {c.id for c in doc.cast.characters}
    assert completing("shots", "--scene", doc.scenes[-1].id) == [doc.scenes[-1].id]
