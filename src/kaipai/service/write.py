"""Writing a screenplay from an idea with a language-model planner (``kaipai write``).

Also home of :func:`keep_drafts`, which every language-model service wraps its call in: an
invalid reply is saved under ``.kaipai/drafts/`` with its violations and the command fails
with a message pointing at it — never dropped, never reported as success.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kaipai.backends.base import Backend, NotConfigured, PlannerBackend
from kaipai.backends.openai.structured import DraftKept, InvalidReply
from kaipai.backends.registry import Registry
from kaipai.document.io import atomic_write_text
from kaipai.project import ProjectPaths

DRAFTS = "drafts"


@dataclass
class WriteResult:
    path: Path
    text: str
    language: str
    scenes: int
    characters: list[str]
    title: str


@contextlib.contextmanager
def keep_drafts(folder: Path) -> Iterator[None]:
    """Turn an :class:`InvalidReply` into a saved draft (under ``folder``) and a :class:`DraftKept` error."""
    try:
        yield
    except InvalidReply as exc:
        raise DraftKept(exc, exc.save(folder)) from None


def drafts_folder(paths: ProjectPaths) -> Path:
    return paths.state / DRAFTS


def language_of(idea: str) -> str:
    from kaipai.planning.names import detect_language

    return detect_language([idea])


def default_output(language: str, folder: Path) -> Path:
    return folder / ("screenplay.txt" if language == "zh" else "screenplay.fountain")


def writing_planner(project: ProjectPaths | None) -> Backend:
    """The project's language-model planner, or the ``openai`` planner configured from the environment."""
    registry = Registry()
    if project is not None and project.document.exists():
        from kaipai.document.io import load

        choice = load(project.document).doc.backend_for("planner")
        if choice.use != "rules":
            return registry.create(choice.use, choice.model, choice.options)
    return registry.create("openai")


def write_screenplay(
    idea: str,
    *,
    language: str | None = None,
    out: Path | None = None,
    project: ProjectPaths | None = None,
    planner: PlannerBackend | None = None,
    force: bool = False,
) -> WriteResult:
    """Expand ``idea`` into a screenplay file that ``kaipai new DIR --script FILE`` imports as is."""
    from kaipai.screenplay import parse_text

    lang = language or language_of(idea)
    if lang not in ("zh", "en"):
        raise NotConfigured(f"--lang {lang!r}: choose zh or en")
    base = project.root if project is not None else Path.cwd()
    target = out if out is not None else default_output(lang, base)
    if target.exists() and not force:
        raise FileExistsError(f"{target} already exists; choose another --out, or pass --force to replace it")
    drafts = drafts_folder(project) if project is not None else target.resolve().parent / ".kaipai" / DRAFTS
    backend = planner if planner is not None else writing_planner(project)
    try:
        with keep_drafts(drafts):
            text = backend.write_screenplay(idea, lang)
    finally:
        if planner is None and isinstance(backend, Backend):
            backend.close()
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, text)
    sp = parse_text(text, filename=str(target), format="zh" if lang == "zh" else "fountain")
    return WriteResult(
        path=target, text=text, language=lang, scenes=len(sp.scenes), characters=sp.characters(), title=sp.title
    )
