"""``kaipai verify``: read a film's (or image's) AIGC labels back before publishing it."""

from __future__ import annotations

from pathlib import Path

import typer

from kaipai.cli.app import app, print_json, say


@app.command(rich_help_panel="Edit")
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
        print_json(result.as_dict())
    else:
        _print(result)
    if result.problems:
        raise typer.Exit(1)


def _print(result: object) -> None:
    from kaipai.service.verify import Verification

    assert isinstance(result, Verification)
    say("[bold]{}[/]", result.path)
    v = result.visible
    if v is None:
        say("visible notice  [dim]not checked (no picture)[/]")
    elif not v.found:
        say("visible notice  [yellow]none[/] in {}", v.checked)
    else:
        span = f", {v.seconds:.2f} s from {v.first:.2f} s" if v.seconds else ""
        after = "; [bold]stays as a corner mark[/]" if v.later else ("; gone after the opening" if v.seconds else "")
        say(
            "visible notice  [green]{}[/] {}{}, text height {:.1f} % of the shorter side" + after,
            v.text,
            v.corner.replace("_", "-"),
            span,
            v.ink_percent,
        )
    if not result.metadata:
        say("AIGC metadata   [yellow]none[/]")
    for m in result.metadata:
        if m.label is None:
            say("AIGC metadata   [red]{}: {}[/]", m.key, m.error)
            continue
        fields = ", ".join(f"{k}={v or '-'}" for k, v in m.label.elements().items())
        say("AIGC metadata   [green]{}[/] {}", m.key, fields)
    c = result.c2pa
    if not result.c2pa_checked:
        say("C2PA            [dim]not checked: pip install '{}'[/]", "kaipai[c2pa]")
    elif c is None:
        say("C2PA            [yellow]no manifest[/]")
    else:
        colour = {"Trusted": "green", "Valid": "yellow"}.get(c.state, "red")
        created = next((a for a in c.actions if a.get("action") == "c2pa.created"), {})
        source = str(created.get("digitalSourceType", "")).rsplit("/", 1)[-1]
        say(
            "C2PA            [{}]{}[/], signed by {} ({}); {}; created from {}; {} ingredients",
            colour,
            c.state,
            c.signer or "?",
            c.issuer or "?",
            c.generator,
            source or "?",
            len(c.ingredients),
        )
        for failure in c.failures:
            say("                [dim]{}[/]", failure)
    for problem in result.problems:
        say("[red]problem[/] {}", problem)
