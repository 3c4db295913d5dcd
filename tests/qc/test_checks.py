"""The cheap checks on real files: black, frozen and flash frames, length and size against the request,
silent and clipped sound, and faces against the shot's composition."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from kaipai.backends.base import ImageRequest, JobContext, VideoRequest
from kaipai.backends.simulated import SimulatedBackend
from kaipai.document.qc import DEFAULT, QCRules
from kaipai.document.shots import Placement, Shot
from kaipai.post.ffmpeg import ffmpeg
from kaipai.qc.inspect import Subject, inspect
from kaipai.qc.media import scan_audio, scan_video

MCU = Shot(id="S2", scene="A", size="MCU", composition=[Placement(character="lin", third="left", facing="right")])
TWO = Shot(
    id="S4",
    scene="A",
    kind="two_shot",
    size="MS",
    composition=[Placement(character="lin", third="left"), Placement(character="dad", third="right")],
)


def _clip(tmp: Path, defect: str | None, shot: Shot = MCU, seconds: float = 2.0) -> Path:
    options = {"defects": [{"kind": defect}]} if defect else {}
    out = tmp / f"clip-{defect}-{shot.id}"
    out.mkdir()
    request = VideoRequest(prompt="p", width=320, height=180, fps=12, duration=seconds, shot=shot)
    return SimulatedBackend(**options).generate_video(request, JobContext(out)).files[0]


def _still(tmp: Path, defect: str | None, shot: Shot) -> Path:
    options = {"defects": [{"kind": defect}]} if defect else {}
    out = tmp / f"still-{defect}-{shot.id}"
    out.mkdir()
    request = ImageRequest(prompt="p", width=320, height=180, shot=shot)
    return SimulatedBackend(**options).generate_image(request, JobContext(out)).files[0]


def _clip_subject(path: Path, shot: Shot = MCU, seconds: float = 2.0) -> Subject:
    return Subject(stage="clip", media=path, shot=shot, size=(320, 180), fps=12, seconds=seconds)


def test_a_good_clip_passes_every_check(tmp_path: Path) -> None:
    report = inspect(_clip_subject(_clip(tmp_path, None)), DEFAULT)
    assert report.passed and report.score == 1.0, report.reasons
    assert {c.name for c in report.checks} >= {"black", "frozen", "flash", "length", "size", "fps", "faces"}
    assert len(report.faces) == 1 and report.faces[0].centre < 1 / 3  # lin, on the left third


@pytest.mark.parametrize(
    ("defect", "check", "words"),
    [
        ("black", "black", "black for"),
        ("frozen", "frozen", "frozen for"),
        ("flash", "flash", "2 flash frames"),
        ("short", "length", "1.00 s, asked 2.00 s"),
        ("faceless", "faces", "no face where a medium close-up of lin is planned"),
    ],
)
def test_each_bad_clip_fails_its_check_and_says_why(tmp_path: Path, defect: str, check: str, words: str) -> None:
    report = inspect(_clip_subject(_clip(tmp_path, defect)), DEFAULT)
    found = report.check(check)
    assert not report.passed and found is not None and not found.passed
    assert words in found.reason and any(words in r for r in report.reasons)


def test_a_clip_of_another_shape_fails_and_another_size_is_only_noted(tmp_path: Path) -> None:
    clip = _clip(tmp_path, None)
    wrong_shape = inspect(Subject(stage="clip", media=clip, shot=MCU, size=(320, 320), seconds=2.0), DEFAULT)
    assert not wrong_shape.passed and "another shape" in wrong_shape.check("size").reason
    smaller = inspect(Subject(stage="clip", media=clip, shot=MCU, size=(640, 360), seconds=2.0), DEFAULT)
    assert smaller.passed and smaller.check("size").reason == "320×180, asked 640×360"


def test_two_faces_in_a_single_fail_and_a_two_shot_places_each_on_its_third(tmp_path: Path) -> None:
    single_of_two = TWO.model_copy(update={"kind": "single", "composition": TWO.composition[:1]})
    crowded = _still(tmp_path, None, TWO)  # two people drawn …
    report = inspect(Subject(stage="keyframe", media=crowded, shot=single_of_two), DEFAULT)  # … a single planned
    assert not report.passed and "2 faces in a single of lin" in report.check("faces").reason
    fine = inspect(Subject(stage="keyframe", media=crowded, shot=TWO), DEFAULT)
    assert fine.passed and fine.check("faces").details["thirds"] == ["left", "right"]
    swapped = TWO.model_copy(
        update={"composition": [Placement(character="lin", third="center"), Placement(character="dad", third="right")]}
    )
    off = inspect(Subject(stage="keyframe", media=crowded, shot=swapped), DEFAULT)
    assert off.passed and off.score < 1 and "lin planned center, found left" in off.check("faces").reason


def test_drawn_previz_clips_skip_faces_and_freezes_but_not_black_or_length(tmp_path: Path) -> None:
    frozen = _clip(tmp_path, "frozen")
    report = inspect(Subject(stage="clip", media=frozen, shot=MCU, drawn=True, seconds=2.0), DEFAULT)
    assert report.passed and report.check("frozen") is None and report.check("faces") is None
    black = inspect(Subject(stage="clip", media=_clip(tmp_path, "black"), drawn=True, seconds=2.0), DEFAULT)
    assert not black.passed and black.check("black").reason == "black for 100% of the clip"
    short = inspect(Subject(stage="clip", media=_clip(tmp_path, "short"), drawn=True, seconds=2.0), DEFAULT)
    assert not short.passed and short.check("length").reason == "1.00 s, asked 2.00 s"


def test_rules_choose_the_checks(tmp_path: Path) -> None:
    only_black = QCRules(checks=frozenset({"black"}), min_score=0.5, best_of=1, max_retakes=0, budget=None)
    report = inspect(_clip_subject(_clip(tmp_path, "frozen")), only_black)
    assert report.passed and [c.name for c in report.checks] == ["black"]


def _wav(path: Path, samples: np.ndarray, rate: int = 24000) -> Path:
    with wave.open(str(path), "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(rate)
        fh.writeframes((np.clip(samples, -1, 32767 / 32768) * 32767).astype("<i2").tobytes())
    return path


def test_a_silent_or_clipped_voice_fails_and_a_spoken_one_passes(tmp_path: Path) -> None:
    t = np.arange(24000 * 2) / 24000
    speech = 0.3 * np.sin(2 * np.pi * 180 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
    cases = {"spoken": speech, "silent": np.zeros_like(t), "clipped": speech * 8}
    verdicts = {
        name: inspect(Subject(stage="voice", media=_wav(tmp_path / f"{name}.wav", x)), DEFAULT)
        for name, x in cases.items()
    }
    assert verdicts["spoken"].passed
    assert not verdicts["silent"].passed and "the voice is silent" in verdicts["silent"].reasons[0]
    assert not verdicts["clipped"].passed and "clipped" in verdicts["clipped"].check("clipping").reason


def test_numpy_and_ffmpeg_measure_a_wav_alike(tmp_path: Path) -> None:
    """WAVs are measured in numpy for speed; ffmpeg's silencedetect/astats on the same file agree."""
    t = np.arange(24000 * 3) / 24000
    x = np.where((t > 1.0) & (t < 2.0), 0.4 * np.sin(2 * np.pi * 220 * t), 0.0)
    path = _wav(tmp_path / "gap.wav", x)
    mine = scan_audio(path)
    m4a = tmp_path / "gap.m4a"
    subprocess.run([ffmpeg(), "-v", "error", "-i", str(path), "-c:a", "aac", str(m4a)], check=True)
    theirs = scan_audio(m4a)
    assert [round(s, 1) for s, _ in mine.silences] == [round(s, 1) for s, _ in theirs.silences] == [0.0, 2.0]
    assert abs(mine.peak_db - theirs.peak_db) < 1.0 and theirs.lufs is not None


def test_a_clip_with_its_own_sound_is_checked_for_silence(tmp_path: Path) -> None:
    clip = tmp_path / "mute.mp4"
    subprocess.run(
        [ffmpeg(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x180:d=2:r=12", "-f", "lavfi",
         "-i", "anullsrc=r=48000:cl=mono", "-t", "2", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-c:a", "aac",
         str(clip)],
        check=True,
    )  # fmt: skip
    scan = scan_video(clip)
    assert scan.audio is not None and scan.audio.peak_db == float("-inf")
    report = inspect(Subject(stage="clip", media=clip, own_sound=True, seconds=2.0), DEFAULT)
    assert not report.passed and "the sound is silent" in report.check("silence").reason


def test_a_file_that_is_not_media_fails_with_a_clear_reason(tmp_path: Path) -> None:
    junk = tmp_path / "clip.mp4"
    junk.write_bytes(b"not a video")
    report = inspect(Subject(stage="clip", media=junk), DEFAULT)
    assert not report.passed and "clip.mp4 is not a video" in report.reasons[0]


def test_a_clip_read_in_process_sees_what_ffmpeg_sees(tmp_path: Path) -> None:
    """A drawn lip-sync take is read without starting ffmpeg (no freeze or sound to detect): the same
    frames and the same black stretch as the ffmpeg scan."""
    for defect in ("black", None):
        clip = _clip(tmp_path, defect)
        here = scan_video(clip, width=160, freeze=False, sound=False)
        there = scan_video(clip, width=160)
        assert here.frames.shape == there.frames.shape == (24, 90, 160)
        assert here.duration == pytest.approx(there.duration) == pytest.approx(2.0)
        assert abs(float(here.frames.mean()) - float(there.frames.mean())) < 4
        assert bool(here.black) == bool(there.black) == (defect == "black")
        if defect:
            assert here.black[0][1] - here.black[0][0] == pytest.approx(there.black[0][1] - there.black[0][0], abs=0.1)


def test_an_opencv_without_the_face_cascade_leaves_the_face_checks_out(tmp_path: Path, monkeypatch) -> None:
    """OpenCV 5.0 wheels ship no Haar cascades: faces are not checked, and no take fails for it."""
    import sys
    import types

    from kaipai.qc import faces

    monkeypatch.setitem(sys.modules, "cv2", types.SimpleNamespace(data=types.SimpleNamespace(haarcascades="")))
    assert faces.can_detect.__wrapped__() is False
    monkeypatch.undo()
    assert faces.can_detect.__wrapped__() is True  # the 4.x wheel this project installs
    monkeypatch.setattr("kaipai.qc.inspect.can_detect", lambda: False)
    report = inspect(_clip_subject(_clip(tmp_path, "faceless")), DEFAULT)
    assert report.passed and report.check("faces") is None
