"""Commands of post-production: cut the film, and export it for an editor."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from kaipai.cli.app import ProjectOption, app, console, export_app, project_paths, say


class Profile(str, Enum):
    web = "web"
    broadcast = "broadcast"


class ExportFormat(str, Enum):
    otio = "otio"
    fcpxml = "fcpxml"
    fcp7 = "fcp7"
    edl = "edl"
    subtitles = "subtitles"
    stems = "stems"
    storyboard = "storyboard"
    contactsheet = "contactsheet"
    jianying = "jianying"


def run_cut(
    paths: Any, profile: str = "web", burn: bool = False, slate: bool = False, out: Console | None = None
) -> Any:
    """Cut with a Rich progress bar fed by ffmpeg's own progress (on ``out``, standard output by default)."""
    from kaipai.service.cut import make_cut

    with Progress(
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(),
        console=out or console,
    ) as bar:
        task = bar.add_task("cut", total=1.0)
        result = make_cut(
            paths,
            profile=profile,
            burn_subtitles=burn,
            slate=slate,
            on_event=lambda e: bar.update(task, completed=e.fraction, description=e.kind),
        )
        bar.update(task, completed=1.0)
    return result


@app.command(rich_help_panel="Edit")
def cut(
    profile: Profile = typer.Option(
        Profile.web, "--profile", help="Delivery loudness: web (-14 LUFS) or broadcast (-23 LUFS)."
    ),
    burn_subtitles: bool = typer.Option(
        False,
        "--burn-subtitles",
        help="Burn the subtitles into the picture (they are always written as SRT and ASS too).",
    ),
    slate: bool = typer.Option(
        False,
        "--slate",
        help="Cut the animatic instead, output/animatic.mp4: each shot with its info bar (id, size, camera move, "
        "description) over the bottom of the picture. The film itself stays clean.",
    ),
    project: Path | None = ProjectOption,
) -> None:
    """Cut the film from the circled takes: output/film.mp4 (H.264/AAC, plays in any browser) with
    film.srt and film.ass beside it (the ASS carries the font it names, in fonts/ and embedded).

    Shots without a clip yet show their keyframe or a slate with their description, so a partial
    film is always watchable. Dialogue is placed from the real voice timing; music, each scene's
    ambience and the sound effects are ducked under it, and loudness is normalised to the profile
    in two passes.
    """
    paths = project_paths(project)
    result = run_cut(paths, profile.value, burn_subtitles, slate)
    say("[green]film[/] {}  ({:.1f} s, {} shots)", result.film, result.duration, result.shots)
    say("subtitles {}, {}", result.srt, result.ass)
    if "input_i" in result.loudness:
        target = -14.0 if profile.value == "web" else -23.0
        say(
            "loudness {:.1f} LUFS measured, normalised to {:.0f} LUFS ({})",
            result.loudness["input_i"],
            target,
            profile.value,
        )
    if result.missing:
        say(
            "[yellow]{} shots have no clip yet and show a still or slate:[/] {}",
            len(result.missing),
            ", ".join(result.missing),
        )
    _print_labels(result.labels)
    if result.provenance is not None:
        say("provenance {}", result.provenance)


def _print_labels(labels: dict[str, Any]) -> None:
    """One line on the AIGC labels the master carries, and what is missing for publishing."""
    if not labels.get("labelled"):
        why = "publish.labels is off" if labels.get("mode") == "off" else "no take came from a generative backend"
        say("AIGC labels: none ({})", why)
        return
    seen = labels.get("visible", {})
    signed = labels.get("c2pa", {}).get("signed")
    say(
        "AIGC labels: notice '{}' for {} s ({} % of the shorter side), AIGC metadata, {}",
        seen.get("text"),
        seen.get("seconds"),
        seen.get("ink_percent_of_short_side"),
        "C2PA signed" if signed else "no C2PA signature (set [c2pa] certificate and key; see README)",
    )


def _export(formats: list[str], dest: Path | None, project: Path | None) -> None:
    from kaipai.service.cut import export_all

    paths = project_paths(project)
    folder = dest or paths.output / "exports"
    for name, path in export_all(paths, folder, formats).items():
        say("[green]{}[/] {}", name, path)


def _register(fmt: ExportFormat, summary: str) -> None:
    def command(
        dest: Path | None = typer.Option(
            None,
            "--dest",
            "-o",
            help="Export folder (default: output/exports). "
            "Media are copied into its media/ folder and referenced relatively, so the folder can be zipped and moved.",
        ),
        project: Path | None = ProjectOption,
    ) -> None:
        _export([fmt.value], dest, project)

    command.__doc__ = summary
    export_app.command(fmt.value)(command)


_register(
    ExportFormat.otio,
    "OpenTimelineIO timeline (.otio): picture, dialogue, music and effects tracks, markers with shot ids.",
)
_register(ExportFormat.fcpxml, "FCPXML for Final Cut Pro and DaVinci Resolve.")
_register(ExportFormat.fcp7, "FCP7 XML for Premiere Pro (and Resolve).")
_register(ExportFormat.edl, "CMX 3600 EDL of the picture track.")
_register(
    ExportFormat.subtitles,
    "Subtitles as SRT and styled ASS from the real dialogue timing (bilingual when lines have translations).",
)
_register(
    ExportFormat.stems,
    "Dialogue, music, effects and ambience stems as WAV, aligned with the film; stems.json states the "
    "master's loudness gain (the stems add up to the master's mix before it).",
)
_register(
    ExportFormat.storyboard, "Storyboard PDF: every shot's frame, shot data and dialogue, in the project's language."
)
_register(ExportFormat.contactsheet, "Contact sheet PNG: every shot's frame in a grid with its id and time.")
_register(
    ExportFormat.jianying,
    "A 剪映 (JianYing Pro / CapCut) draft folder: picture, dialogue, music, ambience and effects tracks and the "
    "subtitles as a text track, media copied inside it. Copy the folder into 剪映's drafts folder to open it. "
    "Needs pip install 'kaipai\\[jianying]'.",
)


@export_app.command("all")
def export_everything(
    dest: Path | None = typer.Option(None, "--dest", "-o", help="Export folder (default: output/exports)."),
    project: Path | None = ProjectOption,
) -> None:
    """Everything an editor needs: OTIO, FCPXML, FCP7 XML, EDL, subtitles, stems, storyboard and contact sheet
    (and a 剪映 draft when pyJianYingDraft is installed)."""
    _export([f.value for f in ExportFormat], dest, project)
