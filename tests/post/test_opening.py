"""Labelling a finished master by its opening alone: after the notice every frame, every packet and
every sample is the unlabelled master's, whether kaipai encoded the master or copied it from clips
made with other settings; the joined file decodes without an error in ffmpeg and shows the right
pictures in Chromium on both sides of the join."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

from kaipai.post import label, opening
from kaipai.post.aigc import AigcLabel, media_tags, parse
from kaipai.post.assemble import assemble
from kaipai.post.avc import AvcConfig
from kaipai.post.ffmpeg import ffmpeg, h264
from kaipai.post.opening import Labelled, label_opening
from tests.support.media import FPS, PATTERN_SIZE, Media, pattern_cut, pictures_and_sound
from tests.support.playback import CHROMIUM, frames_at, play_to_the_end, serve_film

W, H = PATTERN_SIZE
#: clips made elsewhere: the second shot, and its keyframe, starts at 3.2 s (frame 80)
SHOTS = [("testsrc2", 3.2), ("testsrc", 1.6), ("mandelbrot", 2.4)]
NOTICE = 63  # 2.5 s at 25 fps, rounded up to whole frames
TEXTS = ["AI生成", "AI generated"]


def packets_from(path: Path, frame: int) -> list[bytes]:
    """The picture's packets in decoding order from the one showing ``frame`` on."""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        packets = [p for p in c.demux(s) if p.size]
    start = next(i for i, p in enumerate(packets) if round(float(p.pts * s.time_base) * FPS) == frame)
    return [bytes(p) for p in packets[start:]]


def decoding_errors(path: Path) -> str:
    done = subprocess.run([ffmpeg(), "-v", "error", "-i", str(path), "-f", "null", "-"], capture_output=True, text=True)
    return done.stderr.strip()


def noticed(frames: list[np.ndarray]) -> list[int]:
    return [i for i, f in enumerate(frames) if label.find(f, TEXTS) is not None]


def on_picture(folder: Path, corner: str = "top_left", frames: int = NOTICE) -> label.OnPicture:
    n = label.notice("AI生成", W, H, corner)
    return label.OnPicture(n, label.write_images(n, folder / "labels"), frames)


def test_an_encoded_master_keeps_everything_after_the_notice(tmp_path: Path, media: Media) -> None:
    """kaipai encodes the master with a keyframe where the notice ends: only the notice is new."""
    cut = pattern_cut(tmp_path, media, SHOTS, "-preset", "ultrafast")
    plain = tmp_path / "plain.mp4"
    assemble(cut, plain, slate=media.slate(), keyframe_at=NOTICE, stream_copy=False)
    picture = on_picture(tmp_path)
    aigc = AigcLabel.first_write("kaipai", "film-1")
    labelled = tmp_path / "labelled.mp4"
    done = label_opening(plain, labelled, picture, fps=FPS, codec=h264(FPS), aigc=aigc)
    assert done == Labelled(notice=NOTICE, encoded=NOTICE, frames=180) and done.rest_copied
    before, sound_before = pictures_and_sound(plain)
    after, sound_after = pictures_and_sound(labelled)
    assert len(before) == len(after) == round(cut.duration * FPS)
    assert all(np.array_equal(a, b) for a, b in zip(before[NOTICE:], after[NOTICE:], strict=True))
    assert packets_from(plain, NOTICE) == packets_from(labelled, NOTICE)
    assert np.array_equal(sound_before, sound_after)
    assert noticed(after) == list(range(NOTICE))
    heights = [label.look(f, picture.notice).ink for f in after[:NOTICE]]
    assert min(heights) >= 0.05 * H, f"ink {min(heights)} px is under 5 % of {H}"
    assert parse(media_tags(labelled)["AIGC"]) == aigc
    # the parameter sets were the master's own: the file describes one setup, as before
    with av.open(str(plain)) as a, av.open(str(labelled)) as b:
        assert a.streams.video[0].codec_context.extradata == b.streams.video[0].codec_context.extradata


@pytest.mark.parametrize(
    "x264",
    [("-preset", "ultrafast"), ("-preset", "medium", "-crf", "30"), ("-preset", "slow", "-x264-params", "ref=5")],
    ids=["baseline", "b-frames", "five-references"],
)
def test_a_copied_master_is_joined_at_its_next_keyframe(tmp_path: Path, media: Media, x264: tuple[str, ...]) -> None:
    """Clips encoded elsewhere are copied into the master; the notice stays on until the second shot's
    keyframe (3.2 s), and from there the labelled film is the unlabelled one, packet for packet."""
    cut = pattern_cut(tmp_path, media, SHOTS, *x264)
    plain = tmp_path / "plain.mp4"
    assert assemble(cut, plain, slate=media.slate(), keyframe_at=NOTICE)["stream_copy"] == 1.0
    labelled = tmp_path / "labelled.mp4"
    done = label_opening(plain, labelled, on_picture(tmp_path), fps=FPS, codec=h264(FPS), aigc=None)
    assert done == Labelled(notice=80, encoded=80, frames=180)
    before, sound_before = pictures_and_sound(plain)
    after, sound_after = pictures_and_sound(labelled)
    assert len(after) == 180 and noticed(after) == list(range(80))
    assert all(np.array_equal(a, b) for a, b in zip(before[80:], after[80:], strict=True))
    assert packets_from(plain, 80) == packets_from(labelled, 80)
    assert np.array_equal(sound_before, sound_after)
    assert decoding_errors(labelled) == ""
    with av.open(str(plain)) as a, av.open(str(labelled)) as b:
        clips = AvcConfig.parse(bytes(a.streams.video[0].codec_context.extradata))
        joined = AvcConfig.parse(bytes(b.streams.video[0].codec_context.extradata))
    assert joined.sps[: len(clips.sps)] == clips.sps and len(joined.sps) == len(clips.sps) + 1


def test_a_keyframe_long_after_the_notice_leaves_the_notice_its_length(
    tmp_path: Path, media: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(opening, "LONGEST_EXTENSION", 0.4)
    cut = pattern_cut(tmp_path, media, SHOTS, "-preset", "ultrafast")
    plain = tmp_path / "plain.mp4"
    assemble(cut, plain, slate=media.slate())
    labelled = tmp_path / "labelled.mp4"
    done = label_opening(plain, labelled, on_picture(tmp_path), fps=FPS, codec=h264(FPS), aigc=None)
    assert done == Labelled(notice=NOTICE, encoded=80, frames=180)
    before, _ = pictures_and_sound(plain)
    after, _ = pictures_and_sound(labelled)
    assert noticed(after) == list(range(NOTICE))
    assert all(np.array_equal(a, b) for a, b in zip(before[80:], after[80:], strict=True))


def test_a_master_without_a_later_keyframe_is_labelled_whole(tmp_path: Path, media: Media) -> None:
    """One group of pictures from start to end: nothing can be copied, so the picture is encoded."""
    plain = tmp_path / "plain.mp4"
    subprocess.run(
        [ffmpeg(), "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={W}x{H}:rate={FPS}", "-t", "4",
         "-c:v", "libx264", "-g", "1000", "-sc_threshold", "0", "-pix_fmt", "yuv420p", str(plain)],
        check=True,
    )  # fmt: skip
    picture = on_picture(tmp_path, "top_right", 51)
    out = tmp_path / "labelled.mp4"
    done = label_opening(plain, out, picture, fps=FPS, codec=h264(FPS), aigc=None)
    assert done == Labelled(notice=51, encoded=100, frames=100) and not done.rest_copied
    frames, _ = pictures_and_sound(out)
    assert [i for i, f in enumerate(frames) if label.look(f, picture.notice)] == list(range(51))


@pytest.mark.browser
def test_chromium_shows_the_right_pictures_on_both_sides_of_the_join(tmp_path: Path, media: Media) -> None:
    """The joined file lists two setups; a browser must decode the opening with one and the copied
    clips with the other, seeking into either, and play it through."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM}")
    cut = pattern_cut(tmp_path, media, SHOTS, "-preset", "medium", "-crf", "30")
    plain = tmp_path / "plain.mp4"
    assemble(cut, plain, slate=media.slate())
    film = tmp_path / "site" / "labelled.mp4"
    film.parent.mkdir()
    label_opening(plain, film, on_picture(tmp_path), fps=FPS, codec=h264(FPS), aigc=None)
    decoded, _ = pictures_and_sound(film)
    wanted = [10, 79, 80, 81, 120, 179]
    with serve_film(film) as url:
        shown = frames_at(url, [(n + 0.5) / FPS for n in wanted])
        assert play_to_the_end(url, timeout_ms=30000) == "ended after 7.20"
    for n, picture in zip(wanted, shown, strict=True):
        right = float(np.abs(picture.astype(float) - decoded[n]).mean())
        others = [float(np.abs(picture.astype(float) - decoded[m]).mean()) for m in (n - 1, n + 1) if 0 <= m < 180]
        assert right < 4 and all(right < o for o in others), (n, right, others)
    assert label.find(shown[1], TEXTS) is not None and label.find(shown[2], TEXTS) is None
