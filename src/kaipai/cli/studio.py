"""`kaipai studio`: the web studio over a project, where the director and the AI work on the film together."""

from __future__ import annotations

import contextlib
import webbrowser
from pathlib import Path

import typer

from kaipai.cli.app import app, console, markup, project_paths, say, warn


@app.command(rich_help_panel="Studio")
def studio(
    folder: Path | None = typer.Argument(
        None, help="Project folder (default: the one holding the current folder).", show_default=False
    ),
    host: str = typer.Option(
        "127.0.0.1",
        "--host",
        help="Address to listen on. Other than loopback, anyone who can reach it and has the URL can edit the film.",
    ),
    port: int = typer.Option(0, "--port", help="Port to listen on (0: any free port)."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Do not open a browser; just print the URL."),
) -> None:
    """Open the studio in the browser: storyboard, takes side by side, cast and style, render queue and
    screening room, over the same project the command line works on.

    The printed URL carries a fresh access token; keep it to yourself.
    """
    from kaipai.studio.server import Studio, exposure_warning

    paths = project_paths(folder)
    server = Studio(paths, host=host, port=port)
    warning = exposure_warning(host)
    if warning:
        warn("[bold yellow]warning[/] {}", warning)
    say("[green]kaipai studio[/] for {}", paths.root)
    console.print(markup("  open [bold]{}[/]", server.url), soft_wrap=True)  # one line, to copy whole
    say("  Ctrl-C to stop")
    if not no_browser:
        with contextlib.suppress(webbrowser.Error):
            webbrowser.open(server.url)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve()
