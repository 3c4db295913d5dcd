"""Commands of the render engine: render, status, takes, circle, reject, retake."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from kaipai.cli.app import (
    JsonOption,
    ProjectOption,
    app,
    complete_shot,
    console,
    err_console,
    markup,
    print_json,
    project_paths,
    say,
)
from kaipai.cli.tables import STATE_LEGEND, STATE_SYMBOL, TAKE_STATUS, Col, print_table, state_cell, styled
from kaipai.engine.stages import GENERATED_STAGES, STAGES

#: Stage names as status columns (short, so that every stage fits an 80-column terminal).
STAGE_HEADERS = {
    "sheet": "sheet",
    "voice": "voice",
    "shot_audio": "audio",
    "keyframe": "key",
    "end_keyframe": "end",
    "clip": "clip",
    "lipsync": "lips",
    "music": "music",
}
STAGE_LEGEND = "audio: the shot's lines · key, end: keyframe, end keyframe · lips: lip sync"
WORST_FIRST = ("blocked", "failed", "stale", "missing", "current")
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

    def __init__(self, out: Console | None = None) -> None:
        self.out = out or console
        self.progress = Progress(
            TextColumn("[bold]{task.description:<11}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.out,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}
        self.overall: TaskID | None = None

    def __enter__(self) -> RenderProgress:
        return self  # the bars appear with the first event: a command refused at once prints no empty line

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, event: Any) -> None:
        self.progress.start()
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
                self.out.print(markup("[red]failed[/] {}: {}", event.node, event.message))
        elif kind == "retake":
            self.out.print(markup("[yellow]retake[/] {} ({})", event.node, event.message))
        elif kind == "retry":
            task = self.tasks.get(event.stage, self.overall)
            self.progress.update(task, note=markup("[yellow]retrying {}", event.node))  # type: ignore[arg-type]
        elif kind == "started" and event.stage in self.tasks:
            self.progress.update(self.tasks[event.stage], note=markup("{}", event.node))
        elif kind == "progress" and event.where and event.stage in self.tasks:
            self.progress.update(self.tasks[event.stage], note=markup("{} on {}", event.node, event.where))


def print_summary(summary: Any) -> None:
    colour = "green" if summary.ok else ("yellow" if summary.cancelled else "red")
    say(
        "[{}]render {}[/]: [bold]{}[/] generated, {} reused, {} failed, {} not run; cost {}, {}",
        colour,
        "cancelled" if summary.cancelled else "done",
        summary.generated,
        summary.reused,
        summary.failed,
        summary.skipped,
        _money(summary.cost),
        _seconds(summary.seconds),
    )
    if summary.durations_updated:
        say("shot durations set from the voices: {}", ", ".join(summary.durations_updated))
    for node, reason in summary.failures.items():
        say("  [red]✗[/] {}: {}", node, reason)
    if summary.retakes:
        say("quality control made {} retake{}", summary.retakes, "s" if summary.retakes != 1 else "")
    for shot, reasons in summary.flagged.items():
        for reason in reasons:
            say("  [yellow]⚑[/] {}: {}", shot, reason)
    if summary.flagged:
        say("flagged shots are in the cut; review them with [bold]kaipai qc SHOT[/]")
    _print_notes(summary)


def _print_notes(summary: Any) -> None:
    for shot, note in summary.notes.items():
        say("  [yellow]![/] {}: {}", shot, note)


def _stage_cell(group: list[Any]) -> Any:
    """The state of one stage of one shot: its symbol, and how many of several nodes are current."""
    if not group:
        return state_cell("none")
    worst = min(group, key=lambda n: WORST_FIRST.index(n.state))
    current = sum(n.state == "current" for n in group)
    return state_cell(worst.state, f"{current}/{len(group)}" if len(group) > 1 and current < len(group) else "")


def _print_status_table(nodes: list[Any], title: str) -> None:
    by_shot: dict[str, dict[str, list[Any]]] = {}
    order: dict[str, int] = {}
    for index, n in enumerate(nodes):
        by_shot.setdefault(n.shot, {}).setdefault(n.stage, []).append(n)
        if n.stage != "sheet":  # reference sheets come first in the graph, not in the film
            order.setdefault(n.shot, index)
    rows = []
    for shot, stages in sorted(by_shot.items(), key=lambda item: order.get(item[0], -1)):
        cost = sum(n.est_cost for g in stages.values() for n in g if n.will_run)
        secs = sum(n.est_seconds for g in stages.values() for n in g if n.will_run)
        rows.append(
            [
                shot,
                *(_stage_cell(stages.get(stage, [])) for stage in STAGES),
                _money(cost) if cost else "",
                _seconds(secs) if secs else "",
            ]
        )
    columns = [
        Col("shot", "id"),
        *(Col(STAGE_HEADERS.get(stage, stage), "state") for stage in STAGES),
        Col("cost", "id", justify="right", optional=2),
        Col("time", "id", justify="right", optional=1),
    ]
    legend = f"{STATE_LEGEND}\n{STAGE_LEGEND}"
    if any(row[-2] or row[-1] for row in rows):
        legend += "\ncost, time: the estimate for rendering what is not current"
    print_table(f"{title}: {len(rows)} shots", columns, rows, legend=legend)


def _print_plan(summary: Any, title: str) -> None:
    _print_status_table(summary.nodes, title)
    say(
        "{} to render, {} current; estimated cost [bold]{}[/], about {}{}",
        sum(n.will_run for n in summary.nodes),
        summary.reused,
        _money(summary.est_cost),
        _seconds(summary.est_seconds),
        f" (budget {_money(summary.budget)})" if summary.budget is not None else "",
    )
    if summary.budget is not None and summary.est_cost > summary.budget:
        say("[yellow]the estimate exceeds the budget: work that would pass it will not be started[/]")
    stopped: dict[tuple[str, str], list[str]] = {}  # one line per reason: a feature film blocks by the thousand
    for n in summary.nodes:
        if n.state in ("blocked", "failed") and n.reason:
            stopped.setdefault((n.state, n.reason), []).append(n.node)
    for (state, reason), nodes in stopped.items():
        symbol, style = STATE_SYMBOL[state]
        named = ", ".join(nodes[:3]) + (f" and {len(nodes) - 3:,} more" if len(nodes) > 3 else "")
        say("  [{}]{} {}[/] {}: {}", style, symbol, state, named, reason)
    running = [n for n in summary.nodes if n.running_on]
    if running:
        say("[bold]rendering now[/] ({}):", len(running))
        for n in running:
            say("  {} on {}", n.node, n.running_on)
    _print_notes(summary)


@app.command(rich_help_panel="Render")
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
    shot: list[str] | None = typer.Option(
        None, "--shot", help="Only these shots (repeatable).", autocompletion=complete_shot
    ),
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
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print JSON for scripts: with --dry-run every node's state; else the render's summary "
        "(progress goes to standard error).",
    ),
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
        if as_json:
            print_json([n.model_dump(mode="json") for n in summary.nodes])
        else:
            _print_plan(summary, "render plan (dry run)")
        return
    out = err_console if as_json else console
    with RenderProgress(out) as progress:
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
    if not as_json:
        print_summary(summary)
    film: Path | None = None
    cut_ok = True
    if cut and not summary.cancelled:
        cut_ok = _film_current(paths, summary, out)
        if cut_ok:
            film = paths.output / "film.mp4"
        else:
            cut_ok, film = _make_cut(paths, out)
    if as_json:
        print_json({**summary.model_dump(mode="json", exclude={"nodes"}), "film": film})
    if summary.failed or not cut_ok:
        raise typer.Exit(1)


def _film_current(paths: Any, summary: Any, out: Console) -> bool:
    """A render that made nothing leaves a film cut from the same inputs as it was (checked without post)."""
    from kaipai.service.freshness import film_is_current

    if summary.generated or summary.failed or not film_is_current(paths):
        return False
    out.print(markup("[green]film[/] {} (current; 'kaipai cut' cuts it again)", paths.output / "film.mp4"))
    return True


def _make_cut(paths: Any, out: Console) -> tuple[bool, Path | None]:
    """Cut the film from the circled takes (a partial film when some shots are missing): whether it
    worked, and the film."""
    try:
        from kaipai.cli.post import run_cut
        from kaipai.post.ffmpeg import AssemblyError
    except ImportError:  # an installation without post-production: the takes are the result
        return True, None
    try:
        result = run_cut(paths, out=out)
    except AssemblyError as exc:
        out.print(markup("[red]the cut failed[/]: {}\nthe takes are kept; run [bold]kaipai cut[/] to try again", exc))
        return False, None
    out.print(markup("[green]film[/] {}  ({:.1f} s)", result.film, result.duration))
    return True, result.film


@app.command(rich_help_panel="Render")
def status(
    project: Path | None = ProjectOption,
    as_json: bool = JsonOption,
) -> None:
    """Show per shot and stage what is current, stale (inputs changed), missing, blocked or failed,
    with the estimated cost and time of rendering what is not current."""
    from kaipai.service.render import render as run_render

    paths = project_paths(project)
    summary = run_render(paths, dry_run=True)
    if as_json:
        print_json([n.model_dump(mode="json") for n in summary.nodes])
        return
    _print_plan(summary, "status")


TAKE_LEGEND = "● circled: the edit uses it"
STALE_LEGEND = "  ↻ stale: made from inputs that have changed since"


@app.command(rich_help_panel="Render")
def takes(
    shot: str = typer.Argument(
        ..., help="Shot id, e.g. S01-002, or a character id for their reference sheet.", autocompletion=complete_shot
    ),
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
        print_json([t.model_dump(mode="json") for t in found])
        return
    if not found:
        say("shot {} has no takes yet; run [bold]kaipai render[/]", shot)
        return
    columns = [
        Col("take", "id", justify="right"),
        Col("stage", "id"),
        Col("status", "id"),
        Col("", "state"),
        Col("seed", "id", justify="right"),
        Col("backend / model", min_width=18),
        Col("s", "id", justify="right", optional=3),
        Col("cost", "id", justify="right", optional=1),
        Col("made", "id", optional=2),
        Col("file", min_width=12, optional=4),
    ]
    rows = [
        [
            str(t.id),
            t.stage + (f" {t.item}" if t.item else ""),
            styled(*TAKE_STATUS[t.status]),
            styled("↻", "yellow") if t.stale else "",
            str(t.seed),
            f"{t.backend} / {t.model}" if t.model else t.backend,
            f"{t.seconds:.1f}",
            _money(t.cost),
            t.created[:16].replace("T", " "),
            t.media.name,
        ]
        for t in found
    ]
    legend = TAKE_LEGEND + (STALE_LEGEND if any(t.stale for t in found) else "")
    print_table(f"takes of {shot}", columns, rows, legend=legend)


@app.command(rich_help_panel="Render")
def circle(
    shot: str = typer.Argument(
        ..., help="Shot id, or a character id for their reference sheet.", autocompletion=complete_shot
    ),
    take: int = typer.Argument(..., help="Take id (see 'kaipai takes SHOT')."),
    project: Path | None = ProjectOption,
) -> None:
    """Circle a take: the edit uses it, and the stages after it are re-rendered from it on the next render."""
    from kaipai.service.takes import circle as circle_take

    info = circle_take(project_paths(project), shot, take)
    say("[green]circled[/] take {} of {}", info.id, info.node)


@app.command(rich_help_panel="Render")
def reject(
    shot: str = typer.Argument(
        ..., help="Shot id, or a character id for their reference sheet.", autocompletion=complete_shot
    ),
    take: int = typer.Argument(..., help="Take id (see 'kaipai takes SHOT')."),
    project: Path | None = ProjectOption,
) -> None:
    """Reject a take: it is kept but never used again; a rejected circled take is replaced by a new seed
    on the next render."""
    from kaipai.service.takes import reject as reject_take

    info = reject_take(project_paths(project), shot, take)
    say("[yellow]rejected[/] take {} of {}", info.id, info.node)


@app.command(rich_help_panel="Render")
def retake(
    shot: str = typer.Argument(
        ..., help="Shot id, or a character id for their reference sheet.", autocompletion=complete_shot
    ),
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
        colour = "green" if t.status == "circled" else "default"
        say("take [bold]{}[/] of {} (seed {}) — [{}]{}[/]: {}", t.id, t.node, t.seed, colour, t.status, t.media)
    if any(t.status == "pending" for t in made):
        say("use it with [bold]kaipai circle {} TAKE[/]", shot)
