"""The Ray executor's parts that need no cluster: errors and files crossing to a worker and back,
what a worker holds, how GPUs are shared, what `kaipai status` says is running where, and that
the default render never loads Ray."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kaipai.backends.base import (
    AccountError,
    BackendError,
    CapabilitySheet,
    ImageRequest,
    LipsyncRequest,
    RefusedError,
    Result,
    TransientError,
    VideoRequest,
)
from kaipai.cli import app
from kaipai.document.execution import ExecutorChoice, WorkerResources
from kaipai.document.io import DocumentError, load
from kaipai.engine.cluster import pools
from kaipai.engine.cluster.transfer import (
    Failure,
    InputCache,
    pack_outputs,
    request_paths,
    unpack_outputs,
    with_paths,
    write_inputs,
)
from kaipai.engine.db import TakesDB, now

REPO = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- errors and files


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (TransientError("429 busy", retry_after=7.0, provider_reason="Throttling"), TransientError),
        (RefusedError("content policy", provider_reason="DataInspectionFailed"), RefusedError),
        (AccountError("balance is empty"), AccountError),
        (BackendError("bad reply"), BackendError),
        (ValueError("a backend bug"), ValueError),
    ],
)
def test_a_worker_failure_comes_back_as_its_own_class_without_a_traceback(error: Exception, kind: type) -> None:
    back = Failure.of(error).error()
    assert type(back) is kind
    assert str(back) == str(error)
    assert getattr(back, "retry_after", None) == getattr(error, "retry_after", None)
    assert getattr(back, "provider_reason", "") == getattr(error, "provider_reason", "")


def test_an_error_class_this_machine_lacks_keeps_its_name_and_whether_to_retry() -> None:
    unknown = Failure("some_plugin.errors", "QuotaHiccup", "try later", transient=True, retry_after=3.0)
    back = unknown.error()
    assert isinstance(back, TransientError) and back.retry_after == 3.0
    bug = Failure("some_plugin.errors", "Explosion", "boom").error()
    assert type(bug).__name__ == "Explosion" and str(bug) == "boom"


def test_every_file_a_request_names_is_found_and_replaced(tmp_path: Path) -> None:
    clip, audio = tmp_path / "clip.mp4", tmp_path / "line.wav"
    request = LipsyncRequest(video=clip, audio=audio)
    assert request_paths(request) == [clip, audio]
    moved = with_paths(request, lambda p: Path("/elsewhere") / p.name)
    assert (moved.video, moved.audio) == (Path("/elsewhere/clip.mp4"), Path("/elsewhere/line.wav"))
    video = VideoRequest(
        prompt="push in", image=clip, reference_images=[audio, clip], width=64, height=48, fps=12, duration=2
    )
    assert request_paths(video) == [clip, audio]
    assert request_paths(ImageRequest(prompt="x", width=8, height=8)) == []


@settings(deadline=None, max_examples=30)  # file writes on a busy machine take their time
@given(st.lists(st.binary(max_size=64), min_size=1, max_size=4))
def test_files_cross_to_a_worker_and_back_byte_for_byte(tmp_path_factory: Any, contents: list[bytes]) -> None:
    root = tmp_path_factory.mktemp("transfer")
    driver, worker, scratch = root / "driver", root / "worker", root / "scratch"
    for folder in (driver, worker, scratch):
        folder.mkdir()
    refs = []
    for i, data in enumerate(contents):
        (driver / f"ref{i}.png").write_bytes(data)
        refs.append(driver / f"ref{i}.png")
    request = ImageRequest(prompt="x", width=8, height=8, reference_images=refs)
    local = write_inputs(request, {str(p): p.read_bytes() for p in refs}, worker / "in")
    assert [p.read_bytes() for p in local.reference_images] == contents
    assert all(worker in p.parents for p in local.reference_images)
    # The worker's outputs (names may collide) come back into the driver's scratch folder.
    outs = []
    for i, data in enumerate(contents):
        (worker / f"out{i}").mkdir()
        (worker / f"out{i}" / "frame.png").write_bytes(data)
        outs.append(worker / f"out{i}" / "frame.png")
    packed, blobs = pack_outputs(Result(files=outs, width=8))
    assert len({p.name for p in packed.files}) == len(outs)
    back = unpack_outputs(packed, blobs, scratch)
    assert [p.read_bytes() for p in back.files] == contents and back.width == 8
    assert all(p.parent == scratch for p in back.files)


def test_the_driver_puts_each_input_once_and_keeps_within_its_budget(tmp_path: Path) -> None:
    puts: list[bytes] = []

    def put(data: bytes) -> int:
        puts.append(data)
        return len(puts)

    cache = InputCache(put, budget=10)
    sheet, clip = tmp_path / "sheet.png", tmp_path / "clip.mp4"
    sheet.write_bytes(b"12345")
    clip.write_bytes(b"1234567890")
    assert cache.ref(sheet) == cache.ref(sheet) == 1  # a sheet serving many keyframes goes once
    assert cache.ref(clip) == 2
    assert cache.ref(sheet) == 3  # over the budget the oldest was let go
    sheet.write_bytes(b"changed")
    assert cache.ref(sheet) == 4 and puts[-1] == b"changed"


# --------------------------------------------------------------------------- what a worker holds


def test_a_workers_resources_come_from_the_sheet_with_the_most_specific_override_winning() -> None:
    sheet = CapabilitySheet(capability="video", num_gpus=1, num_cpus=2, memory_gb=40)
    assert pools.needs_for(sheet, ExecutorChoice(), "diffusers", "video") == pools.Needs(1, 2, 40)
    choice = ExecutorChoice(
        resources={
            "video": WorkerResources(num_gpus=2, memory_gb=80),
            "diffusers": WorkerResources(num_cpus=4, memory_gb=60),
            "diffusers/video": WorkerResources(replicas=3),
        }
    )
    needs = pools.needs_for(sheet, choice, "diffusers", "video")
    assert needs == pools.Needs(num_gpus=2, num_cpus=4, memory_gb=60, replicas=3)
    assert needs.options() == {"num_gpus": 2, "num_cpus": 4, "memory": 60 * 2**30}
    assert pools.needs_for(sheet, choice, "kling", "image") == pools.Needs(1, 2, 40)


def test_backends_declare_what_a_cluster_worker_holds() -> None:
    from kaipai.backends.diffusers.models import FAMILIES, sheet_for
    from kaipai.backends.remote.sheets import load_sheet, sheet_ids

    on_gpu = sheet_for(FAMILIES["wan"], "Wan-AI/Wan2.1-I2V-14B-480P-Diffusers", {})
    assert on_gpu.num_gpus == 1 and on_gpu.memory_gb >= 30
    assert sheet_for(FAMILIES["sd"], "tiny", {"device": "cpu"}).num_gpus == 0
    service = load_sheet("kling", sheet_ids("kling")[0])
    assert service.num_gpus == 0 and service.num_cpus == 0  # a client of a remote service is a light worker


def test_a_service_keeps_its_providers_limit_on_any_cluster_and_a_gpu_backend_widens_with_its_replicas() -> None:
    def width(needs: Any, replicas: int) -> int:
        return pools.Pool("x", "x", None, needs, replicas, 4, None, "journal", {}).width  # type: ignore[arg-type]

    assert width(pools.Needs(0, 0, 0), replicas=8) == 4  # the provider's four at once, however many workers
    assert width(pools.Needs(1, 1, 24), replicas=8) == 32  # eight GPUs, four jobs each


def test_the_gpus_are_shared_in_proportion_to_the_planned_work() -> None:
    demands = {"keyframes": (1.0, 100 * 25.0), "clips": (1.0, 100 * 600.0)}
    assert pools.share_gpus(demands, 8) == {"keyframes": 1, "clips": 7}
    assert pools.share_gpus({"keyframes": (1.0, 10.0), "clips": (2.0, 10.0)}, 8) == {"keyframes": 4, "clips": 2}
    assert pools.share_gpus(demands, 1) == {"keyframes": 1, "clips": 1}  # they take turns
    assert pools.share_gpus({}, 4) == {}


# --------------------------------------------------------------------------- choosing and showing


def test_the_executor_is_chosen_in_kaipai_yaml_and_a_misspelt_key_is_located(film: Any) -> None:
    f = film()
    text = f.paths.document.read_text(encoding="utf-8")
    f.paths.document.write_text(text + "executor:\n  use: ray\n  transfer: shared\n", encoding="utf-8")
    assert load(f.paths.document).doc.executor == ExecutorChoice(use="ray", transfer="shared")
    f.paths.document.write_text(text + "executor:\n  use: ray\n  resources:\n    video: {num_gpu: 1}\n")
    with pytest.raises(DocumentError) as err:
        load(f.paths.document)
    assert "executor.resources.video.num_gpu" in str(err.value)


def test_address_with_the_thread_executor_is_refused_with_a_clear_message(film: Any) -> None:
    f = film()
    result = CliRunner().invoke(
        app, ["render", "--project", str(f.paths.root), "--executor", "thread", "--address", "head:6379"]
    )
    assert result.exit_code == 1
    assert "--address names a Ray cluster" in result.output and "Traceback" not in result.output


def test_status_says_where_each_running_job_runs(film: Any) -> None:
    f = film()
    here = socket.gethostname()
    with TakesDB(f.paths.database) as db:
        db.set_running(f"{here}:{os.getpid()}", [("S2/clip", "k1", "simulated", "gpu-node-3 GPU 1 (pid 4411)", now())])
        db.set_running(f"{here}:999999999", [("S3/clip", "k2", "simulated", "gpu-node-4 GPU 0 (pid 77)", now())])
    result = CliRunner().invoke(app, ["status", "--project", str(f.paths.root)])
    assert result.exit_code == 0, result.output
    assert "rendering now (1)" in result.output
    assert "S2/clip on gpu-node-3 GPU 1 (pid 4411)" in result.output
    assert "gpu-node-4" not in result.output  # that render is dead: its row is stale


def test_the_default_render_never_loads_ray(film: Any) -> None:
    f = film({"latency": 0.0})
    script = (
        "import sys; from pathlib import Path; from kaipai.cli import main; sys.argv = ['kaipai', 'render', "
        f"'--project', {str(f.paths.root)!r}, '--no-cut'];\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "print('RAY LOADED' if 'ray' in sys.modules else 'NO RAY')"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("NO RAY")
