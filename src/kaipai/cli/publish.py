"""``kaipai verify``: read a film's (or image's) AIGC labels back before publishing it."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from kaipai.cli.app import app, console, user_errors


@app.command(rich_help_panel="Edit")
@user_errors
def verify(
    file: Path = typer.Argument(..., help="A film (MP4/MOV), image (PNG/JPEG/WebP) or storyboard PDF.", exists=False),
    text: list[str] = typer.Option(
        [], "--text", help="Also look for this notice text (default: AI生成, AI generated, 人工智能生成)."
    ),
    trust: Path | None = typer.Option(
        None,
        "--trust",
        help="PEM file of root certificates to trust for C2PA (default: \\[c2pa] trust_anchors in the user config); "
        "without one, a signature by your own CA reads Valid, not Trusted.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the findings as JSON."),
) -> None:
    """Read back the AIGC labels a file carries: the visible notice (found by looking at its opening
    frames, with its duration and text height as % of the shorter side, and whether it stays as a
    corner mark), the AIGC metadata of GB 45438-2025 Annex E, and the C2PA manifest with its
    validation state (Trusted, Valid or Invalid; needs kaipai\\[c2pa]).

    Exits with 1 when a label is malformed: a manifest that does not validate, AIGC metadata
    that is not Annex E JSON, or more than one AIGC entry.
    """
    from kaipai.service.verify import verify as read_back

    anchors = trust.read_text(encoding="utf-8") if trust is not None else None
    result = read_back(file, text, anchors)
    if as_json:
        console.print_json(json.dumps(result.as_dict(), ensure_ascii=False, default=str))
    else:
        _print(result)
    if result.problems:
        raise typer.Exit(1)


def _print(result: object) -> None:
    from kaipai.service.verify import Verification

    assert isinstance(result, Verification)
    console.print(f"[bold]{result.path}[/]")
    v = result.visible
    if v is None:
        console.print("visible notice  [dim]not checked (no picture)[/]")
    elif not v.found:
        console.print(f"visible notice  [yellow]none[/] in {v.checked}")
    else:
        span = f", {v.seconds:.2f} s from {v.first:.2f} s" if v.seconds else ""
        after = "; [bold]stays as a corner mark[/]" if v.later else ("; gone after the opening" if v.seconds else "")
        console.print(
            f"visible notice  [green]{v.text}[/] {v.corner.replace('_', '-')}{span}, "
            f"text height {v.ink_percent:.1f} % of the shorter side{after}",
            highlight=False,
        )
    if not result.metadata:
        console.print("AIGC metadata   [yellow]none[/]")
    for m in result.metadata:
        if m.label is None:
            console.print(f"AIGC metadata   [red]{m.key}: {m.error}[/]", highlight=False)
            continue
        fields = ", ".join(f"{k}={v or '-'}" for k, v in m.label.elements().items())
        console.print(f"AIGC metadata   [green]{m.key}[/] {fields}", highlight=False)
    c = result.c2pa
    if not result.c2pa_checked:
        console.print("C2PA            [dim]not checked: pip install 'kaipai\\[c2pa]'[/]")
    elif c is None:
        console.print("C2PA            [yellow]no manifest[/]")
    else:
        colour = {"Trusted": "green", "Valid": "yellow"}.get(c.state, "red")
        created = next((a for a in c.actions if a.get("action") == "c2pa.created"), {})
        source = str(created.get("digitalSourceType", "")).rsplit("/", 1)[-1]
        console.print(
            f"C2PA            [{colour}]{c.state}[/], signed by {c.signer or '?'} ({c.issuer or '?'}); "
            f"{c.generator}; created from {source or '?'}; {len(c.ingredients)} ingredients",
            highlight=False,
        )
        for failure in c.failures:
            console.print(f"                [dim]{failure}[/]", highlight=False)
    for problem in result.problems:
        console.print(f"[red]problem[/] {problem}", highlight=False)
