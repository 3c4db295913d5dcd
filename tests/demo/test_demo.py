"""`kaipai demo`: the bundled screenplay becomes a film with audible dialogue where the subtitles say,
exports an editor can open, and a master that plays in a browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import pysubs2
import pytest

from kaipai.document.io import load, update
from kaipai.service.demo import DemoResult, create_demo, run_demo
from tests.support.playback import play_to_the_end, serve_film


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    folder = tmp_path_factory.mktemp("demo") / "film"
    paths = create_demo(folder, "zh")

    def smaller(doc):  # the same film at a quarter of the pixels, to keep the suite fast
        doc.project.resolution = (640, 360)

    update(paths.document, smaller)
    return run_demo(folder, "zh")


def decode_audio(film: Path) -> tuple[np.ndarray, int, float]:
    with av.open(str(film)) as c:
        stream = c.streams.audio[0]
        pcm = np.concatenate(
            [
                f.to_ndarray().reshape(-1, stream.channels if hasattr(stream, "channels") else 2).mean(axis=1)
                if f.format.is_packed
                else f.to_ndarray().mean(axis=0)
                for f in c.decode(stream)
            ]
        )
        return pcm, stream.rate, float(c.duration) / 1e6


def test_film_is_as_long_as_the_planned_shots(demo: DemoResult) -> None:
    doc = load(demo.paths.document).doc
    planned = sum(round(s.duration * doc.project.fps) for s in doc.shots) / doc.project.fps
    with av.open(str(demo.film)) as c:
        video = c.streams.video[0]
        frames = sum(1 for _ in c.demux(video) if True) - 1  # the flush packet
        assert (video.codec_context.width, video.codec_context.height) == (640, 360)
        assert video.codec_context.pix_fmt == "yuv420p"
    assert abs(frames - planned * doc.project.fps) <= 2
    assert all(s.duration_source == "audio" for s in doc.shots if s.dialogue)


def test_every_line_is_audible_where_and_in_the_order_the_subtitles_say(demo: DemoResult) -> None:
    doc = load(demo.paths.document).doc
    subs = pysubs2.load(str(demo.outputs["subtitles (srt)"]))
    spoken = [line.text for shot in doc.ordered_shots() for line in shot.dialogue]
    assert [e.plaintext.replace("\n", "") for e in subs] == spoken
    pcm, rate, _ = decode_audio(demo.film)

    def rms(a: float, b: float) -> float:
        seg = pcm[int(a * rate) : int(b * rate)]
        return float(np.sqrt(np.mean(seg**2))) if len(seg) else 0.0

    gaps = [
        (subs[i].end / 1000 + 0.05, subs[i + 1].start / 1000 - 0.05)
        for i in range(len(subs) - 1)
        if subs[i + 1].start - subs[i].end > 400
    ]
    quiet = np.median([rms(a, b) for a, b in gaps]) if gaps else 0.0
    for event in subs:
        assert rms(event.start / 1000, event.end / 1000) > 3 * quiet + 1e-3, f"no speech under {event.plaintext!r}"


def test_exports_reopen_with_the_same_cut(demo: DemoResult) -> None:
    doc = load(demo.paths.document).doc
    order = [s.id for s in doc.ordered_shots()]
    durations = [round(s.duration * doc.project.fps) for s in doc.ordered_shots()]
    for name in ("otio", "fcpxml", "fcp7", "edl"):
        path = demo.outputs[name]
        tl = otio.adapters.read_from_file(str(path))
        video = next(t for t in tl.tracks if t.kind == otio.schema.TrackKind.Video)
        clips = list(video.find_clips())
        assert len(clips) == len(order), name
        assert [c.source_range.duration.to_frames() for c in clips] == durations, name
        if name != "edl":
            assert [c.name for c in clips] == order, name
            for c in clips:
                target = (
                    (path.parent / c.media_reference.target_url)
                    if "://" not in c.media_reference.target_url
                    else Path(c.media_reference.target_url.split("://", 1)[1])
                )
                assert target.exists(), f"{name}: {c.media_reference.target_url}"
    assert demo.outputs["storyboard"].stat().st_size > 10_000
    assert demo.outputs["contact sheet"].stat().st_size > 10_000


def test_rerunning_the_demo_renders_nothing_new(demo: DemoResult) -> None:
    again = run_demo(demo.paths.root, "zh")
    assert again.summary.generated == 0 and again.summary.reused > 0


@pytest.fixture
def served(demo: DemoResult) -> Iterator[str]:
    with serve_film(demo.film) as url:
        yield url


@pytest.mark.browser
def test_master_plays_to_the_end_in_chromium(served: str) -> None:
    # the last second and a half: seeking there also shows the film is served seekable
    assert play_to_the_end(served, last_seconds=1.5).startswith("ended after ")
