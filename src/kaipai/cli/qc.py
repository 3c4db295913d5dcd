"""``kaipai qc``: what quality control found in each take, and which shots are flagged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from kaipai.cli.app import ProjectOption, app, console, project_paths, user_errors

if TYPE_CHECKING:
    from kaipai.service.qc import ShotQC, TakeQC

VERDICT = {"passed": "[green]✓ passed[/]", "flagged": "[red]⚑ flagged[/]", "unchecked": "[dim]unchecked[/]"}
#: Checks always shown with their score; the others only when something is off.
SHOWN = ("lipsync", "judge")


def _score(value: float | None) -> str:
    if value is None:
        return "[dim]—[/]"
    colour = "green" if value >= 0.8 else "yellow" if value >= 0.5 else "red"
    return f"[{colour}]{value:.2f}[/]"


@app.command(rich_help_panel="Render")
@user_errors
def qc(
    shot: str | None = typer.Argument(None, help="A shot id: every take of it. Without one: every shot's verdict."),
    recheck: bool = typer.Option(
        False,
        "--recheck",
        help="Measure every take again (after changing the qc policy or adding a judge; a paid judge charges for it).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the verdicts and every take's report as JSON."),
    project: Path | None = ProjectOption,
) -> None:
    """Quality control: each take's scores and why it failed, and the shots flagged for review.

    Every take is checked when it is made: black, frozen and flash frames, silence and clipping,
    length, size and frame rate against what was asked, faces against the shot's composition,
    lip sync against the voice, and a judge's scores when the document sets one (backends.judge).
    A shot is flagged when a take the edit uses failed, or when continuity breaks at its cut
    (a wardrobe change inside the scene, a cut across the 180° line). Takes made before quality
    control existed are measured the first time this runs.
    """
    from kaipai.service.qc import check, shots_qc

    paths = project_paths(project)
    measured = check(paths, shot, again=recheck)
    found = shots_qc(paths, shot)
    if as_json:
        console.print_json(json.dumps([s.model_dump(mode="json") for s in found], ensure_ascii=False))
        return
    if measured and recheck:
        console.print(f"measured {measured} take{'s' if measured != 1 else ''}")
    if shot is None:
        _film(found)
    else:
        _shot(found[0])


def _film(found: list[ShotQC]) -> None:
    table = Table(title="quality control")
    for col in ("shot", "verdict", "score", "why"):
        table.add_column(col, overflow="fold")
    for s in found:
        if s.verdict == "missing":
            continue
        table.add_row(s.shot, VERDICT.get(s.verdict, s.verdict), _score(s.score), "\n".join(s.reasons))
    console.print(table)
    flagged = [s.shot for s in found if s.verdict == "flagged"]
    console.print(
        f"{len(flagged)} flagged: {', '.join(flagged)}; 'kaipai qc SHOT' shows every take"
        if flagged
        else "[green]no shot flagged[/]"
    )


def _checks(t: TakeQC) -> str:
    """The checks worth reading: failed ones, lowered ones, and lip sync and the judge always."""
    parts = []
    for name, score in t.scores.items():
        if name in t.failed:
            parts.append(f"[red]✗ {name} {score:.2f}[/]")
        elif score < 0.995 or name in SHOWN:
            parts.append(f"{name} {score:.2f}")
    return " · ".join(parts) or "[dim]all clear[/]"


def _shot(s: ShotQC) -> None:
    if not s.takes:
        console.print(f"shot {s.shot} has no takes yet; run [bold]kaipai render[/]")
        return
    table = Table(title=f"quality control of {s.shot}: {VERDICT.get(s.verdict, s.verdict)}")
    for col in ("take", "stage", "status", "score", "checks", "why it failed"):
        table.add_column(col, overflow="fold")
    for t in s.takes:
        mark = {"circled": "[green]●[/] circled", "pending": "pending", "rejected": "[dim]rejected[/]"}[t.status]
        if t.status == "circled" and t.circled_by != "engine":
            mark += " [dim](by hand)[/]"
        if not t.checked:
            verdict = "[dim]not checked[/]"
        else:
            verdict = ("[green]✓[/] " if t.passed else "[red]✗[/] ") + _score(t.score)
        table.add_row(
            str(t.id),
            t.stage + (f" {t.item}" if t.item else ""),
            mark,
            verdict,
            _checks(t) if t.checked else "",
            "\n".join(t.reasons),
        )
    console.print(table)
    for reason in s.reasons:
        console.print(f"  [red]⚑[/] {reason}", highlight=False)
