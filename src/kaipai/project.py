"""A project on disk: where its files live, finding it, and reading its document quickly; and where
the user's own config file is (keys and the signing certificate live there, never in the project).

Every layer (CLI, studio, engine) finds paths here. Reading the document goes through
:func:`kaipai.document.io.read_document`, which keeps the validated document by the SHA-256
of the file's bytes: any edit changes the hash and the file is parsed and checked again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kaipai.document.io import DOCUMENT_NAME, DocumentError, LoadedDocument, Problem, load, read_document
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
    """The document with its round-trip tree (slow on a long film: for code that needs comments or lines)."""
    return load(paths.document)


def load_document(paths: ProjectPaths) -> Document:
    """The project's validated document, read-only; raises DocumentError (located) when it is not usable.

    Cached by the SHA-256 of the file (see :mod:`kaipai.document.cache`): a command or studio
    request after the first reads it in a fraction of the parse.
    """
    return read_document(paths.document)


def config_path() -> Path:
    """The user's kaipai config file: ``$KAIPAI_CONFIG``, else ``$XDG_CONFIG_HOME/kaipai/config.toml``."""
    explicit = os.environ.get("KAIPAI_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "kaipai" / "config.toml"
