"""Reading ``kaipai.yaml`` quickly when it has not changed.

The round-trip YAML parser that keeps a director's comments is slow (half a second for a
100-shot film), and the engine reads the document on every render and status. The
validated document is cached as JSON under ``.kaipai/cache`` keyed by the SHA-256 of the
file's bytes: any edit changes the hash and the file is parsed and checked in full again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json

from pydantic import ValidationError

from kaipai.document.io import atomic_write_text, load
from kaipai.document.models import Document
from kaipai.service.project import ProjectPaths


def _cache_file(paths: ProjectPaths):  # noqa: ANN202 - a Path
    return paths.state / "cache" / "document.json"


def remember(paths: ProjectPaths, text: bytes, doc: Document) -> None:
    """Cache a validated document for the file content ``text``."""
    payload = {"sha256": hashlib.sha256(text).hexdigest(), "document": doc.model_dump(mode="json")}
    with contextlib.suppress(OSError):
        atomic_write_text(_cache_file(paths), json.dumps(payload, ensure_ascii=False))


def load_document(paths: ProjectPaths) -> Document:
    """The project's validated document; raises DocumentError (located) when it is not usable."""
    try:
        text = paths.document.read_bytes()
    except FileNotFoundError:
        return load(paths.document).doc  # raises the located "no such file" error
    sha = hashlib.sha256(text).hexdigest()
    cache = _cache_file(paths)
    with contextlib.suppress(OSError, ValueError, ValidationError, KeyError):
        payload = json.loads(cache.read_text(encoding="utf-8"))
        if payload["sha256"] == sha:
            return Document.model_validate(payload["document"])
    doc = load(paths.document).doc
    remember(paths, text, doc)
    return doc
