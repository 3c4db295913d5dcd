"""AIGC labels in the editor's hand-off: a timeline an editor re-cuts must keep the film labelled.

The visible notice is a transparent still of the frame's size on a video track above the picture
for the opening (the editor sees it, can move it, and exports it with the film); the AIGC metadata
goes where each format keeps metadata: the OTIO timeline's metadata, the FCP7 XML sequence's
logging info, FCPXML asset-clip ``metadata`` entries, and a comment on the EDL's first event.
"""

from __future__ import annotations

from pathlib import Path

import opentimelineio as otio

from kaipai.post.aigc import AigcLabel

NOTICE_TRACK = "AIGC notice"


def label_timeline(timeline: otio.schema.Timeline, still_url: str, opening: int, fps: int, aigc: AigcLabel) -> None:
    """Add the notice track and the metadata to ``timeline`` (in place)."""
    value = aigc.value()
    timeline.metadata["AIGC"] = value
    timeline.metadata["fcp_xml"] = {"logginginfo": {"lognote": f"AIGC={value}"}}
    for clip in timeline.video_tracks()[0].find_clips() if timeline.video_tracks() else []:
        ref = clip.media_reference
        if ref is not None and not ref.is_missing_reference:
            ref.metadata["fcpx"] = {"metadata": [{"AIGC": value}]}
    length = otio.opentime.RationalTime(opening, fps)
    span = otio.opentime.TimeRange(otio.opentime.RationalTime(0, fps), length)
    still = otio.schema.ExternalReference(target_url=still_url, available_range=span)
    still.metadata["fcpx"] = {"metadata": [{"AIGC": value}]}
    track = otio.schema.Track(name=NOTICE_TRACK, kind=otio.schema.TrackKind.Video)
    track.append(otio.schema.Clip(name=NOTICE_TRACK, media_reference=still, source_range=span))
    timeline.tracks.append(track)


def label_edl(path: Path, aigc: AigcLabel) -> None:
    """Add ``* AIGC: …`` as a comment of the EDL's first event (an EDL keeps no other metadata)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    comment = f"* AIGC: {aigc.value()}"
    if comment in lines:
        return
    first = next((i for i, line in enumerate(lines) if line[:3].isdigit()), None)
    if first is None:
        return
    end = first + 1
    while end < len(lines) and lines[end].startswith("*"):
        end += 1
    lines.insert(end, comment)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
