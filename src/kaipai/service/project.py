"""Where a project's files live. Every layer (CLI, studio, engine) finds paths here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kaipai.document.io import DOCUMENT_NAME, DocumentError, LoadedDocument, Problem, load


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
    raise DocumentError([Problem(str(here / DOCUMENT_NAME), 0, 0, "", "no kaipai.yaml here or above; create a project with 'kaipai new DIR' or pass --project DIR")])


def open_document(paths: ProjectPaths) -> LoadedDocument:
    return load(paths.document)
