"""The timeline of record as OpenTimelineIO, and its exports for editors' NLEs.

An editor must be able to take the cut into Final Cut, Resolve or Premiere and keep working, so
the export is a self-contained folder: the timeline files plus a ``media/`` folder they point into
with relative paths, ready to be zipped and moved.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import opentimelineio as otio

from kaipai.document.settings import frames
from kaipai.post.cut import Cut

#: export name → (OTIO adapter, file name)
FORMATS: dict[str, tuple[str, str]] = {
    "otio": ("otio_json", "film.otio"),
    "fcpxml": ("fcpx_xml", "film.fcpxml"),
    "fcp7": ("fcp_xml", "film.xml"),
    "edl": ("cmx_3600", "film.edl"),
}


def _rt(seconds: float, fps: int) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(frames(seconds, fps), fps)


def _range(start: float, duration: float, fps: int) -> otio.opentime.TimeRange:
    return otio.opentime.TimeRange(_rt(start, fps), _rt(duration, fps))


def _media(path: Path, name: str, media_dir: Path | None) -> str:
    """Copy ``path`` into the export's media folder (when exporting) and return the URL to use."""
    if media_dir is None:
        return path.resolve().as_uri()
    media_dir.mkdir(parents=True, exist_ok=True)
    target = media_dir / f"{name}{path.suffix}"
    if not (target.exists() and os.path.samefile(path, target)):
        target.unlink(missing_ok=True)
        try:  # a hard link costs no space; the store's files are never modified in place
            os.link(path, target)
        except OSError:
            shutil.copyfile(path, target)
    return f"{media_dir.name}/{target.name}"


def build_timeline(
    cut: Cut,
    *,
    media_dir: Path | None = None,
    slates: dict[str, Path] | None = None,
    music: dict[int, Path] | None = None,
    transitions: bool = True,
    beds: dict[int, Path] | None = None,
) -> otio.schema.Timeline:
    """Video, dialogue, music, ambience and effects tracks; markers carry shot ids and notes."""
    fps = cut.fps
    tl = otio.schema.Timeline(name=cut.title)
    tl.global_start_time = otio.opentime.RationalTime(0, fps)
    video = otio.schema.Track(name="picture", kind=otio.schema.TrackKind.Video)
    for shot in cut.shots:
        source = shot.picture or shot.still or (slates or {}).get(shot.shot)
        ref: otio.core.MediaReference
        if source is not None:
            ref = otio.schema.ExternalReference(
                target_url=_media(source, shot.shot, media_dir), available_range=_range(0, shot.duration, fps)
            )
        else:
            ref = otio.schema.MissingReference()
        clip = otio.schema.Clip(name=shot.shot, media_reference=ref, source_range=_range(0, shot.duration, fps))
        clip.metadata["kaipai"] = {
            "shot": shot.shot,
            "stale": shot.stale,
            "description": shot.description,
            "sfx": list(shot.sfx),
            "transition": shot.transition,
            "transition_duration": shot.transition_duration,
        }
        color = otio.schema.MarkerColor.RED if shot.stale else otio.schema.MarkerColor.GREEN
        clip.markers.append(
            otio.schema.Marker(
                name=shot.shot,
                marked_range=_range(0, 0, fps),
                color=color,
                comment=shot.notes,
                metadata={"notes": shot.notes},
            )
        )
        if transitions and shot.transition in ("dissolve", "wipe") and len(video) and shot.transition_duration:
            half = _rt(shot.transition_duration / 2, fps)
            kind = (
                otio.schema.TransitionTypes.SMPTE_Dissolve
                if shot.transition == "dissolve"
                else otio.schema.TransitionTypes.Custom
            )
            video.append(
                otio.schema.Transition(name=shot.transition, transition_type=kind, in_offset=half, out_offset=half)
            )
        video.append(clip)
    tl.tracks.append(video)
    tl.tracks.append(
        _placed_track(
            "dialogue",
            [(ln.start, ln.end - ln.start, ln.path, f"{ln.line}") for ln in cut.lines if ln.path is not None]
            + [(s.start, s.duration, s.sound, f"{s.shot}-sound") for s in cut.shots if s.sound and s.sound_is_dialogue],
            fps,
            media_dir,
        )
    )
    if music:
        cues = [(c.start, c.end - c.start, music[j], f"music-{j + 1}") for j, c in enumerate(cut.music) if j in music]
        tl.tracks.append(_placed_track("music", cues, fps, media_dir))
    if beds:
        placed = [
            (b.start, b.end - b.start, beds[j], f"ambience-{b.scene}") for j, b in enumerate(cut.beds) if j in beds
        ]
        tl.tracks.append(_placed_track("ambience", placed, fps, media_dir))
    tl.tracks.append(_placed_track("effects", effect_clips(cut), fps, media_dir))
    return tl


def effect_clips(cut: Cut) -> list[tuple[float, float, Path | None, str]]:
    """(start, seconds, file, name) of each rendered effect (to the end of its shot) and clip's own sound;
    where a shot's effects are not rendered yet, a placeholder with no media under the whole shot, named
    after them, so the editor sees what to lay in."""
    out: list[tuple[float, float, Path | None, str]] = []
    for shot in cut.shots:
        rendered = [e for e in shot.effects if e.path is not None]
        for k, fx in enumerate(rendered):
            out.append((fx.start, max(1 / cut.fps, shot.end - fx.start), fx.path, f"{shot.shot}-fx{k + 1}"))
        if shot.sfx and not rendered:
            out.append((shot.start, shot.duration, None, " / ".join(shot.sfx)))
        if shot.sound is not None and not shot.sound_is_dialogue:
            out.append((shot.start, shot.duration, shot.sound, f"{shot.shot}-sound"))
    return out


def _placed_track(
    name: str, items: list[tuple[float, float, Path | None, str]], fps: int, media_dir: Path | None
) -> otio.schema.Track:
    """An audio track with each item at its absolute time (gaps between), so J- and L-cuts survive; an item
    with no file yet is a placeholder clip with a missing reference."""
    track = otio.schema.Track(name=name, kind=otio.schema.TrackKind.Audio)
    cursor = 0
    for start, duration, path, label in sorted(items, key=lambda x: x[0]):
        begin, length = frames(start, fps), max(1, frames(duration, fps))
        if begin > cursor:
            track.append(
                otio.schema.Gap(
                    source_range=otio.opentime.TimeRange(
                        otio.opentime.RationalTime(0, fps), otio.opentime.RationalTime(begin - cursor, fps)
                    )
                )
            )
        elif begin < cursor:
            length -= cursor - begin
            if length <= 0:
                continue
        ref: otio.core.MediaReference = otio.schema.MissingReference()
        if path is not None:
            ref = otio.schema.ExternalReference(
                target_url=_media(path, label, media_dir),
                available_range=otio.opentime.TimeRange(
                    otio.opentime.RationalTime(0, fps), otio.opentime.RationalTime(length, fps)
                ),
            )
        clip = otio.schema.Clip(
            name=label,
            media_reference=ref,
            source_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(0, fps), otio.opentime.RationalTime(length, fps)
            ),
        )
        if path is None:
            clip.metadata["kaipai"] = {"placeholder": True}
        track.append(clip)
        cursor = max(cursor, begin) + length
    return track


def export(
    cut: Cut,
    dest: Path,
    formats: list[str] | None = None,
    *,
    slates: dict[str, Path] | None = None,
    music: dict[int, Path] | None = None,
    beds: dict[int, Path] | None = None,
    decorate: Callable[[otio.schema.Timeline, str], None] | None = None,
) -> dict[str, Path]:
    """Write the timeline in each format into ``dest`` with media under ``dest/media``; ``decorate``
    may add to each format's timeline before it is written (AIGC labels)."""
    dest.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for name in formats or list(FORMATS):
        adapter, filename = FORMATS[name]
        # EDL has one video track and no room for our audio layout; FCP formats get the full timeline.
        # an EDL dissolve must reach into media before the clip's first frame, which generated clips
        # do not have: the EDL carries the cuts (the other formats carry the transitions)
        tl = build_timeline(
            cut, media_dir=dest / "media", slates=slates, music=music, transitions=name != "edl", beds=beds
        )
        if decorate is not None:
            decorate(tl, name)
        if name == "edl":
            tl.tracks[:] = [tl.tracks[0]]
        elif name != "otio":  # NLEs need media behind every clip: keep the tracks that have it
            tl.tracks[:] = [
                t
                for t in tl.tracks
                if len(t)
                and all(not isinstance(c.media_reference, otio.schema.MissingReference) for c in t.find_clips())
            ]
        path = dest / filename
        otio.adapters.write_to_file(tl, str(path), adapter_name=adapter)
        out[name] = path
    return out
