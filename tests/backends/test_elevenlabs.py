"""The elevenlabs backend against a local double of ElevenLabs' sound-effects API, and the official
``elevenlabs`` SDK driving the same double (so the double speaks what the provider's own client sends)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kaipai.backends.base import (
    AccountError,
    Capability,
    JobContext,
    NotConfigured,
    RefusedError,
    SoundRequest,
    TransientError,
    UnsupportedRequest,
    check_request,
    snap_request,
)
from kaipai.backends.elevenlabs import ElevenLabsBackend
from tests.backends.doubles.elevenlabs_double import KEY, ElevenLabsDouble
from tests.backends.doubles.server import serve


@pytest.fixture
def double(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[ElevenLabsDouble, str]]:
    monkeypatch.setenv("KAIPAI_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("ELEVENLABS_API_KEY", KEY)
    d = ElevenLabsDouble()
    with serve(d.app()) as url:
        yield d, url


def make(url: str, **options: Any) -> ElevenLabsBackend:
    return ElevenLabsBackend(**{"base_url": url, "timeout": 20, **options})


def ctx(tmp_path: Path, name: str = "job") -> JobContext:
    out = tmp_path / name
    out.mkdir()
    return JobContext(out_dir=out)


def test_an_ambience_bed_loops_and_an_effect_gets_its_natural_length(
    double: tuple[ElevenLabsDouble, str], tmp_path: Path
) -> None:
    d, url = double
    backend = make(url, prompt_influence=0.5)
    bed = backend.generate_sound(SoundRequest(prompt="night street, rain", kind="ambience", duration=12), ctx(tmp_path))
    effect = backend.generate_sound(SoundRequest(prompt="bus door hiss", kind="effect"), ctx(tmp_path, "fx"))
    assert abs((bed.duration or 0) - 12) < 0.2 and abs((effect.duration or 0) - 2) < 0.2
    assert bed.files[0].suffix == ".mp3" and bed.cost == pytest.approx(12 * 0.012)
    first, second = d.requests
    assert first["loop"] is True and first["duration_seconds"] == 12 and first["prompt_influence"] == 0.5
    assert "loop" not in second and "duration_seconds" not in second
    assert first["model_id"] == "eleven_text_to_sound_v2" and first["output_format"] == "mp3_44100_128"


def test_the_sheet_keeps_requests_inside_what_the_model_makes(double: tuple[ElevenLabsDouble, str]) -> None:
    _, url = double
    sheet = make(url).sheet(Capability.sound)
    long = snap_request(sheet, SoundRequest(prompt="rain", kind="ambience", duration=95))
    assert long.duration == 30  # type: ignore[attr-defined]  # the edit loops the bed under the scene
    check_request(sheet, long)
    with pytest.raises(UnsupportedRequest):
        check_request(sheet, SoundRequest(prompt="rain", duration=0.2))


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("429", TransientError),
        ("500", TransientError),
        ("slow", TransientError),
        ("cut", TransientError),
        ("json", TransientError),
        ("quota", AccountError),
    ],
)
def test_provider_failures_are_told_apart(
    double: tuple[ElevenLabsDouble, str], tmp_path: Path, fault: str, error: type[Exception]
) -> None:
    d, url = double
    d.next_faults.append(fault)
    with pytest.raises(error) as caught:  # the double answers "slow" after 3 s
        make(url, timeout=1.5 if fault == "slow" else 20).generate_sound(
            SoundRequest(prompt="door slam", duration=1.0), ctx(tmp_path)
        )
    if fault == "429":
        assert caught.value.retry_after == 1.0  # type: ignore[attr-defined]
    if fault == "quota":
        assert "quota_exceeded" in caught.value.provider_reason  # type: ignore[attr-defined]
    again = make(url).generate_sound(SoundRequest(prompt="door slam", duration=1.0), ctx(tmp_path, "again"))
    assert again.files[0].stat().st_size > 1000  # the next call works


def test_a_refusal_a_bad_field_and_a_bad_key_are_said_plainly(
    double: tuple[ElevenLabsDouble, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = double
    with pytest.raises(RefusedError, match="content_policy_violation"):
        make(url).generate_sound(SoundRequest(prompt="FORBIDDEN noise"), ctx(tmp_path, "a"))
    with pytest.raises(UnsupportedRequest, match="prompt_influence"):
        make(url, prompt_influence=3).generate_sound(SoundRequest(prompt="wind"), ctx(tmp_path, "b"))
    monkeypatch.setenv("ELEVENLABS_API_KEY", "wrong")
    with pytest.raises(NotConfigured, match="ELEVENLABS_API_KEY"):
        make(url).generate_sound(SoundRequest(prompt="wind"), ctx(tmp_path, "c"))
    monkeypatch.delenv("ELEVENLABS_API_KEY")
    with pytest.raises(NotConfigured, match="ELEVENLABS_API_KEY"):
        make(url).check()


def test_the_official_sdk_speaks_to_the_double(double: tuple[ElevenLabsDouble, str]) -> None:
    elevenlabs = pytest.importorskip("elevenlabs", reason="the test extra installs the elevenlabs SDK")
    d, url = double
    client = elevenlabs.ElevenLabs(api_key=KEY, base_url=url)
    audio = b"".join(client.text_to_sound_effects.convert(text="thunder far away", duration_seconds=3.0, loop=True))
    assert audio[:3] == b"ID3" or audio[0] == 0xFF  # an MP3
    assert d.requests[-1]["text"] == "thunder far away" and d.requests[-1]["loop"] is True
    d.next_faults.append("quota")
    with pytest.raises(elevenlabs.core.api_error.ApiError) as caught:
        b"".join(client.text_to_sound_effects.convert(text="rain"))
    assert caught.value.status_code == 401
