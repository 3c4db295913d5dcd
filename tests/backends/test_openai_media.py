"""openai-speech and openai-image through the official openai SDK, against OpenAI and a local Kokoro-style server."""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kaipai.backends.base import (
    AccountError,
    BackendError,
    Capability,
    ImageRequest,
    NotConfigured,
    RefusedError,
    SpeechRequest,
    TransientError,
    check_request,
    snap_request,
)
from kaipai.document.cast import Character, Voice
from tests.backends.doubles.jobs import job_context
from tests.backends.doubles.openai_media_double import KEY, MediaDouble
from tests.backends.doubles.server import png_bytes, serve

openai = pytest.importorskip("openai")

from kaipai.backends.openai.images import OpenAIImageBackend  # noqa: E402
from kaipai.backends.openai.speech import OpenAISpeechBackend  # noqa: E402

FAST = {"timeout": 5}


@pytest.fixture
def double(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[MediaDouble]:
    monkeypatch.setenv("KAIPAI_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    for name in ("KAIPAI_OPENAI_BASE_URL", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)
    d = MediaDouble()
    with serve(d.app()) as url:
        d.base_url = url
        yield d


def speech(double: MediaDouble, **options: Any) -> OpenAISpeechBackend:
    return OpenAISpeechBackend(**{"base_url": double.base_url + "/v1", **FAST, **options})


def images(double: MediaDouble, **options: Any) -> OpenAIImageBackend:
    return OpenAIImageBackend(**{"base_url": double.base_url + "/v1", **FAST, **options})


def line(text: str = "Hello there, it is raining tonight.", **fields: Any) -> SpeechRequest:
    return SpeechRequest(**{"text": text, "language": "en", "speaker": "anna", **fields})


def frame(tmp_path: Path, **fields: Any) -> ImageRequest:
    return ImageRequest(**{"prompt": "a pier at night", "width": 1024, "height": 1024, "seed": 9, **fields})


def test_a_line_is_spoken_as_wav_in_the_chosen_voice(double: MediaDouble, tmp_path: Path) -> None:
    ctx, recorded, _ = job_context(tmp_path)
    result = speech(double, model="tts-1", voice="nova", speed=1.1).synthesize(line(), ctx)
    sent = double.log[-1]["json"]
    assert sent == {"model": "tts-1", "input": line().text, "voice": "nova", "response_format": "wav", "speed": 1.1}
    with wave.open(str(result.files[0])) as fh:
        assert fh.getframerate() == 24000 and fh.getnframes() > 0
    assert result.duration == pytest.approx(0.06 * len(line().text) / 1.1, abs=0.01) and recorded == []
    assert result.cost == pytest.approx(len(line().text) * 0.000015) and result.metadata["voice"] == "nova"


def test_voices_per_character_and_performance_notes(double: MediaDouble, tmp_path: Path) -> None:
    lin = Character(id="lin", name="林晓", voice=Voice(voice="shimmer"))
    backend = speech(double, voices={"father": "onyx"}, instructions=True)
    backend.synthesize(line(speaker="lin", character=lin, parenthetical="whispering"), job_context(tmp_path)[0])
    assert double.log[-1]["json"]["voice"] == "shimmer" and double.log[-1]["json"]["instructions"] == "whispering"
    backend.synthesize(line(speaker="father", character=lin), job_context(tmp_path)[0])
    assert double.log[-1]["json"]["voice"] == "onyx" and "instructions" not in double.log[-1]["json"]
    other = Character(id="x", name="X", voice=Voice(backend="espeak", voice="en-us"))
    speech(double).synthesize(line(speaker="x", character=other), job_context(tmp_path)[0])
    assert double.log[-1]["json"]["voice"] == "alloy"  # a voice meant for another backend is not sent


def test_a_local_kokoro_server_needs_no_key_streams_and_answers_its_own_errors(
    double: MediaDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    double.flavour = "kokoro"
    monkeypatch.delenv("OPENAI_API_KEY")
    backend = speech(double, model="kokoro", voice="zf_xiaobei", extra_body={"lang_code": "z"})
    assert "local server" in backend.check() and "model listed" in backend.reachable()
    result = backend.synthesize(line("今晚下雨了。", language="zh"), job_context(tmp_path)[0])
    assert result.files[0].suffix == ".wav" and result.cost == 0 and double.log[-1]["json"]["lang_code"] == "z"
    assert backend.sheet(Capability.speech).model == "kokoro"
    with pytest.raises(BackendError, match="Voice 'alloy' not found") as info:
        speech(double, model="kokoro").synthesize(line(), job_context(tmp_path)[0])
    assert not info.value.transient
    with pytest.raises(NotConfigured, match="OPENAI_API_KEY"):
        OpenAISpeechBackend(base_url="https://tts.example.com/v1").check()


def test_a_reply_that_is_not_wav_is_named_for_what_it_is_or_refused(double: MediaDouble, tmp_path: Path) -> None:
    double.next_faults = ["garbage"]
    with pytest.raises(TransientError, match="not audio"):
        speech(double).synthesize(line(), job_context(tmp_path)[0])


@pytest.mark.parametrize(
    ("fault", "error", "pattern"),
    [
        ("429", TransientError, "rate-limiting.*wait 3 s"),
        ("quota", AccountError, "no quota"),
        ("500", TransientError, "unavailable"),
        ("slow", TransientError, "did not answer"),
    ],
)
def test_provider_trouble_is_sent_once_and_classified(
    double: MediaDouble, tmp_path: Path, fault: str, error: type, pattern: str
) -> None:
    double.next_faults = [fault]
    with pytest.raises(error, match=pattern) as info:
        speech(double, **({"timeout": 0.5} if fault == "slow" else {})).synthesize(line(), job_context(tmp_path)[0])
    assert len(double.log) == 1  # the SDK's own retries are off
    if fault == "429":
        assert info.value.retry_after == 3


def test_keys_and_unknown_models(double: MediaDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(NotConfigured, match="no such model"):
        speech(double, model="tts-9").synthesize(line(), job_context(tmp_path)[0])
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    with pytest.raises(NotConfigured, match="refused the API key") as info:
        speech(double).synthesize(line(), job_context(tmp_path)[0])
    assert "sk-wrong" not in str(info.value)
    with pytest.raises(NotConfigured, match="keep API keys out"):
        OpenAISpeechBackend(api_key="sk-x")
    with pytest.raises(NotConfigured, match="no option 'colour'"):
        OpenAIImageBackend(colour="red")


def test_a_keyframe_from_a_prompt(double: MediaDouble, tmp_path: Path) -> None:
    result = images(double, model="gpt-image-1", local_params=False).generate_image(
        frame(tmp_path, width=1536, height=1024), job_context(tmp_path)[0]
    )
    assert double.log[-1]["json"] == {"model": "gpt-image-1", "prompt": "a pier at night", "size": "1536x1024", "n": 1}
    assert result.files[0].read_bytes() == png_bytes(96, 54) and result.cost == pytest.approx(0.042)


def test_references_go_to_the_edits_route_as_image_parts(double: MediaDouble, tmp_path: Path) -> None:
    refs = []
    for name in ("anna.png", "pier.png"):
        (tmp_path / name).write_bytes(png_bytes())
        refs.append(tmp_path / name)
    images(double, local_params=False).generate_image(frame(tmp_path, reference_images=refs), job_context(tmp_path)[0])
    entry = double.log[-1]
    assert entry["path"] == "edits" and entry["json"]["prompt"] == "a pier at night"
    assert [(p["name"], p["filename"], p["type"]) for p in entry["parts"]] == [
        ("image[]", "anna.png", "image/png"),
        ("image[]", "pier.png", "image/png"),
    ]


def test_a_local_image_server_gets_seed_and_negative_prompt_and_any_size(double: MediaDouble, tmp_path: Path) -> None:
    double.flavour = "kokoro"
    backend = images(double, model="sd-turbo", extra_body={"response_format": "url"})
    sheet = backend.sheet(Capability.image)
    request = snap_request(sheet, frame(tmp_path, width=1277, height=721, negative_prompt="watermark"))
    check_request(sheet, request)
    result = backend.generate_image(request, job_context(tmp_path)[0])
    sent = double.log[-1]["json"]
    assert (sent["size"], sent["seed"], sent["negative_prompt"]) == ("1280x720", 9, "watermark")
    assert result.files[0].is_file() and double.downloads and result.cost == 0
    double.url_ttl = -1
    with pytest.raises(BackendError, match="expire"):
        backend.generate_image(request, job_context(tmp_path)[0])


def test_an_image_refusal_is_never_retried_and_a_garbled_reply_is_transient(
    double: MediaDouble, tmp_path: Path
) -> None:
    double.next_faults = ["garbage"]
    with pytest.raises(TransientError, match="not JSON"):
        images(double, local_params=False).generate_image(frame(tmp_path), job_context(tmp_path)[0])
    with pytest.raises(RefusedError, match=r"content_policy_violation.*safety system"):
        images(double, local_params=False).generate_image(frame(tmp_path, prompt="FORBIDDEN"), job_context(tmp_path)[0])


def test_openai_sizes_snap_to_what_the_model_makes(tmp_path: Path) -> None:
    sheet = OpenAIImageBackend(model="gpt-image-1").sheet(Capability.image)
    snapped = snap_request(sheet, frame(tmp_path, width=1920, height=1080))
    assert (snapped.width, snapped.height) == (1536, 1024)
    assert OpenAISpeechBackend().sheet(Capability.speech).model == "gpt-4o-mini-tts"


def test_the_sdk_drives_the_double(double: MediaDouble, tmp_path: Path) -> None:
    """The double answers the openai SDK as OpenAI does: binary speech, JSON images, multipart edits."""
    client = openai.OpenAI(api_key=KEY, base_url=double.base_url + "/v1", max_retries=0)
    audio = client.audio.speech.create(model="tts-1-hd", input="Hi", voice="echo", response_format="wav")
    assert audio.read()[:4] == b"RIFF"
    made = client.images.generate(model="dall-e-3", prompt="x", size="1024x1024", response_format="url")
    assert made.data[0].url.startswith(double.base_url + "/files/")
    edited = client.images.edit(model="gpt-image-1", prompt="x", image=("a.png", png_bytes(), "image/png"))
    assert edited.data[0].b64_json and double.log[-1]["parts"][0]["name"] == "image"
    double.next_faults = ["quota"]
    with pytest.raises(openai.RateLimitError) as info:
        client.images.generate(model="gpt-image-1", prompt="x")
    assert info.value.code == "insufficient_quota"
    client.close()
