"""ComfyUI's queue as the real server keeps it: partial prompts, our own prompt ids, cancelling, /object_info."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kaipai.backends.base import ImageRequest, NotConfigured, TransientError
from kaipai.backends.comfyui.backend import ComfyUIBackend, client_id_for, prompt_id_for
from kaipai.backends.comfyui.workflow import load_workflow
from tests.backends.doubles.comfyui_double import ComfyDouble
from tests.backends.doubles.jobs import job_context
from tests.backends.doubles.server import png_bytes, serve

FAST = {"poll_interval": 0.05, "poll_max_interval": 0.05, "deadline": 10, "timeout": 3}
#: Two outputs, one missing its input: ComfyUI queues it (HTTP 200), runs the first, lists the second.
TWO_OUTPUTS = {
    "1": {"class_type": "LoadImage", "inputs": {"image": "x.png"}, "_meta": {"title": "Input Image"}},
    "2": {
        "class_type": "ImageScale",
        "inputs": {"image": ["1", 0], "width": 8, "height": 8},
        "_meta": {"title": "Scale"},
    },
    "3": {
        "class_type": "SaveImage",
        "inputs": {"images": ["2", 0], "filename_prefix": "ok"},
        "_meta": {"title": "Keep"},
    },
    "4": {"class_type": "SaveImage", "inputs": {"filename_prefix": "broken"}, "_meta": {"title": "Broken Save"}},
}
BIND = {"prompt": None, "reference_images": "Input Image", "width": "Scale.width", "height": "Scale.height"}


class Killed(Exception):
    pass


@pytest.fixture
def double(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ComfyDouble]:
    monkeypatch.setenv("KAIPAI_CONFIG", str(tmp_path / "no-config.toml"))
    d = ComfyDouble(models={"sd_xl_base_1.0.safetensors"})
    with serve(d.app()) as url:
        d.url = url  # type: ignore[attr-defined]
        yield d
        d.release.set()


def backend(double: ComfyDouble, **options: Any) -> ComfyUIBackend:
    return ComfyUIBackend(**{"url": double.url, **FAST, **options})  # type: ignore[attr-defined]


def request(tmp_path: Path) -> ImageRequest:
    ref = tmp_path / "ref.png"
    ref.write_bytes(png_bytes(40, 30, (10, 200, 30)))
    return ImageRequest(prompt="p", width=32, height=24, reference_images=[ref])


def test_a_prompt_queued_with_node_errors_is_followed_recorded_and_never_queued_twice(
    double: ComfyDouble, tmp_path: Path
) -> None:
    def die(job: str) -> None:
        raise Killed(job)

    comfy = backend(double, workflow=TWO_OUTPUTS, bind=BIND)
    ctx, recorded, _ = job_context(tmp_path, key="partial", on_job_id=die)
    with pytest.raises(Killed):  # queued (200 with node_errors) and recorded before anything else
        comfy.generate_image(request(tmp_path), ctx)
    again, again_recorded, _ = job_context(tmp_path, key="partial", job_id=recorded[0])
    result = backend(double, workflow=TWO_OUTPUTS, bind=BIND).generate_image(request(tmp_path), again)
    assert double.prompts_received == 1 and again_recorded == []
    assert result.files[0].name.startswith("ok_3") and result.metadata["prompt_id"] == recorded[0]
    history = double.history[recorded[0]]
    assert set(history["outputs"]) == {"3"} and history["status"]["status_str"] == "success"  # the valid branch ran
    third, third_recorded, _ = job_context(tmp_path, key="partial")  # the id was never recorded: found by our own id
    assert backend(double, workflow=TWO_OUTPUTS, bind=BIND).generate_image(request(tmp_path), third).files
    assert double.prompts_received == 1 and third_recorded == [recorded[0]]


def test_the_outputs_left_out_are_named_on_the_take(double: ComfyDouble, tmp_path: Path) -> None:
    result = backend(double, workflow=TWO_OUTPUTS, bind=BIND).generate_image(
        request(tmp_path), job_context(tmp_path)[0]
    )
    assert "node 4 'Broken Save' (SaveImage): Required input is missing" in result.metadata["outputs_left_out"]


def test_a_prompt_queued_without_the_wanted_output_is_cancelled_at_once(double: ComfyDouble, tmp_path: Path) -> None:
    double.hold.set()  # it would otherwise run the valid branch
    ctx, recorded, _ = job_context(tmp_path)
    with pytest.raises(NotConfigured, match=r"without its output.*node 4 'Broken Save'"):
        backend(double, workflow=TWO_OUTPUTS, bind=BIND, output="Broken Save").generate_image(request(tmp_path), ctx)
    assert len(recorded) == 1 and double.prompts_received == 1
    deadline = time.monotonic() + 5
    while recorded[0] not in double.history and double.pending and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not any(p[1] == recorded[0] for p in double.pending)  # not left waiting in the queue


def test_a_crash_between_queueing_and_recording_does_not_queue_again(double: ComfyDouble, tmp_path: Path) -> None:
    wf = load_workflow("smoke_load_scale_save")
    comfy = backend(double, workflow="smoke_load_scale_save")
    req = request(tmp_path)
    graph = wf.apply({"reference_images": [comfy.client.upload(req.reference_images[0])], "width": 32, "height": 24})
    comfy.client.queue(graph, client_id_for("job-9"), wf, prompt_id_for("job-9", 0))  # then the render died
    ctx, recorded, _ = job_context(tmp_path, key="job-9")
    assert comfy.generate_image(req, ctx).files
    assert double.prompts_received == 1 and recorded == [prompt_id_for("job-9", 0)]


def test_an_interrupted_attempt_is_followed_by_a_new_prompt_id(double: ComfyDouble, tmp_path: Path) -> None:
    double.hold.set()
    ctx, recorded, _ = job_context(tmp_path, key="job-3")
    threading.Timer(0.3, ctx.cancel_event.set).start()
    with pytest.raises(TransientError, match="cancelled"):
        backend(double, workflow="smoke_load_scale_save").generate_image(request(tmp_path), ctx)
    double.hold.clear()
    deadline = time.monotonic() + 5
    while recorded[0] not in double.history and time.monotonic() < deadline:
        time.sleep(0.02)
    again, again_recorded, _ = job_context(tmp_path, key="job-3")
    assert backend(double, workflow="smoke_load_scale_save").generate_image(request(tmp_path), again).files
    assert again_recorded == [prompt_id_for("job-3", 1)] and double.prompts_received == 2


def test_a_queued_prompt_is_deleted_from_the_queue_and_the_running_one_left_alone(
    double: ComfyDouble, tmp_path: Path
) -> None:
    double.hold.set()
    first, first_recorded, _ = job_context(tmp_path, key="first")
    runner = threading.Thread(
        target=lambda: backend(double, workflow="smoke_load_scale_save").generate_image(request(tmp_path), first),
        daemon=True,
    )
    runner.start()
    deadline = time.monotonic() + 5
    while double.running is None and time.monotonic() < deadline:
        time.sleep(0.02)
    second, second_recorded, _ = job_context(tmp_path, key="second")
    threading.Timer(0.4, second.cancel_event.set).start()
    with pytest.raises(TransientError, match="cancelled"):
        backend(double, workflow="smoke_load_scale_save").generate_image(request(tmp_path), second)
    assert not any(p[1] == second_recorded[0] for p in double.pending)  # removed with POST /queue {"delete": …}
    assert double.interrupts == [] and not double.interrupted.is_set()  # /interrupt was not used on it
    double.release.set()
    runner.join(timeout=10)
    assert (
        first_recorded[0] in double.history and double.history[first_recorded[0]]["status"]["status_str"] == "success"
    )


# --------------------------------------------------------------------------- /object_info before any render


def test_check_asks_object_info_for_the_workflows_nodes_and_models(double: ComfyDouble) -> None:
    ready = backend(double, workflow="keyframe_sdxl").reachable()
    assert "reachable" in ready and "keyframe_sdxl: every node and model present" in ready
    with pytest.raises(NotConfigured) as missing_node:
        backend(double, workflows={"lipsync": {"workflow": "latentsync"}}).reachable()
    assert "node 1 'Clip' (VHS_LoadVideo): the server has no such node" in str(missing_node.value)
    double.models = set()
    with pytest.raises(NotConfigured, match=r"node 4 'Load Checkpoint'.*ckpt_name 'sd_xl_base_1.0.safetensors' is not"):
        backend(double, workflow="keyframe_sdxl").reachable()
    assert double.prompts_received == 0  # nothing was rendered to find out


def test_kaipai_backends_check_comfyui_in_a_project_reports_missing_nodes(
    double: ComfyDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kaipai.cli import app
    from kaipai.document.backend_choice import BackendChoice
    from kaipai.document.io import new_document_text
    from kaipai.document.models import Document
    from kaipai.document.settings import Project

    root = tmp_path / "film"
    root.mkdir()
    comfy = BackendChoice(use="comfyui", options={"url": double.url, "workflow": "latentsync"})  # type: ignore[attr-defined]
    doc = Document(project=Project(title="t"), backends={"lipsync": comfy})
    (root / "kaipai.yaml").write_text(new_document_text(doc), encoding="utf-8")
    monkeypatch.chdir(root)
    monkeypatch.setenv("COLUMNS", "300")
    result = CliRunner().invoke(app, ["backends", "check", "comfyui"])
    assert result.exit_code == 1, result.output
    assert "VHS_LoadVideo" in result.output and "no such node" in result.output and "Traceback" not in result.output
