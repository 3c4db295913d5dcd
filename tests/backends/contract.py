"""Each built-in backend ready to render offline, for the backend contract (test_contract.py).

A harness is a context manager that yields a backend able to render — against its protocol double,
or a tiny model built in the test — and the requests it should render, one per capability. A new
backend adds an entry to ``HARNESSES`` (or, for a planner whose own suite drives it, a reason);
the contract test fails for a registered backend with neither.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kaipai.backends.base import (
    Backend,
    Capability,
    ImageRequest,
    JobContext,
    JudgeRequest,
    LipsyncRequest,
    MusicRequest,
    Request,
    SoundRequest,
    SpeechRequest,
    VideoRequest,
    snap_request,
)
from kaipai.document.cast import Character
from kaipai.document.shots import Shot
from tests.backends.doubles.server import mp4_bytes, png_bytes, serve, wav_bytes

Harness = Callable[
    [Path, pytest.MonkeyPatch], contextlib.AbstractContextManager[tuple[Backend, dict[Capability, Request]]]
]

FAST = {"poll_interval": 0.01, "poll_max_interval": 0.02, "deadline": 10, "timeout": 5}


def typical_requests(folder: Path) -> dict[Capability, Request]:
    """One ordinary request per capability, with the media files they point at."""
    folder.mkdir(parents=True, exist_ok=True)
    keyframe, clip, line = folder / "keyframe.png", folder / "clip.mp4", folder / "line.wav"
    keyframe.write_bytes(png_bytes(128, 72))
    clip.write_bytes(mp4_bytes(128, 72, frames=24, fps=24))
    line.write_bytes(wav_bytes(1.0))
    shot = Shot(id="S1-001", scene="S1", description="A pier at night.", composition=[{"character": "anna"}])
    anna = Character(id="anna", name="Anna")
    return {
        Capability.image: ImageRequest(prompt="a pier at night, lantern, rain", width=1280, height=720, seed=7),
        Capability.video: VideoRequest(
            prompt="slow push in", image=keyframe, width=1280, height=720, fps=24, duration=2.0, seed=7, shot=shot
        ),
        Capability.speech: SpeechRequest(
            text="你好，今晚下雨了。", language="zh", character=anna, speaker="anna", seed=7
        ),
        Capability.lipsync: LipsyncRequest(
            video=clip, audio=line, speakers=[("anna", 0.0, 1.0)], shot=shot, characters=[anna], fps=24, seed=7
        ),
        Capability.music: MusicRequest(prompt="quiet piano", duration=4.0, seed=7),
        Capability.sound: SoundRequest(prompt="rain on a tin roof, distant traffic", kind="ambience", duration=4.0),
        Capability.judge: JudgeRequest(
            images=[keyframe], prompt="a pier at night", references={"anna": keyframe}, characters=[anna], shot=shot
        ),
    }


@contextlib.contextmanager
def _plain(name: str, options: dict[str, Any], caps: tuple[Capability, ...], tmp: Path) -> Iterator[Any]:
    from kaipai.backends.registry import Registry

    backend = Registry().create(name, None, options)
    requests = typical_requests(tmp / "media")
    yield backend, {c: requests[c] for c in caps}


@contextlib.contextmanager
def previz(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Previz lip sync draws on previz clips only: its lip-sync request gets one of its own clips."""
    from kaipai.backends.base import JobContext
    from kaipai.backends.previz import PrevizBackend

    backend = PrevizBackend()
    requests = typical_requests(tmp / "media")
    small = {"width": 128, "height": 72}
    out = tmp / "previz-media"
    out.mkdir()
    keyframe = backend.generate_image(
        requests[Capability.image].model_copy(update={**small, "shot": requests[Capability.video].shot}),  # type: ignore[union-attr]
        JobContext(out_dir=out),
    ).files[0]
    clip = backend.generate_video(
        requests[Capability.video].model_copy(update={**small, "image": keyframe}),  # type: ignore[arg-type]
        JobContext(out_dir=out),
    ).files[0]
    requests[Capability.lipsync] = requests[Capability.lipsync].model_copy(update={"video": clip})
    caps = (Capability.image, Capability.video, Capability.lipsync, Capability.music, Capability.sound)
    yield backend, {c: requests[c] for c in caps}


def espeak(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    return _plain("espeak", {}, (Capability.speech,), tmp)


def simulated(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    caps = (Capability.image, Capability.video, Capability.speech, Capability.lipsync, Capability.music)
    return _plain("simulated", {}, caps, tmp)


@contextlib.contextmanager
def dashscope(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from kaipai.backends.dashscope import DashScopeBackend
    from tests.backends.doubles.dashscope_double import KEY, DashScopeDouble

    monkeypatch.setenv("KAIPAI_CONFIG", str(tmp / "no-config.toml"))
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)
    double = DashScopeDouble()
    with serve(double.app()) as url:
        double.base_url = url
        requests = typical_requests(tmp / "media")
        (tmp / "media" / "clip.mp4").write_bytes(mp4_bytes(128, 72, frames=72, fps=24))  # VideoRetalk: 2 s and up
        (tmp / "media" / "line.wav").write_bytes(wav_bytes(3.0))
        caps = (Capability.image, Capability.video, Capability.speech, Capability.lipsync)
        yield DashScopeBackend(base_url=url, **FAST), {c: requests[c] for c in caps}


@contextlib.contextmanager
def kling(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from kaipai.backends.kling import KlingBackend
    from tests.backends.doubles.kling_double import ACCESS_KEY, SECRET_KEY, KlingDouble

    monkeypatch.setenv("KAIPAI_CONFIG", str(tmp / "no-config.toml"))
    monkeypatch.setenv("KLING_ACCESS_KEY", ACCESS_KEY)
    monkeypatch.setenv("KLING_SECRET_KEY", SECRET_KEY)
    double = KlingDouble()
    with serve(double.app()) as url:
        double.base_url = url
        backend = KlingBackend(base_url=url, **FAST)
        requests = typical_requests(tmp / "media")
        (tmp / "media" / "keyframe.png").write_bytes(png_bytes(480, 300))  # Kling takes 300 px and up
        clip = snap_request(backend.sheet(Capability.video), requests[Capability.video])
        made = backend.generate_video(clip, JobContext(out_dir=tmp, key="made-by-kling"))  # type: ignore[arg-type]
        lipsync = requests[Capability.lipsync].model_copy(update={"clip_source": made.metadata})
        yield backend, {Capability.video: requests[Capability.video], Capability.lipsync: lipsync}


@contextlib.contextmanager
def comfyui(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from kaipai.backends.comfyui.backend import ComfyUIBackend
    from tests.backends.doubles.comfyui_double import ComfyDouble

    monkeypatch.setenv("KAIPAI_CONFIG", str(tmp / "no-config.toml"))
    double = ComfyDouble(models=set())
    with serve(double.app()) as url:
        backend = ComfyUIBackend(url=url, workflow="smoke_load_scale_save", **FAST)
        request = typical_requests(tmp / "media")[Capability.image]
        reference = tmp / "media" / "keyframe.png"
        try:
            yield backend, {Capability.image: request.model_copy(update={"reference_images": [reference]})}
        finally:
            double.release.set()


@contextlib.contextmanager
def diffusers(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    pytest.importorskip("torch")
    pytest.importorskip("diffusers")
    from kaipai.backends.diffusers.backend import DiffusersBackend
    from tests.support.tiny_diffusers import build_tiny_sd

    model = build_tiny_sd(tmp / "tiny-sd")
    backend = DiffusersBackend(model=str(model), device="cpu", steps=2)
    small = typical_requests(tmp / "media")[Capability.image].model_copy(update={"width": 96, "height": 64})
    yield backend, {Capability.image: small}  # tiny weights on a CPU: a thumbnail, not 720p


@contextlib.contextmanager
def _double(
    tmp: Path, monkeypatch: pytest.MonkeyPatch, double: Any, env: dict[str, str], suffix: str = ""
) -> Iterator[tuple[str, dict[Capability, Request]]]:
    """Serve a protocol double with the keys it expects set; yield its base URL and the ordinary requests."""
    monkeypatch.setenv("KAIPAI_CONFIG", str(tmp / "no-config.toml"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with serve(double.app()) as url:
        double.base_url = url
        yield url + suffix, typical_requests(tmp / "media")


@contextlib.contextmanager
def ark(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    pytest.importorskip("volcenginesdkarkruntime")
    from kaipai.backends.ark import ArkBackend
    from tests.backends.doubles.ark_double import KEY, ArkDouble

    with _double(tmp, monkeypatch, ArkDouble(), {"ARK_API_KEY": KEY}, "/api/v3") as (url, requests):
        caps = (Capability.image, Capability.video)
        yield ArkBackend(base_url=url, **FAST), {c: requests[c] for c in caps}


@contextlib.contextmanager
def minimax(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from kaipai.backends.minimax.backend import MiniMaxBackend
    from tests.backends.doubles.minimax_double import KEY, MiniMaxDouble

    with _double(tmp, monkeypatch, MiniMaxDouble(), {"MINIMAX_API_KEY": KEY}) as (url, requests):
        caps = (Capability.video, Capability.speech)
        yield MiniMaxBackend(base_url=url, **FAST), {c: requests[c] for c in caps}


@contextlib.contextmanager
def vidu(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from kaipai.backends.vidu import ViduBackend
    from tests.backends.doubles.vidu_double import KEY, ViduDouble

    with _double(tmp, monkeypatch, ViduDouble(), {"VIDU_API_KEY": KEY}) as (url, requests):
        yield ViduBackend(base_url=url, **FAST), {Capability.video: requests[Capability.video]}


@contextlib.contextmanager
def veo(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    pytest.importorskip("google.genai")
    from kaipai.backends.veo import VeoBackend
    from tests.backends.doubles.veo_double import KEY, VeoDouble

    monkeypatch.delenv("GOOGLE_GENAI_USE_VERTEXAI", raising=False)
    with _double(tmp, monkeypatch, VeoDouble(), {"GEMINI_API_KEY": KEY}) as (url, requests):
        yield VeoBackend(base_url=url, **FAST), {Capability.video: requests[Capability.video]}


@contextlib.contextmanager
def runway(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    pytest.importorskip("runwayml")
    from kaipai.backends.runway import RunwayBackend
    from tests.backends.doubles.runway_double import KEY, RunwayDouble

    with _double(tmp, monkeypatch, RunwayDouble(), {"RUNWAYML_API_SECRET": KEY}) as (url, requests):
        yield RunwayBackend(base_url=url, **FAST), {Capability.video: requests[Capability.video]}


@contextlib.contextmanager
def openai_speech(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    pytest.importorskip("openai")
    from kaipai.backends.openai.speech import OpenAISpeechBackend
    from tests.backends.doubles.openai_media_double import KEY, MediaDouble

    with _double(tmp, monkeypatch, MediaDouble(), {"OPENAI_API_KEY": KEY}, "/v1") as (url, requests):
        yield OpenAISpeechBackend(base_url=url, timeout=5), {Capability.speech: requests[Capability.speech]}


@contextlib.contextmanager
def openai_image(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    pytest.importorskip("openai")
    from kaipai.backends.openai.images import OpenAIImageBackend
    from tests.backends.doubles.openai_media_double import KEY, MediaDouble

    with _double(tmp, monkeypatch, MediaDouble(), {"OPENAI_API_KEY": KEY}, "/v1") as (url, requests):
        backend = OpenAIImageBackend(base_url=url, timeout=5, local_params=False)
        yield backend, {Capability.image: requests[Capability.image]}


@contextlib.contextmanager
def elevenlabs(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from kaipai.backends.elevenlabs import ElevenLabsBackend
    from tests.backends.doubles.elevenlabs_double import KEY, ElevenLabsDouble

    monkeypatch.setenv("KAIPAI_CONFIG", str(tmp / "no-config.toml"))
    monkeypatch.setenv("ELEVENLABS_API_KEY", KEY)
    with serve(ElevenLabsDouble().app()) as url:
        yield (
            ElevenLabsBackend(base_url=url, timeout=20),
            {Capability.sound: typical_requests(tmp / "media")[Capability.sound]},
        )


@contextlib.contextmanager
def openai_judge(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from kaipai.backends.openai.judge import OpenAIJudge
    from tests.backends.doubles.vision_double import KEY, MODEL, VisionDouble

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with serve(VisionDouble().app()) as url:
        backend = OpenAIJudge(model=MODEL, base_url=f"{url}/v1", timeout=5, backoff=0.01)
        yield backend, {Capability.judge: typical_requests(tmp / "media")[Capability.judge]}


@contextlib.contextmanager
def clip(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from kaipai.backends.clip import ClipJudge
    from tests.support.tiny_diffusers import build_tiny_clip

    backend = ClipJudge(model=str(build_tiny_clip(tmp / "tiny-clip")))
    yield backend, {Capability.judge: typical_requests(tmp / "media")[Capability.judge]}


HARNESSES: dict[str, Harness | str] = {
    "previz": previz,
    "espeak": espeak,
    "simulated": simulated,
    "dashscope": dashscope,
    "kling": kling,
    "ark": ark,
    "minimax": minimax,
    "vidu": vidu,
    "veo": veo,
    "runway": runway,
    "openai-speech": openai_speech,
    "openai-image": openai_image,
    "comfyui": comfyui,
    "diffusers": diffusers,
    "elevenlabs": elevenlabs,
    "openai-judge": openai_judge,
    "clip": clip,
    "rules": "a planner: tests/planning plans every sample screenplay with it, twice, to the same shots",
    "openai": "a planner: tests/backends/test_openai_planner.py drives it against a chat-completions double",
}
