"""A job context as the engine gives one to a backend, recording what the backend reports back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kaipai.backends.base import JobContext


def job_context(
    tmp_path: Path, job_id: str | None = None, on_job_id: Any = None, key: str = "job-key-1"
) -> tuple[JobContext, list[str], list[tuple[float, str]]]:
    """(the context, the job ids the backend recorded, its progress reports as (fraction, message)).

    ``job_id`` is one recorded by an earlier attempt (a resumed render); ``on_job_id`` runs after
    each recording, e.g. to kill the attempt right after the provider accepted the job.
    """
    recorded: list[str] = []
    progress: list[tuple[float, str]] = []
    out = tmp_path / "job"
    out.mkdir(exist_ok=True)

    def record(job: str) -> None:
        recorded.append(job)
        if on_job_id is not None:
            on_job_id(job)

    return (
        JobContext(
            out_dir=out, key=key, job_id=job_id, on_job_id=record, on_progress=lambda f, m: progress.append((f, m))
        ),
        recorded,
        progress,
    )
