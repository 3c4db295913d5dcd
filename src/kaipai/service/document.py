"""Creating, planning and checking a project: the document side of the service API.

The CLI and the studio call these; they never touch the YAML themselves.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from kaipai.document.io import (
    DOCUMENT_NAME,
    DocumentError,
    LoadedDocument,
    Problem,
    atomic_write_text,
    load,
    locate,
    new_document_text,
    update,
)
from kaipai.document.models import Document
from kaipai.document.settings import Project
from kaipai.project import ProjectPaths

HEADER_ZH = """kaipai 制作文档：整部片子的单一事实来源。可以直接编辑，注释会被保留。
字段说明：kaipai schema；检查：kaipai validate；重新分镜：kaipai plan（锁定的镜头不会被改动）。"""
HEADER_EN = """kaipai production document: the single source of truth for the film. Edit freely; comments are kept.
Fields: kaipai schema; check: kaipai validate; re-plan shots: kaipai plan (locked shots are never touched)."""


@dataclass
class PlanReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept_locked: list[str] = field(default_factory=list)
    stale_locked: list[str] = field(default_factory=list)
    music_proposed: list[str] = field(default_factory=list)
    shots: int = 0
    scenes: int = 0


def new_project(
    folder: Path, *, script: Path | None = None, language: str | None = None, title: str | None = None
) -> ProjectPaths:
    """Create a project folder with ``kaipai.yaml``; import ``script`` when given.

    Refuses to overwrite an existing document: a director's work is never replaced silently.
    """
    paths = ProjectPaths(folder)
    if paths.document.exists():
        raise FileExistsError(f"{paths.document} already exists; edit it, or choose another folder")
    if script is not None:
        from kaipai.planning.importer import document_from_screenplay
        from kaipai.screenplay import parse_file

        screenplay = parse_file(script)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"screenplay{script.suffix or '.txt'}"
        if script.resolve() != target.resolve():
            shutil.copyfile(script, target)
        if (
            title is None and not screenplay.title
        ):  # no title page: the film is named after the script file, else the folder
            stem = script.stem.replace("-", " ").replace("_", " ").strip()
            title = stem if stem and stem.casefold() not in ("screenplay", "script", "剧本") else folder.resolve().name
        doc = document_from_screenplay(screenplay, language=language, title=title, screenplay_path=target.name)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        doc = Document(project=Project(title=title or folder.resolve().name, language=language or "zh"))
    header = HEADER_ZH if doc.project.language.value == "zh" else HEADER_EN
    atomic_write_text(paths.document, new_document_text(doc, header))
    return paths


def reimport_screenplay(paths: ProjectPaths, doc: Document) -> Document:
    """Refresh scenes and cast from the screenplay file, keeping what the director edited.

    Characters and locations already in the document keep every field; new ones are added.
    Scenes follow the script (their ids are positional), keeping a hand-written synopsis and
    the continuity ledger.
    """
    if not doc.screenplay:
        return doc
    from kaipai.planning.importer import document_from_screenplay, keep_scene_ids
    from kaipai.screenplay import parse_file

    source = paths.inside(doc.screenplay)
    if not source.exists():
        raise DocumentError(
            [
                Problem(
                    str(paths.document),
                    0,
                    0,
                    "screenplay",
                    f"the screenplay file {doc.screenplay!r} is missing; restore it or remove the field",
                )
            ]
        )
    fresh = document_from_screenplay(
        parse_file(source),
        language=doc.project.language.value,
        title=doc.project.title,
        screenplay_path=doc.screenplay,
        voice_marks=doc.project.voice_marks,
    )
    chars = {c.id: c for c in doc.cast.characters}
    for c in fresh.cast.characters:
        chars.setdefault(c.id, c)
    locs = {loc.id: loc for loc in doc.cast.locations}
    for loc in fresh.cast.locations:
        locs.setdefault(loc.id, loc)
    old_scenes = {s.id: s for s in doc.scenes}
    scenes = []
    for s in keep_scene_ids(doc.scenes, fresh.scenes):
        old = old_scenes.get(s.id)
        if old is not None and old.synopsis and not s.synopsis:
            s = s.model_copy(update={"synopsis": old.synopsis})
        if old is not None and old.ambience is not None and s.ambience is None:  # the director's bed (or silence)
            s = s.model_copy(update={"ambience": old.ambience})
        if old is not None and old.continuity:
            s = s.model_copy(update={"continuity": old.continuity})
        scenes.append(s)
    doc.cast.characters = list(chars.values())
    doc.cast.locations = list(locs.values())
    # Locked shots may belong to scenes the new script no longer has; keep those scenes so nothing is lost.
    fresh_ids = {s.id for s in scenes}
    for shot in doc.shots:
        if shot.locked and shot.scene not in fresh_ids and shot.scene in old_scenes:
            scenes.append(old_scenes[shot.scene])
            fresh_ids.add(shot.scene)
    doc.scenes = scenes
    return doc


def plan_project(paths: ProjectPaths) -> PlanReport:
    """Re-read the screenplay and (re)plan every unlocked shot; locked shots stay exactly as they are."""
    from kaipai.planning.rules import plan_document

    report = PlanReport()

    def change(doc: Document) -> Document:
        doc = reimport_screenplay(paths, doc)
        choice = doc.backend_for("planner")
        planner = None
        if choice.use != "rules":
            from kaipai.backends.registry import Registry

            planner = Registry().create(choice.use, choice.model, choice.options)
        result = plan_document(doc, planner=planner) if planner is not None else plan_document(doc)
        report.added, report.changed, report.removed, report.kept_locked = (
            result.added,
            result.changed,
            result.removed,
            result.kept_locked,
        )
        report.stale_locked = result.stale_locked
        report.music_proposed = result.music_proposed
        report.shots, report.scenes = len(result.document.shots), len(result.document.scenes)
        return result.document

    from kaipai.service.write import drafts_folder, keep_drafts

    with keep_drafts(drafts_folder(paths)):  # a language model's invalid plan is kept as a draft, not lost
        update(paths.document, change)
    return report


def validate_project(path: Path) -> LoadedDocument:
    """Load and check a document, including that every referenced file exists inside the project."""
    loaded = load(path)
    doc_path = loaded.path or Path(path)
    root = doc_path.parent
    paths = ProjectPaths(root)
    problems: list[Problem] = []

    def check(rel: str | None, where: tuple[str | int, ...]) -> None:
        if not rel:
            return
        try:
            exists = paths.inside(rel).exists()
            message = f"file {rel!r} does not exist; add it to the project or remove the reference"
        except DocumentError:
            exists, message = False, f"{rel!r} leaves the project folder"
        if not exists:
            problems.append(locate(loaded.tree, where, message, str(doc_path)))

    doc = loaded.doc
    check(doc.screenplay, ("screenplay",))
    for i, c in enumerate(doc.cast.characters):
        for j, ref in enumerate(c.reference_images):
            check(ref, ("cast", "characters", i, "reference_images", j))
        check(c.voice.sample, ("cast", "characters", i, "voice", "sample"))
    for kind in ("locations", "props"):
        for i, item in enumerate(getattr(doc.cast, kind)):
            for j, ref in enumerate(item.reference_images):
                check(ref, ("cast", kind, i, "reference_images", j))
    if problems:
        raise DocumentError(problems)
    return loaded


def document_path(folder_or_file: Path) -> Path:
    return folder_or_file / DOCUMENT_NAME if folder_or_file.is_dir() else folder_or_file
