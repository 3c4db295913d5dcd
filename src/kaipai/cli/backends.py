"""``kaipai backends``: what generators are installed, what each can do, and whether it is ready."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from kaipai.cli.app import ProjectOption, app, console, user_errors

backends_app = typer.Typer(
    help="Installed backends, their capability sheets, and whether they are configured and reachable.",
    invoke_without_command=True,
)
app.add_typer(backends_app, name="backends")


def _sheet_summary(sheet: Any, regional: dict[str, tuple[float, str]] | None = None) -> str:
    parts: list[str] = []
    if sheet.durations:
        parts.append("durations " + "/".join(f"{d:g}" for d in sheet.durations) + " s")
    elif sheet.max_duration:
        parts.append(f"{sheet.min_duration:g}–{sheet.max_duration:g} s")
    if sheet.resolutions:
        parts.append(" ".join(f"{w}x{h}" for w, h in sheet.resolutions))
    elif sheet.max_pixels:
        parts.append(f"≤{sheet.max_pixels / 1e6:.1f} MP")
    if sheet.fps:
        parts.append("fps " + "/".join(str(f) for f in sheet.fps))
    if sheet.frame_rule:
        parts.append(f"frames {sheet.frame_rule[0]}n+{sheet.frame_rule[1]}")
    if sheet.first_last_frame:
        parts.append("first+last frame")
    if sheet.max_reference_images:
        parts.append(f"≤{sheet.max_reference_images} refs")
    if sheet.native_audio:
        parts.append("native audio")
    if sheet.audio_input:
        parts.append("speaks the shot's voice")
    if sheet.max_video_seconds:
        parts.append(f"video ≤{sheet.max_video_seconds:g} s")
    if sheet.max_audio_seconds:
        parts.append(f"audio ≤{sheet.max_audio_seconds:g} s")
    if sheet.min_input_seconds:
        parts.append(f"inputs ≥{sheet.min_input_seconds:g} s")
    if sheet.parameters:
        parts.append("takes " + ",".join(sheet.parameters))
    if sheet.languages:
        parts.append("langs " + ",".join(sheet.languages))
    if regional and len(regional) > 1:
        each = " · ".join(f"{region} {cost:g} {currency}" for region, (cost, currency) in regional.items())
        parts.append(f"{each} /{sheet.cost_unit}")
    elif sheet.cost_per_unit:
        parts.append(f"{sheet.cost_per_unit:g} {sheet.currency}/{sheet.cost_unit}")
    return "; ".join(parts) or "any"


@backends_app.callback()
@user_errors
def backends(
    ctx: typer.Context,
    project: Path | None = ProjectOption,
    sheets: bool = typer.Option(
        False, "--sheets", help="Show every capability sheet: durations, sizes, frames, references, prices."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """List installed backends, the capabilities and models they offer, and whether they are configured."""
    if ctx.invoked_subcommand is not None:
        return
    from kaipai.service.backends import list_backends

    infos = list_backends(project)
    if as_json:
        payload = [
            {
                "name": i.name,
                "installed": i.installed,
                "configured": i.configured,
                "capabilities": i.capabilities,
                "used_for": i.uses,
                "status": i.status,
                "extra": i.extra,
                "sheets": {k: s.model_dump(mode="json") for k, s in i.sheets.items()},
                "prices": {
                    sid: {region: {"cost_per_unit": c, "currency": cur} for region, (c, cur) in table.items()}
                    for sid, table in i.prices.items()
                },
            }
            for i in infos
        ]
        console.print_json(json.dumps(payload, ensure_ascii=False))
        return
    table = Table(title="Backends", show_lines=False)
    for col in ("backend", "capabilities", "used for", "needs", "ready", "status"):
        table.add_column(col, overflow="fold")
    for i in infos:
        ready = "[green]yes[/]" if i.configured else ("[red]not installed[/]" if not i.installed else "[yellow]no[/]")
        needs = escape(f"kaipai[{i.extra}]") if i.extra else ""
        table.add_row(i.name, ", ".join(i.capabilities), ", ".join(i.uses), needs, ready, escape(i.status))
    console.print(table)
    if sheets:
        detail = Table(title="Capability sheets")
        for col in ("backend", "model", "capability", "can do", "concurrency"):
            detail.add_column(col, overflow="fold")
        for i in infos:
            for key, sheet in i.sheets.items():
                detail.add_row(
                    i.name,
                    key if key != sheet.capability.value else sheet.model,
                    sheet.capability.value,
                    _sheet_summary(sheet, i.prices.get(key)),
                    str(sheet.max_concurrency),
                )
        console.print(detail)
    else:
        console.print(
            "[dim]--sheets shows what each model accepts and costs; 'kaipai backends check' tests the connections[/]"
        )


@backends_app.command("check")
@user_errors
def check(
    names: list[str] = typer.Argument(
        None,
        help="Backends to check (default: those the project uses, else every cloud and server backend: "
        "comfyui, dashscope, kling, ark, minimax, vidu, veo, runway).",
    ),
    project: Path | None = ProjectOption,
) -> None:
    """Check that backends are configured and their servers answer (free requests only)."""
    from kaipai.service.backends import check_backends

    results = check_backends(names or None, project)
    table = Table(title="Backend check")
    for col in ("backend", "result", "detail"):
        table.add_column(col, overflow="fold")
    for r in results:
        table.add_row(r.name, "[green]ok[/]" if r.ok else "[red]failed[/]", escape(r.detail))
    console.print(table)
    if not all(r.ok for r in results):
        raise typer.Exit(1)
