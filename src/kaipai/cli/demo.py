"""``kaipai demo``: the bundled example, from screenplay to finished film, offline."""

from __future__ import annotations

from pathlib import Path

import typer

from kaipai.cli.app import app, say
from kaipai.cli.tables import Col, print_table


@app.command(rich_help_panel="Start")
def demo(
    folder: Path = typer.Argument(
        Path("kaipai-demo"), help="Where to create the demo project (reused when it already exists)."
    ),
    lang: str = typer.Option("zh", "--lang", "-l", help="Which bundled screenplay: zh (Chinese) or en (English)."),
) -> None:
    """Make the demo film: create a project from the bundled screenplay, plan its shots, render
    voices, keyframes, clips and lip sync with the offline defaults, then cut, mix and subtitle it.

    Needs no GPU, no keys and no network. Prints where the film, the subtitles, the storyboard PDF
    and the editor exports (OTIO, FCPXML, FCP7 XML, EDL) are. Run it again and only what changed
    is rendered; edit kaipai.yaml in the folder and run 'kaipai render -p FOLDER' to see your change.
    """
    from kaipai.cli.render import RenderProgress, print_summary
    from kaipai.service.demo import LANGUAGES, run_demo

    if lang not in LANGUAGES:
        raise typer.BadParameter(f"choose one of {', '.join(LANGUAGES)}", param_hint="--lang")

    say("[bold]kaipai demo[/] → {} ({})", folder, "中文" if lang == "zh" else "English")
    with RenderProgress() as progress:
        task = progress.progress.add_task("cut", total=1.0, note="")
        result = run_demo(
            folder,
            lang,
            on_render_event=progress,
            on_cut_event=lambda e: progress.progress.update(task, completed=e.fraction),
        )
        progress.progress.update(task, completed=1.0)
    print_summary(result.summary)
    rows = [[name, str(path)] for name, path in result.outputs.items()]
    print_table(f"the demo film, made in {result.seconds:.1f} s", [Col("what", "id"), Col("where", "id")], rows)
    say("next: open {}, or [bold]kaipai studio {}[/] to direct it shot by shot", result.film, folder)
