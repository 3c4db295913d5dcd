"""The qc policy and the continuity ledger in kaipai.yaml: layered as written, round-tripped, located when wrong."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaipai.document.cast import Character
from kaipai.document.io import DocumentError, new_document_text, parse_text
from kaipai.document.models import Document
from kaipai.document.qc import DEFAULT, Continuity, QCPolicy, qc_rules
from kaipai.document.scenes import Scene
from kaipai.document.settings import Project
from kaipai.document.shots import Shot

CHECKS = ["black", "frozen", "flash", "length", "size", "silence", "clipping", "loudness", "faces", "lipsync", "judge"]


def _doc(**extra: object) -> Document:
    return Document(
        project=Project(title="t"),
        cast={"characters": [Character(id="lin", name="林晓")]},
        scenes=[Scene(id="S1", heading="1-1 夜 内 厨房")],
        shots=[Shot(id="S1-001", scene="S1")],
        **extra,
    )


def test_each_field_comes_from_the_most_specific_block_that_sets_it() -> None:
    doc = _doc(
        qc={"all": QCPolicy(max_retakes=2, budget=3.0), "clip": QCPolicy(best_of=3, min_score=0.7)},
    )
    shot = doc.shots[0].model_copy(update={"qc": {"all": QCPolicy(budget=1.0), "clip": QCPolicy(min_score=0.9)}})
    clip = qc_rules(doc, shot, "clip")
    assert (clip.best_of, clip.min_score, clip.max_retakes, clip.budget) == (3, 0.9, 2, 1.0)
    keyframe = qc_rules(doc, doc.shots[0], "keyframe")
    assert (keyframe.best_of, keyframe.min_score, keyframe.max_retakes, keyframe.budget) == (1, 0.5, 2, 3.0)
    assert qc_rules(doc, None, "sheet").max_retakes == 2  # a reference sheet follows the document only
    assert qc_rules(doc, shot, "clip", best_of=5).best_of == 5  # the command line wins
    assert qc_rules(_doc(), None, "voice") == DEFAULT and DEFAULT.max_retakes == 0  # flag, never retake, by default


@settings(max_examples=40, deadline=None)
@given(
    checks=st.none() | st.lists(st.sampled_from(CHECKS), unique=True, max_size=4),
    min_score=st.none() | st.floats(0, 1, allow_nan=False).map(lambda x: round(x, 3)),
    best_of=st.none() | st.integers(1, 16),
    max_retakes=st.none() | st.integers(0, 20),
    budget=st.none() | st.floats(0, 1000, allow_nan=False).map(lambda x: round(x, 2)),
    wardrobe=st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20),
    holds=st.lists(
        st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=10), max_size=3
    ),
)
def test_policy_and_ledger_survive_a_round_trip_through_the_file(
    checks, min_score, best_of, max_retakes, budget, wardrobe, holds
) -> None:
    policy = QCPolicy(checks=checks, min_score=min_score, best_of=best_of, max_retakes=max_retakes, budget=budget)
    doc = _doc(qc={"clip": policy})
    doc.scenes[0].continuity = [Continuity(character="lin", wardrobe=wardrobe, holds=holds, side="left")]
    again = parse_text(new_document_text(doc)).doc
    assert again.qc == doc.qc and again.scenes[0].continuity == doc.scenes[0].continuity


def test_a_wrong_policy_or_ledger_entry_is_located() -> None:
    text = new_document_text(_doc(qc={"clip": QCPolicy(best_of=2)}))
    with pytest.raises(DocumentError) as bad:
        parse_text(text.replace("best_of: 2", "best_off: 2"))
    assert "qc.clip.best_off" in str(bad.value)
    with pytest.raises(DocumentError) as bad:
        parse_text(text.replace("best_of: 2", "min_score: 1.5"))
    assert "qc.clip.min_score" in str(bad.value) and "at most 1" in str(bad.value)
    with pytest.raises(DocumentError) as bad:
        parse_text(text.replace("clip:", "clips:"))
    assert "qc.clips" in str(bad.value)
    doc = _doc()
    doc.scenes[0].continuity = [Continuity(character="ghost", wardrobe="sheet")]
    with pytest.raises(DocumentError) as bad:
        parse_text(new_document_text(doc))
    assert "scenes[0].continuity[0].character" in str(bad.value) and "unknown character 'ghost'" in str(bad.value)
