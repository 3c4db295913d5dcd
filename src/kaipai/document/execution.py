"""Where a render's jobs run, as the document says it: ``executor:`` in kaipai.yaml.

Threads on this machine by default; a Ray cluster (the ``ray`` extra) with what each backend's
workers hold there. Nothing here changes what a take is, so none of it is part of any key.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from kaipai.document.strict import Strict


class WorkerResources(Strict):
    """What one Ray worker of a backend holds, overriding its capability sheet (empty: the sheet's)."""

    num_gpus: float | None = Field(default=None, ge=0, description="GPUs per worker (fractions share one GPU).")
    num_cpus: float | None = Field(default=None, ge=0, description="CPU cores per worker.")
    memory_gb: float | None = Field(default=None, ge=0, description="RAM per worker in GiB (0: no reservation).")
    replicas: int | None = Field(
        default=None, ge=1, description="Workers of a backend that computes on the cluster (default: share the GPUs)."
    )


class ExecutorChoice(Strict):
    """Where backend jobs run: threads on this machine (the default) or the workers of a Ray cluster."""

    use: Literal["thread", "ray"] = Field(default="thread", description="thread: this machine; ray: a Ray cluster.")
    address: str | None = Field(
        default=None,
        description="The Ray cluster: HOST:6379 from a node of it, ray://HOST:10001 from outside, 'auto' for the one "
        "started on this machine; empty starts a Ray instance on this machine (or joins RAY_ADDRESS).",
    )
    transfer: Literal["auto", "object_store", "shared"] = Field(
        default="auto",
        description="How inputs and results travel: 'shared' when every node sees the project at the same path, "
        "'object_store' through Ray, 'auto' asks each worker whether it sees the project.",
    )
    resources: dict[str, WorkerResources] = Field(
        default_factory=dict,
        description="Overrides per capability (video), backend (diffusers) or both (diffusers/video), the most "
        "specific winning.",
    )
