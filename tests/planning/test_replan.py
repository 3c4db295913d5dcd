"""Re-planning: locked shots survive untouched and in place; the report says what moved."""

from __future__ import annotations

from collections import Counter

from kaipai.document.elements import DialogueElement
from kaipai.document.io import new_document_text, parse_text
from kaipai.document.models import Document, reference_errors
from kaipai.planning.importer import document_from_screenplay
from kaipai.planning.rules import plan_document
from tests.support.scripts import en_screenplay, line_owners, screenplay_lines, zh_screenplay


def first_plan() -> Document:
    return plan_document(document_from_screenplay(en_screenplay())).document


def lock(doc: Document, shot_id: str, **edits: object) -> Document:
    doc = doc.model_copy(deep=True)
    shot = doc.shot(shot_id)
    assert shot is not None
    for k, v in edits.items():
        setattr(shot, k, v)
    shot.locked = True
    return doc


def test_first_plan_reports_every_shot_added_and_a_second_plan_changes_nothing() -> None:
    doc = document_from_screenplay(en_screenplay())
    first = plan_document(doc)
    assert first.added == [s.id for s in first.document.ordered_shots()]
    assert first.changed == first.removed == first.kept_locked == []
    again = plan_document(first.document)
    assert again.added == again.changed == again.removed == []
    assert again.document == first.document
    assert doc.shots == []  # the input document is left as it was


def test_locked_shot_stays_byte_identical_and_in_place() -> None:
    doc = first_plan()
    ids = [s.id for s in doc.ordered_shots()]
    target = next(s for s in doc.ordered_shots() if s.kind.value == "ots")
    doc = lock(
        doc,
        target.id,
        description="Hand-written: John, rain on his coat.",
        duration=4.2,
        duration_source="manual",
        notes="keep",
    )
    locked_yaml = new_document_text(Document(project=doc.project, shots=[doc.shot(target.id)]))  # type: ignore[list-item]

    result = plan_document(doc)
    new = result.document
    assert result.kept_locked == [target.id]
    assert result.added == result.changed == result.removed == []
    assert [s.id for s in new.ordered_shots()] == ids  # same place in the film
    kept = new.shot(target.id)
    assert kept == doc.shot(target.id)
    assert new_document_text(Document(project=new.project, shots=[kept])) == locked_yaml  # type: ignore[list-item]
    owners = line_owners(new)
    assert sorted(owners) == sorted(screenplay_lines(new)) and set(owners.values()) == {1}


def test_a_locked_shot_holding_a_line_that_is_planned_elsewhere_now_keeps_it_alone() -> None:
    doc = first_plan()
    # The director moves Mary's first line into the establishing shot and locks that shot.
    est = doc.ordered_shots()[0]
    line = next(d for s in doc.shots for d in s.dialogue if d.text == "He remembered.")
    doc = lock(doc, est.id, dialogue=[line])
    for s in doc.shots:
        if s.id != est.id:
            s.dialogue = [d for d in s.dialogue if d.id != line.id]
    result = plan_document(doc)
    owners = line_owners(result.document)
    assert owners[line.id] == 1 and result.document.shot(est.id).dialogue == [line]  # type: ignore[union-attr]
    assert set(owners.values()) == {1} and sorted(owners) == sorted(screenplay_lines(result.document))
    assert result.removed  # the shot that used to carry that line is gone
    assert reference_errors(result.document) == []


def test_script_change_reports_added_changed_and_removed() -> None:
    doc = first_plan()
    # hand edits to an unlocked shot are replaced and reported as changed
    edited_id = doc.ordered_shots()[1].id
    doc.shot(edited_id).description = "scribbled over"  # type: ignore[union-attr]
    # a new line at the end of scene 2, and scene 3 loses its action
    doc.scenes[1].elements.append(DialogueElement(type="dialogue", character="JOHN", text="Goodnight then.", line=40))
    doc.scenes[2].elements = [el for el in doc.scenes[2].elements if el.type != "action"]
    old_ids = {s.id for s in doc.shots}
    result = plan_document(doc)
    new_ids = {s.id for s in result.document.shots}
    assert edited_id in result.changed
    assert set(result.added) == new_ids - old_ids and result.added
    assert any(i.startswith("S02-") for i in result.added)
    assert set(result.removed) == old_ids - new_ids and any(i.startswith("S03-") for i in result.removed)
    assert reference_errors(result.document) == []


def test_orders_fit_around_locked_shots_without_moving_them() -> None:
    doc = plan_document(document_from_screenplay(zh_screenplay())).document
    shots = doc.ordered_shots()
    # lock two neighbours with a narrow gap, then add lines so more shots must fit before them
    doc = lock(doc, shots[3].id)
    doc = lock(doc, shots[4].id, order=shots[3].order + 1)
    doc.scenes[0].elements.insert(2, DialogueElement(type="dialogue", character="林晓", text="有人吗？"))
    result = plan_document(doc)
    new = result.document
    orders = [s.order for s in new.shots]  # the document lists shots in play order
    assert orders == sorted(orders)
    assert [s.id for s in new.ordered_shots()] == [s.id for s in new.shots]
    assert new.shot(shots[3].id) == doc.shot(shots[3].id) and new.shot(shots[4].id) == doc.shot(shots[4].id)
    assert result.kept_locked == [shots[3].id, shots[4].id]
    # lines keep their ids although a line was inserted before them; the new one gets a fresh id
    texts = Counter(d.text for s in new.shots for d in s.dialogue)
    script = [el.text for sc in new.scenes for el in sc.elements if el.type == "dialogue"]
    assert sorted(texts) == sorted(script) and set(texts.values()) == {1}
    ids = {d.text: d.id for s in new.shots for d in s.dialogue}
    before = {d.text: d.id for s in doc.shots for d in s.dialogue}
    assert all(ids[t] == i for t, i in before.items())
    assert ids["有人吗？"] not in before.values()
    assert result.added == [s.id for s in new.shots if any(d.text == "有人吗？" for d in s.dialogue)]
    loaded = parse_text(new_document_text(new))  # still a valid document
    assert loaded.doc == new


def test_locked_shots_of_a_scene_that_is_gone_are_kept() -> None:
    doc = first_plan()
    gone = next(s for s in doc.ordered_shots() if s.scene == "S03")
    doc = lock(doc, gone.id)
    doc.scenes = [*doc.scenes[:2], doc.scenes[2].model_copy(update={"elements": []})]
    result = plan_document(doc)
    assert result.document.shot(gone.id) == doc.shot(gone.id)
    assert gone.id in result.kept_locked


def test_shots_keep_their_ids_through_a_script_edit_so_only_the_edit_is_reported() -> None:
    doc = first_plan()
    shot_of_line = {d.text: s.id for s in doc.shots for d in s.dialogue}
    cut = "I told you not to open his letters."
    doc.scenes[0].elements = [el for el in doc.scenes[0].elements if el.text != cut]
    doc.scenes[1].elements.append(DialogueElement(type="dialogue", character="JOHN", text="Goodnight then.", line=40))
    result = plan_document(doc)
    new = result.document
    now = {d.text: s.id for s in new.shots for d in s.dialogue}
    assert all(now[text] == sid for text, sid in shot_of_line.items() if text != cut)  # every other line: same shot id
    assert shot_of_line[cut] in result.removed and now["Goodnight then."] in result.added
    assert len(result.added) <= 2 and len(result.removed) <= 2  # the edit, not the scene after it
    unchanged = [s for s in doc.shots if s.scene == "S03"]
    assert all(new.shot(s.id) == s.model_copy(update={"order": new.shot(s.id).order}) for s in unchanged)  # type: ignore[union-attr]
    assert len({s.id for s in new.shots}) == len(new.shots)


def test_a_line_rewritten_under_a_locked_shot_gets_a_new_shot_and_the_locked_one_keeps_its_take() -> None:
    doc = first_plan()
    holder = next(s for s in doc.shots if any(d.text == "Who is it from?" for d in s.dialogue))
    doc = lock(doc, holder.id)
    for el in doc.scenes[0].elements:
        if el.text == "Who is it from?":
            el.text = "Who sent it?"
    result = plan_document(doc)
    new = result.document
    assert new.shot(holder.id) == doc.shot(holder.id)  # the approved take, as approved
    fresh = [s for s in new.shots if any(d.text == "Who sent it?" for d in s.dialogue)]
    assert len(fresh) == 1 and fresh[0].id in result.added and not fresh[0].locked
    assert fresh[0].dialogue[0].id != doc.shot(holder.id).dialogue[0].id  # type: ignore[union-attr]
    assert set(line_owners(new).values()) == {1}
    assert result.stale_locked == [holder.id]  # the director is told the locked shot no longer matches the script
    assert plan_document(first_plan()).stale_locked == []
