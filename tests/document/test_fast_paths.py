"""The fast paths to the document give what the round-trip paths give.

A feature film's document is read from a cache or by libyaml's C parser and saved by
rewriting only the blocks that changed; none of that may change what a director's file
says: the C reader reads what ruamel reads, the emitter writes what ruamel writes, a cached
document is the document, and a spliced save is the full save (byte for byte on a file
kaipai wrote, value for value and comment for comment on a hand-edited one).
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from ruamel.yaml.comments import CommentedMap

from kaipai.document import cache
from kaipai.document.emitter import emit_block, emit_item
from kaipai.document.io import (
    DocumentError,
    LoadedDocument,
    dump_text,
    load,
    new_document_text,
    parse_text,
    read_document,
    update,
    write_new,
)
from kaipai.document.models import Document, reference_errors
from kaipai.document.roundtrip import merge, plain, rt_yaml
from kaipai.document.shots import CameraMove, Shot, ShotSize
from kaipai.document.splice import splice
from kaipai.document.yaml12 import NotPlain, read
from tests.document.test_document_io import documents

# Text a screenplay or a director writes, with the characters YAML treats specially.
words = st.sampled_from(
    ["yes", "no", "on", "off", "null", "~", "true", "1:30", "0o17", "010", "1_000", ".inf", "2024-01-01", "1e3",
     "#E4572E", "a: b", "it's", '"quoted"', "- dash", "? q", "x #y", "---", "Ünïcode", "中文台词", "  ", "", "!tag",
     "&anchor", "*alias", "[flow]", "{map}", "a,b", "back\\slash", "tab\tin", "%pct", "@at", "`tick`"]
)  # fmt: skip
texts = st.lists(
    st.one_of(words, st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=12)), max_size=30
).map(" ".join)
scalars = st.one_of(
    texts, st.integers(-(10**6), 10**6), st.floats(allow_nan=False, allow_infinity=False), st.booleans()
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True), inner, max_size=3),
    ),
    max_leaves=8,
)


def ruamel_text(data: dict) -> str:
    buf = io.StringIO()
    rt_yaml().dump(merge(None, data, data), buf)
    return buf.getvalue()


def ruamel_reads(text: str) -> object:
    return plain(rt_yaml().load(text))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True), values, min_size=1, max_size=4))
def test_the_c_reader_reads_what_ruamel_reads_or_hands_over(data: dict) -> None:
    text = ruamel_text(data)
    try:
        fast, _layout = read(text)
    except NotPlain:
        return  # the caller reads this one with ruamel
    assert fast == ruamel_reads(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: yes\nb: on\nc: 1:30\nd: 010\ne: 1_000\n",
        "a: &x {b: 1}\nc: *x\n",
        "a: !!str 5\n",
        "a: 2024-01-01\n",
        "a: 1\na: 2\n",
        "%YAML 1.1\n---\na: yes\n",
        "a: [1, 2.5, '3', \"4\", null, ~, true]\n",
        "a: |\n  line one\n  line two\n",
        "a: >\n  folded\n  text\n",
        "a:\n- 1\n- 2\n",
        "a: b\r\nc: d\r\n",
    ],
)
def test_hand_written_yaml_reads_the_same_or_is_handed_over(text: str) -> None:
    try:
        fast, _ = read(text)
    except NotPlain:
        return
    assert fast == ruamel_reads(text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_the_emitter_writes_what_ruamel_writes(value: object) -> None:
    block = emit_block("key", value)
    if block is None:
        return  # declined: ruamel writes this one
    assert read(block)[0] == {"key": value}  # what it writes reads back as the value
    expected = ruamel_text({"key": value})
    assert ruamel_reads(expected) == {"key": value}  # the full save keeps every space too
    assert block == expected
    item = emit_item({"id": "x", "v": value})
    assert item is not None and read("k:\n" + item)[0] == {"k": [{"id": "x", "v": value}]}


def test_a_line_with_double_spaces_keeps_them() -> None:
    """ruamel folds a long plain line right after two spaces, which loses one when read back: such a
    line is written on one line, by the emitter and by the full save alike (Big Fish: "hungry.  I'm")."""
    line = "I don't want to eat you.  I don't want to eat anybody.  It's just I get so hungry.  I'm too big."
    for text in (line, ("There are some fish that cannot be caught.  It's not that they're faster " * 2).strip()):
        data = {"scenes": [{"elements": [{"type": "dialogue", "text": text}]}]}
        block = emit_block("scenes", data["scenes"])
        assert block is not None and read(block)[0] == data
        assert block == ruamel_text(data) and ruamel_reads(ruamel_text(data)) == data


# --------------------------------------------------------------------------- cached reads


def project_with(tmp_path: Path, doc: Document) -> Path:
    path = tmp_path / "kaipai.yaml"
    write_new(path, doc, "a header")
    return path


def forget(path: Path) -> None:
    cache._memo.clear()
    target = cache.cache_file(path)
    if target is not None and target.exists():
        target.unlink()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(documents())
def test_a_cache_hit_and_a_miss_give_the_same_document(tmp_path_factory: pytest.TempPathFactory, doc: Document) -> None:
    path = project_with(tmp_path_factory.mktemp("p"), doc)
    forget(path)
    missed = read_document(path)  # parsed by the C reader (or ruamel), then cached
    assert missed == doc == load(path).doc
    cache._memo.clear()
    assert read_document(path) == missed  # from .kaipai/cache on disk
    assert read_document(path) is read_document(path)  # from this process


def test_an_edit_by_hand_is_never_served_from_the_cache(tmp_path: Path) -> None:
    path = project_with(tmp_path, Document.model_validate({"project": {"title": "One"}}))
    assert read_document(path).project.title == "One"
    path.write_text(path.read_text(encoding="utf-8").replace("title: One", "title: Two"), encoding="utf-8")
    assert read_document(path).project.title == "Two"
    path.write_text(path.read_text(encoding="utf-8").replace("title: Two", "fps: fast"), encoding="utf-8")
    with pytest.raises(DocumentError) as err:
        read_document(path)
    assert err.value.problems[0].line > 0  # located by the round-trip parser


def test_a_cache_from_other_rules_is_not_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = project_with(tmp_path, Document.model_validate({"project": {"title": "One"}}))
    cache._memo.clear()
    monkeypatch.setattr(cache, "fingerprint", lambda: "another version")
    assert cache.recall(path, cache.digest(path.read_bytes())) is None


# --------------------------------------------------------------------------- spliced saves

edits = st.lists(
    st.tuples(
        st.sampled_from(["description", "move", "size", "line", "add", "delete", "title", "lock"]),
        st.integers(0, 10),
        texts,
    ),
    min_size=1,
    max_size=4,
)


def apply(doc: Document, changes: list[tuple[str, int, str]]) -> None:
    for kind, n, text in changes:
        shot = doc.shots[n % len(doc.shots)] if doc.shots else None
        if kind == "title":
            doc.project.title = text or "t"
        elif shot is None:
            continue
        elif kind == "description":
            shot.description = text
        elif kind == "move":
            shot.move = list(CameraMove)[n % len(CameraMove)]
        elif kind == "size":
            shot.size = list(ShotSize)[n % len(ShotSize)]
        elif kind == "lock":
            shot.locked = not shot.locked
        elif kind == "line" and shot.dialogue:
            shot.dialogue[0].text = text or "…"
        elif kind == "add":
            doc.shots.append(Shot(id=f"NEW-{n}-{len(doc.shots)}", scene=shot.scene, order=99, description=text))
        elif kind == "delete":
            doc.shots.remove(shot)


def full_save(text: str, doc: Document) -> str:
    loaded = parse_text(text)
    loaded.doc = doc
    return dump_text(loaded)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(documents(), edits)
def test_a_spliced_save_is_the_full_save(
    tmp_path_factory: pytest.TempPathFactory, doc: Document, changes: list
) -> None:
    path = project_with(tmp_path_factory.mktemp("p"), doc)
    before = path.read_text(encoding="utf-8")
    new = doc.model_copy(deep=True)
    apply(new, changes)
    new = Document.model_validate(new.model_dump(mode="json"))
    assume(not reference_errors(new))
    _, layout = read(before)
    spliced = splice(before, layout, doc, new)
    assert spliced is not None  # a file kaipai wrote is always spliced
    assert spliced[0] == full_save(before, new)
    assert spliced[1] == read(spliced[0])[1]  # the layout it returns is the new text's
    update(path, lambda d: apply(d, changes))
    assert path.read_text(encoding="utf-8") == spliced[0]


@pytest.mark.parametrize(("before", "after"), [("0", "yes"), ("a: b", "plain now"), ("it's", "no 'quotes' here")])
def test_a_quoted_value_replaced_by_one_of_another_style_saves_as_the_full_save(
    tmp_path: Path, before: str, after: str
) -> None:
    """ruamel gives a new value the quotes of the one it replaces; the splice hands such a shot to ruamel."""
    doc = Document.model_validate(
        {"project": {"title": "t"}, "scenes": [{"id": "S01", "heading": "INT. ROOM - DAY"}],
         "shots": [{"id": "S01-001", "scene": "S01", "description": before}]}
    )  # fmt: skip
    path = project_with(tmp_path, doc)
    text = path.read_text(encoding="utf-8")
    new = doc.model_copy(deep=True)
    new.shots[0].description = after
    _, layout = read(text)
    spliced = splice(text, layout, doc, new)
    assert spliced is not None and spliced[0] == full_save(text, new)


def test_a_hand_edited_file_keeps_every_comment_and_reads_as_the_full_save(fixtures: Path, tmp_path: Path) -> None:
    path = tmp_path / "kaipai.yaml"
    shutil.copyfile(fixtures / "documents" / "sample.yaml", path)
    text = path.read_text(encoding="utf-8")
    comments = [line.split("#", 1)[1] for line in text.splitlines() if "#" in line]

    def edit(doc: Document) -> None:
        doc.shots[1].dialogue[0].text = "爸，你怎么还没睡？"
        doc.shots[0].move = CameraMove.push_in
        doc.shots.append(Shot(id="S01-003", scene=doc.shots[0].scene, order=30, description="新镜头"))

    expected = load(path).doc.model_copy(deep=True)
    edit(expected)
    full = full_save(text, Document.model_validate(expected.model_dump(mode="json")))
    update(path, edit)
    after = path.read_text(encoding="utf-8")
    assert all(c in after for c in comments)
    assert load(path).doc == parse_text(full).doc
    assert "爸，你怎么还没睡？" in after and "move: push_in" in after and "S01-003" in after


def test_an_unchanged_shot_keeps_its_hand_formatting_byte_for_byte(tmp_path: Path) -> None:
    doc = Document.model_validate(
        {
            "project": {"title": "x"},
            "scenes": [{"id": "S1", "heading": "INT. ROOM - DAY"}],
            "shots": [{"id": "a", "scene": "S1", "order": 10}, {"id": "b", "scene": "S1", "order": 20}],
        }
    )
    path = project_with(tmp_path, doc)
    text = path.read_text(encoding="utf-8").replace("  - id: a\n", "  - id: a   # the opening, by hand\n")
    text = text.replace("order: 10", "order:    10")
    path.write_text(text, encoding="utf-8")
    update(path, lambda d: setattr(d.shots[1], "description", "changed"))
    after = path.read_text(encoding="utf-8")
    assert "  - id: a   # the opening, by hand\n    scene: S1\n    order:    10\n" in after
    assert "description: changed" in after


def test_new_document_text_is_what_ruamel_writes() -> None:
    doc = Document.model_validate(
        {
            "project": {"title": "x"},
            "scenes": [{"id": "S1", "heading": "h"}],
            "cast": {"characters": [{"id": "a", "name": "A"}]},
            "shots": [
                {
                    "id": "s",
                    "scene": "S1",
                    "description": "a long description, it's: " * 8,
                    "dialogue": [{"id": "L1", "speaker": "a", "text": "It's: a line\nover two lines"}],
                }
            ],
        }
    )
    fast = new_document_text(doc, "header")
    assert fast == "# header\n" + dump_text(LoadedDocument(doc=doc, tree=CommentedMap()))
    assert fast == full_save(fast, doc)
