"""The master, in one ffmpeg invocation: picture, transitions, dialogue, the ducked beds, loudness.

One filtergraph does everything a frame loop in Python would do, in C and in one decode/encode:
normalise every shot (scale, pad, fps) that needs it, extend short clips by freezing their last
frame (speech is never sped up), dissolve, wipe and fade, place each line of dialogue at its
sample, duck music, ambience and effects under it with sidechain compressors (:mod:`kaipai.post.mix`)
and apply the loudness gain measured beforehand on the audio alone (two-pass EBU R128). All timing
is in whole frames, so the film is exactly as long as its shots. A film of conforming H.264 clips
joined by cuts is stream-copied.

The master is clean: the animatic's info bar is laid over a shot only when ``bars`` is given (the
slate), and a picture made by the first release with the bar baked in has it cropped away.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kaipai.document.settings import frames
from kaipai.post import loudness
from kaipai.post.aigc import AigcLabel, mp4_args
from kaipai.post.cut import Cut, CutShot
from kaipai.post.ffmpeg import AssemblyError, Graph, Progress, escape, ffmpeg, h264, run
from kaipai.post.label import OnPicture, overlay
from kaipai.post.mix import RATE, STEMS, audio_chain
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


Bars = Callable[[CutShot], Path]


def _picture(
    g: Graph, seg: Segment, cut: Cut, slate: Callable[[CutShot], Path], index: int, bars: Bars | None = None
) -> str:
    """The shot's picture as exactly ``seg.length`` frames at the film's size and rate (with its info bar
    over the bottom when ``bars`` draws one)."""
    w, h, fps = cut.width, cut.height, cut.fps
    source = seg.shot.picture or seg.shot.still or slate(seg.shot)
    info = probe_video(source)
    if seg.shot.picture is not None:
        k = g.add_input("-i", str(source))
    else:  # one still frame, frozen by tpad (decoded once, not once per frame)
        k = g.add_input("-framerate", str(fps), "-i", str(source))
    parts = ["setpts=PTS-STARTPTS"]
    band = seg.shot.band if source in (seg.shot.picture, seg.shot.still) else 0.0
    if band > 0:  # a bar baked into the picture: keep what is above it, filling the frame
        parts += [
            f"crop=iw:ih*{1 - band:.6f}:0:0",
            f"scale={w}:{h}:force_original_aspect_ratio=increase",
            f"crop={w}:{h}",
            "setsar=1",
            "format=yuv420p",
        ]
    elif info is None or not info.conforms(w, h, fps) or seg.shot.picture is None:
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
    if bars is not None:
        b = g.add_input("-i", str(bars(seg.shot)))
        g.chains.append(f"[{k}:v]{','.join(parts)}[p{index}]")
        g.chains.append(f"[p{index}][{b}:v]overlay=0:main_h-overlay_h:format=auto,format=yuv420p[o{index}]")
        k, parts = -1, ["null"]
    fade = frames(seg.shot.transition_duration, fps)
    if seg.shot.transition == "fade_in" and fade:
        parts.append(f"fade=t=in:start_frame={seg.head}:nb_frames={min(fade, seg.frames)}")
    if seg.shot.transition == "fade_out" and fade:
        parts.append(
            f"fade=t=out:start_frame={seg.head + seg.frames - min(fade, seg.frames)}:nb_frames={min(fade, seg.frames)}"
        )
    source_label = f"[o{index}]" if k < 0 else f"[{k}:v]"
    g.chains.append(f"{source_label}{','.join(parts)}[v{index}]")
    return f"v{index}"


def video_chain(g: Graph, cut: Cut, slate: Callable[[CutShot], Path], bars: Bars | None = None) -> str:
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
        label = _picture(g, seg, cut, slate, i, bars)
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
        if seg.shot.band > 0:
            return None
        info = probe_video(pic)
        if info is None or not info.copyable(cut.width, cut.height, cut.fps, seg.frames):
            return None
        setups.add(info.extradata)
        paths.append(pic)
    return paths if len(setups) == 1 and None not in setups else None


def loudness_gain(
    cut: Cut,
    music: dict[int, Path],
    profile: str,
    on_progress: Callable[[Progress], None] | None = None,
    beds: dict[int, Path] | None = None,
) -> tuple[str, dict[str, float]]:
    """First pass on the audio alone: the gain chain for the encode and what was measured (with the gain
    in dB and whether a limiter follows it)."""
    if not cut.lines and not music and not beds and not any(s.effects or s.sound for s in cut.shots):
        return "anull", {}
    if on_progress is not None:
        on_progress(Progress("measure loudness", 0.0))

    def mix_only() -> tuple[Graph, str]:
        g = Graph()
        return g, audio_chain(g, cut, music, beds)["mix"]

    g, mix = mix_only()
    measured = loudness.measure(g, mix)
    trim = 0.0
    limited = loudness.needs_limiter(measured, profile)
    if limited:
        # the limiter takes some loudness off the peaks; measure the limited mix once and make it up
        g, mix = mix_only()
        g.chains.append(f"[{mix}]{loudness.normalise(measured, profile)}[limited]")
        after = loudness.measure(g, "limited")
        trim = max(0.0, min(6.0, loudness.PROFILES[profile][0] - after.integrated))
    if on_progress is not None:
        on_progress(Progress("measure loudness", 1.0))
    stated = {"trim_db": trim, "gain_db": loudness.gain_db(measured, profile, trim), "limiter": float(limited)}
    return loudness.normalise(measured, profile, trim), {**measured.as_dict(), **stated}


def assemble(
    cut: Cut,
    out: Path,
    *,
    profile: str = "web",
    music: dict[int, Path] | None = None,
    beds: dict[int, Path] | None = None,
    subtitles: Path | None = None,
    fonts_dir: Path | None = None,
    slate: Callable[[CutShot], Path],
    bars: Bars | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    preset: str = "veryfast",
    keyframe_at: int | None = None,
    notice: OnPicture | None = None,
    aigc: AigcLabel | None = None,
    stream_copy: bool = True,
) -> dict[str, float]:
    """Render the master to ``out``; return the loudness measured before normalisation and the gain applied.

    ``bars`` draws a shot's info bar: given, every shot carries it (the animatic, ``kaipai cut --slate``).
    ``keyframe_at``: a frame that starts a new GOP (where an AIGC notice ends, so the opening can be
    labelled alone later); ``notice``: the notice laid over the picture in this pass; ``aigc``: the
    AIGC metadata label; ``stream_copy``: False encodes the picture even when the clips could be copied.
    """
    if profile not in PROFILES:
        raise AssemblyError(f"unknown delivery profile {profile!r}; choose {', '.join(PROFILES)}")
    if not cut.shots:
        raise AssemblyError("the cut has no shots; plan the film first (kaipai plan)")
    music = music or {}
    gain, measured = loudness_gain(cut, music, profile, on_progress, beds)
    segs = plan_segments(cut)
    total_frames = sum(s.frames for s in segs)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.partial{out.suffix}")
    g = Graph()
    copyable = stream_copy and subtitles is None and notice is None and bars is None
    clips = copy_list(cut, segs) if copyable else None
    if clips is not None:
        listing = out.with_name(f".{out.stem}.clips.txt")
        listing.write_text("".join(f"file '{_concat_quote(p.resolve())}'\n" for p in clips), encoding="utf-8")
        g.add_input("-f", "concat", "-safe", "0", "-i", str(listing))
        video_map, video_codec = "0:v:0", ["-c:v", "copy"]
    else:
        label = video_chain(g, cut, slate, bars)
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
    mix = audio_chain(g, cut, music, beds)["mix"]
    g.chains.append(f"[{mix}]{gain},aresample={RATE}[sound]")
    cmd = [
        *g.args(), *g.filter_args(),
        "-map", video_map, "-map", "[sound]",
        *video_codec, "-frames:v", str(total_frames),
        "-c:a", "aac", "-b:a", "320k", "-ar", str(RATE),
        *mp4_args(aigc), str(tmp),
    ]  # fmt: skip
    try:
        run(cmd, total=total_frames / cut.fps, on_progress=on_progress, what="assemble the film")
    finally:
        if clips is not None:
            out.with_name(f".{out.stem}.clips.txt").unlink(missing_ok=True)
    tmp.replace(out)
    return {**measured, "stream_copy": float(clips is not None)}


def render_stems(
    cut: Cut,
    dest: Path,
    music: dict[int, Path] | None = None,
    beds: dict[int, Path] | None = None,
    profile: str = "web",
) -> dict[str, Path]:
    """Dialogue, music, effects and ambience stems as WAV (each ducked as in the master), sample-aligned
    with the master, in one ffmpeg pass, and ``stems.json`` beside them.

    The stems add up to the master's mix before its loudness gain; ``stems.json`` states that gain (and
    whether a limiter followed it), so an editor who sums the stems and applies it has the master's sound.
    """
    dest.mkdir(parents=True, exist_ok=True)
    music = music or {}
    _chain, measured = loudness_gain(cut, music, profile, beds=beds)
    limited = bool(measured.get("limiter", 0.0))
    total = max(1, round(cut.duration * RATE))
    stems = {name: dest / f"{name}.wav" for name in STEMS}
    g = Graph()
    labels = audio_chain(g, cut, music, beds, outputs=(*STEMS, "mix") if limited else STEMS)
    raw = {name: dest / f".{name}.unlimited.wav" for name in (*STEMS, "mix")} if limited else stems
    cmd = [*g.args(), *g.filter_args()]
    for name, path in raw.items():
        cmd += ["-map", f"[{labels[name]}]", "-c:a", "pcm_f32le" if limited else "pcm_s16le", "-ar", str(RATE)]
        cmd.append(str(path))
    run(cmd, what="render the audio stems")
    if limited:  # the master's limiter, keyed on the gained mix, takes the same off every stem
        g = Graph()
        for name in (*STEMS, "mix"):
            g.add_input("-i", str(raw[name]))
        keys = "".join(f"[key_{name}]" for name in STEMS)
        g.chains.append(f"[{len(STEMS)}:a]volume={measured['gain_db']:.3f}dB,apad,asplit={len(STEMS)}{keys}")
        for k, name in enumerate(STEMS):
            g.chains.append(
                f"[{k}:a][key_{name}]{loudness.limiter(profile)},apad=whole_len={total},atrim=end_sample={total}"
                f"[lim_{name}]"
            )
        cmd = [*g.args(), *g.filter_args()]
        for name, path in stems.items():
            cmd += ["-map", f"[lim_{name}]", "-c:a", "pcm_s16le", "-ar", str(RATE), str(path)]
        try:
            run(cmd, what="limit the audio stems as the master is")
        finally:
            for path in raw.values():
                path.unlink(missing_ok=True)
    info = {
        "sample_rate": RATE,
        "stems": {name: path.name for name, path in stems.items()},
        "sum": "the stems add up to the master's mix before its loudness gain",
        "profile": profile,
        "target_lufs": loudness.PROFILES[profile][0],
        "gain_db": measured.get("gain_db", 0.0),
        "limiter": limited,
        "limiter_note": "the master's peak limiter is applied to each stem (keyed on the whole mix)" if limited else "",
        "measured_lufs": measured.get("input_i"),
    }
    (dest / "stems.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    return stems


def _concat_quote(path: Path) -> str:
    """A path inside single quotes in an ffmpeg concat list."""
    return str(path).replace("'", "'\\''")
