"""The backend contract, run for every registered backend (in the spirit of diffusers' tester mixins).

Every backend: a valid sheet per declared capability and a refusal for any other; ``check()``
answers or raises ``NotConfigured`` quickly, even with no key or server; the engine's snapping
brings an ordinary request inside each sheet, and requests outside it are refused before anything is
spent; ``close()`` may be called twice. With a harness (contract.py) the backend also renders one
ordinary request per capability, to files that match what was asked, and where its sheet promises
determinism the same request and seed give the same file again.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from kaipai.backends.base import (
    Backend,
    BackendError,
    Capability,
    CapabilitySheet,
    ImageRequest,
    JobContext,
    LipsyncRequest,
    NotConfigured,
    SpeechRequest,
    UnsupportedRequest,
    VideoRequest,
    call_backend,
    check_request,
    snap_request,
)
from kaipai.backends.registry import Registry
from tests.backends.contract import HARNESSES, typical_requests

NAMES = Registry().names()
KEYS = (
    "DASHSCOPE_API_KEY",
    "KLING_ACCESS_KEY",
    "KLING_SECRET_KEY",
    "OPENAI_API_KEY",
    "KAIPAI_COMFYUI_URL",
    "ARK_API_KEY",
    "MINIMAX_API_KEY",
    "VIDU_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "RUNWAYML_API_SECRET",
    "ELEVENLABS_API_KEY",
)


@pytest.fixture
def bare(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No keys, no config file, no server: what a new user's machine looks like."""
    monkeypatch.setenv("KAIPAI_CONFIG", str(tmp_path / "none.toml"))
    for key in KEYS:
        monkeypatch.delenv(key, raising=False)


def create(name: str) -> Backend:
    try:
        return Registry().create(name)
    except NotConfigured as exc:  # e.g. a model that must be named
        pytest.skip(f"{name} needs options to be created: {exc}")


def declared(name: str) -> list[Capability]:
    return sorted(Registry().load(name).capabilities, key=lambda c: c.value)


def sheets(backend: Backend) -> list[CapabilitySheet]:
    out = []
    for cap in declared(backend.name):
        try:
            out.append(backend.sheet(cap))
        except NotConfigured:  # e.g. ComfyUI with no workflow for this capability
            continue
    return out


@pytest.mark.parametrize("name", NAMES)
def test_every_registered_backend_has_a_harness_or_says_why_not(name: str) -> None:
    assert name in HARNESSES, f"add a harness for {name!r} in tests/backends/contract.py"


@pytest.mark.parametrize("name", NAMES)
def test_a_valid_sheet_per_declared_capability_and_a_refusal_for_the_rest(name: str, bare: None) -> None:
    backend = create(name)
    assert type(backend).capabilities, f"{name} declares no capability"
    for sheet in sheets(backend):
        assert isinstance(sheet, CapabilitySheet) and sheet.capability in type(backend).capabilities
        assert sheet.max_concurrency >= 1 and sheet.cost_per_unit >= 0 and sheet.typical_seconds > 0
        if sheet.max_duration is not None:
            assert sheet.min_duration <= sheet.max_duration
        if sheet.durations:
            assert all(sheet.min_duration - 1e-9 <= d <= (sheet.max_duration or d) + 1e-9 for d in sheet.durations)
        CapabilitySheet.model_validate(sheet.model_dump())  # a sheet survives being stored and read back
    for cap in set(Capability) - type(backend).capabilities:
        with pytest.raises(UnsupportedRequest, match=cap.value):
            backend.sheet(cap)


#: Libraries a backend's check loads on first use: importing torch takes seconds on a busy machine, once
#: per process, and that is the interpreter's time, not the check's.
RUNTIMES = {"diffusers": ("torch",)}


@pytest.mark.parametrize("name", NAMES)
def test_check_answers_or_says_what_is_missing_quickly(name: str, bare: None) -> None:
    backend = create(name)
    for module in RUNTIMES.get(name, ()):
        pytest.importorskip(module)
    started = time.monotonic()
    status: str | Exception
    try:
        status = backend.check()
    except NotConfigured as exc:
        status = exc
    assert str(status), "check() answers with a status line, or NotConfigured says what to do"
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("name", NAMES)
def test_snapping_brings_an_ordinary_request_inside_the_sheet_and_outside_requests_are_refused(
    name: str, bare: None, tmp_path: Path
) -> None:
    backend = create(name)
    ordinary = typical_requests(tmp_path)
    for sheet in sheets(backend):
        if sheet.capability == Capability.planner:
            continue
        request = snap_request(sheet, ordinary[sheet.capability])
        if isinstance(request, SpeechRequest) and sheet.languages and "zh" not in sheet.languages:
            request = request.model_copy(update={"language": sheet.languages[0]})
        check_request(sheet, request)  # the engine asks nothing the backend cannot take
        for outside in requests_outside(sheet, request, tmp_path):
            with pytest.raises(UnsupportedRequest):
                check_request(sheet, outside)


def requests_outside(sheet: CapabilitySheet, inside: object, tmp_path: Path) -> list[object]:
    """Requests that break one of the sheet's stated limits."""
    out: list[object] = []
    if isinstance(inside, ImageRequest | VideoRequest):
        if sheet.size_multiple > 1:
            out.append(inside.model_copy(update={"width": inside.width + 1}))
        if sheet.max_pixels:
            out.append(inside.model_copy(update={"width": 16384, "height": 16384}))
        if sheet.resolutions:
            out.append(inside.model_copy(update={"width": 10, "height": 10}))
    if isinstance(inside, ImageRequest | VideoRequest):  # a model that takes none is given one
        refs = [tmp_path / "keyframe.png"] * (sheet.max_reference_images + 1)
        out.append(inside.model_copy(update={"reference_images": refs}))
    if isinstance(inside, VideoRequest):
        if sheet.max_duration is not None:
            out.append(inside.model_copy(update={"duration": sheet.max_duration + 5}))
        if not sheet.first_last_frame:
            out.append(inside.model_copy(update={"last_image": tmp_path / "keyframe.png"}))
        if sheet.fps:
            out.append(inside.model_copy(update={"fps": max(sheet.fps) + 7}))
        if not sheet.audio_input:
            out.append(inside.model_copy(update={"audio": tmp_path / "line.wav"}))
        elif sheet.max_audio_seconds is not None:  # more speech than it animates (within its clip lengths)
            longer = sheet.max_audio_seconds + 1
            if sheet.max_duration is None or longer <= sheet.max_duration:
                out.append(inside.model_copy(update={"audio": tmp_path / "line.wav", "duration": longer}))
    if isinstance(inside, LipsyncRequest):
        if sheet.max_video_seconds is not None:
            out.append(inside.model_copy(update={"video_seconds": sheet.max_video_seconds + 1}))
        if sheet.max_audio_seconds is not None:
            out.append(inside.model_copy(update={"audio_seconds": sheet.max_audio_seconds + 1}))
        if sheet.min_input_seconds > 0:
            out.append(inside.model_copy(update={"video_seconds": sheet.min_input_seconds / 2}))
            out.append(inside.model_copy(update={"audio_seconds": sheet.min_input_seconds / 2}))
    if isinstance(inside, SpeechRequest) and sheet.languages:
        out.append(inside.model_copy(update={"language": "xx"}))
    return out


@pytest.mark.parametrize("name", NAMES)
def test_close_may_be_called_twice(name: str, bare: None) -> None:
    backend = create(name)
    backend.close()
    backend.close()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", [n for n in NAMES if callable(HARNESSES.get(n))])
def test_renders_what_it_declares_and_repeats_itself_where_it_promises(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = HARNESSES[name]
    assert callable(harness)
    with harness(tmp_path, monkeypatch) as (backend, requests):
        assert requests, f"the {name} harness renders nothing"
        for cap, ordinary in requests.items():
            sheet = backend.sheet(cap)
            request = snap_request(sheet, ordinary)
            check_request(sheet, request)
            runs = []
            for attempt in ("a", "b") if sheet.deterministic else ("a",):
                out = tmp_path / f"{cap.value}-{attempt}"
                out.mkdir()
                result = call_backend(backend, request, JobContext(out_dir=out, key=f"{name}-{cap.value}-{attempt}"))
                assert result.files and all(Path(f).is_file() and Path(f).stat().st_size for f in result.files)
                if sheet.deterministic:  # a local generator; a double's media are canned, not the provider's
                    if isinstance(request, ImageRequest | VideoRequest) and result.width:
                        assert (result.width, result.height) == (request.width, request.height)
                    if isinstance(request, VideoRequest) and result.duration:
                        assert result.duration >= request.duration - 1 / request.fps - 1e-6
                runs.append(_digest(Path(result.files[0])))
            assert len(set(runs)) == 1, f"{name} promises determinism for {cap.value} but differed"
        strays = typical_requests(tmp_path / "stray")
        other = next((c for c in strays if c not in type(backend).capabilities), None)
        if other is not None:
            stray = strays[other]
            with pytest.raises(BackendError):
                call_backend(backend, stray, JobContext(out_dir=tmp_path))
        backend.close()
        backend.close()
