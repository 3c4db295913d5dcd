"""Best-of-N and retakes: a checked node's takes, until one passes or the policy says stop.

For a node quality control looks at, the render makes ``best_of`` takes at once (new seeds beside
the node's own), checks each as it is stored, and while none passes makes one more with a new seed —
up to ``max_retakes``, and never past the stage's ``budget`` for the shot (nor the render's). The best
take is circled: a passing one before a failing one, then the higher score. Every take is kept.
The engine never circles over a take the director circled by hand for the same inputs, and a retake
(``kaipai retake``) only replaces a circled take the engine chose itself and that failed. A node
whose best take still fails is not blocked — the edit uses it — but its shot is flagged.

Seeds of extra takes follow from the node's own seed, so a render killed half-way reuses the takes
it made when run again instead of paying for them twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import TYPE_CHECKING

from kaipai.document.qc import QCRules
from kaipai.engine.db import Take
from kaipai.engine.graph import Node
from kaipai.engine.jobs import Missed, Prepared
from kaipai.engine.keys import default_seed
from kaipai.engine.quality import best
from kaipai.qc.report import QCReport, stored

if TYPE_CHECKING:
    from kaipai.engine.run import RenderRun

Checked = tuple[Take, QCReport | None]


def _passes(report: QCReport | None) -> bool:
    return report is None or report.passed


def _seeds(run: RenderRun, node: Node, prep: Prepared, upstream: dict[str, Take]) -> Iterator[Prepared]:
    """Prepared takes of the node with fresh seeds derived from its own (skipping rejected ones)."""
    salt = 0
    while True:
        salt += 1
        found = run.e.prepare(node, upstream, default_seed(f"{node.id}/qc/{prep.seed}", salt))
        if isinstance(found, Prepared) and (found.take is None or found.take.status != "rejected"):
            yield found


async def render_checked(run: RenderRun, node: Node, prep: Prepared, upstream: dict[str, Take], rules: QCRules) -> None:
    """Make the node's takes, check them, retake within the policy, circle the best and settle the node."""
    quality = run.quality
    circle = run.circle_for(node)
    before = run.e.circled.get(node.id)
    made: list[Checked] = []
    spent = 0.0
    fresh = _seeds(run, node, prep, upstream)

    async def one(p: Prepared, circle_it: bool | None) -> Missed | None:
        nonlocal spent
        if p.take is not None:  # made by an earlier, interrupted render: free
            take = p.take
            report = stored(take.qc) or await quality.check(node, take, rules)
        else:
            got = await run.attempt(node, p, circle_it)
            if isinstance(got, Missed):
                return got
            take, spent = got, spent + got.cost
            report = await quality.check(node, take, rules)
        made.append((take, report))
        if report is not None:
            verdict = "passed" if report.passed else "failed: " + "; ".join(report.reasons)
            run.node_event("checked", node, take_id=take.id, message=f"take {take.id} {verdict}")
        return None

    def affordable(p: Prepared) -> bool:
        return rules.budget is None or spent + p.est_cost <= rules.budget + 1e-9

    batch = [prep]
    while len(batch) < rules.best_of:
        extra = next(fresh)
        if rules.budget is not None and spent + sum(b.est_cost for b in batch) + extra.est_cost > rules.budget + 1e-9:
            break
        batch.append(extra)
    missed = await asyncio.gather(*(one(p, circle if i == 0 else False) for i, p in enumerate(batch)))
    if not made:
        run.settle(node, next(m for m in missed if m is not None))
        return
    retakes, stopped = 0, ""
    while not any(_passes(r) for _, r in made):
        if retakes >= rules.max_retakes:
            stopped = f"after {retakes} retake{'s' if retakes != 1 else ''}" if rules.max_retakes else ""
            break
        if run.cancel.is_set():
            stopped = "cancelled"
            break
        p = next(fresh)
        if not affordable(p):
            stopped = f"the {node.stage} budget of {rules.budget:.2f} per shot is spent"
            break
        retakes += 1
        run.summary.retakes += 1
        last = made[-1]
        why = "; ".join(last[1].reasons) if last[1] is not None else ""
        run.node_event("retake", node, take_id=last[0].id, message=f"retake {retakes}/{rules.max_retakes}: {why}")
        miss = await one(p, False)
        if miss is not None:
            stopped = miss.reason
            break
    chosen, report = best(made)
    current = run.e.circled.get(node.id)
    if _may_circle(circle, before, chosen, report) and (current is None or current.id != chosen.id):
        chosen = await asyncio.to_thread(quality.circle, chosen)
    if report is not None and not report.passed:
        note = f"{node.id}: " + "; ".join(report.reasons)
        run.summary.flagged.setdefault(node.shot, []).append(note + (f" ({stopped})" if stopped else ""))
    run.settle(node, chosen, cost=spent)


def _may_circle(circle: bool | None, before: Take | None, chosen: Take, report: QCReport | None) -> bool:
    """Whether quality control may circle ``chosen`` (see the module's rules)."""
    if circle is False:
        return False
    if before is not None and before.hand_circled and before.inputs_key == chosen.inputs_key:
        return before.id == chosen.id
    if circle is True or before is None:
        return True
    earlier = stored(before.qc)
    return not before.hand_circled and earlier is not None and not earlier.passed and _passes(report)
