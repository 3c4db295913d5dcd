"""The edit decision list: where every shot, line of dialogue, music cue, ambience bed and sound
effect sits in the film.

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
    path: Path | None  # None: spoken in the clip's own sound (the shot's generation.clip_dialogue)
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
    sfx: list[str] = field(default_factory=list)  # sound effects as the document asks for them
    effects: list[CutEffect] = field(default_factory=list)
    scene: str = ""
    #: the clip's own sound (a video model with native audio): under the dialogue, or the dialogue itself
    sound: Path | None = None
    sound_is_dialogue: bool = False
    band: float = 0.0  # share of the picture's height taken by an info bar baked into it (first-release previz)

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass
class CutEffect:
    sound: str
    start: float  # in the film, seconds
    path: Path | None = None  # None until its take is rendered


@dataclass
class Bed:
    """A scene's ambience under its shots; the edit crossfades it into the next scene's."""

    scene: str
    description: str
    start: float
    end: float
    path: Path | None = None


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
    beds: list[Bed] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.shots[-1].end if self.shots else 0.0


def effect_starts(moments: list[float | None], duration: float) -> list[float]:
    """When each effect of a shot starts (seconds into it): at its written moment, else spread through the
    shot in order (the middle of its share of the shot)."""
    n = len(moments)
    return [min(at, duration) if at is not None else duration * (k + 0.5) / n for k, at in enumerate(moments)]


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
        wanted = list(getattr(m, "effects", []) or []) if m is not None else []
        starts = effect_starts([getattr(e, "at", None) for e in wanted], duration)
        scene = doc.scene(shot.scene)
        if scene is not None and scene.ambience and (not cut.beds or cut.shots[-1].scene != shot.scene):
            bed = getattr(m, "ambience", None) if m is not None else None
            cut.beds.append(Bed(scene.id, scene.ambience, t, -1.0, bed))
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
                effects=[CutEffect(e.sound, t + at, getattr(e, "path", None)) for e, at in zip(wanted, starts)],
                scene=shot.scene,
                sound=getattr(m, "clip_sound", None) if m is not None else None,
                sound_is_dialogue=shot.generation.clip_dialogue,
                band=float(getattr(m, "band", 0.0) or 0.0) if m is not None else 0.0,
            )
        )
        if scene is not None and scene.ambience:
            cut.beds[-1].end = t + duration  # the bed runs to the end of its scene's last shot
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
