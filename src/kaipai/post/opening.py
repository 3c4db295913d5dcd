"""Labelling a finished master by encoding only its opening: every later frame and all the sound are
copied from the unlabelled master, bit for bit.

A long-GOP picture can only be cut where a keyframe (an IDR picture) starts a new group, so the
opening runs from the first frame to the first IDR at or after the notice's length. A master that
kaipai encoded has one exactly there; a master copied from its clips has one where a clip (or a
group inside it) starts, and there the notice simply stays on until that keyframe, when it comes
within :data:`LONGEST_EXTENSION` seconds; later than that, the notice keeps its length and the
frames up to the keyframe are encoded again without it. A master with no keyframe after the notice
is encoded whole.

The opening is encoded once, with the master's own settings. A single frame encoded first shows
whether those give the copied picture's parameter sets; when they do not (clips made elsewhere),
the opening is encoded under ids the picture does not use and the joined file's ``avcC`` lists both
(:mod:`kaipai.post.avc`).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from kaipai.post.aigc import AigcLabel, movflags, mp4_args
from kaipai.post.avc import AvcConfig, AvcError, merged, nal_types, relength
from kaipai.post.ffmpeg import AssemblyError, Graph, run
from kaipai.post.label import OnPicture, overlay
from kaipai.post.probe import start_seconds

#: how much longer than asked the notice may stay on to reach a keyframe, in seconds
LONGEST_EXTENSION = 8.0
IDR = 5


@dataclass(frozen=True)
class Labelled:
    """What labelling did: the notice is on frames ``[0, notice)``, frames ``[0, encoded)`` were encoded
    again and every later one copied; ``encoded`` is the whole film when nothing could be copied."""

    notice: int
    encoded: int
    frames: int

    @property
    def rest_copied(self) -> bool:
        return self.encoded < self.frames


def _frame(pts: int | None, time_base: Fraction, start: float, fps: int) -> int | None:
    """A packet's frame number from its presentation time (the stream's first frame is 0)."""
    return None if pts is None else round((float(pts * time_base) - start) * fps)


@dataclass(frozen=True)
class _Picture:
    """What joining needs to know of the unlabelled master's picture."""

    frames: int
    config: AvcConfig | None
    at: int | None = None  # the first IDR picture at or after the notice's length, as a frame number
    dts: int | None = None  # its decoding time, in the stream's time base


def _picture(path: Path, fps: int, opening: int) -> _Picture:
    """Reads packets only up to the first IDR picture at or after ``opening``."""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        try:
            config = AvcConfig.parse(bytes(s.codec_context.extradata or b""))
        except AvcError:
            return _Picture(int(s.frames or 0), None)
        start = start_seconds(s)
        count, size = 0, config.length_size
        for packet in c.demux(s):
            if packet.pts is None or not packet.size:
                continue
            count += 1
            n = _frame(packet.pts, s.time_base, start, fps)
            if n is not None and n >= opening and packet.is_keyframe and IDR in nal_types(bytes(packet), size):
                return _Picture(int(s.frames or 0), config, n, packet.dts)
        return _Picture(int(s.frames or count), config)


def _config(path: Path) -> AvcConfig | None:
    with av.open(str(path)) as c:
        try:
            return AvcConfig.parse(bytes(c.streams.video[0].codec_context.extradata or b""))
        except AvcError:
            return None


def _encode_head(
    src: Path, head: Path, p: OnPicture, *, notice: int, frames: int, fps: int, codec: list[str], sps: int | None
) -> None:
    """Frames ``[0, frames)`` of ``src`` with the notice on ``[0, notice)``, under parameter set id ``sps``."""
    g = Graph()
    g.add_input("-i", str(src))
    g.chains.append(f"[0:v]trim=end_frame={frames},setpts=PTS-STARTPTS[head]")
    label = overlay(g, "head", OnPicture(p.notice, p.images, notice), fps, mark=False)
    ids = ["-x264-params", f"sps-id={sps}"] if sps is not None else []
    cmd = [*g.args(), *g.filter_args(), "-map", f"[{label}]", *codec, *ids, "-frames:v", str(frames), "-an"]
    run([*cmd, str(head)], what="label the opening")


def _join(head: Path, src: Path, dst: Path, pic: _Picture, config: AvcConfig, aigc: AigcLabel | None) -> None:
    """The opening's packets, then the source's from its IDR picture at ``pic.at`` on, and all its sound,
    read in one pass (a feature film is never held in memory)."""
    with (
        av.open(str(src)) as source,
        av.open(str(head)) as opening,
        av.open(str(dst), "w", format="mp4", options={"movflags": movflags(aigc)}) as out,
    ):
        sv, hv = source.streams.video[0], opening.streams.video[0]
        ov = out.add_stream_from_template(sv)
        ov.codec_context.extradata = config.to_bytes()
        sound = list(source.streams.audio[:1])
        audio = {a.index: out.add_stream_from_template(a) for a in sound}
        if aigc is not None:
            out.metadata["AIGC"] = aigc.value()
        have = AvcConfig.parse(bytes(hv.codec_context.extradata)).length_size
        offset = sv.start_time or 0  # the picture's first presentation time, in its time base
        head = [pk for pk in opening.demux(hv) if pk.pts is not None and pk.size]

        def moved(ts: int | None) -> int:
            return round((ts or 0) * hv.time_base / sv.time_base) + offset

        last = max((moved(pk.dts) for pk in head), default=0)
        shift = max(0, last - pic.dts + 1) if pic.dts is not None else 0  # decoding order keeps increasing
        for pk in head:
            packet = av.Packet(relength(bytes(pk), have, config.length_size))
            packet.pts, packet.dts = moved(pk.pts), moved(pk.dts) - shift
            packet.is_keyframe = pk.is_keyframe
            packet.time_base = sv.time_base
            packet.stream = ov
            out.mux(packet)
        for pk in source.demux(sv, *sound):
            if pk.dts is None:
                continue
            if pk.stream_index == sv.index:
                if pic.dts is not None and pk.dts < pic.dts:
                    continue
                pk.stream = ov
            else:
                pk.stream = audio[pk.stream_index]
            out.mux(pk)


def label_opening(
    src: Path, dst: Path, p: OnPicture, *, fps: int, codec: list[str], aigc: AigcLabel | None
) -> Labelled:
    """Write ``src`` to ``dst`` with the notice on its opening, at least ``p.opening`` frames long.

    ``codec`` is how the master's picture is encoded (:func:`kaipai.post.ffmpeg.h264`); only the
    opening is encoded when ``src`` has an IDR picture to join at (see the module's note), else the
    whole picture. ``aigc``: the metadata label the output carries."""
    work = dst.with_name(f".{dst.stem}.opening")
    work.mkdir(parents=True, exist_ok=True)
    try:
        pic = _picture(src, fps, p.opening)
        if pic.at is not None and pic.config is not None and pic.at < pic.frames:
            at = pic.at
            notice = at if at <= p.opening + round(LONGEST_EXTENSION * fps) else p.opening
            # one frame says whether the opening comes out with the picture's own parameter sets
            # (x264's depend on its settings and the frame size, not on the pictures)
            head = work / "opening.mp4"
            _encode_head(src, head, p, notice=1, frames=1, fps=fps, codec=codec, sps=None)
            ids = None if _joined(head, pic.config) is pic.config else pic.config.free_id()
            _encode_head(src, head, p, notice=notice, frames=at, fps=fps, codec=codec, sps=ids)
            joined = _joined(head, pic.config)
            if joined is not None:
                tmp = work / "joined.mp4"
                _join(head, src, tmp, pic, joined, aigc)
                tmp.replace(dst)
                return Labelled(notice, at, pic.frames)
        g = Graph()
        g.add_input("-i", str(src))
        label = overlay(g, "0:v", p, fps)
        cmd = [*g.args(), *g.filter_args(), "-map", f"[{label}]", "-map", "0:a?", *codec, "-c:a", "copy"]
        run([*cmd, *mp4_args(aigc), str(dst)], what="label the film")
        return Labelled(p.opening, pic.frames, pic.frames)
    except (av.error.FFmpegError, AvcError) as exc:
        raise AssemblyError(f"could not label the film's opening: {exc}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _joined(head: Path, config: AvcConfig) -> AvcConfig | None:
    """The record both the opening and the picture decode with: the picture's own when the opening
    came out with the same parameter sets, both sets when their ids differ, None when they collide."""
    own = _config(head)
    if own is None:
        return None
    if own.sps == config.sps and own.pps == config.pps:
        return config
    try:
        return merged(config, own)
    except AvcError:
        return None
