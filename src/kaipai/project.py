"""A project on disk: where its files live, finding it, and reading its document quickly.

Every layer (CLI, studio, engine) finds paths here. The round-trip YAML parser that keeps a
director's comments is slow, and the engine reads the document on every render and status, so
the validated document is cached as JSON under ``.kaipai/cache`` keyed by the SHA-256 of the
file's bytes: any edit changes the hash and the file is parsed and checked in full again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from kaipai.document.io import DOCUMENT_NAME, DocumentError, LoadedDocument, Problem, atomic_write_text, load
from kaipai.document.models import Document


@dataclass(frozen=True)
class ProjectPaths:
    root: Path

    @property
    def document(self) -> Path:
        return self.root / DOCUMENT_NAME

    @property
    def state(self) -> Path:
        """Private state: store, database, locks. Never edited by hand."""
        return self.root / ".kaipai"

    @property
    def store(self) -> Path:
        return self.state / "store"

    @property
    def database(self) -> Path:
        return self.state / "kaipai.db"

    @property
    def jobs(self) -> Path:
        """Scratch folders of jobs in flight."""
        return self.state / "jobs"

    @property
    def output(self) -> Path:
        """What the director takes away: film, subtitles, exports."""
        return self.root / "output"

    def inside(self, relative: str | Path) -> Path:
        """Resolve a project-relative path, refusing one that leaves the project."""
        full = (self.root / relative).resolve()
        root = self.root.resolve()
        if full != root and root not in full.parents:
            raise DocumentError([Problem(str(self.document), 0, 0, str(relative), "path leaves the project folder")])
        return full


def find_project(start: Path | str | None = None) -> ProjectPaths:
    """The project holding ``start`` (a folder or its kaipai.yaml), searching upwards like git."""
    here = Path(start or Path.cwd()).resolve()
    if here.is_file():
        here = here.parent
    for candidate in (here, *here.parents):
        if (candidate / DOCUMENT_NAME).exists():
            return ProjectPaths(candidate)
    raise DocumentError(
        [
            Problem(
                str(here / DOCUMENT_NAME),
                0,
                0,
                "",
                "no kaipai.yaml here or above; create a project with 'kaipai new DIR' or pass --project DIR",
            )
        ]
    )


def open_document(paths: ProjectPaths) -> LoadedDocument:
    return load(paths.document)


def _cache_file(paths: ProjectPaths) -> Path:
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
