"""The render's event stream: what the CLI draws with Rich and the studio forwards as SSE.

Events are small pydantic models with a ``kind`` tag, so ``event.model_dump_json()`` is
all a server-sent-events endpoint needs. They are delivered on the thread that called
``render`` (never concurrently), in the order they happened.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, Field

NodeEventKind = Literal[
    "queued", "started", "progress", "retry", "checked", "retake", "done", "reused", "failed", "skipped"
]


class NodeEvent(BaseModel):
    """Something happened to one node (one stage of one shot, or one voice line)."""

    kind: NodeEventKind
    node: str
    shot: str
    stage: str
    take_id: int | None = None
    fraction: float | None = Field(default=None, description="Progress 0–1 of a running job.")
    message: str = ""
    cost: float = 0.0
    seconds: float = 0.0
    est_seconds: float = 0.0
    where: str = Field(default="", description="The cluster worker running the job (empty: this machine).")


class RenderTotals(BaseModel):
    """Counts at the end of a render."""

    generated: int = 0
    reused: int = 0
    failed: int = 0
    skipped: int = 0
    cost: float = 0.0
    seconds: float = 0.0
    cancelled: bool = False


class RenderDone(BaseModel):
    kind: Literal["render_done"] = "render_done"
    totals: RenderTotals


class RenderPlanned(BaseModel):
    """Sent once at the start: how many nodes each stage has and how many will run."""

    kind: Literal["plan"] = "plan"
    stages: dict[str, int] = Field(description="stage → nodes to run")
    reused: dict[str, int] = Field(description="stage → nodes already current")
    est_seconds: float = 0.0
    est_cost: float = 0.0


Event = NodeEvent | RenderDone | RenderPlanned
EventSink = Callable[[Event], None]
