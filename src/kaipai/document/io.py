"""Load and save ``kaipai.yaml`` so that a director's comments and formatting survive.

The YAML tree (ruamel's round-trip types) is kept beside the validated model; saving
merges the model back into that tree, so only values that changed are rewritten.
Every problem is reported with file, line and column, never as a traceback.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

from kaipai.document.messages import plain_message
from kaipai.document.models import Document, reference_errors

DOCUMENT_NAME = "kaipai.yaml"
ELEMENT_KINDS = "action, dialogue, transition, section, caption, cutaway, centered, lyric, note, synopsis, episode"


@dataclass(frozen=True)
class Problem:
    """One located problem in a document."""

    file: str
    line: int  # 1-based; 0 when unknown
    column: int  # 1-based; 0 when unknown
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        return f"{where}: {self.field or '(document)'}: {self.message}"


class DocumentError(Exception):
    """The document cannot be used as it is; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class LoadedDocument:
    """A validated document together with the YAML tree it came from."""

    doc: Document
    tree: CommentedMap
    path: Path | None = None
    problems: list[Problem] = field(default_factory=list)


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 100
    y.indent(mapping=2, sequence=4, offset=2)
    y.allow_unicode = True
    return y


# --------------------------------------------------------------------------- loading


def parse_text(text: str, filename: str = DOCUMENT_NAME) -> LoadedDocument:
    """Parse and validate document text; raise DocumentError with every located problem."""
    try:
        tree = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        msg = exc.problem or str(exc)
        raise DocumentError(
            [Problem(filename, line, col, "", f"YAML syntax error: {msg}; fix the indentation or quoting there")]
        ) from None
    except YAMLError as exc:  # pragma: no cover - ruamel raises Marked errors for text input
        raise DocumentError([Problem(filename, 0, 0, "", f"YAML error: {exc}")]) from None
    if tree is None:
        raise DocumentError(
            [Problem(filename, 1, 1, "", "the document is empty; expected at least a 'project:' section")]
        )
    if not isinstance(tree, CommentedMap):
        raise DocumentError(
            [
                Problem(
                    filename, 1, 1, "", "the document must be a mapping with keys such as 'project:', 'cast:', 'shots:'"
                )
            ]
        )
    try:
        doc = Document.model_validate(_plain(tree))
    except ValidationError as exc:
        raise DocumentError(_validation_problems(exc, tree, filename)) from None
    refs = reference_errors(doc)
    if refs:
        raise DocumentError([locate(tree, loc, msg, filename) for loc, msg in refs])
    return LoadedDocument(doc=doc, tree=tree)


def load(path: Path | str) -> LoadedDocument:
    """Load a document file (or a project folder holding ``kaipai.yaml``)."""
    path = Path(path)
    if path.is_dir():
        path = path / DOCUMENT_NAME
    if not path.exists():
        raise DocumentError([Problem(str(path), 0, 0, "", "no such file; create a project with 'kaipai new DIR'")])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            [Problem(str(path), 0, 0, "", f"not UTF-8 text (byte {exc.start}); save the file as UTF-8")]
        ) from None
    loaded = parse_text(text, str(path))
    loaded.path = path
    return loaded


def _plain(node: Any) -> Any:
    """Round-trip YAML types to plain Python for validation."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def _validation_problems(exc: ValidationError, tree: CommentedMap, filename: str) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = _without_tags(tree, tuple(err["loc"]))
        ctx = err.get("ctx", {})
        if err["type"] == "union_tag_invalid":
            loc = (*loc, str(ctx.get("discriminator", "type")).strip("'"))
            msg = f"unknown kind {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
        elif err["type"] == "union_tag_not_found":
            loc = (*loc, str(ctx.get("discriminator", "type")).strip("'"))
            msg = f"this field is required: say what kind of element this is, e.g. type: action ({ELEMENT_KINDS})"
        elif err["type"] == "extra_forbidden":
            msg = "unknown field; check its spelling (see 'kaipai schema' for the fields allowed here)"
        else:
            msg = plain_message(err)
        if (
            err["type"] not in ("extra_forbidden", "missing", "union_tag_not_found")
            and "input" in err
            and not isinstance(err["input"], (dict, list))
        ):
            msg = f"{msg} (got {err['input']!r})"
        problems.append(locate(tree, loc, msg, filename))
    return problems


def _without_tags(tree: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop the kind pydantic puts in the path of a tagged union (``elements.1.dialogue.text``)."""
    node, out = tree, []
    for part in loc:
        if isinstance(node, CommentedMap) and part not in node and node.get("type") == part:
            continue
        out.append(part)
        in_map = isinstance(node, CommentedMap) and part in node
        in_seq = isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node)
        node = node[part] if in_map or in_seq else None
    return tuple(out)


def locate(tree: Any, loc: tuple[Any, ...], message: str, filename: str) -> Problem:
    """Find the line and column of the deepest node of ``loc`` that exists in the tree."""
    node = tree
    line, col = 1, 1
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            ln, cl = node.lc.key(part)
            line, col = ln + 1, cl + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            ln, cl = node.lc.item(part)
            line, col = ln + 1, cl + 1
            node = node[part]
        else:
            break
    path = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
    return Problem(filename, line, col, path, message)


# --------------------------------------------------------------------------- saving


def dump_text(loaded: LoadedDocument) -> str:
    """Serialise the document, merging changes into the tree it was loaded from."""
    full = loaded.doc.model_dump(mode="json")
    minimal = loaded.doc.model_dump(mode="json", exclude_defaults=True)
    minimal.setdefault("version", full["version"])
    loaded.tree = _merge(loaded.tree, full, minimal)
    buf = io.StringIO()
    _yaml().dump(loaded.tree, buf)
    return buf.getvalue()


def new_document_text(doc: Document, header: str = "") -> str:
    """Text for a brand-new document, with an optional comment header."""
    loaded = LoadedDocument(doc=doc, tree=CommentedMap())
    text = dump_text(loaded)
    if header:
        text = "".join(f"# {ln}\n" if ln else "#\n" for ln in header.splitlines()) + text
    return text


def save(loaded: LoadedDocument, path: Path | str | None = None) -> Path:
    target = Path(path or loaded.path or DOCUMENT_NAME)
    atomic_write_text(target, dump_text(loaded))
    loaded.path = target
    return target


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file so that readers see the old or the new content, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _merge(node: Any, full: Any, minimal: Any) -> Any:
    """Bring a YAML node up to date with ``full``; keys absent from the node are added only when
    they differ from the default (``minimal``), so hand-written files stay short."""
    if isinstance(full, dict):
        target = node if isinstance(node, CommentedMap) else CommentedMap()
        minimal = minimal if isinstance(minimal, dict) else {}
        for key in list(target.keys()):
            if key not in full:
                del target[key]
        for key, value in full.items():
            if key in target:
                target[key] = _merge(target[key], value, minimal.get(key, value))
            elif key in minimal:
                target[key] = _merge(None, value, minimal[key])
        return target
    if isinstance(full, list):
        target = node if isinstance(node, CommentedSeq) else CommentedSeq()
        minimal = minimal if isinstance(minimal, list) and len(minimal) == len(full) else full
        if full and all(isinstance(v, dict) and "id" in v for v in full):
            by_id = {item.get("id"): item for item in target if isinstance(item, CommentedMap)}
            merged = [_merge(by_id.get(v["id"]), v, m) for v, m in zip(full, minimal)]
        else:
            merged = [
                _merge(target[i] if i < len(target) else None, v, m) for i, (v, m) in enumerate(zip(full, minimal))
            ]
        if len(target) == len(merged) and all(a is b for a, b in zip(target, merged)):
            return target
        comments = target.ca.items if isinstance(target, CommentedSeq) else {}
        kept = {id(item): i for i, item in enumerate(target)}
        old_comments = dict(comments)
        del target[:]
        target.ca.items.clear()
        for i, item in enumerate(merged):
            target.append(item)
            j = kept.get(id(item))
            if j is not None and j in old_comments:
                target.ca.items[i] = old_comments[j]
        return target
    if node is not None and not isinstance(node, (dict, list)) and _same_scalar(node, full):
        return node
    if isinstance(full, str) and "\n" in full:
        return LiteralScalarString(full)
    return full


def _same_scalar(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    return str(a) == str(b) if isinstance(a, str) and isinstance(b, str) else a == b


# --------------------------------------------------------------------------- concurrent edits


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the project's document lock: one writer at a time across processes."""
    lock_path = path.parent / ".kaipai" / "document.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def update(path: Path | str, change: Callable[[Document], Document | None]) -> LoadedDocument:
    """Read-modify-write under the lock, so concurrent writers (studio, CLI) never lose a change.

    ``change`` gets a fresh copy of the document; it may mutate it or return a new one.
    The result is validated before anything is written.
    """
    path = Path(path)
    if path.is_dir():
        path = path / DOCUMENT_NAME
    with locked(path):
        loaded = load(path)
        draft = loaded.doc.model_copy(deep=True)
        result = change(draft)
        new_doc = result if result is not None else draft
        new_doc = Document.model_validate(new_doc.model_dump(mode="json"))
        refs = reference_errors(new_doc)
        if refs:
            raise DocumentError([locate(loaded.tree, loc, msg, str(path)) for loc, msg in refs])
        loaded.doc = new_doc
        save(loaded, path)
        return loaded
