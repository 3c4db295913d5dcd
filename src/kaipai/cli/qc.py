"""``kaipai qc``: what quality control found in each take, and which shots are flagged."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.text import Text

from kaipai.cli.app import JsonOption, ProjectOption, app, print_json, project_paths, say
from kaipai.cli.tables import TAKE_STATUS, Col, print_table, styled

if TYPE_CHECKING:
    from kaipai.service.qc import ShotQC, TakeQC

#: How a verdict reads in a table: a symbol and a word, coloured.
VERDICT = {"passed": ("✓ passed", "green"), "flagged": ("⚑ flagged", "red"), "unchecked": ("unchecked", "dim")}
#: Checks always shown with their score; the others only when something is off.
SHOWN = ("lipsync", "judge")


def _verdict(verdict: str) -> Text:
    return styled(*VERDICT.get(verdict, (verdict, "")))


def _score(value: float | None) -> Text:
    if value is None:
        return styled("—", "dim")
    return styled(f"{value:.2f}", "green" if value >= 0.8 else "yellow" if value >= 0.5 else "red")


@app.command(rich_help_panel="Render")
def qc(
    shot: str | None = typer.Argument(None, help="A shot id: every take of it. Without one: every shot's verdict."),
    recheck: bool = typer.Option(
        False,
        "--recheck",
        help="Measure every take again (after changing the qc policy or adding a judge; a paid judge charges for it).",
    ),
    as_json: bool = JsonOption,
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
        print_json([s.model_dump(mode="json") for s in found])
        return
    if measured and recheck:
        say("measured {} take{}", measured, "s" if measured != 1 else "")
    if shot is None:
        _film(found)
    else:
        _shot(found[0])


def _film(found: list[ShotQC]) -> None:
    columns = [Col("shot", "id"), Col("verdict", "id"), Col("score", "id", justify="right"), Col("why", min_width=20)]
    rows = [
        [s.shot, _verdict(s.verdict), _score(s.score), "\n".join(s.reasons)] for s in found if s.verdict != "missing"
    ]
    print_table("quality control", columns, rows)
    flagged = [s.shot for s in found if s.verdict == "flagged"]
    if flagged:
        say("{} flagged: {}; 'kaipai qc SHOT' shows every take", len(flagged), ", ".join(flagged))
    else:
        say("[green]no shot flagged[/]")


def _checks(t: TakeQC) -> Text:
    """The checks worth reading: failed ones, lowered ones, and lip sync and the judge always."""
    parts = Text()
    for name, score in t.scores.items():
        if name in t.failed:
            part = styled(f"✗ {name} {score:.2f}", "red")
        elif score < 0.995 or name in SHOWN:
            part = Text(f"{name} {score:.2f}")
        else:
            continue
        parts.append(" · " if parts else "").append_text(part)
    return parts or styled("all clear", "dim")


def _shot(s: ShotQC) -> None:
    if not s.takes:
        say("shot {} has no takes yet; run [bold]kaipai render[/]", s.shot)
        return
    columns = [
        Col("take", "id", justify="right"),
        Col("stage", "id"),
        Col("status", "id"),
        Col("score", "id"),
        Col("checks", min_width=16),
        Col("why it failed", min_width=16, optional=1),
    ]
    rows = []
    for t in s.takes:
        status = styled(*TAKE_STATUS[t.status])
        if t.status == "circled" and t.circled_by != "engine":
            status.append(" (by hand)", style="dim")
        if not t.checked:
            verdict = styled("not checked", "dim")
        else:
            verdict = styled("✓ " if t.passed else "✗ ", "green" if t.passed else "red").append_text(_score(t.score))
        rows.append(
            [
                str(t.id),
                t.stage + (f" {t.item}" if t.item else ""),
                status,
                verdict,
                _checks(t) if t.checked else "",
                "\n".join(t.reasons),
            ]
        )
    print_table(f"quality control of {s.shot}: {VERDICT.get(s.verdict, (s.verdict,))[0]}", columns, rows)
    for reason in s.reasons:
        say("  [red]⚑[/] {}", reason)
