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
    # the dialogue stem: the master has the beds between lines (their level is tested below)
    pcm, rate, _ = decode_audio(demo.outputs["stem dialogue"])

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


# --------------------------------------------------------------------------- the sound a viewer hears


def stereo(path: Path) -> np.ndarray:
    """Any audio (the master's AAC, a stem) as 48 kHz stereo float samples."""
    with av.open(str(path)) as c:
        resampler = av.AudioResampler(format="flt", layout="stereo", rate=48000)
        return np.concatenate(
            [f.to_ndarray().reshape(-1, 2) for frame in c.decode(c.streams.audio[0]) for f in resampler.resample(frame)]
        )


def stems_of(demo: DemoResult) -> dict[str, np.ndarray]:
    folder = demo.outputs["stem dialogue"].parent
    return {name: stereo(folder / f"{name}.wav") for name in ("dialogue", "music", "effects", "ambience")}


def db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(x**2)) + 1e-12))


def test_every_scene_has_its_ambience_and_the_planner_proposed_music(demo: DemoResult) -> None:
    doc = load(demo.paths.document).doc
    assert all(scene.ambience for scene in doc.scenes)
    assert doc.ordered_shots()[0].music, "no music cue at the opening"
    assert "雨" in doc.scenes[0].ambience  # 雨夜: the bed of the first scene has the rain in it
    stems = stems_of(demo)
    for scene in doc.scenes:
        shots = [s for s in doc.ordered_shots() if s.scene == scene.id]
        start = sum(s.duration for s in doc.ordered_shots()[: doc.ordered_shots().index(shots[0])])
        bed = stems["ambience"][int(start * 48000) : int((start + sum(s.duration for s in shots)) * 48000)]
        assert db(bed) > -60, f"no ambience under {scene.id}"
    assert db(stems["music"]) > -50 and db(stems["effects"]) > -70  # the bus arriving: engine and door


def test_the_film_is_never_silent_between_lines_and_dialogue_sits_10_lu_over_the_beds(demo: DemoResult) -> None:
    import pyloudnorm

    from kaipai.service.cut import current_cut

    master, stems = stereo(demo.film), stems_of(demo)
    dialogue = stems["dialogue"]
    beds = stems["music"] + stems["effects"] + stems["ambience"]
    window = 4800  # 0.1 s
    quiet = [
        db(master[i : i + window])
        for i in range(0, min(len(master), len(dialogue)) - window, window)
        if db(dialogue[i : i + window]) < -80
    ]
    assert len(quiet) > 50 and min(quiet) > -50, f"digital silence between lines: {min(quiet):.1f} dBFS"
    meter = pyloudnorm.Meter(48000, block_size=0.4)
    margins = []
    for line in current_cut(demo.paths).lines:
        a, b = int(line.start * 48000), int(line.end * 48000)
        if b - a >= 24000:  # the meter needs a 400 ms block
            margins.append(meter.integrated_loudness(dialogue[a:b]) - meter.integrated_loudness(beds[a:b]))
    assert len(margins) >= 10 and min(margins) >= 10, f"dialogue over the beds: {[round(m, 1) for m in margins]}"


def test_the_stems_and_the_stated_gain_add_up_to_the_master(demo: DemoResult) -> None:
    import json

    master, stems = stereo(demo.film), stems_of(demo)
    info = json.loads((demo.outputs["stem dialogue"].parent / "stems.json").read_text(encoding="utf-8"))
    total = sum(stems.values()) * 10 ** (info["gain_db"] / 20)
    lag = max(range(0, 2048, 1), key=lambda k: float(np.dot(master[k : k + 240000, 0], total[:240000, 0])))
    n = min(len(master) - lag, len(total))
    residual = master[lag : lag + n] - total[:n]
    assert db(residual) - db(master[lag : lag + n]) < -30


def frames_at(film: Path, seconds: list[float]) -> list[np.ndarray]:
    with av.open(str(film)) as c:
        stream = c.streams.video[0]
        wanted, out = sorted(seconds), []
        for frame in c.decode(stream):
            if wanted and frame.time >= wanted[0]:
                out.append(frame.to_ndarray(format="rgb24"))
                wanted.pop(0)
        return out


def test_the_film_is_clean_and_the_animatic_has_its_info_bar(demo: DemoResult) -> None:
    from kaipai.service.cut import current_cut, make_cut

    cut = current_cut(demo.paths)
    middles = [s.start + s.duration / 2 for s in cut.shots]
    animatic = make_cut(demo.paths, slate=True).film
    assert animatic.name == "animatic.mp4" and demo.film.name == "film.mp4"

    def info_bar(frame: np.ndarray) -> bool:
        """The bar: a near-black strip over the bottom 14 % whose shot id is written in yellow (255, 210, 80)."""
        strip = frame[int(frame.shape[0] * 0.87) :].astype(int)
        yellow = (strip[..., 0] > 190) & (strip[..., 1] > 150) & (strip[..., 2] < 140)
        return bool(np.median(strip) < 40 and yellow.mean() > 0.002)

    clean_frames, slated_frames = frames_at(demo.film, middles), frames_at(animatic, middles)
    assert len(clean_frames) == len(slated_frames) == len(cut.shots)
    for clean, slated in zip(clean_frames, slated_frames, strict=True):
        assert info_bar(slated) and not info_bar(clean)
        above = slice(0, int(clean.shape[0] * 0.8))  # the picture above the bar is the same picture
        assert np.abs(slated[above].astype(int) - clean[above].astype(int)).mean() < 3
