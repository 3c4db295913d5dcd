"""The comfyui backend against a local ComfyUI protocol double (HTTP + /ws websocket)."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from kaipai.backends.base import (
    BackendError,
    Capability,
    ImageRequest,
    NotConfigured,
    TransientError,
    VideoRequest,
    snap_request,
)
from kaipai.backends.comfyui.backend import ComfyUIBackend
from kaipai.backends.comfyui.workflow import load_workflow
from tests.backends.doubles.comfyui_double import ComfyDouble
from tests.backends.doubles.jobs import job_context
from tests.backends.doubles.server import png_bytes, serve

FAST = {"poll_interval": 0.05, "poll_max_interval": 0.05, "deadline": 10, "timeout": 3}
WAN_MODELS = {
    "wan2.1_i2v_480p_14B_fp8_e4m3fn.safetensors",
    "umt5_xxl_fp8_e4m3fn_scaled.safetensors",
    "wan_2.1_vae.safetensors",
    "clip_vision_h.safetensors",
}


class Killed(Exception):
    pass


@pytest.fixture
def double(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ComfyDouble]:
    monkeypatch.setenv("KAIPAI_CONFIG", str(tmp_path / "no-config.toml"))
    d = ComfyDouble(models={"sd_xl_base_1.0.safetensors", *WAN_MODELS})
    with serve(d.app()) as url:
        d.url = url  # type: ignore[attr-defined]
        yield d
        d.release.set()


def backend(double: ComfyDouble, **options: Any) -> ComfyUIBackend:
    return ComfyUIBackend(**{"url": double.url, **FAST, **options})  # type: ignore[attr-defined]


def reference(tmp_path: Path) -> Path:
    path = tmp_path / "ref.png"
    path.write_bytes(png_bytes(80, 60, (10, 200, 30)))
    return path


def test_load_scale_save_uploads_queues_and_fetches_the_real_output(double: ComfyDouble, tmp_path: Path) -> None:
    ctx, recorded, _ = job_context(tmp_path)
    request = ImageRequest(prompt="unused", width=32, height=24, reference_images=[reference(tmp_path)])
    result = backend(double, workflow="smoke_load_scale_save").generate_image(request, ctx)
    assert len(recorded) == 1 and double.prompts_received == 1
    assert list(double.uploads) == [next(iter(double.uploads))] and next(iter(double.uploads)).startswith("kaipai/")
    with Image.open(result.files[0]) as img:
        assert img.size == (32, 24) and img.getpixel((5, 5)) == (10, 200, 30)  # the uploaded image, really scaled
    assert result.metadata["prompt_id"] == recorded[0]
    assert double.sockets_opened and double.sockets_opened[0].startswith("kaipai-")


def test_shipped_keyframe_workflow_binds_shot_fields_and_reports_progress(double: ComfyDouble, tmp_path: Path) -> None:
    double.step_delay = 0.03
    ctx, recorded, progress = job_context(tmp_path)
    request = ImageRequest(prompt="雨夜小巷，霓虹", negative_prompt="text", width=1344, height=768, seed=42)
    result = backend(double, workflow="keyframe_sdxl").generate_image(request, ctx)
    graph = double.history[recorded[0]]["prompt"][2]
    assert graph["6"]["inputs"]["text"] == "雨夜小巷，霓虹" and graph["7"]["inputs"]["text"] == "text"
    assert graph["3"]["inputs"]["seed"] == 42 and (graph["5"]["inputs"]["width"], graph["5"]["inputs"]["height"]) == (
        1344,
        768,
    )
    assert result.files[0].suffix == ".png"
    assert any("Sampler 3/3" in message for _, message in progress), progress  # from the websocket
    fractions = [f for f, _ in progress]
    assert fractions == sorted(fractions) and 0 < fractions[-1] < 1


def test_progress_the_socket_delivers_after_the_history_says_done_is_still_reported(
    double: ComfyDouble, tmp_path: Path
) -> None:
    double.socket_lag = 0.5  # /history says done long before the socket has delivered the sampler's steps
    ctx, _, progress = job_context(tmp_path)
    request = ImageRequest(prompt="雨夜小巷，霓虹", width=1344, height=768, seed=42)
    backend(double, workflow="keyframe_sdxl").generate_image(request, ctx)
    assert any("Sampler 3/3" in message for _, message in progress), progress


def test_shipped_wan_workflow_turns_duration_into_4n_plus_1_frames(double: ComfyDouble, tmp_path: Path) -> None:
    comfy = backend(double, workflow="wan_i2v")
    sheet = comfy.sheet(Capability.video)
    request = snap_request(
        sheet,
        VideoRequest(
            prompt="she walks", image=reference(tmp_path), width=1280, height=720, fps=24, duration=3.0, seed=5
        ),
    )
    assert request.fps == 16 and request.width * request.height <= 832 * 480
    ctx, recorded, _ = job_context(tmp_path)
    result = comfy.generate_video(request, ctx)
    graph = double.history[recorded[0]]["prompt"][2]
    assert graph["50"]["inputs"]["length"] == 49 and graph["57"]["inputs"]["fps"] == 16  # 3 s x 16 fps -> 48 -> 4n+1
    assert graph["52"]["inputs"]["image"].startswith("kaipai/")
    assert result.files[0].suffix == ".mp4" and result.duration == pytest.approx(49 / 16, abs=0.1)


def test_killed_render_resumes_the_queued_prompt_without_queueing_again(double: ComfyDouble, tmp_path: Path) -> None:
    double.hold.set()

    def die(job: str) -> None:
        raise Killed(job)

    request = ImageRequest(prompt="p", width=32, height=24, reference_images=[reference(tmp_path)])
    ctx, recorded, _ = job_context(tmp_path, on_job_id=die)
    with pytest.raises(Killed):
        backend(double, workflow="smoke_load_scale_save").generate_image(request, ctx)
    assert recorded[0] not in double.history  # still running on the server
    threading.Timer(0.3, double.release.set).start()
    again, again_recorded, _ = job_context(tmp_path, job_id=recorded[0])
    result = backend(double, workflow="smoke_load_scale_save").generate_image(request, again)
    assert double.prompts_received == 1 and again_recorded == [] and result.files[0].is_file()
    assert double.sockets_opened[0] == double.sockets_opened[1]  # the same client id: its messages still arrive


def test_a_finished_prompt_is_collected_and_a_forgotten_one_queued_again(double: ComfyDouble, tmp_path: Path) -> None:
    request = ImageRequest(prompt="p", width=32, height=24, reference_images=[reference(tmp_path)])
    ctx, recorded, _ = job_context(tmp_path)
    backend(double, workflow="smoke_load_scale_save").generate_image(request, ctx)
    again, again_recorded, _ = job_context(tmp_path, job_id=recorded[0])
    assert backend(double, workflow="smoke_load_scale_save").generate_image(request, again).files
    assert double.prompts_received == 1 and again_recorded == []
    double.forget()  # the server restarted and lost its history
    third, third_recorded, _ = job_context(tmp_path, job_id=recorded[0])
    assert backend(double, workflow="smoke_load_scale_save").generate_image(request, third).files
    assert double.prompts_received == 2 and len(third_recorded) == 1


def test_missing_model_names_the_node_and_the_model(double: ComfyDouble, tmp_path: Path) -> None:
    double.models = set()
    ctx, recorded, _ = job_context(tmp_path)
    with pytest.raises(NotConfigured) as info:
        backend(double, workflow="keyframe_sdxl").generate_image(ImageRequest(prompt="p", width=1024, height=1024), ctx)
    assert "node 4 'Load Checkpoint' (CheckpointLoaderSimple)" in str(info.value)
    assert "sd_xl_base_1.0.safetensors" in str(info.value) and recorded == []


def test_missing_custom_node_is_named(double: ComfyDouble, tmp_path: Path) -> None:
    clip, audio = tmp_path / "clip.mp4", tmp_path / "voice.wav"
    clip.write_bytes(b"x")
    audio.write_bytes(b"y")
    from kaipai.backends.base import LipsyncRequest

    ctx, _, _ = job_context(tmp_path)
    with pytest.raises(
        NotConfigured,
        match=r"node 1 'Clip' \(VHS_LoadVideo\): Cannot execute because node VHS_LoadVideo does not exist"
        r".*custom nodes",
    ):
        backend(double, workflow="latentsync").lipsync(LipsyncRequest(video=clip, audio=audio), ctx)


def test_execution_error_names_the_failing_node(double: ComfyDouble, tmp_path: Path) -> None:
    double.fail_node = "3"
    ctx, _, _ = job_context(tmp_path)
    with pytest.raises(
        BackendError, match=r"failed at node 3 'Sampler' \(KSampler\).*RuntimeError: mat1 and mat2"
    ) as info:
        backend(double, workflow="keyframe_sdxl").generate_image(ImageRequest(prompt="p", width=1024, height=1024), ctx)
    assert not info.value.transient


def test_progress_is_followed_by_polling_when_the_socket_is_unavailable(
    double: ComfyDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kaipai.backends.comfyui import client as comfyui_client

    monkeypatch.setattr(comfyui_client.ComfyClient, "open_socket", lambda self, client_id, stack: None)
    ctx, _, _ = job_context(tmp_path)
    request = ImageRequest(prompt="p", width=16, height=16, reference_images=[reference(tmp_path)])
    assert backend(double, workflow="smoke_load_scale_save").generate_image(request, ctx).files


def test_cancel_interrupts_the_prompt_and_keeps_it_resumable(double: ComfyDouble, tmp_path: Path) -> None:
    double.hold.set()
    ctx, recorded, _ = job_context(tmp_path)
    threading.Timer(0.3, ctx.cancel_event.set).start()
    request = ImageRequest(prompt="p", width=16, height=16, reference_images=[reference(tmp_path)])
    with pytest.raises(TransientError, match="cancelled"):
        backend(double, workflow="smoke_load_scale_save").generate_image(request, ctx)
    assert double.interrupted.is_set() or recorded[0] in double.history


def test_deadline_and_unreachable_server(double: ComfyDouble, tmp_path: Path) -> None:
    double.hold.set()
    ctx, _, _ = job_context(tmp_path)
    request = ImageRequest(prompt="p", width=16, height=16, reference_images=[reference(tmp_path)])
    with pytest.raises(TransientError, match="still running"):
        backend(double, workflow="smoke_load_scale_save", deadline=0.3).generate_image(request, ctx)
    with pytest.raises(TransientError, match="could not be reached"):
        ComfyUIBackend(url="http://127.0.0.1:9", workflow="smoke_load_scale_save", **FAST).reachable()
    assert "ComfyUI 0.3.99-double" in backend(double, workflow="smoke_load_scale_save").reachable()


def test_bindings_by_id_and_input_and_clear_binding_errors(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text(
        json.dumps(
            {
                "10": {"class_type": "CLIPTextEncode", "inputs": {"text": ""}, "_meta": {"title": "Pos"}},
                "11": {"class_type": "KSampler", "inputs": {"noise_seed": 0}},
            }
        )
    )
    wf = load_workflow("mine.json", tmp_path)
    wf.bind = {"prompt": "10.text", "seed": "11"}
    graph = wf.apply({"prompt": "hello", "seed": 9})
    assert graph["10"]["inputs"]["text"] == "hello" and graph["11"]["inputs"]["noise_seed"] == 9
    assert wf.graph["10"]["inputs"]["text"] == ""  # the loaded workflow is never changed
    wf.bind = {"prompt": "Positive"}
    with pytest.raises(NotConfigured, match=r"no node has that title or id.*Pos"):
        wf.check_required("image")
    wf.bind = {"width": "Pos"}
    with pytest.raises(NotConfigured, match="bind 'prompt'"):
        wf.check_required("image")
    with pytest.raises(NotConfigured, match="has no input for 'width'"):
        wf.targets("width")
    ui = tmp_path / "ui.json"
    ui.write_text(json.dumps({"nodes": [], "links": []}))
    with pytest.raises(NotConfigured, match="Save \\(API Format\\)"):
        load_workflow(str(ui))
    broken = tmp_path / "broken.json"
    broken.write_text('{"1": {')
    with pytest.raises(NotConfigured, match=r"broken.json:1:\d+: not valid JSON"):
        load_workflow(str(broken))


def test_own_workflow_with_sidecar_defaults(double: ComfyDouble, tmp_path: Path) -> None:
    graph = json.loads((Path(__file__).parents[2] / "src/kaipai/workflows/smoke_load_scale_save.json").read_text())
    (tmp_path / "flow.json").write_text(json.dumps(graph))
    (tmp_path / "flow.kaipai.json").write_text(
        json.dumps(
            {
                "bind": {
                    "prompt": None,
                    "reference_images": "Input Image",
                    "width": "Scale.width",
                    "height": "Scale.height",
                }
            }
        )
    )
    ctx, _, _ = job_context(tmp_path)
    request = ImageRequest(prompt="p", width=20, height=10, reference_images=[reference(tmp_path)])
    result = backend(double, workflow="flow.json", base_dir=str(tmp_path)).generate_image(request, ctx)
    with Image.open(io.BytesIO(result.files[0].read_bytes())) as img:
        assert img.size == (20, 10)


def test_a_project_renders_keyframes_through_its_own_workflow_named_relative_to_the_project(
    double: ComfyDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kaipai.document.backend_choice import BackendChoice
    from kaipai.document.cast import Cast, Character
    from kaipai.document.io import new_document_text
    from kaipai.document.models import Document
    from kaipai.document.scenes import Scene
    from kaipai.document.settings import Project
    from kaipai.document.shots import Placement, Shot
    from kaipai.project import ProjectPaths
    from kaipai.service.render import render
    from kaipai.service.takes import circled_media

    root = tmp_path / "film"
    (root / "workflows").mkdir(parents=True)
    graph = json.loads((Path(__file__).parents[2] / "src/kaipai/workflows/smoke_load_scale_save.json").read_text())
    (root / "workflows/flow.json").write_text(json.dumps(graph))
    (root / "workflows/flow.kaipai.json").write_text(
        json.dumps(
            {
                "bind": {
                    "prompt": None,
                    "reference_images": "Input Image",
                    "width": "Scale.width",
                    "height": "Scale.height",
                }
            }
        )
    )
    (root / "ref.png").write_bytes(png_bytes(80, 60, (10, 200, 30)))
    comfy = BackendChoice(use="comfyui", options={"url": double.url, "workflow": "workflows/flow.json", **FAST})  # type: ignore[attr-defined]
    doc = Document(
        project=Project(title="t", resolution=(320, 180), fps=12),
        cast=Cast(characters=[Character(id="lin", name="林晓", reference_images=["ref.png"])]),
        scenes=[Scene(id="SC1", heading="1-1 夜 内 厨房")],
        shots=[
            Shot(
                id="S1",
                scene="SC1",
                order=1,
                description="厨房",
                duration=2.0,
                composition=[Placement(character="lin")],
            )
        ],
        backends={"image": comfy},
    )
    (root / "kaipai.yaml").write_text(new_document_text(doc), encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # the workflow is found from the project, not from where kaipai runs
    summary = render(ProjectPaths(root), stages={"keyframe"})
    assert summary.failed == 0 and "S1/keyframe" in summary.takes
    with Image.open(circled_media(ProjectPaths(root))["S1"].keyframe) as img:
        assert img.size == (320, 176)  # the project size, snapped to the multiple of 16 the sheet asks for


@pytest.mark.parametrize(
    ("fault", "says"),
    [("500", "server error \\(HTTP 500\\)"), ("429", "rate-limiting"), ("garbage", "not JSON.*502 Bad Gateway")],
)
def test_trouble_when_queueing_is_transient_and_queues_nothing(
    double: ComfyDouble, tmp_path: Path, fault: str, says: str
) -> None:
    double.faults = [("/prompt", fault)]
    double.retry_after = "4"
    request = ImageRequest(prompt="p", width=32, height=24, reference_images=[reference(tmp_path)])
    ctx, recorded, _ = job_context(tmp_path)
    with pytest.raises(TransientError, match=says) as info:
        backend(double, workflow="smoke_load_scale_save").generate_image(request, ctx)
    assert recorded == [] and double.prompts_received == 0
    if fault == "429":
        assert info.value.retry_after == 4
    # the engine's retry queues it once
    assert backend(double, workflow="smoke_load_scale_save").generate_image(request, job_context(tmp_path)[0]).files
    assert double.prompts_received == 1


def test_a_server_that_does_not_answer_times_out(double: ComfyDouble, tmp_path: Path) -> None:
    double.faults, double.slow_seconds = [("/prompt", "slow")], 1.0
    request = ImageRequest(prompt="p", width=32, height=24, reference_images=[reference(tmp_path)])
    with pytest.raises(TransientError, match="did not answer in time"):
        backend(double, workflow="smoke_load_scale_save", timeout=0.2).generate_image(request, job_context(tmp_path)[0])


def test_blips_while_following_a_prompt_are_ridden_out_without_queueing_again(
    double: ComfyDouble, tmp_path: Path
) -> None:
    blips = [("/history", "500"), ("/history", "garbage"), ("/history", "429")]
    double.retry_after = "0.1"
    request = ImageRequest(prompt="p", width=32, height=24, reference_images=[reference(tmp_path)])
    ctx, _, _ = job_context(tmp_path, on_job_id=lambda job: double.faults.extend(blips))  # once it is queued
    result = backend(double, workflow="smoke_load_scale_save").generate_image(request, ctx)
    assert result.files[0].is_file() and double.prompts_received == 1 and double.faults == []


def test_a_run_of_failed_status_checks_keeps_the_prompt_for_the_next_attempt(
    double: ComfyDouble, tmp_path: Path
) -> None:
    double.hold.set()
    request = ImageRequest(prompt="p", width=32, height=24, reference_images=[reference(tmp_path)])
    ctx, recorded, _ = job_context(tmp_path, on_job_id=lambda job: double.faults.extend([("/history", "500")] * 3))
    with pytest.raises(TransientError, match="3 failed status checks in a row"):
        backend(double, workflow="smoke_load_scale_save", max_poll_failures=3).generate_image(request, ctx)
    double.release.set()
    again, again_recorded, _ = job_context(tmp_path, job_id=recorded[0])
    assert backend(double, workflow="smoke_load_scale_save").generate_image(request, again).files
    assert double.prompts_received == 1 and again_recorded == []


def test_mmaudio_makes_a_shots_effect_from_its_clip(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The bundled video-to-audio workflow: the clip is uploaded to the video loader, the effect's words,
    seed and length go to the sampler, and the saved sound comes back; ambience, which has no clip, is
    refused before anything is queued."""
    from kaipai.backends.base import Capability, SoundRequest, UnsupportedRequest
    from tests.backends.doubles.server import mp4_bytes

    monkeypatch.setenv("KAIPAI_CONFIG", str(tmp_path / "no-config.toml"))
    d = ComfyDouble(models={"mmaudio_large_44k_v2_fp16.safetensors"})
    with serve(d.app()) as url:
        try:
            sound = ComfyUIBackend(url=url, workflow="mmaudio_v2a", **FAST)
            sheet = sound.sheet(Capability.sound)
            assert sheet.video_input and sheet.max_duration == 10
            clip = tmp_path / "clip.mp4"
            clip.write_bytes(mp4_bytes(64, 48, 24, 24))
            ctx, recorded, _ = job_context(tmp_path)
            request = SoundRequest(prompt="bus door hiss", kind="effect", video=clip, duration=4.0, seed=9)
            result = sound.generate_sound(request, ctx)
            assert result.files[0].suffix == ".wav" and len(recorded) == 1
            graph = d.history[recorded[0]]["prompt"][2]
            sampler = next(n for n in graph.values() if n["class_type"] == "MMAudioSampler")["inputs"]
            assert (sampler["prompt"], sampler["seed"], sampler["duration"]) == ("bus door hiss", 9, 4.0)
            loader = next(n for n in graph.values() if n["class_type"] == "LoadVideo")["inputs"]
            assert loader["file"] in d.uploads and d.uploads[loader["file"]] == clip.read_bytes()
            with pytest.raises(UnsupportedRequest, match=r"backends\.sound"):
                sound.generate_sound(SoundRequest(prompt="rain", kind="ambience", duration=8.0), ctx)
            assert d.prompts_received == 1
        finally:
            d.release.set()
