"""Commands on the production document: new, plan, shots, validate, schema, export shotlist."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from kaipai.cli.app import (
    JsonOption,
    ProjectOption,
    app,
    complete_scene,
    export_app,
    print_json,
    project_paths,
    say,
)
from kaipai.cli.tables import Col, print_table


class Lang(str, Enum):
    zh = "zh"
    en = "en"


@app.command(rich_help_panel="Document")
def new(
    folder: Path = typer.Argument(..., help="Folder of the new project (created if missing)."),
    script: Path | None = typer.Option(
        None,
        "--script",
        "-s",
        help="Screenplay to import: Fountain (.fountain) or the Chinese convention (场景/人物/台词); "
        "the format is detected.",
    ),
    lang: Lang | None = typer.Option(
        None,
        "--lang",
        help="Language of the film (zh or en). Detected from the script when omitted; zh without a script.",
    ),
    title: str | None = typer.Option(
        None, "--title", help="Film title (default: the script's title page, or the folder name)."
    ),
) -> None:
    """Create a project: a folder with [bold]kaipai.yaml[/], the production document.

    With --script the screenplay is copied into the project and imported: scenes, characters and
    locations fill the document. Then run [bold]kaipai plan[/] to draw up the shot script (分镜).
    """
    from kaipai.service.document import new_project

    paths = new_project(folder, script=script, language=lang.value if lang else None, title=title)
    say("[green]created[/] {}", paths.document)
    say("next: [bold]cd {}[/] and [bold]kaipai plan[/] to make the shot script, then [bold]kaipai render[/]", folder)


@app.command(rich_help_panel="Document")
def plan(project: Path | None = ProjectOption) -> None:
    """Draw up the shot script (分镜头脚本) from the screenplay.

    Each scene becomes coverage: an establishing shot, singles and shot/reverse-shot that respect the
    180° line, two-shots, reactions and inserts, with size, angle, move, composition, lighting, prompts,
    dialogue and an estimated duration, the sound effects the action implies, an ambience bed for
    each scene and, when the script names no music, proposed music cues. Re-run it after editing the
    script: [bold]locked[/] shots are
    never touched, and it says what it added, changed and removed. The planner is the document's
    [italic]backends.planner[/] (film-grammar rules by default, or a language model).
    """
    from kaipai.service.document import plan_project

    paths = project_paths(project)
    report = plan_project(paths)
    say("planned [bold]{}[/] shots in {} scenes → {}", report.shots, report.scenes, paths.document)
    for label, ids, colour in (
        ("added", report.added, "green"),
        ("changed", report.changed, "yellow"),
        ("removed", report.removed, "red"),
        ("kept (locked)", report.kept_locked, "cyan"),
    ):
        if ids:
            shown = ", ".join(ids[:12]) + (f" … (+{len(ids) - 12})" if len(ids) > 12 else "")
            say("  [{}]{}[/] {}: {}", colour, label, len(ids), shown)
    if report.stale_locked:
        say(
            "  [yellow]check[/] locked shots whose lines the script has changed or cut: {} "
            "(unlock them to re-plan, or edit their dialogue by hand)",
            ", ".join(report.stale_locked),
        )
    if report.music_proposed:
        say("  [magenta]music proposed[/] (the script names none):")
        for cue in report.music_proposed:
            say("    {}", cue)
        say(
            "  keep a cue, rewrite it, or delete the shot's [italic]music[/] line; lock the shot to keep your choice "
            "(project.propose_music: false proposes none)"
        )


@app.command(rich_help_panel="Document")
def shots(
    project: Path | None = ProjectOption,
    scene: str | None = typer.Option(None, "--scene", help="Only this scene id.", autocompletion=complete_scene),
    as_json: bool = JsonOption,
) -> None:
    """List the shot script: id, size, angle, move, duration, who is in frame, description and dialogue.

    Long descriptions and lines end in … to keep one line each; a wider terminal shows more,
    and --json everything."""
    from kaipai.project import load_document

    paths = project_paths(project)
    doc = load_document(paths)
    selected = [s for s in doc.ordered_shots() if scene is None or s.scene == scene]
    if as_json:
        print_json([s.model_dump(mode="json") for s in selected])
        return
    names = {c.id: c.name for c in doc.cast.characters} | {
        "narrator": "旁白" if doc.project.language.value == "zh" else "Narrator"
    }
    columns = [
        Col("shot", "id"),
        Col("size", "id"),
        Col("angle", "id"),
        Col("move", "id"),
        Col("s", "id", justify="right"),
        Col("", "state"),
        Col("in frame", min_width=6, max_width=18),
        Col("description / dialogue", min_width=16),
    ]
    rows = [
        [
            s.id,
            s.size.value,
            s.angle.value,
            s.move.value,
            f"{s.duration:.1f}",
            "🔒" if s.locked else "",
            _framed(s, names),
            "\n".join(x for x in [s.description, *_lines(s, names)] if x),
        ]
        for s in selected
    ]
    print_table(f"{doc.project.title} — {len(selected)} shots", columns, rows)
    say(
        "total {:.1f} s{}",
        sum(s.duration for s in selected),
        "; 🔒 locked: re-planning keeps it" if any(s.locked for s in selected) else "",
    )


def _lines(shot: Any, names: dict[str, str]) -> list[str]:
    return [f"{names.get(d.speaker, d.speaker)}: {d.text}" for d in shot.dialogue]


def _framed(shot: Any, names: dict[str, str]) -> str:
    return " ".join(f"{names.get(p.character, p.character)}({p.third.value[0].upper()})" for p in shot.composition)


@app.command(rich_help_panel="Document")
def validate(
    path: Path = typer.Argument(Path("."), help="A project folder or a kaipai.yaml file."),
) -> None:
    """Check the document: YAML syntax, every field's type and range, ids that must exist, and files it
    references. Each problem is printed as FILE:LINE:COLUMN: field: what is wrong; exits 1 if any."""
    from kaipai.service.document import document_path, validate_project

    doc = validate_project(path)
    say(
        "[green]ok[/] {}: {} scenes, {} shots, {} characters",
        document_path(path),
        len(doc.scenes),
        len(doc.shots),
        len(doc.cast.characters),
    )


@app.command(rich_help_panel="Document")
def schema(
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to this file instead of standard output."),
) -> None:
    """Print the JSON Schema of kaipai.yaml, for editor completion and checking.

    VS Code with the YAML extension: put [italic]# yaml-language-server: $schema=kaipai.schema.json[/] at the
    top of kaipai.yaml after [bold]kaipai schema -o kaipai.schema.json[/].
    """
    from kaipai.document.models import Document

    text = json.dumps(Document.model_json_schema(), ensure_ascii=False, indent=2)
    if out is not None:
        from kaipai.document.io import atomic_write_text

        atomic_write_text(out, text + "\n")
        say("[green]wrote[/] {}", out)
    else:
        typer.echo(text)


class ShotlistFormat(str, Enum):
    csv = "csv"
    pdf = "pdf"


@export_app.command("shotlist")
def export_shotlist(
    fmt: ShotlistFormat = typer.Option(
        ShotlistFormat.csv,
        "--format",
        "-f",
        help="csv (opens in Excel/Numbers, Chinese intact) or pdf (printable shot script).",
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Output file (default: output/shotlist.csv or .pdf in the project)."
    ),
    project: Path | None = ProjectOption,
) -> None:
    """Export the shot script (分镜头脚本) as a table: shot, size, angle, move, lens, framing, description,
    dialogue, sound and duration; once takes exist, quality control's verdict and why a shot is flagged."""
    from kaipai.post.shotlist import export_shotlist_csv, export_shotlist_pdf
    from kaipai.project import load_document

    paths = project_paths(project)
    doc = load_document(paths)
    qc = None
    if paths.database.exists():
        from kaipai.service.qc import shots_qc

        qc = {s.shot: (s.verdict, s.score, s.reasons) for s in shots_qc(paths, with_takes=False)}
    target = out or paths.output / f"shotlist.{fmt.value}"
    (export_shotlist_csv if fmt is ShotlistFormat.csv else export_shotlist_pdf)(doc, target, qc)
    say("[green]wrote[/] {}", target)
