"""Lip sync is measured: a mouth that follows the voice passes, the same picture against the voice
half a second away fails — on a previz dialogue clip and on a face video made here."""

from __future__ import annotations

import wave
from pathlib import Path

import av
import numpy as np
import pytest

from kaipai.backends.base import ImageRequest, JobContext, LipsyncRequest, SpeechRequest, VideoRequest
from kaipai.backends.espeak import EspeakBackend
from kaipai.backends.previz import PrevizBackend
from kaipai.backends.synthetic import draw_person, loudness_per_frame
from kaipai.document.cast import Character
from kaipai.document.qc import DEFAULT
from kaipai.document.shots import DialogueLine, Placement, Shot
from kaipai.qc.inspect import Subject, inspect

MAYA = Character(id="maya", name="Maya", color="#E4572E")
LINE = "He said the light would still be on, every night, for forty years."


def _voice(tmp: Path) -> tuple[np.ndarray, int]:
    out = tmp / "voice"
    out.mkdir()
    result = EspeakBackend().synthesize(SpeechRequest(text=LINE, language="en", speaker="maya"), JobContext(out))
    with wave.open(str(result.files[0]), "rb") as fh:
        rate = fh.getframerate()
        pcm = np.frombuffer(fh.readframes(fh.getnframes()), dtype="<i2").astype(np.float32) / 32768
    return pcm, rate


def _track(path: Path, pcm: np.ndarray, rate: int, start: float, length: float) -> Path:
    """The shot's dialogue track: the line placed at ``start`` in ``length`` seconds of silence."""
    track = np.zeros(int(length * rate), dtype=np.float32)
    at = int(start * rate)
    track[at : at + len(pcm)] = pcm[: len(track) - at]
    with wave.open(str(path), "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(rate)
        fh.writeframes((track * 32767).astype("<i2").tobytes())
    return path


def _verdict(media: Path, voice: Path, start: float, end: float, shot: Shot, drawn: bool) -> tuple[bool, dict]:
    subject = Subject(
        stage="lipsync", media=media, shot=shot, drawn=drawn, voice=voice, speakers=[("maya", start, end)]
    )
    check = inspect(subject, DEFAULT).check("lipsync")
    assert check is not None
    return check.passed, check.details["maya"]


@pytest.fixture(scope="module")
def previz_clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray, int, Shot]:
    """A previz medium close-up of Maya saying her line, lip-synced by previz to a track starting at 0.8 s."""
    tmp = tmp_path_factory.mktemp("previz")
    pcm, rate = _voice(tmp)
    length = len(pcm) / rate + 1.6
    shot = Shot(
        id="S1-002",
        scene="S1",
        size="MCU",
        composition=[Placement(character="maya", third="left", facing="right")],
        dialogue=[DialogueLine(id="L1", speaker="maya", text=LINE)],
        duration=length,
    )
    backend = PrevizBackend()
    for step in ("keyframe", "clip", "lipsync"):
        (tmp / step).mkdir()
    still = backend.generate_image(
        ImageRequest(prompt="", width=640, height=360, shot=shot, characters=[MAYA], language="en"),
        JobContext(tmp / "keyframe"),
    ).files[0]
    clip = backend.generate_video(
        VideoRequest(prompt="", image=still, width=640, height=360, fps=24, duration=length, shot=shot),
        JobContext(tmp / "clip"),
    ).files[0]
    track = _track(tmp / "track.wav", pcm, rate, 0.8, length)
    request = LipsyncRequest(video=clip, audio=track, speakers=[("maya", 0.8, 0.8 + len(pcm) / rate)], shot=shot)
    synced = backend.lipsync(request, JobContext(tmp / "lipsync")).files[0]
    return synced, pcm, rate, shot


def test_a_previz_dialogue_clip_in_sync_passes(previz_clip, tmp_path: Path) -> None:
    clip, pcm, rate, shot = previz_clip
    track = _track(tmp_path / "same.wav", pcm, rate, 0.8, shot.duration)
    passed, found = _verdict(clip, track, 0.8, 0.8 + len(pcm) / rate, shot, drawn=True)
    assert passed and found["offset"] == 0.0 and found["score"] >= 0.7, found


@pytest.mark.parametrize("shift", [0.5, -0.5])
def test_the_same_previz_clip_with_its_audio_shifted_half_a_second_fails(previz_clip, tmp_path, shift) -> None:
    clip, pcm, rate, shot = previz_clip
    start = 0.8 + shift
    track = _track(tmp_path / "shifted.wav", pcm, rate, start, shot.duration)
    subject = Subject(
        stage="lipsync",
        media=clip,
        shot=shot,
        drawn=True,
        voice=track,
        speakers=[("maya", start, start + len(pcm) / rate)],
    )
    check = inspect(subject, DEFAULT).check("lipsync")
    assert check is not None and not check.passed
    found = check.details["maya"]
    assert abs(abs(found["offset"]) - 0.5) <= 0.1 and found["score"] < 0.4, found
    side = "before" if shift > 0 else "after"
    assert "moves 0.5" in check.reason and side in check.reason
    assert not inspect(subject, DEFAULT).passed  # an out-of-sync take fails quality control


def _face_video(path: Path, loud: np.ndarray, fps: int, size: tuple[int, int] = (480, 270)) -> Path:
    """A head and shoulders whose mouth opens with ``loud`` (0–1 per frame), encoded as H.264."""
    w, h = size
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "23"}
        for i, opening in enumerate(loud):
            img = np.empty((h, w, 3), dtype=np.uint8)
            img[:] = (70, 90, 110)
            sway = int(3 * np.sin(i / 7))  # the head moves a little, as people do
            draw_person(img, w // 2 + sway, int(h * 0.42), int(h * 0.45), float(opening), (150, 40, 40))
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def test_a_face_video_whose_mouth_follows_the_voice_passes_and_half_a_second_off_fails(tmp_path: Path) -> None:
    pcm, rate = _voice(tmp_path)
    fps, start = 25, 0.6
    length = len(pcm) / rate + 1.2
    track = _track(tmp_path / "track.wav", pcm, rate, start, length)
    with wave.open(str(track), "rb") as fh:
        samples = np.frombuffer(fh.readframes(fh.getnframes()), dtype="<i2").astype(np.float32) / 32768
    loud = loudness_per_frame(samples, rate, fps, int(length * fps))
    video = _face_video(tmp_path / "face.mp4", loud, fps)
    shot = Shot(id="S2", scene="S", size="CU", composition=[Placement(character="maya")])
    end = start + len(pcm) / rate
    passed, found = _verdict(video, track, start, end, shot, drawn=False)
    assert passed and found["offset"] == 0.0 and found["score"] >= 0.7, found
    x, y, w, h = found["region"]
    assert 200 < x + w / 2 < 280 and 140 < y + h / 2 < 200  # the mouth under the detected face, not elsewhere

    late = _track(tmp_path / "late.wav", pcm, rate, start + 0.5, length)
    passed, found = _verdict(video, late, start + 0.5, end + 0.5, shot, drawn=False)
    assert not passed and abs(found["offset"] - 0.5) <= 0.1, found
