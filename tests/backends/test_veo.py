"""The veo backend through the official google-genai SDK (2.x), against a local Gemini API double."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import pytest

from kaipai.backends.base import (
    AccountError,
    Capability,
    NotConfigured,
    RefusedError,
    TransientError,
    VideoRequest,
    check_request,
    snap_request,
)
from tests.backends.doubles.jobs import job_context
from tests.backends.doubles.server import png_bytes
from tests.backends.doubles.veo_double import KEY, VeoDouble
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

genai = pytest.importorskip("google.genai")

from kaipai.backends.veo import VeoBackend  # noqa: E402


@pytest.fixture
def double(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[VeoDouble]:
    yield from serving(
        VeoDouble(),
        monkeypatch,
        tmp_path,
        {"GEMINI_API_KEY": KEY, "NO_PROXY": "127.0.0.1"},
        unset=("GOOGLE_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GENAI_USE_ENTERPRISE", "GOOGLE_GEMINI_BASE_URL"),
    )


def backend(double: VeoDouble, **options: Any) -> VeoBackend:
    return VeoBackend(**{"base_url": double.base_url, **FAST, **options})


def clip(tmp_path: Path, prompt: str = "a lighthouse keeper climbs the stairs", **fields: Any) -> VideoRequest:
    base: dict[str, Any] = {
        "prompt": prompt,
        "negative_prompt": "blurry",
        "image": picture(tmp_path),
        "width": 1280,
        "height": 720,
        "fps": 24,
        "duration": 6,
    }
    return VideoRequest(**{**base, **fields})


def sent(double: VeoDouble, name: str) -> dict[str, Any]:
    return double.operations[name]["body"]


def test_a_clip_with_its_own_sound_runs_as_a_long_running_operation(double: VeoDouble, tmp_path: Path) -> None:
    ctx, recorded, progress = job_context(tmp_path)
    result = backend(double).generate_video(clip(tmp_path, last_image=picture(tmp_path, "last.png")), ctx)
    assert len(recorded) == 1 and recorded[0].startswith("models/veo-3.1-generate-preview/operations/")
    body = sent(double, recorded[0])
    instance, params = body["instances"][0], body["parameters"]
    assert base64.b64decode(instance["image"]["bytesBase64Encoded"]) == png_bytes()
    assert instance["image"]["mimeType"] == "image/png" and "lastFrame" in instance
    assert params == {
        "sampleCount": 1,
        "durationSeconds": 6,
        "aspectRatio": "16:9",
        "resolution": "720p",
        "personGeneration": "allow_adult",
        "negativePrompt": "blurry",
    }
    with av.open(io.BytesIO(result.files[0].read_bytes())) as container:
        assert sorted(s.type for s in container.streams) == ["audio", "video"]
    assert result.metadata["audio"] is True and result.metadata["seed"] is None and progress
    assert result.cost == pytest.approx(result.duration * 0.40) and result.metadata["currency"] == "USD"
    assert VeoBackend().sheet(Capability.video).native_audio


def test_reference_images_guide_an_eight_second_clip_without_the_keyframe(double: VeoDouble, tmp_path: Path) -> None:
    refs = [picture(tmp_path, f"sheet{i}.png") for i in range(4)]
    ctx, recorded, _ = job_context(tmp_path)
    backend(double, references=True).generate_video(clip(tmp_path, reference_images=refs), ctx)
    instance = sent(double, recorded[0])["instances"][0]
    assert "image" not in instance and [r["referenceType"] for r in instance["referenceImages"]] == ["ASSET"] * 3
    assert sent(double, recorded[0])["parameters"]["durationSeconds"] == 8


def test_a_killed_render_resumes_the_operation_without_a_second_submission(double: VeoDouble, tmp_path: Path) -> None:
    again_recorded = killed_and_resumed(lambda: backend(double), clip(tmp_path), tmp_path)
    assert double.submissions == 1 and again_recorded == []


def test_the_clip_is_fetched_at_once_and_a_deleted_file_is_a_clear_error(double: VeoDouble, tmp_path: Path) -> None:
    ctx, recorded, _ = job_context(tmp_path)
    backend(double).generate_video(clip(tmp_path), ctx)
    assert double.downloads[0][1] - double.operations[recorded[0]]["done_at"] < 1
    double.url_ttl = -1
    out_dir = expired_link_is_final(lambda: backend(double), clip(tmp_path), tmp_path)
    assert not list(out_dir.glob("*.part"))


@pytest.mark.parametrize(
    ("fault", "error", "pattern"),
    [
        ("429", TransientError, "rate-limiting.*wait 3 s"),
        ("500", TransientError, "INTERNAL"),
        *CUT_OFF_AND_STALLED,
        ("billing", AccountError, "enable billing"),
    ],
)
def test_provider_trouble_on_submit(double: VeoDouble, tmp_path: Path, fault: str, error: type, pattern: str) -> None:
    trouble_on_submit(double, lambda **o: backend(double, **o), clip(tmp_path), tmp_path, fault, error, pattern)
    assert sum(1 for m, _ in double.requests if m == "POST") == 1


def test_trouble_while_polling_is_ridden_out(double: VeoDouble, tmp_path: Path) -> None:
    ctx, _, _ = job_context(tmp_path, on_job_id=lambda name: double.next_faults.extend(["500", "garbage", "slow"]))
    assert backend(double, timeout=1).generate_video(clip(tmp_path), ctx).files and double.submissions == 1


def test_a_filtered_clip_is_a_refusal_and_an_internal_failure_is_submitted_afresh(
    double: VeoDouble, tmp_path: Path
) -> None:
    ctx, recorded, _ = job_context(tmp_path)
    with pytest.raises(RefusedError, match="not been charged"):
        backend(double).generate_video(clip(tmp_path, prompt="FORBIDDEN"), ctx)
    again, _, _ = job_context(tmp_path, job_id=recorded[0])
    with pytest.raises(RefusedError):
        backend(double).generate_video(clip(tmp_path, prompt="FORBIDDEN"), again)
    ctx, recorded, _ = job_context(tmp_path)
    with pytest.raises(TransientError, match="failed internally"):
        backend(double).generate_video(clip(tmp_path, prompt="[opfail]"), ctx)
    again, again_recorded, _ = job_context(tmp_path, job_id=recorded[0])
    assert backend(double).generate_video(clip(tmp_path), again).files and len(again_recorded) == 1


def test_keys_models_and_the_sdk_version_are_checked(
    double: VeoDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "key accepted" in backend(double).reachable() and double.submissions == 0
    with pytest.raises(NotConfigured, match="retired"):
        backend(double, model="veo-9-preview", sheet={"video": {"capability": "video"}}).reachable()
    wrong_and_missing_key(
        lambda: backend(double),
        lambda: backend(double).generate_video(clip(tmp_path), job_context(tmp_path)[0]),
        monkeypatch,
        "GEMINI_API_KEY",
        "wrong-key",
        "refused the API key",
    )
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    monkeypatch.setattr(genai, "__version__", "3.6.1")
    with pytest.raises(NotConfigured, match=r"google-genai>=2.30,<3"):
        backend(double).check()


def test_the_sheet_keeps_1080p_to_eight_seconds(tmp_path: Path) -> None:
    sheet = VeoBackend(resolution="1080p").sheet(Capability.video)
    snapped = snap_request(sheet, clip(tmp_path, width=1080, height=1920, duration=5))
    assert (snapped.width, snapped.height, snapped.duration) == (1080, 1920, 8)
    standard = VeoBackend().sheet(Capability.video)
    snapped = snap_request(standard, clip(tmp_path, duration=4.5, fps=25))
    assert (snapped.duration, snapped.fps) == (6, 24)
    check_request(standard, snapped)
    with pytest.raises(NotConfigured, match="resolution"):
        VeoBackend(resolution="4k")


def test_the_sdk_drives_the_double_end_to_end(double: VeoDouble) -> None:
    """The double speaks what google-genai 2.x expects: the operation, its polling and the download."""
    from google.genai import types

    client = genai.Client(api_key=KEY, http_options=types.HttpOptions(base_url=double.base_url))
    operation = client.models.generate_videos(
        model="veo-3.1-fast-generate-preview",
        source=types.GenerateVideosSource(prompt="rain on a tin roof"),
        config=types.GenerateVideosConfig(duration_seconds=4, aspect_ratio="9:16"),
    )
    assert operation.done is None
    while not operation.done:
        operation = client.operations.get(operation)
    video = operation.response.generated_videos[0].video
    assert client.files.download(file=video)[4:8] == b"ftyp"
    client.close()
