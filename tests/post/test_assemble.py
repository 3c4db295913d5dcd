"""The master from test clips: length to the frame, sound in sync at every cut, loudness on target,
transitions of the right length, subtitles that match the dialogue."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pyloudnorm
import pytest

from kaipai.post.assemble import assemble
from kaipai.post.cut import Cut, CutLine, CutShot
from tests.support.media import FPS, H, Media, W

COLOURS = ["red", "blue", "green", "yellow"]


def beep_flash_cut(tmp: Path, transition: str = "cut", td: float = 0.0) -> Cut:
    """Four shots; in each, frame 12 flashes white and a beep starts at that moment."""
    cut = Cut(title="sync", language="en", width=W, height=H, fps=FPS)
    t = 0.0
    media = Media(tmp)
    beep = media.tone("beep", 0.12)
    for i, colour in enumerate(COLOURS):
        duration = 2.0 + 0.4 * i
        # shot 3's clip is shorter than the shot: it must be frozen, never sped up
        source = media.clip(f"c{i}", colour, duration if i != 2 else 1.0, 12)
        cut.shots.append(
            CutShot(
                shot=f"S{i}",
                start=t,
                duration=duration,
                picture=source,
                still=None,
                description=colour,
                transition=transition if i else "cut",
                transition_duration=td if i else 0.0,
            )
        )
        cut.lines.append(
            CutLine(
                line=f"L{i}",
                speaker="a",
                name="A",
                text=f"line {i}",
                translation="",
                path=beep,
                start=t + 12 / FPS,
                end=t + 12 / FPS + 0.12,
                on_screen=True,
            )
        )
        t += duration
    return cut


def decode(film: Path) -> tuple[list[np.ndarray], np.ndarray, int]:
    with av.open(str(film)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    with av.open(str(film)) as c:
        chunks = [f.to_ndarray() for f in c.decode(audio=0)]
        rate = c.streams.audio[0].rate
    stereo = np.concatenate([ch.T if ch.ndim == 2 and ch.shape[0] <= 2 else ch.reshape(-1, 2) for ch in chunks])
    return frames, stereo, rate


def test_length_to_the_frame_and_sync_at_every_cut(tmp_path: Path) -> None:
    cut = beep_flash_cut(tmp_path)
    film = tmp_path / "film.mp4"
    assemble(cut, film, slate=Media(tmp_path).slate())
    frames, stereo, rate = decode(film)
    pcm = stereo.mean(axis=1)
    assert len(frames) == round(cut.duration * FPS)
    flashes = [i for i, f in enumerate(frames) if f.mean() > 220]
    block = int(0.005 * rate)
    env = np.sqrt(np.mean(pcm[: len(pcm) // block * block].reshape(-1, block) ** 2, axis=1))
    quiet = int(0.1 / 0.005)
    onsets = [i * 0.005 for i in range(quiet, len(env)) if env[i] > 0.05 and env[i - quiet : i].max() < 0.01]
    assert len(flashes) == len(onsets) == 4
    for frame, onset in zip(flashes, onsets, strict=True):
        assert abs(frame / FPS - onset) <= 1 / FPS, "sound and picture drifted apart"
    # the shortened clip (shot 3) is held on its last frame, not sped up: its shot keeps its length
    s2 = cut.shots[2]
    held = frames[round((s2.start + 1.2) * FPS) : round(s2.end * FPS)]
    assert all(np.array_equal(held[0], f) for f in held[1:])


@pytest.mark.parametrize(("profile", "target"), [("web", -14.0), ("broadcast", -23.0)])
def test_loudness_on_target(tmp_path: Path, profile: str, target: float) -> None:
    cut = Cut(title="loud", language="en", width=W, height=H, fps=FPS)
    speech = Media(tmp_path).tone("speech", 5.0, freq=220, amp=0.1, wobble=True)
    cut.shots.append(CutShot(shot="S0", start=0, duration=6.0, picture=None, still=None, description="a slate"))
    cut.lines.append(
        CutLine(
            line="L0", speaker="a", name="A", text="hi", translation="", path=speech, start=0.5, end=5.5, on_screen=True
        )
    )
    film = tmp_path / "film.mp4"
    assemble(cut, film, profile=profile, slate=Media(tmp_path).slate())
    _, stereo, rate = decode(film)
    measured = pyloudnorm.Meter(rate).integrated_loudness(stereo)
    assert abs(measured - target) <= 1.0


def test_dissolves_have_their_length_and_keep_the_film_length(tmp_path: Path) -> None:
    cut = beep_flash_cut(tmp_path, transition="dissolve", td=1.0)
    film = tmp_path / "film.mp4"
    assemble(cut, film, slate=Media(tmp_path).slate())
    frames, _, _ = decode(film)
    assert len(frames) == round(cut.duration * FPS)
    # between red and blue: frames whose colour is neither pure red nor pure blue
    boundary = round(cut.shots[1].start * FPS)
    window = frames[boundary - FPS : boundary + FPS]
    red, blue = np.array([254, 0, 0]), np.array([0, 0, 254])
    mixed = [
        f
        for f in window
        if np.abs(f[5, 5].astype(int) - red).sum() > 12 and np.abs(f[5, 5].astype(int) - blue).sum() > 12
    ]
    assert abs(len(mixed) - FPS * 1.0) <= 2
    # a cross-fade: red gives way to blue a little more in every frame
    reds = [int(f[5, 5, 0]) for f in mixed if f[5, 5].astype(int).sum() < 600]  # not the sync flash
    assert reds == sorted(reds, reverse=True) and reds[0] - reds[-1] > 150


def test_missing_picture_shows_a_slate(tmp_path: Path) -> None:
    cut = Cut(title="slate", language="zh", width=W, height=H, fps=FPS)
    cut.shots.append(
        CutShot(shot="S01-001", start=0, duration=1.0, picture=None, still=None, description="雨夜的公交站台")
    )
    film = tmp_path / "film.mp4"
    assemble(cut, film, slate=Media(tmp_path).slate())
    frames, _, _ = decode(film)
    assert len(frames) == FPS and frames[0].std() > 5  # text on the card, not a black frame


def colour_runs(frames: list[np.ndarray], pure: list[np.ndarray]) -> list[int]:
    """Per frame, the index of the pure colour it shows, or -1 while it is a mix (a transition)."""
    out = []
    for f in frames:
        px = f[45, 80].astype(int)
        near = [i for i, c in enumerate(pure) if np.abs(px - c).sum() <= 24]
        out.append(near[0] if near else -1)
    return out


def test_wipe_has_its_length(tmp_path: Path) -> None:
    cut = beep_flash_cut(tmp_path, transition="wipe", td=0.8)
    film = tmp_path / "film.mp4"
    assemble(cut, film, slate=Media(tmp_path).slate())
    frames, _, _ = decode(film)
    assert len(frames) == round(cut.duration * FPS)
    boundary = round(cut.shots[1].start * FPS)
    # a wipe is a moving edge: frames in which both red and blue are on screen at once
    both = [
        f
        for f in frames[boundary - FPS : boundary + FPS]
        if (np.abs(f[45].astype(int) - [254, 0, 0]).sum(axis=1) < 30).any()
        and (np.abs(f[45].astype(int) - [0, 0, 254]).sum(axis=1) < 30).any()
    ]
    assert abs(len(both) - 0.8 * FPS) <= 2


def test_fades_from_and_to_black(tmp_path: Path) -> None:
    cut = beep_flash_cut(tmp_path)
    cut.shots[0].transition, cut.shots[0].transition_duration = "fade_in", 0.4
    cut.shots[3].transition, cut.shots[3].transition_duration = "fade_out", 0.6
    film = tmp_path / "film.mp4"
    assemble(cut, film, slate=Media(tmp_path).slate())
    frames, _, _ = decode(film)
    brightness = [f.mean() for f in frames]
    assert brightness[0] < 8 and brightness[10] > 60  # from black, up by frame 10
    assert sum(1 for b in brightness[:20] if b < brightness[15] - 5) == 10
    assert brightness[-1] < 12 and sum(1 for b in brightness[-20:] if b < brightness[-20] - 5) in (14, 15)


def test_conforming_clips_joined_by_cuts_are_stream_copied(tmp_path: Path) -> None:
    cut = beep_flash_cut(tmp_path)
    cut.shots[2].picture = Media(tmp_path).clip("c2full", "green", cut.shots[2].duration, 12)  # full length this time
    film = tmp_path / "film.mp4"
    events: list[float] = []
    result = assemble(cut, film, slate=Media(tmp_path).slate(), on_progress=lambda p: events.append(p.fraction))
    assert result["stream_copy"] == 1.0
    frames, _, _ = decode(film)
    assert len(frames) == round(cut.duration * FPS)
    with av.open(str(cut.shots[1].picture)) as src:
        original = [f.to_ndarray(format="rgb24") for f in src.decode(video=0)]
    start = round(cut.shots[1].start * FPS)
    # pixel for pixel the clip's own frames: a re-encode would have changed them
    assert all(np.array_equal(a, b) for a, b in zip(frames[start : start + len(original)], original, strict=True))
    assert events[-1] == 1.0


def test_progress_reaches_the_end(tmp_path: Path) -> None:
    cut = beep_flash_cut(tmp_path, transition="dissolve", td=0.4)
    seen: list[tuple[str, float]] = []
    assemble(
        cut,
        tmp_path / "film.mp4",
        slate=Media(tmp_path).slate(),
        on_progress=lambda p: seen.append((p.kind, p.fraction)),
    )
    encode = [f for kind, f in seen if kind == "assemble the film"]
    assert encode[-1] == 1.0 and encode == sorted(encode)
    assert ("measure loudness", 1.0) in seen
