"""``kaipai write``: a screenplay from an idea, written by a language model."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from kaipai.cli.app import app, console, say


class WriteLang(str, Enum):
    zh = "zh"
    en = "en"


@app.command(rich_help_panel="Document")
def write(
    idea: str | None = typer.Argument(
        None, help='The film in a sentence or two, in quotes: kaipai write "末班车司机的最后一天".', show_default=False
    ),
    idea_option: str | None = typer.Option(
        None, "--idea", "-i", hidden=True, help="The idea (older spelling of the argument)."
    ),
    lang: WriteLang | None = typer.Option(
        None, "--lang", help="Language of the screenplay (zh or en); detected from the idea when omitted."
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Screenplay file to write (default: screenplay.txt for zh, screenplay.fountain for en).",
    ),
    force: bool = typer.Option(False, "--force", help="Replace --out if it exists."),
    project: Path | None = typer.Option(
        None,
        "--project",
        "-p",
        help="Use this project's planner (backends.planner) and keep drafts in it.",
        show_default=False,
    ),
) -> None:
    """Expand an idea into a screenplay with a language-model planner.

    Uses the project's [italic]backends.planner[/] when run inside a project, otherwise the
    [bold]openai[/] planner set from the environment: KAIPAI_OPENAI_BASE_URL (any OpenAI-compatible
    endpoint: OpenAI, DeepSeek, DashScope, vLLM, Ollama), KAIPAI_OPENAI_MODEL and OPENAI_API_KEY.
    The outline comes first, then each scene. Then: [bold]kaipai new DIR --script FILE[/].
    """
    idea = idea or idea_option
    if not idea:
        raise typer.BadParameter(
            'say what the film is about, e.g. kaipai write "末班车司机的最后一天"', param_hint="IDEA"
        )
    from kaipai.document.io import DOCUMENT_NAME
    from kaipai.project import ProjectPaths, find_project
    from kaipai.service.write import write_screenplay

    paths: ProjectPaths | None
    if project is not None:
        paths = find_project(project)
    else:
        here = Path.cwd()
        paths = next((ProjectPaths(p) for p in (here, *here.parents) if (p / DOCUMENT_NAME).exists()), None)
    with console.status("writing the screenplay…"):
        result = write_screenplay(idea, language=lang.value if lang else None, out=out, project=paths, force=force)
    who = "、".join(result.characters) if result.language == "zh" else ", ".join(result.characters)
    say(
        "wrote [bold]{}[/]: {} scenes, characters: {} → {}",
        result.title or result.path.stem,
        result.scenes,
        who or "—",
        result.path,
    )
    say("next: [bold]kaipai new FOLDER --script {}[/]", result.path)
