"""Commands of the render engine: render, status, takes, circle, reject, retake."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from kaipai.cli.app import ProjectOption, app, console, project_paths, user_errors
from kaipai.cli.listing import RICH_ROWS, Cell, markup_cell, print_long_table
from kaipai.engine.stages import GENERATED_STAGES, STAGES

STATE_STYLE = {"current": "green", "stale": "yellow", "missing": "cyan", "blocked": "red", "failed": "bold red"}
#: the --stage choices: every stage where one is named, the generated ones for a retake
StageName = Enum("StageName", {s: s for s in STAGES}, type=str)  # type: ignore[misc]


class ExecutorName(str, Enum):
    thread = "thread"
    ray = "ray"


RetakeStage = Enum("RetakeStage", {s: s for s in GENERATED_STAGES}, type=str)  # type: ignore[misc]


def _money(value: float) -> str:
    return f"{value:.2f}"


def _seconds(value: float) -> str:
    """A wall time as a person reads it: 0.4 s, 12 s, 3 min 20 s, 2 h 05 min."""
    if value < 10:
        return f"{value:.1f} s"
    if value < 60:
        return f"{value:.0f} s"
    minutes, secs = divmod(round(value), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class RenderProgress:
    """Draws the engine's events: one bar per stage and one overall, with ETA."""

    def __init__(self) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description:<11}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}
        self.overall: TaskID | None = None

    def __enter__(self) -> RenderProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)  # type: ignore[arg-type]

    def __call__(self, event: Any) -> None:
        kind = event.kind
        if kind == "plan":
            total = sum(event.stages.values())
            self.overall = self.progress.add_task(
                "overall", total=total or 1, completed=0 if total else 1, note=f"{sum(event.reused.values())} reused"
            )
            for stage in STAGES:
                if event.stages.get(stage):
                    self.tasks[stage] = self.progress.add_task(stage, total=event.stages[stage], note="")
        elif kind in ("done", "failed", "skipped") and event.stage in self.tasks:
            self.progress.advance(self.tasks[event.stage])
            if self.overall is not None:
                self.progress.advance(self.overall)
            if kind == "failed":
                console.print(f"[red]failed[/] {event.node}: {event.message}", highlight=False)
        elif kind == "retake":
            console.print(f"[yellow]retake[/] {event.node} ({event.message})", highlight=False)
        elif kind == "retry":
            self.progress.update(self.tasks.get(event.stage, self.overall), note=f"[yellow]retrying {event.node}")  # type: ignore[arg-type]
        elif kind == "started" and event.stage in self.tasks:
            self.progress.update(self.tasks[event.stage], note=event.node)
        elif kind == "progress" and event.where and event.stage in self.tasks:
            self.progress.update(self.tasks[event.stage], note=f"{event.node} on {event.where}")


def print_summary(summary: Any) -> None:
    colour = "green" if summary.ok else ("yellow" if summary.cancelled else "red")
    console.print(
        f"[{colour}]render {'cancelled' if summary.cancelled else 'done'}[/]: "
        f"[bold]{summary.generated}[/] generated, {summary.reused} reused, {summary.failed} failed, "
        f"{summary.skipped} not run; "
        f"cost {_money(summary.cost)}, {_seconds(summary.seconds)}"
    )
    if summary.durations_updated:
        console.print(f"shot durations set from the voices: {', '.join(summary.durations_updated)}")
    for node, reason in summary.failures.items():
        console.print(f"  [red]✗[/] {node}: {reason}", highlight=False)
    if summary.retakes:
        console.print(f"quality control made {summary.retakes} retake{'s' if summary.retakes != 1 else ''}")
    for shot, reasons in summary.flagged.items():
        for reason in reasons:
            console.print(f"  [yellow]⚑[/] {shot}: {reason}", highlight=False)
    if summary.flagged:
        console.print("flagged shots are in the cut; review them with [bold]kaipai qc SHOT[/]")
    _print_notes(summary)


def _print_notes(summary: Any) -> None:
    for shot, note in summary.notes.items():
        console.print(f"  [yellow]![/] {shot}: {note}", highlight=False)


def _status_rows(nodes: list[Any]) -> list[list[str]]:
    """One row per shot: its id, each stage's state (with markup), the estimated cost and time."""
    rows = []
    by_shot: dict[str, dict[str, list[Any]]] = {}
    for n in nodes:
        by_shot.setdefault(n.shot, {}).setdefault(n.stage, []).append(n)
    for shot, stages in by_shot.items():
        cells = []
        for stage in STAGES:
            group = stages.get(stage, [])
            if not group:
                cells.append("[dim]—[/]")
                continue
            worst = max(group, key=lambda n: ("current", "missing", "stale", "failed", "blocked").index(n.state))
            label = (
                worst.state
                if len(group) == 1
                else f"{worst.state} ({sum(n.state == 'current' for n in group)}/{len(group)})"
            )
            cells.append(f"[{STATE_STYLE[worst.state]}]{label}[/]")
        cost = sum(n.est_cost for g in stages.values() for n in g if n.will_run)
        secs = sum(n.est_seconds for g in stages.values() for n in g if n.will_run)
        rows.append([shot, *cells, _money(cost) if cost else "", _seconds(secs) if secs else ""])
    return rows


def _print_status_table(nodes: list[Any], title: str) -> None:
    rows = _status_rows(nodes)
    headers = ["shot", *STAGES, "est. cost", "est. time"]
    if len(rows) > RICH_ROWS:
        print_long_table(console, title, [*headers, ""], [[*map(markup_cell, r), Cell("")] for r in rows])
        return
    table = Table(title=title)
    for header in headers:
        table.add_column(header, justify="right" if header.startswith("est.") else "left")
    for row in rows:
        table.add_row(*row)
    console.print(table)


def _print_plan(summary: Any, title: str) -> None:
    _print_status_table(summary.nodes, title)
    running = [n for n in summary.nodes if n.will_run]
    console.print(
        f"{len(running)} to render, {summary.reused} current; "
        f"estimated cost [bold]{_money(summary.est_cost)}[/], about {_seconds(summary.est_seconds)}"
        + (f" (budget {_money(summary.budget)})" if summary.budget is not None else "")
    )
    if summary.budget is not None and summary.est_cost > summary.budget:
        console.print("[yellow]the estimate exceeds the budget: work that would pass it will not be started[/]")
    for n in summary.nodes:
        if n.state in ("blocked", "failed") and n.reason:
            console.print(f"  [{STATE_STYLE[n.state]}]{n.state}[/] {n.node}: {n.reason}", highlight=False)
    running = [n for n in summary.nodes if n.running_on]
    if running:
        console.print(f"[bold]rendering now[/] ({len(running)}):")
        for n in running:
            console.print(f"  {n.node} on {n.running_on}", highlight=False)
    _print_notes(summary)


@app.command(rich_help_panel="Render")
@user_errors
def render(
    dry_run: bool = typer.Option(
        False,
        "--dry-run",
        "-n",
        help="Change nothing: list per shot and stage what is current, stale, missing or blocked, "
        "with the estimated cost and time of what would run.",
    ),
    budget: float | None = typer.Option(
        None,
        "--budget",
        min=0,
        help="Cost ceiling for this render (in the backends' currency); work that would pass it is not started.",
    ),
    stage: list[StageName] | None = typer.Option(
        None,
        "--stage",
        help="Only these stages (repeatable), "
        "e.g. --stage voice --stage keyframe to review stills (end keyframes too) before paying for video.",
    ),
    shot: list[str] | None = typer.Option(None, "--shot", help="Only these shots (repeatable)."),
    cut: bool = typer.Option(
        True, "--cut/--no-cut", help="Cut the film from the circled takes when the render ends (output/film.mp4)."
    ),
    best_of: int | None = typer.Option(
        None,
        "--best-of",
        min=1,
        max=16,
        help="Make N takes of each keyframe, clip and lip sync that renders (of each --stage when given), check "
        "them and circle the best; overrides the document's qc policy.",
    ),
    executor: ExecutorName | None = typer.Option(
        None,
        "--executor",
        help="Where jobs run: thread (this machine, the default) or ray (a Ray cluster: pip install 'kaipai\\[ray]'). "
        "Overrides executor.use in kaipai.yaml.",
    ),
    address: str | None = typer.Option(
        None,
        "--address",
        help="The Ray cluster: HOST:6379 from one of its nodes, ray://HOST:10001 from outside; without it "
        "--executor ray starts Ray on this machine (or joins RAY_ADDRESS).",
    ),
    project: Path | None = ProjectOption,
) -> None:
    """Render the film: reference sheets and voices, then keyframes, clips, lip sync and music, then the edit.

    Only what changed is rendered: every take is keyed on everything that decides it, so
    an unchanged shot is reused, never paid for twice. A render stopped at any moment
    (Ctrl-C, a crash, a closed laptop) resumes where it stopped when run again. With --executor ray
    the jobs run on the workers of a Ray cluster while this machine keeps the takes.

    Every new take is checked (see 'kaipai qc'); the document's qc policy may retake failing
    ones within a budget. A shot whose best take still fails is cut in anyway, and flagged.
    """
    from kaipai.service.render import render as run_render

    paths = project_paths(project)
    stages = [s.value for s in stage] if stage else None
    if dry_run:
        summary = run_render(paths, dry_run=True, budget=budget, stages=stages, shots=shot or None, best_of=best_of)
        _print_plan(summary, "render plan (dry run)")
        return
    with RenderProgress() as progress:
        summary = run_render(
            paths,
            budget=budget,
            stages=stages,
            shots=shot or None,
            on_event=progress,
            executor=executor.value if executor else None,
            address=address,
            best_of=best_of,
        )
    print_summary(summary)
    cut_ok = True
    if cut and not summary.cancelled:
        cut_ok = _film_current(paths, summary) or _make_cut(paths)
    if summary.failed or not cut_ok:
        raise typer.Exit(1)


def _film_current(paths: Any, summary: Any) -> bool:
    """A render that made nothing leaves a film cut from the same inputs as it was (checked without post)."""
    from kaipai.service.freshness import film_is_current

    if summary.generated or summary.failed or not film_is_current(paths):
        return False
    console.print(f"[green]film[/] {paths.output / 'film.mp4'} (current; 'kaipai cut' cuts it again)")
    return True


def _make_cut(paths: Any) -> bool:
    """Cut the film from the circled takes (a partial film when some shots are missing); False if it failed."""
    try:
        from kaipai.cli.post import run_cut
        from kaipai.post.ffmpeg import AssemblyError
    except ImportError:  # an installation without post-production: the takes are the result
        return True
    try:
        result = run_cut(paths)
    except AssemblyError as exc:
        console.print(
            f"[red]the cut failed[/]: {exc}\nthe takes are kept; run [bold]kaipai cut[/] to try again", highlight=False
        )
        return False
    console.print(f"[green]film[/] {result.film}  ({result.duration:.1f} s)")
    return True


@app.command(rich_help_panel="Render")
@user_errors
def status(
    project: Path | None = ProjectOption,
    as_json: bool = typer.Option(False, "--json", help="Print every node as JSON."),
) -> None:
    """Show per shot and stage what is current, stale (inputs changed), missing, blocked or failed,
    with the estimated cost and time of rendering what is not current."""
    from kaipai.service.render import render as run_render

    paths = project_paths(project)
    summary = run_render(paths, dry_run=True)
    if as_json:
        console.print_json(json.dumps([n.model_dump(mode="json") for n in summary.nodes], ensure_ascii=False))
        return
    _print_plan(summary, "status")


@app.command(rich_help_panel="Render")
@user_errors
def takes(
    shot: str = typer.Argument(..., help="Shot id, e.g. S01-002, or a character id for their reference sheet."),
    stage: RetakeStage | None = typer.Option(None, "--stage", help="Only this stage."),
    project: Path | None = ProjectOption,
    as_json: bool = typer.Option(False, "--json", help="Print the takes as JSON (with the full path of each file)."),
) -> None:
    """List a shot's takes: id, stage, status (circled ● / pending / rejected), seed, backend,
    time, cost and whether it was made from inputs that have changed since (stale).
    Files live in the project's .kaipai/store; --json gives their full paths."""
    from kaipai.service.takes import list_takes

    paths = project_paths(project)
    found = list_takes(paths, shot, stage.value if stage else None)
    if as_json:
        console.print_json(json.dumps([t.model_dump(mode="json") for t in found], ensure_ascii=False))
        return
    if not found:
        console.print(f"shot {shot} has no takes yet; run [bold]kaipai render[/]")
        return
    table = Table(title=f"takes of {shot}")
    for col in ("take", "stage", "status", "seed", "backend / model", "made", "s", "cost", "", "file"):
        table.add_column(col, overflow="fold")
    for t in found:
        mark = {"circled": "[green]● circled[/]", "pending": "pending", "rejected": "[dim]rejected[/]"}[t.status]
        table.add_row(
            str(t.id),
            t.stage + (f" {t.item}" if t.item else ""),
            mark,
            str(t.seed),
            f"{t.backend} / {t.model}" if t.model else t.backend,
            t.created[:19].replace("T", " "),
            f"{t.seconds:.1f}",
            _money(t.cost),
            "[yellow]stale[/]" if t.stale else "",
            t.media.name[:10] + "…" + t.media.suffix,
        )
    console.print(table)


@app.command(rich_help_panel="Render")
@user_errors
def circle(
    shot: str = typer.Argument(..., help="Shot id, or a character id for their reference sheet."),
    take: int = typer.Argument(..., help="Take id (see 'kaipai takes SHOT')."),
    project: Path | None = ProjectOption,
) -> None:
    """Circle a take: the edit uses it, and the stages after it are re-rendered from it on the next render."""
    from kaipai.service.takes import circle as circle_take

    info = circle_take(project_paths(project), shot, take)
    console.print(f"[green]circled[/] take {info.id} of {info.node}")


@app.command(rich_help_panel="Render")
@user_errors
def reject(
    shot: str = typer.Argument(..., help="Shot id, or a character id for their reference sheet."),
    take: int = typer.Argument(..., help="Take id (see 'kaipai takes SHOT')."),
    project: Path | None = ProjectOption,
) -> None:
    """Reject a take: it is kept but never used again; a rejected circled take is replaced by a new seed
    on the next render."""
    from kaipai.service.takes import reject as reject_take

    info = reject_take(project_paths(project), shot, take)
    console.print(f"[yellow]rejected[/] take {info.id} of {info.node}")


@app.command(rich_help_panel="Render")
@user_errors
def retake(
    shot: str = typer.Argument(..., help="Shot id, or a character id for their reference sheet."),
    stage: RetakeStage = typer.Option(
        RetakeStage.clip,
        "--stage",
        help="What to retake: voice (every line of the shot), keyframe, end_keyframe (the last frame of a shot "
        "with end:), clip, lipsync or music (the cue starting at the shot); a character id retakes their "
        "reference sheet.",
    ),
    seed: int | None = typer.Option(
        None, "--seed", min=0, max=2**32 - 1, help="Seed of the new take (default: a fresh random one)."
    ),
    note: str | None = typer.Option(
        None, "--note", help="A director's note; a language-model planner rewrites the shot from it before the retake."
    ),
    project: Path | None = ProjectOption,
) -> None:
    """Make a new take of a stage of a shot with a new seed. The new take is pending: review it with
    'kaipai takes SHOT' and 'kaipai circle SHOT TAKE' to use it. Older takes are kept."""
    from kaipai.service.takes import retake as run_retake
    from kaipai.service.takes import retake_with_note

    paths = project_paths(project)
    with RenderProgress() as progress:
        if note:
            made = retake_with_note(paths, shot, note, stage=stage.value, seed=seed, on_event=progress)
        else:
            made = run_retake(paths, shot, stage=stage.value, seed=seed, on_event=progress)
    for t in made:
        state = "[green]circled[/]" if t.status == "circled" else t.status
        console.print(f"take [bold]{t.id}[/] of {t.node} (seed {t.seed}) — {state}: {t.media}")
    if any(t.status == "pending" for t in made):
        console.print(f"use it with [bold]kaipai circle {shot} TAKE[/]")
