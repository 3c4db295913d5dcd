"""The minimax backend (Hailuo clips, T2A voices, voice cloning) against a local MiniMax protocol double."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kaipai.backends.base import (
    AccountError,
    BackendError,
    Capability,
    NotConfigured,
    RefusedError,
    SpeechRequest,
    TransientError,
    UnsupportedRequest,
    VideoRequest,
    check_request,
    snap_request,
)
from kaipai.backends.minimax.backend import MiniMaxBackend
from kaipai.backends.minimax.voices import clone_id
from kaipai.document.cast import Character, Voice
from kaipai.document.shots import Shot
from tests.backends.doubles.jobs import job_context
from tests.backends.doubles.minimax_double import KEY, VOICE_ID, MiniMaxDouble
from tests.backends.doubles.server import wav_bytes
from tests.backends.task_checks import (
    CUT_OFF_AND_STALLED,
    FAST,
    expired_link_is_final,
    killed_and_resumed,
    picture,
    serving,
    trouble_on_submit,
    wrong_and_missing_key,
)


@pytest.fixture
def double(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[MiniMaxDouble]:
    yield from serving(MiniMaxDouble(), monkeypatch, tmp_path, {"MINIMAX_API_KEY": KEY})


def backend(double: MiniMaxDouble, **options: Any) -> MiniMaxBackend:
    return MiniMaxBackend(**{"base_url": double.base_url, **FAST, **options})


def clip(tmp_path: Path, prompt: str = "她抬头看向窗外", **fields: Any) -> VideoRequest:
    shot = Shot(id="S1", scene="SC1", move="push_in")
    base: dict[str, Any] = {"prompt": prompt, "image": picture(tmp_path), "width": 1280, "height": 720}
    return VideoRequest(**{**base, "fps": 24, "duration": 6, "shot": shot, **fields})


def line(text: str = "爸，你还没睡？", **fields: Any) -> SpeechRequest:
    return SpeechRequest(**{"text": text, "language": "zh", "speaker": "lin", **fields})


def test_a_clip_follows_the_shots_camera_move_and_is_fetched_through_its_file(
    double: MiniMaxDouble, tmp_path: Path
) -> None:
    seen: list[str] = []
    ctx, recorded, progress = job_context(tmp_path, on_job_id=lambda t: seen.append(double.tasks[t]["status"]))
    result = backend(double).generate_video(clip(tmp_path, last_image=picture(tmp_path, "last.png")), ctx)
    body = double.tasks[recorded[0]]["body"]
    assert recorded[0].isdigit() and seen == ["Preparing"] and {m for _, m in progress} >= {"queueing"}
    assert body["model"] == "MiniMax-Hailuo-02" and body["prompt"] == "她抬头看向窗外 [Push in]"
    assert (body["duration"], body["resolution"], body["prompt_optimizer"]) == (6, "768P", False)
    assert body["first_frame_image"].startswith("data:image/png;base64,") and "last_frame_image" in body
    assert result.metadata["file_id"] and result.metadata["audio"] is False and result.metadata["currency"] == "CNY"
    assert result.cost == pytest.approx(6 * 0.4)


def test_subject_reference_animates_a_character_from_one_picture(double: MiniMaxDouble, tmp_path: Path) -> None:
    sheet_picture = picture(tmp_path, "lin-sheet.png")
    ctx, recorded, _ = job_context(tmp_path)
    backend(double, model="S2V-01").generate_video(clip(tmp_path, reference_images=[sheet_picture]), ctx)
    body = double.tasks[recorded[0]]["body"]
    assert body["resolution"] == "720P" and "first_frame_image" not in body
    assert [r["type"] for r in body["subject_reference"]] == ["character"] and len(
        body["subject_reference"][0]["image"]
    ) == 1
    with pytest.raises(NotConfigured, match="720P"):
        MiniMaxBackend(model="S2V-01", resolution="1080P").sheet(Capability.video)


def test_a_killed_render_resumes_without_a_second_submission(double: MiniMaxDouble, tmp_path: Path) -> None:
    again_recorded = killed_and_resumed(lambda: backend(double), clip(tmp_path), tmp_path)
    assert double.submissions == 1 and again_recorded == []


def test_an_expired_link_is_asked_for_again_once_then_reported(double: MiniMaxDouble, tmp_path: Path) -> None:
    double.expire_first_links = 1
    assert backend(double).generate_video(clip(tmp_path), job_context(tmp_path)[0]).files
    double.url_ttl = -1
    expired_link_is_final(lambda: backend(double), clip(tmp_path), tmp_path)


@pytest.mark.parametrize(
    ("fault", "error", "pattern"),
    [
        ("429", TransientError, "rate-limiting.*wait 3 s"),
        ("rate", TransientError, "1002"),
        ("500", TransientError, "502"),
        *CUT_OFF_AND_STALLED,
        ("balance", AccountError, "1008"),
    ],
)
def test_provider_trouble_on_submit(
    double: MiniMaxDouble, tmp_path: Path, fault: str, error: type, pattern: str
) -> None:
    trouble_on_submit(double, lambda **o: backend(double, **o), clip(tmp_path), tmp_path, fault, error, pattern)
    assert double.submissions == 0


def test_trouble_while_polling_is_ridden_out(double: MiniMaxDouble, tmp_path: Path) -> None:
    ctx, _, _ = job_context(tmp_path, on_job_id=lambda t: double.next_faults.extend(["500", "garbage", "rate"]))
    assert backend(double).generate_video(clip(tmp_path), ctx).files and double.submissions == 1


def test_sensitive_input_and_output_are_refusals_and_an_internal_failure_is_submitted_afresh(
    double: MiniMaxDouble, tmp_path: Path
) -> None:
    with pytest.raises(RefusedError, match="1026"):
        backend(double).generate_video(clip(tmp_path, prompt="FORBIDDEN"), job_context(tmp_path)[0])
    double.fail_task_code = 1027
    ctx, recorded, _ = job_context(tmp_path)
    with pytest.raises(RefusedError, match="1027"):
        backend(double).generate_video(clip(tmp_path), ctx)
    double.fail_task_code = 1024
    ctx, recorded, _ = job_context(tmp_path)
    with pytest.raises(TransientError, match="1024"):
        backend(double).generate_video(clip(tmp_path), ctx)
    double.fail_task_code = None
    again, again_recorded, _ = job_context(tmp_path, job_id=recorded[0])
    assert backend(double).generate_video(clip(tmp_path), again).files and len(again_recorded) == 1


def test_a_wrong_key_answers_200_with_1004(
    double: MiniMaxDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "key accepted" in backend(double).reachable()
    wrong_and_missing_key(
        lambda: backend(double),
        lambda: backend(double).reachable(),
        monkeypatch,
        "MINIMAX_API_KEY",
        "sk-api-wrong",
        "1004",
    )


def test_sheets_per_resolution_and_region(tmp_path: Path) -> None:
    tall = MiniMaxBackend(resolution="1080P").sheet(Capability.video)
    assert snap_request(tall, clip(tmp_path, duration=8)).duration == 6
    low = MiniMaxBackend(resolution="512P", region="global").sheet(Capability.video)
    assert (low.currency, low.cost_per_unit) == ("USD", 0.0167)
    with pytest.raises(UnsupportedRequest, match="last frame"):
        check_request(low, snap_request(low, clip(tmp_path, last_image=picture(tmp_path, "l.png"))))
    assert MiniMaxBackend(region="global").base_url == "https://api.minimax.io"


def test_a_line_in_a_chosen_voice(double: MiniMaxDouble, tmp_path: Path) -> None:
    result = backend(double, voices={"lin": "female-yujie"}).synthesize(line(), job_context(tmp_path)[0])
    sent = double.speech[-1]
    assert sent["voice_setting"]["voice_id"] == "female-yujie" and sent["language_boost"] == "Chinese"
    assert sent["audio_setting"]["format"] == "wav" and sent["audio_setting"]["sample_rate"] == 24000
    with wave.open(io.BytesIO(result.files[0].read_bytes())) as fh:
        assert fh.getframerate() == 24000
    assert result.duration == pytest.approx(0.25 * len(line().text), abs=0.01)
    assert result.cost == pytest.approx(len(line().text) * 0.00035) and result.metadata["cloned"] is False
    english = backend(double).synthesize(line("Good night.", language="en"), job_context(tmp_path)[0])
    assert english.metadata["voice"] == "English_Graceful_Lady" and double.speech[-1]["language_boost"] == "English"


def test_a_character_speaks_in_a_voice_cloned_once_from_its_sample(double: MiniMaxDouble, tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "voices").mkdir(parents=True)
    (project / "voices" / "lin.wav").write_bytes(wav_bytes(12.0))
    lin = Character(id="lin", name="林晓", voice=Voice(sample="voices/lin.wav"))
    first = backend(double, base_dir=str(project)).synthesize(line(character=lin), job_context(tmp_path)[0])
    voice = first.metadata["voice"]
    assert first.metadata["cloned"] and VOICE_ID.match(voice) and double.cloned == {voice: 300000000000001}
    again = backend(double, base_dir=str(project)).synthesize(line(character=lin), job_context(tmp_path)[0])
    assert again.metadata["voice"] == voice and double.uploads == 1  # the account already has it
    (project / "voices" / "short.wav").write_bytes(wav_bytes(3.0))
    short = Character(id="lin", name="林晓", voice=Voice(sample="voices/short.wav"))
    with pytest.raises(BackendError, match=r"2037.*10 s to 5 minutes"):
        backend(double, base_dir=str(project)).synthesize(line(character=short), job_context(tmp_path)[0])
    missing = Character(id="lin", name="林晓", voice=Voice(sample="voices/none.wav"))
    with pytest.raises(NotConfigured, match=r"voices/none\.wav"):
        backend(double, base_dir=str(project)).synthesize(line(character=missing), job_context(tmp_path)[0])


def test_speech_refusals_and_unknown_voices(double: MiniMaxDouble, tmp_path: Path) -> None:
    with pytest.raises(RefusedError, match="1026"):
        backend(double).synthesize(line("FORBIDDEN"), job_context(tmp_path)[0])
    with pytest.raises(BackendError, match="2042"):
        backend(double, voice="no-such-voice").synthesize(line(), job_context(tmp_path)[0])


@given(st.text(min_size=1, max_size=40), st.binary(min_size=1, max_size=64))
def test_every_clone_id_is_one_minimax_accepts(character_id: str, sample: bytes) -> None:
    voice_id = clone_id(character_id, sample)
    assert VOICE_ID.match(voice_id) and voice_id == clone_id(character_id, sample)


@pytest.mark.parametrize(
    ("fault", "error"),
    [("429", TransientError), ("500", TransientError), ("garbage", TransientError), ("balance", AccountError)],
)
def test_provider_trouble_on_a_line(double: MiniMaxDouble, tmp_path: Path, fault: str, error: type) -> None:
    double.next_faults = [fault]
    with pytest.raises(error):
        backend(double).synthesize(line(), job_context(tmp_path)[0])
    assert double.speech == []
