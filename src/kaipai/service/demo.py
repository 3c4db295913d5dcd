"""The demo film: the bundled example screenplay taken from script to finished film offline.

It is the README's first command, so it runs the same service calls a director's own
project goes through (new → plan → render → cut → export); nothing here is demo-only
except choosing the bundled script.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kaipai.backends.base import BackendError
from kaipai.engine.report import RenderSummary
from kaipai.project import ProjectPaths
from kaipai.service.document import new_project, plan_project
from kaipai.service.render import render

LANGUAGES = ("zh", "en")


class DemoFailed(BackendError):
    """The demo could not finish; the message says which step and why."""


@dataclass
class DemoResult:
    paths: ProjectPaths
    summary: RenderSummary
    film: Path
    outputs: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0
    created: bool = True


def create_demo(folder: Path, lang: str = "zh") -> ProjectPaths:
    """Create and plan a project from the bundled example; an existing demo folder is reused as is."""
    from kaipai.screenplay.examples import example_path

    if lang not in LANGUAGES:
        raise ValueError(f"no bundled example in {lang!r}; choose one of {', '.join(LANGUAGES)}")
    paths = ProjectPaths(Path(folder))
    if paths.document.exists():
        return paths
    paths = new_project(Path(folder), script=Path(example_path(lang)), language=lang)
    plan_project(paths)
    return paths


def run_demo(
    folder: Path,
    lang: str = "zh",
    *,
    on_render_event: Callable[[Any], None] | None = None,
    on_cut_event: Callable[[Any], None] | None = None,
) -> DemoResult:
    """Render the demo end to end. Running it again reuses every take that is still current."""
    from kaipai.service.cut import export_all, make_cut

    started = time.perf_counter()
    created = not ProjectPaths(Path(folder)).document.exists()
    paths = create_demo(folder, lang)
    summary = render(paths, on_event=on_render_event)
    if summary.failed:
        reasons = "; ".join(f"{node}: {why}" for node, why in summary.failures.items())
        raise DemoFailed(
            f"{summary.failed} render jobs failed ({reasons}); run 'kaipai render -p {folder}' to retry them"
        )
    cut = make_cut(paths, on_event=on_cut_event)
    outputs: dict[str, Path] = {"film": Path(cut.film)}
    for name in ("srt", "ass"):
        value = getattr(cut, name, None)
        if value:
            outputs[f"subtitles ({name})"] = Path(value)
    outputs.update(export_all(paths, paths.output / "exports"))
    return DemoResult(
        paths=paths,
        summary=summary,
        film=Path(cut.film),
        outputs=outputs,
        seconds=time.perf_counter() - started,
        created=created,
    )
