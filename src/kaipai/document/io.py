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
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from kaipai.document import cache
from kaipai.document.models import Document, reference_errors
from kaipai.document.problems import DocumentError, Problem, locate, validation_problems
from kaipai.document.yaml12 import Layout, NotPlain, read

if TYPE_CHECKING:  # ruamel and the writers load when a command first parses or saves (start-up speed)
    from ruamel.yaml.comments import CommentedMap

__all__ = [
    "DOCUMENT_NAME",
    "DocumentError",
    "LoadedDocument",
    "Problem",
    "atomic_write_bytes",
    "atomic_write_text",
    "load",
    "locate",
    "locked",
    "new_document",
    "new_document_text",
    "parse_text",
    "read_document",
    "save",
    "update",
    "write_new",
]

DOCUMENT_NAME = cache.DOCUMENT_NAME


@dataclass
class LoadedDocument:
    """A validated document together with the YAML tree it came from."""

    doc: Document
    tree: CommentedMap | None  # None after a write that spliced the text instead of dumping a tree
    path: Path | None = None
    problems: list[Problem] = field(default_factory=list)


# --------------------------------------------------------------------------- loading


def parse_text(text: str, filename: str = DOCUMENT_NAME) -> LoadedDocument:
    """Parse and validate document text; raise DocumentError with every located problem."""
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    from kaipai.document.roundtrip import plain, rt_yaml

    try:
        tree = rt_yaml().load(text)
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
        doc = Document.model_validate(plain(tree))
    except ValidationError as exc:
        raise DocumentError(validation_problems(exc, tree, filename)) from None
    refs = reference_errors(doc)
    if refs:
        raise DocumentError([locate(tree, loc, msg, filename) for loc, msg in refs])
    return LoadedDocument(doc=doc, tree=tree)


def load(path: Path | str) -> LoadedDocument:
    """Load a document file (or a project folder holding ``kaipai.yaml``)."""
    path = _document_file(path)
    if not path.exists():
        raise _no_such_file(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, exc) from None
    loaded = parse_text(text, str(path))
    loaded.path = path
    return loaded


# --------------------------------------------------------------------------- saving


def dump_text(loaded: LoadedDocument) -> str:
    """Serialise the document, merging changes into the tree it was loaded from."""
    from kaipai.document.roundtrip import merge, rt_yaml

    full = loaded.doc.model_dump(mode="json")
    minimal = loaded.doc.model_dump(mode="json", exclude_defaults=True)
    minimal.setdefault("version", full["version"])
    loaded.tree = merge(loaded.tree, full, minimal)
    buf = io.StringIO()
    rt_yaml().dump(loaded.tree, buf)
    return buf.getvalue()


def new_document_text(doc: Document, header: str = "") -> str:
    """Text for a brand-new document, with an optional comment header."""
    return new_document(doc, header)[0]


def new_document(doc: Document, header: str = "") -> tuple[str, Layout | None]:
    """Text for a brand-new document and its layout (what the next save splices into)."""
    from ruamel.yaml.comments import CommentedMap

    from kaipai.document.splice import compose

    preamble = "".join(f"# {ln}\n" if ln else "#\n" for ln in header.splitlines())
    composed = compose(doc, preamble)
    if composed is not None:
        return composed
    text = preamble + dump_text(LoadedDocument(doc=doc, tree=CommentedMap()))
    return text, _layout_of(text)


def write_new(path: Path, doc: Document, header: str = "") -> None:
    """Write a brand-new document file and remember it as validated (the next command needs no parse)."""
    text, layout = new_document(doc, header)
    data = text.encode("utf-8")
    atomic_write_bytes(path, data)
    if not reference_errors(doc):
        cache.remember(path, cache.digest(data), doc, layout)


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
    The result is validated before anything is written. Only the blocks that changed are
    rewritten (see :mod:`kaipai.document.splice`); the returned document has no tree.
    """
    from kaipai.document.splice import splice

    path = _document_file(path)
    with locked(path):
        data, doc, layout = _read(path)
        draft = doc.model_copy(deep=True)
        result = change(draft)
        new_doc = _revalidated(doc, result if result is not None else draft)
        refs = reference_errors(new_doc)
        if refs:
            tree = load(path).tree
            raise DocumentError([locate(tree, loc, msg, str(path)) for loc, msg in refs])
        text = data.decode("utf-8")
        spliced = splice(text, layout, doc, new_doc)
        if spliced is not None:
            new_text, new_layout = spliced
        else:  # the whole tree through ruamel, as before splicing existed
            loaded = parse_text(text, str(path))
            loaded.doc = new_doc
            new_text = dump_text(loaded)
            new_layout = _layout_of(new_text)
        new_data = new_text.encode("utf-8")
        atomic_write_bytes(path, new_data)
        cache.remember(path, cache.digest(new_data), new_doc, new_layout)
        return LoadedDocument(doc=new_doc, tree=None, path=path)


def _revalidated(old: Document, new: Document) -> Document:
    """``new`` checked again as a whole; parts equal to ``old`` pass as they are (they were valid)."""
    data: dict[str, Any] = {}
    for name in Document.model_fields:
        value, before = getattr(new, name), getattr(old, name)
        if value == before:
            data[name] = value
        elif isinstance(value, list) and all(hasattr(v, "id") for v in value):
            kept = {getattr(v, "id", None): v for v in before} if isinstance(before, list) else {}
            data[name] = [v if kept.get(v.id) == v else v.model_dump(mode="json") for v in value]
        else:
            data[name] = new.model_dump(mode="json", include={name})[name]
    return Document.model_validate(data)


# --------------------------------------------------------------------------- fast reading


def read_document(path: Path | str) -> Document:
    """The validated document, read as fast as possible; raises DocumentError (located) when it is not usable.

    A document whose bytes were validated before (in this process or, for a project, in its
    ``.kaipai/cache``) is not parsed again; otherwise libyaml's C parser reads it, and ruamel
    only when that parser is unsure or the document has a problem to locate. Treat the result
    as read-only: edits go through :func:`update`.
    """
    return _read(_document_file(path))[1]


def _document_file(path: Path | str) -> Path:
    path = Path(path)
    return path / DOCUMENT_NAME if path.is_dir() else path


def _read(path: Path) -> tuple[bytes, Document, Layout | None]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise _no_such_file(path) from None
    sha = cache.digest(data)
    found = cache.recall(path, sha)
    if found is not None:
        return data, found[0], found[1]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, exc) from None
    doc, layout = _parse_fast(text, str(path))
    cache.remember(path, sha, doc, layout)
    return data, doc, layout


def _no_such_file(path: Path) -> DocumentError:
    return DocumentError([Problem(str(path), 0, 0, "", "no such file; create a project with 'kaipai new DIR'")])


def _not_utf8(path: Path, exc: UnicodeDecodeError) -> DocumentError:
    return DocumentError([Problem(str(path), 0, 0, "", f"not UTF-8 text (byte {exc.start}); save the file as UTF-8")])


def _parse_fast(text: str, filename: str) -> tuple[Document, Layout | None]:
    """Parse and check with the C reader; anything it is unsure of, or any problem, goes through ruamel."""
    try:
        data, layout = read(text)
        if isinstance(data, dict):
            doc = Document.model_validate(data)
            if not reference_errors(doc):
                return doc, layout
    except (NotPlain, ValidationError):
        pass
    return parse_text(text, filename).doc, None  # raises the located problems, or reads what C could not


def _layout_of(text: str) -> Layout | None:
    try:
        return read(text)[1]
    except NotPlain:
        return None
