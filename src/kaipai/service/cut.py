"""Cutting the film from the circled takes, and handing it to an editor: the post side of the service API."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kaipai import __version__
from kaipai.backends.base import NotConfigured
from kaipai.document.io import atomic_write_text
from kaipai.document.models import Document
from kaipai.engine.store import Store
from kaipai.fonts import font_dir
from kaipai.post.aigc import xmp
from kaipai.post.assemble import Progress, assemble, render_stems
from kaipai.post.cut import Cut, CutShot, build_cut
from kaipai.post.ffmpeg import h264
from kaipai.post.nle_labels import label_edl
from kaipai.post.opening import label_opening
from kaipai.post.slate import draw_slate
from kaipai.post.storyboard import contact_sheet, storyboard_pdf
from kaipai.post.subtitles import write_subtitles
from kaipai.post.timeline import FORMATS, export
from kaipai.previz.draw import BAND as BAR
from kaipai.project import ProjectPaths, load_document
from kaipai.service.freshness import RECORD, fingerprint
from kaipai.service.provenance import write_provenance
from kaipai.service.publish import (
    Labelling,
    label_export_media,
    label_image,
    labelling,
    sign_master,
    signer_fingerprint,
    signing,
    timeline_decorator,
)
from kaipai.service.takes import circled_media

__all__ = ["CutResult", "Progress", "current_cut", "export_all", "make_cut"]


@dataclass
class CutResult:
    film: Path
    srt: Path
    ass: Path
    duration: float
    shots: int
    missing: list[str] = field(default_factory=list)
    loudness: dict[str, float] = field(default_factory=dict)
    labels: dict[str, Any] = field(default_factory=dict)  # what AIGC labels the master carries
    provenance: Path | None = None


def current_cut(paths: ProjectPaths) -> Cut:
    """The cut as the circled takes make it now."""
    return build_cut(load_document(paths), circled_media(paths))


def _slates(paths: ProjectPaths, cut: Cut) -> Callable[[CutShot], Path]:
    return lambda shot: draw_slate(shot, cut.width, cut.height, paths.state / "slates")


def _cached(folder: Path, kind: str, spec: str, suffix: str, write: Callable[[Path], object]) -> Path:
    """``folder/<kind>-<hash of spec><suffix>``, made by ``write`` (into a partial file, then moved) unless
    an earlier cut already made it: previz stand-ins are named by what they are drawn from."""
    path = folder / f"{kind}-{hashlib.sha256(spec.encode()).hexdigest()[:16]}{suffix}"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".partial{suffix}")
        write(tmp)
        tmp.replace(path)
    return path


def music_beds(paths: ProjectPaths, cut: Cut) -> dict[int, Path]:
    """A file per music cue: its circled bed, else a previz pad (cached by content) until one is rendered."""
    from kaipai.previz.music import write_pad

    out: dict[int, Path] = {}
    folder = paths.state / "music"
    for j, cue in enumerate(cut.music):
        if cue.path is not None and cue.path.exists():
            out[j] = cue.path
            continue
        seconds = cue.end - cue.start
        spec = f"{cue.prompt}|{seconds:.3f}"
        out[j] = _cached(folder, "pad", spec, ".wav", lambda tmp, p=cue.prompt, s=seconds: write_pad(tmp, p, s))
    return out


def _bars(paths: ProjectPaths, doc: Document, cut: Cut) -> Callable[[CutShot], Path]:
    """The animatic's info bar of each shot as a PNG (cached by content), to lay over its picture."""
    from kaipai.previz.draw import draw_info_bar

    shots = {s.id: s for s in doc.shots}
    folder = paths.state / "slates"
    language = doc.project.language.value

    def bar(cs: CutShot) -> Path:
        shot = shots[cs.shot]
        fields = shot.model_dump_json(include={"id", "size", "move", "description", "action"})
        spec = f"{fields}|{language}|{cut.width}x{cut.height}"
        return _cached(
            folder, "bar", spec, ".png", lambda tmp: draw_info_bar(shot, language, cut.width, cut.height).save(tmp)
        )

    return bar


def ambience_beds(paths: ProjectPaths, cut: Cut) -> dict[int, Path]:
    """A file per scene's bed: its circled take, else a previz bed (cached by content) until one is rendered."""
    from kaipai.previz.sound import ambience, write_wav

    out: dict[int, Path] = {}
    folder = paths.state / "ambience"
    for j, bed in enumerate(cut.beds):
        if bed.path is not None and bed.path.exists():
            out[j] = bed.path
            continue
        seconds = float(max(1, math.ceil(bed.end - bed.start + 1)))
        spec = f"{bed.description}|{seconds}"
        out[j] = _cached(
            folder, "bed", spec, ".wav", lambda tmp, d=bed.description, s=seconds: write_wav(tmp, ambience(d, s))
        )
    return out


def make_cut(
    paths: ProjectPaths,
    *,
    profile: str = "web",
    burn_subtitles: bool = False,
    on_event: Callable[[Any], None] | None = None,
    slate: bool = False,
) -> CutResult:
    """Render ``output/film.mp4``, its subtitles and ``provenance.json`` from whatever takes are circled.

    A shot with no clip yet shows its keyframe, or a slate with its description, so a partial
    film is always watchable. A film with generative takes (or ``publish: labels: on``) carries
    the AIGC labels (see :mod:`kaipai.service.publish`). The film is clean; ``slate`` renders the
    animatic instead, ``output/animatic.mp4``, with each shot's info bar over the bottom of its picture.
    """
    inputs = fingerprint(paths)
    doc = load_document(paths)
    cut = build_cut(doc, circled_media(paths))
    plan = labelling(paths, doc, cut)
    signer = signing() if plan.labelled else None  # checked before any work: a broken setup fails fast
    subs = write_subtitles(cut, paths.output)
    music = music_beds(paths, cut)
    beds = ambience_beds(paths, cut)
    name = "animatic" if slate else "film"
    film = paths.output / f"{name}.mp4"
    record = paths.output / (".animatic.json" if slate else RECORD)
    labels_key = {**plan.fingerprint(), "signer": signer_fingerprint(signer)}
    key = _cut_key(cut, {**music, **{-1 - j: p for j, p in beds.items()}}, profile, burn_subtitles, labels_key)
    saved = _unchanged(film, record, key)
    if saved is None:
        burned = None
        if burn_subtitles:
            burned = subs["ass"]
            if slate:  # above the info bar
                burned = write_subtitles(cut, paths.state / "slates", stem="animatic", above=BAR)["ass"]
        common: dict[str, Any] = {
            "profile": profile,
            "music": music,
            "beds": beds,
            "subtitles": burned,
            "fonts_dir": font_dir(),
            "slate": _slates(paths, cut),
            "bars": _bars(paths, doc, cut) if slate else None,
            "on_progress": on_event,
        }
        loudness, labels = _master(paths, cut, film, key, plan, signer, common)
    else:
        loudness, labels = saved
        if on_event is not None:
            on_event(Progress("assemble the film", 1.0))
    atomic_write_text(record, json.dumps({"key": key, "loudness": loudness, "labels": labels, "inputs": inputs}))
    record_of = paths.output / ("animatic.provenance.json" if slate else "provenance.json")
    provenance = write_provenance(record_of, cut, plan, Store(paths.store), film, labels)
    missing = [s.shot for s in cut.shots if s.picture is None]
    return CutResult(
        film=film,
        srt=subs["srt"],
        ass=subs["ass"],
        duration=cut.duration,
        shots=len(cut.shots),
        missing=missing,
        loudness=loudness,
        labels=labels,
        provenance=provenance,
    )


def _master(
    paths: ProjectPaths,
    cut: Cut,
    film: Path,
    key: str,
    plan: Labelling,
    signer: Any,
    common: dict[str, Any],
) -> tuple[dict[str, float], dict[str, Any]]:
    """Assemble the master, then label and sign it when the film calls for it.

    The labelled film is the unlabelled one with only its opening encoded again (an encoded master has
    a keyframe where the notice ends; a copied one is joined at its first keyframe after that, the
    notice staying on until there): nothing after the notice differs, frame or sample."""
    labels: dict[str, Any] = plan.summary()
    if not plan.labelled:
        return assemble(cut, film, keyframe_at=plan.opening, **common), labels
    aigc = plan.aigc(key[:32])
    picture = plan.on_picture(paths.state / "labels")
    labelled = film.with_name(f".{film.stem}.labelled.mp4")
    if picture.mark:  # the mark covers every frame: draw both in the one pass
        loudness = assemble(cut, labelled, notice=picture, aigc=aigc, stream_copy=False, **common)
        notice, encoded, copied = picture.opening, round(cut.duration * cut.fps), False
    else:
        plain = film.with_name(f".{film.stem}.plain.mp4")
        loudness = assemble(cut, plain, keyframe_at=plan.opening, **common)  # as the unlabelled film is cut
        if common["on_progress"] is not None:
            common["on_progress"](Progress("label the film", 0.0))
        try:
            done = label_opening(plain, labelled, picture, fps=cut.fps, codec=h264(cut.fps), aigc=aigc)
        finally:
            plain.unlink(missing_ok=True)
        if common["on_progress"] is not None:
            common["on_progress"](Progress("label the film", 1.0))
        notice, encoded, copied = done.notice, done.encoded, done.rest_copied
    n = picture.notice
    labels["visible"] = {
        "text": n.text,
        "frames": notice,
        "seconds": round(notice / cut.fps, 3),
        "corner": n.corner,
        "corner_mark": picture.mark,
        "font_size": n.font_size,
        "ink_px": n.ink,
        "ink_percent_of_short_side": round(100 * n.ink_ratio, 2),
        "rest_copied": copied,
        "encoded_frames": encoded,
    }
    labels["aigc"] = aigc.elements()
    labels["c2pa"] = {"signed": False}
    if signer is None:
        labelled.replace(film)
        return loudness, labels
    signed = film.with_name(f".{film.stem}.signed.mp4")
    try:
        sign_master(labelled, signed, plan, cut.title, Store(paths.store), signer)
    except BaseException:
        labelled.replace(film)  # keep the labelled film; the next cut signs it again
        raise
    labelled.unlink(missing_ok=True)
    signed.replace(film)
    labels["c2pa"] = {"signed": True, "ingredients": len(plan.generative_takes)}
    return loudness, labels


def _cut_key(cut: Cut, music: dict[int, Path], profile: str, burn: bool, labels: dict[str, Any]) -> str:
    """Everything the master is made from. Takes live in a content-addressed store, so their paths
    stand for their contents; the version stands for the assembler."""
    spec = [dataclasses.asdict(cut), {str(k): str(v) for k, v in music.items()}, profile, burn, labels, __version__]
    return hashlib.sha256(json.dumps(spec, default=str, sort_keys=True).encode()).hexdigest()


def _unchanged(film: Path, record: Path, key: str) -> tuple[dict[str, float], dict[str, Any]] | None:
    """The loudness and labels of the master on disk when it was cut from exactly this, else None (cut again)."""
    try:
        saved = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not film.exists() or not isinstance(saved, dict) or saved.get("key") != key:
        return None
    return dict(saved.get("loudness") or {}), dict(saved.get("labels") or {})


def export_all(paths: ProjectPaths, dest: Path, formats: list[str] | None = None) -> dict[str, Path]:
    """NLE timelines (OTIO, FCPXML, FCP7 XML, EDL) with their media, subtitles, audio stems, storyboard
    PDF and contact sheet, into ``dest`` (media referenced relatively, so the folder can be zipped).
    A labelled film's exports carry its labels too (see :mod:`kaipai.service.publish`)."""
    doc = load_document(paths)
    cut = build_cut(doc, circled_media(paths))
    plan = labelling(paths, doc, cut)
    content = hashlib.sha256(json.dumps(dataclasses.asdict(cut), default=str).encode()).hexdigest()
    slate = _slates(paths, cut)
    slates = {s.shot: slate(s) for s in cut.shots if s.picture is None and s.still is None}
    music = music_beds(paths, cut)
    beds = ambience_beds(paths, cut)
    chosen = formats or [*FORMATS, "subtitles", "stems", "storyboard", "contactsheet", "jianying"]
    out: dict[str, Path] = {}
    timeline_formats = [f for f in chosen if f in FORMATS]
    if timeline_formats:
        decorate = timeline_decorator(plan, dest, content[:32]) if plan.labelled else None
        out.update(export(cut, dest, timeline_formats, slates=slates, music=music, beds=beds, decorate=decorate))
        if plan.labelled:
            label_export_media(dest / "media", plan, Store(paths.store))
            if "edl" in out:
                label_edl(out["edl"], plan.aigc(content[:32]))
    stills = {s.shot: (s.still or slates.get(s.shot)) for s in cut.shots}
    stills = {k: v for k, v in stills.items() if v is not None}
    if "subtitles" in chosen:
        for name, path in write_subtitles(cut, dest).items():
            out[f"subtitles ({name})"] = path
    if "stems" in chosen:
        for name, path in render_stems(cut, dest / "stems", music, beds).items():
            out[f"stem {name}"] = path
        out["stems (gain and levels)"] = dest / "stems" / "stems.json"
    if "storyboard" in chosen:
        packet = xmp(plan.aigc(_content_id(content, "storyboard"))) if plan.labelled else None
        out["storyboard"] = storyboard_pdf(doc, cut, stills, dest / "storyboard.pdf", xmp=packet)
        out["storyboard (landscape)"] = storyboard_pdf(
            doc, cut, stills, dest / "storyboard-landscape.pdf", orientation="landscape", xmp=packet
        )
    if "contactsheet" in chosen:
        sheet = contact_sheet(cut, stills, dest / "contact-sheet.png")
        if plan.labelled:
            label_image(sheet, plan, _content_id(content, "contact-sheet"), visible=True)
        out["contact sheet"] = sheet
    if "jianying" in chosen:
        from kaipai.post.jianying import JianyingUnavailable, export_jianying

        srt = write_subtitles(cut, dest)["srt"]
        try:
            out["剪映 draft"] = export_jianying(
                cut, dest / "jianying", name=_draft_name(doc), stills=stills, music=music, beds=beds, srt=srt
            )
        except JianyingUnavailable as exc:
            if formats and "jianying" in formats:  # asked for by name: say how to get it
                raise NotConfigured(str(exc)) from None
    return out


def _draft_name(doc: Document) -> str:
    """A folder name for the draft from the film's title (剪映 lists drafts by it)."""
    name = "".join(c if c.isalnum() or c in "-_ " else "_" for c in doc.project.title).strip() or "kaipai"
    return name[:60]


def _content_id(content: str, part: str) -> str:
    """A ProduceID for one exported file of this cut."""
    return hashlib.sha256(f"{content}|{part}".encode()).hexdigest()[:32]
