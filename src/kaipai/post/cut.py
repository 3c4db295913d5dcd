"""The edit decision list: where every shot, line of dialogue and music cue sits in the film.

Everything downstream (the master, subtitles, stems, OTIO and NLE exports, the storyboard)
reads this one list, so they cannot disagree about timing. Transitions are centred on the cut
and paid for with freeze-frame handles, so a dissolve never shortens the film: its length is
always the sum of its shots.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kaipai.document.models import Document
from kaipai.document.settings import frames


@dataclass
class CutLine:
    line: str
    speaker: str
    name: str
    text: str
    translation: str
    path: Path
    start: float  # in the film, seconds
    end: float
    on_screen: bool


@dataclass
class CutShot:
    shot: str
    start: float
    duration: float
    picture: Path | None  # a clip; None → ``still`` (keyframe) or a slate
    still: Path | None
    description: str
    transition: str = "cut"  # into this shot: cut, dissolve, fade_in, fade_out, wipe
    transition_duration: float = 0.0
    notes: str = ""
    stale: bool = False
    sfx: list[str] = field(default_factory=list)  # sound effects wanted (no effects backend renders them yet)

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass
class MusicCue:
    prompt: str
    start: float
    end: float
    path: Path | None = None


@dataclass
class Cut:
    title: str
    language: str
    width: int
    height: int
    fps: int
    shots: list[CutShot] = field(default_factory=list)
    lines: list[CutLine] = field(default_factory=list)
    music: list[MusicCue] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.shots[-1].end if self.shots else 0.0


def build_cut(doc: Document, media: dict[str, object]) -> Cut:
    """The cut of ``doc`` from the circled media (``service.takes.circled_media``), shots snapped to frames."""
    w, h = doc.project.resolution
    fps = doc.project.fps
    cut = Cut(title=doc.project.title, language=doc.project.language.value, width=w, height=h, fps=fps)
    names = {c.id: c.name for c in doc.cast.characters}
    texts = {line.id: line for shot in doc.shots for line in shot.dialogue}
    t = 0.0
    for shot in doc.ordered_shots():
        m = media.get(shot.id)
        duration = frames(float(getattr(m, "duration", shot.duration) or shot.duration), fps) / fps
        transition = shot.transition.value
        td = min(shot.transition_duration, duration / 2) if transition != "cut" else 0.0
        if not cut.shots and transition in ("dissolve", "wipe"):
            transition, td = "fade_in", td  # nothing to dissolve from: fade up from black
        picture = getattr(m, "picture", None) if m is not None else None
        cut.shots.append(
            CutShot(
                shot=shot.id,
                start=t,
                duration=duration,
                picture=picture,
                still=getattr(m, "keyframe", None) if m is not None else None,
                description=shot.description or shot.action,
                transition=transition,
                transition_duration=td,
                notes=shot.notes,
                stale=bool(getattr(m, "stale", False)),
                sfx=list(shot.sfx),
            )
        )
        for v in getattr(m, "voices", []) if m is not None else []:
            line = texts.get(v.line)
            cut.lines.append(
                CutLine(
                    line=v.line,
                    speaker=v.speaker,
                    name=names.get(v.speaker, "旁白" if doc.project.language.value == "zh" else "Narrator"),
                    text=line.text if line else "",
                    translation=line.translation if line else "",
                    path=v.path,
                    start=t + v.start,
                    end=t + v.end,
                    on_screen=v.on_screen,
                )
            )
        if shot.music:
            if cut.music:
                cut.music[-1].end = t
            cut.music.append(
                MusicCue(
                    prompt=shot.music, start=t, end=-1.0, path=getattr(m, "music", None) if m is not None else None
                )
            )
        t += duration
    for cue in cut.music:
        if cue.end < 0:
            cue.end = t
    return cut
