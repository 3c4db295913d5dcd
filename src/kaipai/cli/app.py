"""The Typer application, the printing helpers and the error handling every command shares.

Printing goes through :func:`say` / :func:`warn` (and :mod:`kaipai.cli.tables` for tables):
the template is kaipai's own Rich markup, and every value put into it — names, prompts, paths,
provider messages, config keys — is escaped once, there, so ``[dashscope]`` in a hint prints as
written instead of vanishing as a markup tag. Every command and callback registered on a
:class:`KaipaiTyper` is wrapped in :func:`user_errors`, so no error reaches a user as a traceback.
"""

from __future__ import annotations

import functools
import gc
import json
import os
import string
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from kaipai import __version__

F = TypeVar("F", bound=Callable[..., Any])

#: Errors a user can cause, by class (module.qualname, matched along the exception's MRO so nothing is
#: imported to recognise them): each is printed as one message and exit status 1.
USER_ERRORS = frozenset(
    {
        "kaipai.document.io.DocumentError",
        "kaipai.screenplay.model.ScreenplayError",
        "kaipai.backends.base.BackendError",
        "kaipai.post.ffmpeg.AssemblyError",
        "kaipai.post.aigc.AigcError",
        "kaipai.post.credentials.CredentialsError",
        "kaipai.studio.jobs.JobBusy",
        "sqlite3.OperationalError",
        "builtins.OSError",
    }
)
#: What Typer (and the click it is built on, vendored or not) raises to end a command: passed through.
CONTROL_FLOW = (
    typer.Exit,
    typer.Abort,
    next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"),
)
#: Set to 1 to see the traceback of an unexpected error (for reporting a bug).
DEBUG_VARIABLE = "KAIPAI_DEBUG"


class _Console(Console):
    """A console that measures the terminal (and ``COLUMNS``) when it prints, not when kaipai was imported.

    Rich fixes the width from ``COLUMNS`` once, in its constructor; kaipai's consoles are made at
    import, and a test (or a resized terminal) must be able to change the width afterwards.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if kwargs.get("width") is None:
            self._width = None


console = _Console(highlight=False)
err_console = _Console(stderr=True, highlight=False)


class _Escaping(string.Formatter):
    """``str.format`` that escapes each formatted value for Rich markup."""

    def format_field(self, value: Any, format_spec: str) -> str:
        return escape(super().format_field(value, format_spec))


_ESCAPING = _Escaping()


def markup(template: str, /, *args: Any, **kwargs: Any) -> str:
    """``template`` (kaipai's own Rich markup) with ``{}`` fields filled by escaped values.

    ``markup("[green]film[/] {}", path)`` prints the path as it is, brackets and all. Literal
    braces in the template are doubled, as in ``str.format``.
    """
    return _ESCAPING.format(template, *args, **kwargs)


def say(template: str, /, *args: Any, **kwargs: Any) -> None:
    """Print one message on standard output: kaipai's markup, every value escaped (see :func:`markup`)."""
    console.print(markup(template, *args, **kwargs))


def warn(template: str, /, *args: Any, **kwargs: Any) -> None:
    """Print one message on standard error (errors, warnings), escaped as :func:`say` does."""
    err_console.print(markup(template, *args, **kwargs), soft_wrap=True)


def print_json(data: Any) -> None:
    """Machine-readable output for scripts (``--json``): UTF-8 JSON, never wrapped, written as it is
    (Rich's highlighting took seconds over a feature film's status)."""
    out = console.file
    out.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    out.flush()


def _is_user_error(exc: BaseException) -> bool:
    return any(f"{cls.__module__}.{cls.__qualname__}" in USER_ERRORS for cls in type(exc).__mro__)


def _message(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        return f"{exc.strerror}: {exc.filename}"  # not "[Errno 2] No such file or directory: 'x'"
    return str(exc) or type(exc).__name__


def user_errors(func: F) -> F:
    """Turn every error into one clear message and an exit status, never a traceback.

    Errors a user can cause (a malformed document, a refused request, a failed cut, a missing file)
    are printed as they are worded, exit status 1; anything else is a bug in kaipai, said so in
    one line (with :data:`DEBUG_VARIABLE` set, its traceback follows). Ctrl-C exits with 130.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CONTROL_FLOW:
            raise
        except KeyboardInterrupt:
            warn("[yellow]interrupted[/]: finished work is kept; run the command again to resume")
            raise typer.Exit(130) from None
        except BrokenPipeError:  # `kaipai shots | head`
            raise typer.Exit(0) from None
        except Exception as exc:
            problems = getattr(exc, "problems", None)
            if _is_user_error(exc):
                for problem in problems if isinstance(problems, list) and problems else [_message(exc)]:
                    warn("[bold red]error[/] {}", problem)
                raise typer.Exit(1) from None
            if os.environ.get(DEBUG_VARIABLE):
                raise
            warn(
                "[bold red]error[/] {} ({}); this is a bug in kaipai: please report it with the command "
                "you ran ({}=1 shows the traceback)",
                _message(exc),
                type(exc).__name__,
                DEBUG_VARIABLE,
            )
            raise typer.Exit(1) from None

    wrapper._user_errors = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


class KaipaiTyper(typer.Typer):
    """A Typer app whose every command and callback is wrapped in :func:`user_errors`."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[F], F]:
        register = super().command(*args, **kwargs)
        return lambda func: register(user_errors(func))  # type: ignore[return-value]

    def callback(self, *args: Any, **kwargs: Any) -> Callable[[F], F]:
        register = super().callback(*args, **kwargs)
        return lambda func: register(user_errors(func))  # type: ignore[return-value]


app = KaipaiTyper(
    name="kaipai",
    help="kaipai (开拍): screenplay → shot script → voices → keyframes → clips → lip sync → edit → film.\n\n"
    "Start with 'kaipai demo' to render the bundled example, or 'kaipai new DIR --script FILE'. "
    "'kaipai --install-completion' completes commands, options and shot ids in your shell.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
export_app = KaipaiTyper(
    help="Export the shot list, the edit for an NLE, stems and the storyboard.", no_args_is_help=True
)
app.add_typer(export_app, name="export")

ProjectOption = typer.Option(
    None, "--project", "-p", help="Project folder (default: the one holding the current folder).", show_default=False
)
JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON instead of a table.")


def version_callback(value: bool) -> None:
    if value:
        say("kaipai {}", __version__)
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


def _completing_document(ctx: typer.Context) -> Any:
    """The document a Tab completes from: the cached read (milliseconds), not the round-trip parse,
    which takes seconds on a feature film."""
    from kaipai.project import find_project, load_document

    return load_document(find_project(ctx.params.get("project")))


def complete_shot(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """The project's shot ids (and character ids, whose reference sheets are takes too) for the shell's Tab."""
    try:
        doc = _completing_document(ctx)
        found = [(s.id, f"{s.size.value} {s.description}"[:24].replace("\n", " ")) for s in doc.ordered_shots()]
        found += [(c.id, f"{c.name}: reference sheet") for c in doc.cast.characters]
    except Exception:  # completing must never print an error into the user's command line
        return []
    return [(value, help) for value, help in found if value.startswith(incomplete)]


def complete_scene(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """The project's scene ids for the shell's Tab."""
    try:
        doc = _completing_document(ctx)
        return [(s.id, s.heading[:24]) for s in doc.scenes if s.id.startswith(incomplete)]
    except Exception:
        return []


def main() -> None:
    gc.set_threshold(*GC_THRESHOLD)
    try:
        app()
    except BrokenPipeError:  # `kaipai shots | head`
        sys.exit(0)
    except KeyboardInterrupt:  # before a command started
        sys.exit(130)
