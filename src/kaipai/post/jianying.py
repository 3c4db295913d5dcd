"""The cut as a 剪映 (JianYing Pro / CapCut) draft, written with the field's library, pyJianYingDraft.

A draft is a folder: ``draft_content.json`` (the timeline; also written as ``draft_info.json``, the
name 剪映 6 and later read) and ``draft_meta_info.json``, with every medium copied into its
``materials/`` folder (剪映 for Mac only opens media inside the draft). Tracks: the picture (cuts),
dialogue, music, ambience and effects, and the subtitles as a text track. Audio that overlaps on
one track (an effect still ringing when the next starts) goes on a second track of its kind; a
clip's own sound is taken out of the clip into a WAV, as 剪映's audio tracks take audio files only.
Volumes are the mix's own levels; the ducking under dialogue is left to the editor.

Media paths in the draft are absolute, to its ``materials/`` on this machine: copy the folder into
剪映's drafts folder, and if 剪映 asks to relink, point it at ``materials/``.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kaipai.document.settings import frames
from kaipai.post.cut import Cut
from kaipai.post.ffmpeg import run
from kaipai.post.mix import AMBIENCE_LEVEL, CLIP_SOUND_LEVEL, EFFECT_TAIL, EFFECTS_LEVEL, MUSIC_LEVEL

SEC = 1_000_000
EXTRA = "jianying"


class JianyingUnavailable(RuntimeError):
    """pyJianYingDraft is not installed; the message says how to install it."""


def _library() -> Any:
    try:
        import pyJianYingDraft
    except ImportError:
        raise JianyingUnavailable(f"the 剪映 export needs pyJianYingDraft: pip install 'kaipai[{EXTRA}]'") from None
    return pyJianYingDraft


@dataclass
class Item:
    """A piece of audio on the timeline, in microseconds."""

    path: Path
    start: int
    length: int
    volume: float = 1.0
    fade_in: int = 0
    fade_out: int = 0
    loop: bool = False  # repeat the file to fill its place (an ambience bed)


def us(seconds: float) -> int:
    return round(seconds * SEC)


def export_jianying(
    cut: Cut,
    dest: Path,
    *,
    name: str = "kaipai",
    stills: dict[str, Path] | None = None,
    music: dict[int, Path] | None = None,
    beds: dict[int, Path] | None = None,
    srt: Path | None = None,
) -> Path:
    """Write the draft folder ``dest/name`` and return it."""
    jy = _library()
    dest.mkdir(parents=True, exist_ok=True)
    folder = jy.DraftFolder(str(dest))
    script = folder.create_draft(name, cut.width, cut.height, fps=cut.fps, allow_replace=True)
    draft = dest / name
    materials = draft / "materials"
    materials.mkdir()
    media = _Media(materials)

    script.append_track(jy.TrackSpec(jy.TrackType.video, "picture"))
    fps = cut.fps
    for shot in cut.shots:
        source = shot.picture or shot.still or (stills or {}).get(shot.shot)
        if source is None:
            continue
        begin, end = us(frames(shot.start, fps) / fps), us(frames(shot.end, fps) / fps)
        material = jy.VideoMaterial(str(media.copy(source, shot.shot)))
        length = end - begin if material.material_type == "photo" else min(end - begin, material.duration)
        script.add_segment(jy.VideoSegment(material, jy.Timerange(begin, length), volume=0.0), "picture")

    lines = [Item(ln.path, us(ln.start), us(ln.end - ln.start)) for ln in cut.lines if ln.path is not None]
    lines += [
        Item(media.sound_of(s.sound, s.shot), us(s.start), us(s.duration))
        for s in cut.shots
        if s.sound is not None and s.sound_is_dialogue
    ]
    cues = [
        Item(path, us(c.start), us(c.end - c.start), MUSIC_LEVEL, fade_out=min(us(1.5), us(c.end - c.start) // 4))
        for j, c in enumerate(cut.music)
        if (path := (music or {}).get(j)) is not None
    ]
    ambience = [
        Item(path, us(b.start), us(b.end - b.start), AMBIENCE_LEVEL, fade_in=us(0.5), fade_out=us(0.5), loop=True)
        for j, b in enumerate(cut.beds)
        if (path := (beds or {}).get(j)) is not None
    ]
    effects = []
    for shot in cut.shots:
        for fx in shot.effects:
            if fx.path is not None:
                effects.append(Item(fx.path, us(fx.start), us(shot.end + EFFECT_TAIL - fx.start), EFFECTS_LEVEL))
        if shot.sound is not None and not shot.sound_is_dialogue:
            clip_sound = media.sound_of(shot.sound, shot.shot)
            effects.append(Item(clip_sound, us(shot.start), us(shot.duration), CLIP_SOUND_LEVEL))
    total = us(frames(cut.duration, fps) / fps)
    for track, items in (("dialogue", lines), ("music", cues), ("ambience", ambience), ("effects", effects)):
        _audio_track(jy, script, media, track, items, total)
    if srt is not None and srt.exists() and srt.read_text(encoding="utf-8").strip():
        script.import_srt(str(srt), track_name="subtitles")
    script.save()
    shutil.copyfile(draft / "draft_content.json", draft / "draft_info.json")
    _meta(draft, dest, name, script.duration, media.copied)
    return draft


def _audio_track(jy: Any, script: Any, media: _Media, name: str, items: list[Item], total: int) -> None:
    """``items`` on as few tracks named ``name``, ``name 2``… as keep them from overlapping (one even if empty)."""
    lanes: list[list[Item]] = []
    for item in sorted(items, key=lambda i: i.start):
        lane = next((lane for lane in lanes if lane[-1].start + lane[-1].length <= item.start), None)
        if lane is None:
            lanes.append([item])
        else:
            lane.append(item)
    for k, lane in enumerate(lanes or [[]]):
        track = name if k == 0 else f"{name} {k + 1}"
        script.append_track(jy.TrackSpec(jy.TrackType.audio, track))
        for item in lane:
            _place(jy, script, media, track, item, total)


def _place(jy: Any, script: Any, media: _Media, track: str, item: Item, total: int) -> None:
    """One audio item, trimmed to the film and to its file; a looping one (an ambience bed a backend made
    shorter than its scene) repeated back to back to fill its place."""
    material = jy.AudioMaterial(str(media.copy(item.path, item.path.stem)))
    start, end = item.start, min(item.start + item.length, total)
    while end - start >= SEC // 100:
        length = min(end - start, material.duration)
        segment = jy.AudioSegment(material, jy.Timerange(start, length), volume=item.volume)
        if item.fade_in or item.fade_out:
            segment.add_fade(min(item.fade_in, length // 2), min(item.fade_out, length // 2))
        script.add_segment(segment, track)
        start += length
        if not item.loop:
            break


class _Media:
    """Copies (hard-links where it can) media into the draft's ``materials/`` once each."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.copied: dict[Path, Path] = {}

    def copy(self, path: Path, stem: str) -> Path:
        if path in self.copied:
            return self.copied[path]
        target = self.folder / f"{stem}{path.suffix}"
        n = 1
        while target.exists():
            n += 1
            target = self.folder / f"{stem}-{n}{path.suffix}"
        try:
            os.link(path, target)
        except OSError:
            shutil.copyfile(path, target)
        self.copied[path] = target
        return target

    def sound_of(self, clip: Path, stem: str) -> Path:
        """The sound of a clip as a WAV of its own."""
        key = clip.with_suffix(".sound")
        if key in self.copied:
            return self.copied[key]
        target = self.folder / f"{stem}-sound.wav"
        run(["-i", str(clip), "-vn", "-c:a", "pcm_s16le", str(target)], what=f"take the sound out of {clip.name}")
        self.copied[key] = target
        return target


def _meta(draft: Path, root: Path, name: str, duration: int, media: dict[Path, Path]) -> None:
    """The draft's own record: a fresh id (the library's template has a fixed one, and two drafts with one id
    collide in 剪映), its name and folders, its length, and the media it holds."""
    path = draft / "draft_meta_info.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    meta.update(
        draft_id=str(uuid.uuid4()).upper(),
        draft_name=name,
        draft_fold_path=str(draft.resolve()),
        draft_root_path=str(root.resolve()),
        tm_duration=duration,
    )
    meta["draft_materials"] = [{"type": 0, "value": list(_materials(media.values()))}]
    path.write_text(json.dumps(meta, ensure_ascii=False, indent=4), encoding="utf-8")


def _materials(paths: Iterable[Path]) -> Iterable[dict[str, Any]]:
    for p in paths:
        kind = (
            "photo" if p.suffix.lower() in (".png", ".jpg", ".jpeg") else ("music" if p.suffix == ".wav" else "video")
        )
        yield {"id": str(uuid.uuid4()).upper(), "file_Path": str(p.resolve()), "extra_info": p.name, "metetype": kind}
