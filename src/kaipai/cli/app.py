"""The Typer application and the error handling every command shares."""

from __future__ import annotations

import functools
import gc
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console

from kaipai import __version__

app = typer.Typer(
    name="kaipai",
    help="kaipai (开拍): screenplay → shot script → voices → keyframes → clips → lip sync → edit → film.\n\n"
    "Start with 'kaipai demo' to render the bundled example, or 'kaipai new DIR --script FILE'.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
export_app = typer.Typer(
    help="Export the shot list, the edit for an NLE, stems and the storyboard.", no_args_is_help=True
)
app.add_typer(export_app, name="export")

console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])

ProjectOption = typer.Option(
    None, "--project", "-p", help="Project folder (default: the one holding the current folder).", show_default=False
)


def user_errors(func: F) -> F:
    """Turn the errors a user can cause into one clear message and exit code 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from kaipai.document.io import DocumentError

        try:
            return func(*args, **kwargs)
        except DocumentError as exc:
            for problem in exc.problems:
                err_console.print(f"[bold red]error[/] {problem}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        except (FileNotFoundError, FileExistsError, PermissionError) as exc:
            err_console.print(f"[bold red]error[/] {exc}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        except Exception as exc:
            from kaipai.backends.base import BackendError  # loaded only now: a command that succeeds never needs them
            from kaipai.screenplay.model import ScreenplayError

            if not isinstance(exc, (ScreenplayError, BackendError)):
                raise
            err_console.print(f"[bold red]error[/] {exc}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted[/]: finished work is kept; run the command again to resume")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def version_callback(value: bool) -> None:
    if value:
        console.print(f"kaipai {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=version_callback, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """kaipai (开拍): an open-source AI film studio."""


def project_paths(project: Path | None):  # noqa: ANN201 - ProjectPaths, imported lazily for start-up speed
    from kaipai.project import find_project

    return find_project(project)


#: Python's collector runs after every 700 net allocations and, every so often, walks every live
#: object; a feature film's document and graph are millions of objects that live for the whole
#: command, so the default spent a third of a status at 6,000 shots walking them. Refcounting still
#: frees everything that is not a cycle at once.
GC_THRESHOLD = (50_000, 20, 20)


def main() -> None:
    gc.set_threshold(*GC_THRESHOLD)
    try:
        app()
    except BrokenPipeError:  # `kaipai shots | head`
        sys.exit(0)
