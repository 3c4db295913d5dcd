"""What the engine reports: the state of each node, and the summary of a render."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from kaipai.engine.events import RenderTotals

NodeState = Literal["current", "stale", "missing", "blocked", "failed"]


class NodeStatus(BaseModel):
    """One stage of one shot (or one voice line) and whether it is up to date.

    ``current``: a take exists for the current inputs. ``stale``: takes exist but the inputs
    changed (or will change once an upstream stage renders). ``missing``: never rendered.
    ``blocked``: cannot run (an upstream failed, the backend refuses the request or is not
    set up); ``reason`` says why. ``failed``: the last attempt for these inputs failed.
    """

    node: str
    shot: str
    stage: str
    item: str = ""
    state: NodeState
    reason: str = ""
    backend: str = ""
    key: str | None = None
    inputs_key: str | None = Field(
        default=None, description="Hash of the current inputs (without seed); None until upstream is current."
    )
    take_id: int | None = Field(default=None, description="The take used now: current, or the circled one.")
    est_cost: float = 0.0
    est_seconds: float = 0.0
    running_on: str = Field(default="", description="The cluster worker rendering it right now, if any.")

    @property
    def will_run(self) -> bool:
        return self.state in ("stale", "missing", "failed")


class RenderSummary(RenderTotals):
    """The outcome of ``render`` (or, with ``dry_run``, what it would do)."""

    dry_run: bool = False
    budget: float | None = None
    est_cost: float = Field(default=0.0, description="Estimated cost of the work that would run.")
    est_seconds: float = Field(default=0.0, description="Estimated wall time of the work that would run.")
    failures: dict[str, str] = Field(default_factory=dict, description="node → reason it failed or was not run.")
    takes: dict[str, int] = Field(default_factory=dict, description="node → take generated in this render.")
    nodes: list[NodeStatus] = Field(default_factory=list, description="Per node state (dry runs).")
    durations_updated: list[str] = Field(
        default_factory=list, description="Shots whose duration was set from their audio."
    )
    flagged: dict[str, list[str]] = Field(
        default_factory=dict,
        description="shot → why quality control flags it: a take that failed its checks (and is used anyway), "
        "a continuity break at the cut into it.",
    )
    retakes: int = Field(default=0, description="Takes made because earlier ones failed quality control.")
    notes: dict[str, str] = Field(
        default_factory=dict, description="shot → what the director should know (dialogue that is not lip-synced)."
    )

    @property
    def ok(self) -> bool:
        return self.failed == 0 and not self.cancelled
