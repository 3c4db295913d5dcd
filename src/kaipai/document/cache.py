"""The validated document of a project, kept by the SHA-256 of its file's bytes.

Every command and studio request needs the document; parsing and checking a feature film's
2 MB ``kaipai.yaml`` takes a second or more, so what was validated once is kept twice:

- in this process (the studio, a render), the Document itself, its JSON-ready form's layout
  and hash: a request re-reads and hashes the file (milliseconds) and, when the bytes are the
  same, uses the document it already has;
- on disk under ``.kaipai/cache/document.json``, for the next command: one line of header
  (hash, the schema's fingerprint, the layout) and the document as JSON.

A cache hit means these exact bytes passed every check of this version of the models; any
edit, by hand or by kaipai, changes the hash. The fingerprint is the models' source, so an
upgrade (or a developer's change to the document package) never trusts a document validated
under other rules.
Treat a document from here as read-only: edits go through :func:`kaipai.document.io.update`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
from functools import cache
from pathlib import Path

import pydantic
from pydantic import ValidationError

from kaipai.document import models
from kaipai.document.models import Document
from kaipai.document.yaml12 import Layout

DOCUMENT_NAME = "kaipai.yaml"

_memo: dict[Path, tuple[str, Document, Layout | None]] = {}
_lock = threading.Lock()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@cache
def fingerprint() -> str:
    """The rules a cached document passed: the models' source and pydantic's version."""
    h = hashlib.sha256(pydantic.VERSION.encode())
    for source in sorted(Path(models.__file__ or "").parent.glob("*.py")):  # the whole document package
        h.update(source.name.encode() + source.read_bytes())
    return h.hexdigest()[:16]


def cache_file(path: Path) -> Path | None:
    """Where a project document's cache lives (None for a YAML file that is not a project's document)."""
    return path.parent / ".kaipai" / "cache" / "document.json" if path.name == DOCUMENT_NAME else None


def recall(path: Path, sha: str) -> tuple[Document, Layout | None] | None:
    """The document validated for the bytes hashing to ``sha``, from this process or the disk cache."""
    key = path.resolve()
    with _lock:
        found = _memo.get(key)
    if found is not None and found[0] == sha:
        return found[1], found[2]
    target = cache_file(path)
    if target is None:
        return None
    with contextlib.suppress(OSError, ValueError, ValidationError, KeyError, TypeError):
        raw = target.read_bytes()
        head, _, body = raw.partition(b"\n")
        header = json.loads(head)
        if header["sha256"] == sha and header["schema"] == fingerprint():
            doc = Document.model_validate_json(body)
            layout = Layout.from_json(header["layout"]) if header.get("layout") else None
            keep(path, sha, doc, layout)
            return doc, layout
    return None


def kept(doc: Document) -> bool:
    """Whether ``doc`` is a cached (so read-only) document of this process."""
    with _lock:
        return any(entry[1] is doc for entry in _memo.values())


def keep(path: Path, sha: str, doc: Document, layout: Layout | None) -> None:
    """Remember the document for this process only."""
    with _lock:
        _memo[path.resolve()] = (sha, doc, layout)


def remember(path: Path, sha: str, doc: Document, layout: Layout | None) -> None:
    """Remember the document in this process and, for a project's document, on disk.

    The disk copy is written atomically but not synced: a torn or lost cache is only a miss.
    """
    keep(path, sha, doc, layout)
    target = cache_file(path)
    if target is None:
        return
    header = {"sha256": sha, "schema": fingerprint(), "layout": layout.to_json() if layout else None}
    data = json.dumps(header, ensure_ascii=False).encode() + b"\n" + doc.model_dump_json().encode()
    with contextlib.suppress(OSError):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".document.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
