"""What the engine hands around for one node: the backend handle it runs on, the prepared
request with its key and estimate, and a job's output before it is committed.

Kept apart from the :class:`~kaipai.engine.engine.Engine` so the run loop
(:mod:`kaipai.engine.run`) and the engine share these types without importing each other.
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kaipai.backends.base import (
    Backend,
    BackendError,
    Capability,
    CapabilitySheet,
    NotConfigured,
    Request,
    Result,
    UnsupportedRequest,
)
from kaipai.backends.registry import Registry
from kaipai.document.backend_choice import BackendChoice
from kaipai.engine.db import Take
from kaipai.engine.graph import Node
from kaipai.engine.scheduling import RateLimiter, Slots


@dataclass
class Generated:
    """A job's output, still in its scratch folder."""

    result: Result
    backend: str
    version: str
    model: str
    seconds: float
    scratch: Path


@dataclass
class Blocked:
    reason: str


@dataclass(frozen=True)
class Missed:
    """Why a take was not made: skipped (cancelled, over budget) or failed (``key``: the failure to record)."""

    reason: str
    skipped: bool = False
    key: str | None = None
    attempts: int = 1


@dataclass
class Prepared:
    """A node ready to run or reuse: its request, key and estimate."""

    node: Node
    backend: BackendHandle | None
    request: Request | None
    inputs: dict[str, str]
    inputs_key: str
    seed: int
    key: str
    params: dict[str, Any]
    take: Take | None
    est_cost: float
    est_seconds: float
    audio_lines: list[tuple[Path, float]] = field(default_factory=list)
    audio_length: float = 0.0
    provenance: dict[str, Any] = field(default_factory=dict)  # recorded in the take's metadata (its references)
    recalled: bool = False  # its key came from the previous run (kaipai.engine.memo): no request, it is reused


class BackendHandle:
    """One backend instance per (name, model, options) in a render, with its limits per capability."""

    def __init__(self, choice: BackendChoice, registry: Registry, project_dir: Path | None = None) -> None:
        self.name = choice.use
        self.model = choice.model
        self.options = dict(choice.options)
        self.label = choice.use + (f":{choice.model}" if choice.model else "")
        self.error: str | None = None
        self.instance: Backend | None = None
        self.version = ""
        self.checked = False
        self._sheets: dict[str, CapabilitySheet] = {}
        self.slots: dict[str, Slots] = {}
        self.limiters: dict[str, RateLimiter] = {}
        try:
            self.instance = registry.create(choice.use, choice.model, dict(choice.options), project_dir=project_dir)
            self.version = str(type(self.instance).version)
        except BackendError as exc:
            self.error = str(exc)
        except (TypeError, ValueError) as exc:
            self.error = f"backend {choice.use!r} does not accept these options: {exc}"

    def sheet(self, capability: str) -> CapabilitySheet:
        if self.error is not None or self.instance is None:
            raise NotConfigured(self.error or f"backend {self.name!r} is unavailable")
        if capability not in self._sheets:
            cap = Capability(capability)
            if cap not in type(self.instance).capabilities:
                raise UnsupportedRequest(
                    f"backend {self.name!r} does not do {capability}; choose another under backends.{capability}"
                )
            self._sheets[capability] = self.instance.sheet(cap)
        return self._sheets[capability]

    def limits(self, capability: str, width: int | None = None) -> tuple[Slots, RateLimiter]:
        """The slots and rate limiter of one capability; ``width`` (jobs at once) defaults to the sheet's."""
        if capability not in self.slots:
            sheet = self.sheet(capability)
            self.slots[capability] = Slots(width or sheet.max_concurrency)
            self.limiters[capability] = RateLimiter(sheet.requests_per_minute)
        return self.slots[capability], self.limiters[capability]

    def concurrency(self) -> int:
        """Jobs this backend may run at once, over the capabilities used so far."""
        return sum(max(1, sheet.max_concurrency) for sheet in self._sheets.values())

    def close(self) -> None:
        if self.instance is not None:
            with contextlib.suppress(Exception):
                self.instance.close()


def estimate(sheet: CapabilitySheet, request: Request | None, media_seconds: float) -> tuple[float, float]:
    """(cost, seconds) of one request from the backend's declared prices and typical time."""
    units = 1.0
    if sheet.cost_unit == "second":
        units = media_seconds
    elif sheet.cost_unit in ("character", "token"):
        text = getattr(request, "text", None) or getattr(request, "prompt", "") or ""
        units = float(len(text))
    return sheet.cost_per_unit * units, sheet.typical_seconds


def speech_seconds(text: str) -> float:
    """A rough spoken length for estimates before the real audio exists."""
    return max(0.6, 0.22 * len(text))


def fresh_scratch(jobs: Path, prep: Prepared) -> Path:
    """An empty scratch folder for one job's files under ``jobs`` (``.kaipai/jobs``)."""
    scratch = jobs / prep.key[:40]
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    return scratch


def generated(prep: Prepared, result: Result, seconds: float, scratch: Path) -> Generated:
    """A backend's result as a job's output, naming the model that made it."""
    assert prep.backend is not None and prep.request is not None
    handle = prep.backend
    model = result.model or (prep.request.model or "") or handle.sheet(prep.node.capability or "").model
    return Generated(result, handle.name, handle.version, model, seconds, scratch)
