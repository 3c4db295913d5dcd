"""The timeline of record as OpenTimelineIO, and its exports for editors' NLEs.

An editor must be able to take the cut into Final Cut, Resolve or Premiere and keep working, so
the export is a self-contained folder: the timeline files plus a ``media/`` folder they point into
with relative paths, ready to be zipped and moved.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import opentimelineio as otio

from kaipai.post.cut import Cut, frames

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
    if not target.exists() or target.stat().st_size != path.stat().st_size:
        shutil.copyfile(path, target)
    return f"{media_dir.name}/{target.name}"


def build_timeline(cut: Cut, *, media_dir: Path | None = None, slates: dict[str, Path] | None = None, music: dict[int, Path] | None = None, transitions: bool = True) -> otio.schema.Timeline:
    """Video, dialogue, music and effects tracks; markers carry shot ids and notes."""
    fps = cut.fps
    tl = otio.schema.Timeline(name=cut.title)
    tl.global_start_time = otio.opentime.RationalTime(0, fps)
    video = otio.schema.Track(name="picture", kind=otio.schema.TrackKind.Video)
    for shot in cut.shots:
        source = shot.picture or shot.still or (slates or {}).get(shot.shot)
        ref: otio.core.MediaReference
        if source is not None:
            ref = otio.schema.ExternalReference(target_url=_media(source, shot.shot, media_dir), available_range=_range(0, shot.duration, fps))
        else:
            ref = otio.schema.MissingReference()
        clip = otio.schema.Clip(name=shot.shot, media_reference=ref, source_range=_range(0, shot.duration, fps))
        clip.metadata["kaipai"] = {"shot": shot.shot, "stale": shot.stale, "description": shot.description}
        clip.markers.append(otio.schema.Marker(name=shot.shot, marked_range=_range(0, 0, fps), color=otio.schema.MarkerColor.RED if shot.stale else otio.schema.MarkerColor.GREEN, metadata={"notes": shot.notes}))
        if transitions and shot.transition in ("dissolve", "wipe") and len(video) and shot.transition_duration:
            half = _rt(shot.transition_duration / 2, fps)
            video.append(otio.schema.Transition(name=shot.transition, transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve, in_offset=half, out_offset=half))
        video.append(clip)
    tl.tracks.append(video)
    tl.tracks.append(_placed_track("dialogue", [(ln.start, ln.end - ln.start, ln.path, f"{ln.line}") for ln in cut.lines], fps, media_dir))
    if music:
        cues = [(c.start, c.end - c.start, music[j], f"music-{j + 1}") for j, c in enumerate(cut.music) if j in music]
        tl.tracks.append(_placed_track("music", cues, fps, media_dir))
    tl.tracks.append(otio.schema.Track(name="effects", kind=otio.schema.TrackKind.Audio))
    return tl


def _placed_track(name: str, items: list[tuple[float, float, Path, str]], fps: int, media_dir: Path | None) -> otio.schema.Track:
    """An audio track with each item at its absolute time (gaps between), so J- and L-cuts survive."""
    track = otio.schema.Track(name=name, kind=otio.schema.TrackKind.Audio)
    cursor = 0
    for start, duration, path, label in sorted(items, key=lambda x: x[0]):
        begin, length = frames(start, fps), max(1, frames(duration, fps))
        if begin > cursor:
            track.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, fps), otio.opentime.RationalTime(begin - cursor, fps))))
        elif begin < cursor:
            length -= cursor - begin
            if length <= 0:
                continue
        ref = otio.schema.ExternalReference(target_url=_media(path, label, media_dir), available_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, fps), otio.opentime.RationalTime(length, fps)))
        track.append(otio.schema.Clip(name=label, media_reference=ref, source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, fps), otio.opentime.RationalTime(length, fps))))
        cursor = max(cursor, begin) + length
    return track


def export(cut: Cut, dest: Path, formats: list[str] | None = None, *, slates: dict[str, Path] | None = None, music: dict[int, Path] | None = None) -> dict[str, Path]:
    """Write the timeline in each format into ``dest`` with media under ``dest/media``."""
    dest.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for name in formats or list(FORMATS):
        adapter, filename = FORMATS[name]
        # EDL has one video track and no room for our audio layout; FCP formats get the full timeline.
        tl = build_timeline(cut, media_dir=dest / "media", slates=slates, music=music)
        if name == "edl":
            tl.tracks[:] = [tl.tracks[0]]
        elif name != "otio":
            tl.tracks[:] = [t for t in tl.tracks if len(t)]
        path = dest / filename
        otio.adapters.write_to_file(tl, str(path), adapter_name=adapter)
        out[name] = path
    return out
