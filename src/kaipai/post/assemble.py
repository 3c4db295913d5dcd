"""The master, in one ffmpeg invocation: picture, transitions, dialogue, ducked music, loudness.

One filtergraph does everything a frame loop in Python would do, in C and in one decode/encode:
normalise every shot (scale, pad, fps) that needs it, extend short clips by freezing their last
frame (speech is never sped up), dissolve, wipe and fade, place each line of dialogue at its
sample, duck the music under it with a sidechain compressor and apply the loudness gain measured
beforehand on the audio alone (two-pass EBU R128). All timing is in whole frames, so the film is
exactly as long as its shots. A film of conforming H.264 clips joined by cuts is stream-copied.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kaipai.document.models import frames
from kaipai.post import loudness
from kaipai.post.aigc import AigcLabel, mp4_args
from kaipai.post.cut import Cut, CutShot
from kaipai.post.ffmpeg import AssemblyError, Graph, Progress, escape, ffmpeg, h264, run
from kaipai.post.label import OnPicture, overlay
from kaipai.post.mix import RATE, audio_chain
from kaipai.post.probe import probe_video

__all__ = ["PROFILES", "AssemblyError", "Progress", "assemble", "ffmpeg", "plan_segments", "render_stems", "run"]

#: delivery profile → integrated loudness target (LUFS)
PROFILES = {name: target for name, (target, _peak) in loudness.PROFILES.items()}
XFADE = {"dissolve": "fade", "wipe": "wipeleft"}


@dataclass
class Segment:
    """One shot's picture on the video track, in frames."""

    shot: CutShot
    frames: int  # the shot's own length
    head: int = 0  # freeze frames before it, paying for the transition into it
    tail: int = 0  # frames after it (real ones if the clip has them, else frozen) for the one out of it
    join: int = 0  # frames of dissolve/wipe into it; 0 is a cut

    @property
    def length(self) -> int:
        return self.head + self.frames + self.tail


def plan_segments(cut: Cut) -> list[Segment]:
    """Frame counts of every shot and its handles; transitions are centred on the cut."""
    segs = [Segment(s, max(1, frames(s.duration, cut.fps))) for s in cut.shots]
    for prev, seg in itertools.pairwise(segs):
        if seg.shot.transition in XFADE and seg.shot.transition_duration > 0:
            d = min(frames(seg.shot.transition_duration, cut.fps), prev.frames, seg.frames)
            if d >= 2:
                seg.join, prev.tail, seg.head = d, d // 2, d - d // 2
    return segs


def _seconds(n: int, fps: int) -> str:
    return f"{n / fps:.6f}"


def _picture(g: Graph, seg: Segment, cut: Cut, slate: Callable[[CutShot], Path], index: int) -> str:
    """The shot's picture as exactly ``seg.length`` frames at the film's size and rate."""
    w, h, fps = cut.width, cut.height, cut.fps
    source = seg.shot.picture or seg.shot.still or slate(seg.shot)
    info = probe_video(source)
    if seg.shot.picture is not None:
        k = g.add_input("-i", str(source))
    else:  # one still frame, frozen by tpad (decoded once, not once per frame)
        k = g.add_input("-framerate", str(fps), "-i", str(source))
    parts = ["setpts=PTS-STARTPTS"]
    if info is None or not info.conforms(w, h, fps) or seg.shot.picture is None:
        parts += [
            f"scale={w}:{h}:force_original_aspect_ratio=decrease",
            f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color=black",
            "setsar=1",
            "format=yuv420p",
        ]
    parts.append(f"fps={fps}")  # also gives every shot the same time base, which xfade and concat need
    # one tpad for both ends: two in a row mis-time the clones of a one-frame still
    head = f"start_mode=clone:start={seg.head}:" if seg.head else ""
    parts += [f"tpad={head}stop_mode=clone:stop={seg.length}", f"trim=end_frame={seg.length}", "setpts=PTS-STARTPTS"]
    fade = frames(seg.shot.transition_duration, fps)
    if seg.shot.transition == "fade_in" and fade:
        parts.append(f"fade=t=in:start_frame={seg.head}:nb_frames={min(fade, seg.frames)}")
    if seg.shot.transition == "fade_out" and fade:
        parts.append(
            f"fade=t=out:start_frame={seg.head + seg.frames - min(fade, seg.frames)}:nb_frames={min(fade, seg.frames)}"
        )
    g.chains.append(f"[{k}:v]{','.join(parts)}[v{index}]")
    return f"v{index}"


def video_chain(g: Graph, cut: Cut, slate: Callable[[CutShot], Path]) -> str:
    """Add the picture of every shot and their transitions; return the output label.

    Every shot is split into its body and the frames it shares with its neighbours; only those
    shared frames go through a transition filter, and the pieces are joined by one concat. (A
    chain of xfades would pass every frame of the film through every transition before it.)
    A dissolve is the incoming shot faded in over the outgoing one by ``overlay``, which has SIMD
    code; xfade blends in plain C and costs about twice as much per frame at 1080p.
    """
    fps = cut.fps
    segs = plan_segments(cut)
    pieces: list[str] = []
    tails: dict[int, str] = {}
    for i, seg in enumerate(segs):
        label = _picture(g, seg, cut, slate, i)
        lead = seg.join if i else 0
        trail = segs[i + 1].join if i + 1 < len(segs) else 0
        body = seg.length - lead - trail
        if not lead and not trail:
            pieces.append(label)
            continue
        outs = [name for name, n in ((f"h{i}", lead), (f"b{i}", body), (f"t{i}", trail)) if n > 0]
        g.chains.append(f"[{label}]split={len(outs)}{''.join(f'[{o}]' for o in outs)}")
        if lead:
            g.chains.append(f"[h{i}]trim=end_frame={lead},setpts=PTS-STARTPTS[hh{i}]")
            g.chains.append(_join(tails[i - 1], f"hh{i}", seg.shot.transition, lead, fps, f"j{i}"))
            pieces.append(f"j{i}")
        if body:
            g.chains.append(f"[b{i}]trim=start_frame={lead}:end_frame={lead + body},setpts=PTS-STARTPTS[bb{i}]")
            pieces.append(f"bb{i}")
        if trail:
            g.chains.append(f"[t{i}]trim=start_frame={lead + body},setpts=PTS-STARTPTS[tt{i}]")
            tails[i] = f"tt{i}"
    if len(pieces) == 1:
        return pieces[0]
    g.chains.append(f"{''.join(f'[{x}]' for x in pieces)}concat=n={len(pieces)}:v=1:a=0[picture]")
    return "picture"


def _join(outgoing: str, incoming: str, transition: str, n: int, fps: int, out: str) -> str:
    """The ``n`` frames two shots share, from all ``outgoing`` to all ``incoming``."""
    if transition == "dissolve":
        return (
            f"[{incoming}]format=yuva420p,fade=t=in:start_frame=0:nb_frames={n}:alpha=1[{out}a];"
            f"[{outgoing}][{out}a]overlay=format=yuv420:shortest=1[{out}]"
        )
    return f"[{outgoing}][{incoming}]xfade=transition={XFADE[transition]}:duration={_seconds(n, fps)}:offset=0[{out}]"


def copy_list(cut: Cut, segs: list[Segment]) -> list[Path] | None:
    """The clips, when the picture can be stream-copied: cuts only, every clip already conforming
    H.264 of exactly its shot's length with the same codec setup. None when anything needs encoding."""
    paths: list[Path] = []
    setups = set()
    for seg in segs:
        pic = seg.shot.picture
        if pic is None or seg.join or seg.shot.transition in ("fade_in", "fade_out", "dissolve", "wipe"):
            return None
        info = probe_video(pic)
        if info is None or not info.copyable(cut.width, cut.height, cut.fps, seg.frames):
            return None
        setups.add(info.extradata)
        paths.append(pic)
    return paths if len(setups) == 1 and None not in setups else None


def loudness_gain(
    cut: Cut, music: dict[int, Path], profile: str, on_progress: Callable[[Progress], None] | None = None
) -> tuple[str, dict[str, float]]:
    """First pass on the audio alone: the gain chain for the encode and what was measured."""
    if not cut.lines and not music:
        return "anull", {}
    if on_progress is not None:
        on_progress(Progress("measure loudness", 0.0))
    g = Graph()
    dlg, mus, mix = audio_chain(g, cut, music)
    g.discard(dlg, mus)
    measured = loudness.measure(g, mix)
    trim = 0.0
    if loudness.needs_limiter(measured, profile):
        # the limiter takes some loudness off the peaks; measure the limited mix once and make it up
        g = Graph()
        dlg, mus, mix = audio_chain(g, cut, music)
        g.discard(dlg, mus)
        g.chains.append(f"[{mix}]{loudness.normalise(measured, profile)}[limited]")
        after = loudness.measure(g, "limited")
        trim = max(0.0, min(6.0, loudness.PROFILES[profile][0] - after.integrated))
    if on_progress is not None:
        on_progress(Progress("measure loudness", 1.0))
    return loudness.normalise(measured, profile, trim), {**measured.as_dict(), "trim_db": trim}


def assemble(
    cut: Cut,
    out: Path,
    *,
    profile: str = "web",
    music: dict[int, Path] | None = None,
    subtitles: Path | None = None,
    fonts_dir: Path | None = None,
    slate: Callable[[CutShot], Path],
    on_progress: Callable[[Progress], None] | None = None,
    preset: str = "veryfast",
    keyframe_at: int | None = None,
    notice: OnPicture | None = None,
    aigc: AigcLabel | None = None,
    stream_copy: bool = True,
) -> dict[str, float]:
    """Render the master to ``out``; return the loudness measured before normalisation.

    ``keyframe_at``: a frame that starts a new GOP (where an AIGC notice ends, so the opening can be
    labelled alone later); ``notice``: the notice laid over the picture in this pass; ``aigc``: the
    AIGC metadata label; ``stream_copy``: False encodes the picture even when the clips could be copied.
    """
    if profile not in PROFILES:
        raise AssemblyError(f"unknown delivery profile {profile!r}; choose {', '.join(PROFILES)}")
    if not cut.shots:
        raise AssemblyError("the cut has no shots; plan the film first (kaipai plan)")
    music = music or {}
    gain, measured = loudness_gain(cut, music, profile, on_progress)
    segs = plan_segments(cut)
    total_frames = sum(s.frames for s in segs)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.partial{out.suffix}")
    g = Graph()
    copyable = stream_copy and subtitles is None and notice is None
    clips = copy_list(cut, segs) if copyable else None
    if clips is not None:
        listing = out.with_name(f".{out.stem}.clips.txt")
        listing.write_text("".join(f"file '{_concat_quote(p.resolve())}'\n" for p in clips), encoding="utf-8")
        g.add_input("-f", "concat", "-safe", "0", "-i", str(listing))
        video_map, video_codec = "0:v:0", ["-c:v", "copy"]
    else:
        label = video_chain(g, cut, slate)
        if subtitles is not None:
            fonts = f":fontsdir={escape(str(fonts_dir))}" if fonts_dir else ""
            g.chains.append(f"[{label}]subtitles=filename={escape(str(subtitles))}{fonts}[burned]")
            label = "burned"
        if notice is not None:
            label = overlay(g, label, notice, cut.fps)
        video_map = f"[{label}]"
        video_codec = h264(cut.fps, preset)
        if keyframe_at is not None and 0 < keyframe_at < total_frames:
            video_codec += ["-force_key_frames", f"expr:eq(n,{keyframe_at})"]
    dlg, mus, mix = audio_chain(g, cut, music)
    g.discard(dlg, mus)
    g.chains.append(f"[{mix}]{gain},aresample={RATE}[sound]")
    cmd = [
        *g.args(), *g.filter_args(),
        "-map", video_map, "-map", "[sound]",
        *video_codec, "-frames:v", str(total_frames),
        "-c:a", "aac", "-b:a", "192k", "-ar", str(RATE),
        *mp4_args(aigc), str(tmp),
    ]  # fmt: skip
    try:
        run(cmd, total=total_frames / cut.fps, on_progress=on_progress, what="assemble the film")
    finally:
        if clips is not None:
            out.with_name(f".{out.stem}.clips.txt").unlink(missing_ok=True)
    tmp.replace(out)
    return {**measured, "stream_copy": float(clips is not None)}


def render_stems(cut: Cut, dest: Path, music: dict[int, Path] | None = None) -> dict[str, Path]:
    """Dialogue, music (ducked, as in the master) and effects stems as WAV, sample-aligned with the
    master, in one ffmpeg pass."""
    dest.mkdir(parents=True, exist_ok=True)
    g = Graph()
    dlg, mus, mix = audio_chain(g, cut, music or {})
    g.discard(mix)
    g.chains.append(f"anullsrc=r={RATE}:cl=stereo,atrim=end_sample={max(1, round(cut.duration * RATE))}[fx]")
    stems = {"dialogue": dest / "dialogue.wav", "music": dest / "music.wav", "effects": dest / "effects.wav"}
    cmd = [*g.args(), *g.filter_args()]
    for label, path in zip((dlg, mus, "fx"), stems.values(), strict=True):
        cmd += ["-map", f"[{label}]", "-c:a", "pcm_s16le", "-ar", str(RATE), str(path)]
    run(cmd, what="render the audio stems")
    return stems


def _concat_quote(path: Path) -> str:
    """A path inside single quotes in an ffmpeg concat list."""
    return str(path).replace("'", "'\\''")
