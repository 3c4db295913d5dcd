"""``kaipai backends``: what generators are installed, what each can do, and whether it is ready.

A service is never called ready from the list: it is *not checked* until ``backends check`` has
asked it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from kaipai.cli.app import JsonOption, KaipaiTyper, ProjectOption, app, print_json, say
from kaipai.cli.tables import Col, print_notes, print_table, styled

#: How each state reads in the list, and its colour.
STATE = {
    "ready": ("✓ ready", "green"),
    "not checked": ("? not checked", "yellow"),
    "not configured": ("○ not configured", "red"),
    "not installed": ("○ not installed", "red"),
}

backends_app = KaipaiTyper(
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
        parts.append("takes the voice (lip-synced)")
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
def backends(
    ctx: typer.Context,
    project: Path | None = ProjectOption,
    sheets: bool = typer.Option(
        False, "--sheets", help="Show every capability sheet: durations, sizes, frames, references, prices."
    ),
    as_json: bool = JsonOption,
) -> None:
    """List installed backends, the capabilities and models they offer, and whether they are set up.

    Listing asks no server anything: a service whose key and address are set reads
    "not checked" until 'kaipai backends check' has reached it.
    """
    if ctx.invoked_subcommand is not None:
        return
    from kaipai.service.backends import list_backends

    infos = list_backends(project)
    if as_json:
        print_json([_as_dict(i) for i in infos])
        return
    columns = [
        Col("backend", "id"),
        Col("does (* used here)" if any(i.uses for i in infos) else "does", min_width=32),
        Col("state", "id"),
        Col("needs", "id", optional=3),
        Col("detail", min_width=24, optional=2),
    ]
    rows = [
        [
            i.name,
            " ".join(c + ("*" if c in i.uses else "") for c in i.capabilities),
            styled(*STATE[i.state]),
            f"kaipai[{i.extra}]" if i.extra else "",
            i.status if i.state in ("ready", "not checked") else "",
        ]
        for i in infos
    ]
    print_table("Backends", columns, rows)
    setup = [(i.name, _setup(i)) for i in infos if i.state in ("not configured", "not installed")]
    if setup:
        print_notes(setup, title="to set up")
    if sheets:
        _print_sheets(infos)
    else:
        say(
            "[dim]not checked: 'kaipai backends check NAME' asks the service (free); "
            "'kaipai backends --sheets' shows what each model accepts and costs[/]"
        )


def _as_dict(i: Any) -> dict[str, Any]:
    return {
        "name": i.name,
        "installed": i.installed,
        "configured": i.configured,
        "state": i.state,
        "service": i.service,
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


def _setup(i: Any) -> str:
    """What to do to use a backend: its hint, and the extra to install."""
    parts = [i.status] if i.status else []
    if not i.installed and i.extra:
        parts.append(f"pip install 'kaipai[{i.extra}]'")
    return "; ".join(parts)


def _print_sheets(infos: list[Any]) -> None:
    """Every model's sheet, backend by backend: what it accepts and costs, wrapped under its id."""
    for i in infos:
        if not i.sheets:
            continue
        rows = []
        for key, sheet in i.sheets.items():
            model = key if key != sheet.capability.value else sheet.model
            rows.append(
                (
                    model,
                    f"{sheet.capability.value}, ≤{sheet.max_concurrency} at once: "
                    + _sheet_summary(sheet, i.prices.get(key)),
                )
            )
        print_notes(rows, title=f"{i.name} — capability sheets")


@backends_app.command("check")
def check(
    names: list[str] = typer.Argument(
        None,
        help="Backends to check (default: those the project uses, else every cloud and server backend: "
        "comfyui, dashscope, kling, ark, minimax, vidu, veo, runway).",
    ),
    project: Path | None = ProjectOption,
    as_json: bool = JsonOption,
) -> None:
    """Check that backends are configured and their servers answer (free requests only)."""
    from kaipai.service.backends import check_backends

    results = check_backends(names or None, project)
    if as_json:
        print_json([{"name": r.name, "ok": r.ok, "detail": r.detail} for r in results])
    else:
        notes = [(styled(f"{'✓' if r.ok else '✗'} {r.name}", "green" if r.ok else "red"), r.detail) for r in results]
        print_notes(notes, title="Backend check")
    if not all(r.ok for r in results):
        raise typer.Exit(1)
