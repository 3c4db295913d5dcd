"""The async-task layer every cloud backend shares: one task's life, whatever the provider."""

from __future__ import annotations

from pathlib import Path

import pytest

from kaipai.backends.base import AccountError, BackendError, RefusedError, TransientError
from kaipai.backends.remote.tasks import Poll, PollSettings, run_task
from tests.backends.doubles.jobs import job_context

FAST = PollSettings(interval=0.001, max_interval=0.002, deadline=2, max_poll_failures=3)


class Provider:
    """A provider in miniature: tasks that run for a few looks, then end as told."""

    def __init__(self, ends: str = "done", after: int = 2) -> None:
        self.ends, self.after = ends, after
        self.submitted: list[str] = []
        self.looks: dict[str, int] = {}

    def submit(self) -> str:
        task = f"t{len(self.submitted) + 1}"
        self.submitted.append(task)
        return task

    def look(self, task: str) -> Poll:
        self.looks[task] = self.looks.get(task, 0) + 1
        if self.looks[task] <= self.after:
            return Poll("waiting", {"id": task})
        return Poll("done" if self.ends == "done" else "failed", {"id": task, "why": self.ends})

    def failure(self, task: str, poll: Poll) -> BackendError:
        why = poll.payload["why"]
        if why == "refused":
            return RefusedError(f"{task}: refused")
        if why == "account":
            return AccountError(f"{task}: the account is empty")
        return TransientError(f"{task}: failed inside the provider")


def run(provider: Provider, tmp_path: Path, job_id: str | None = None) -> tuple[Poll, list[str]]:
    ctx, recorded, _ = job_context(tmp_path, job_id=job_id)
    poll = run_task(ctx, "P", FAST, submit=provider.submit, look=provider.look, failure=provider.failure)
    return poll, recorded


def test_a_task_is_submitted_once_recorded_at_once_and_followed_to_its_end(tmp_path: Path) -> None:
    provider = Provider()
    poll, recorded = run(provider, tmp_path)
    assert poll.state == "done" and provider.submitted == ["t1"] == recorded


def test_a_recorded_task_is_resumed_never_submitted_again(tmp_path: Path) -> None:
    provider = Provider()
    provider.submit()  # submitted by a render that was killed
    poll, recorded = run(provider, tmp_path, job_id="t1")
    assert poll.payload["id"] == "t1" and provider.submitted == ["t1"] and recorded == []


@pytest.mark.parametrize(("ends", "error"), [("refused", RefusedError), ("account", AccountError)])
def test_refusals_and_account_errors_are_raised_never_submitted_again(
    tmp_path: Path, ends: str, error: type[BackendError]
) -> None:
    provider = Provider(ends=ends)
    with pytest.raises(error):
        run(provider, tmp_path)
    provider.submit()
    with pytest.raises(error):  # on resume too: the recorded task's refusal stands
        run(provider, tmp_path, job_id="t2")
    assert provider.submitted == ["t1", "t2"]


def test_a_recorded_task_that_failed_inside_the_provider_is_submitted_afresh(tmp_path: Path) -> None:
    provider = Provider(ends="internal", after=0)
    provider.submit()  # t1 ended in an internal failure at the provider while no render was watching
    provider.ends = "done"
    provider.looks["t1"] = -99  # ... and stays failed, while the next task succeeds
    original = provider.look
    provider.look = lambda task: Poll("failed", {"why": "internal"}) if task == "t1" else original(task)  # type: ignore[method-assign]
    poll, recorded = run(provider, tmp_path, job_id="t1")
    assert poll.payload["id"] == "t2" and recorded == ["t2"] and provider.submitted == ["t1", "t2"]


def test_a_task_whose_id_was_never_recorded_is_found_by_the_clients_own_id_and_resumed(tmp_path: Path) -> None:
    provider = Provider()
    provider.submit()  # accepted by the provider, but the render died before the id was recorded
    ctx, recorded, _ = job_context(tmp_path)
    poll = run_task(
        ctx, "P", FAST, submit=provider.submit, look=provider.look, failure=provider.failure, find=lambda: "t1"
    )
    assert poll.payload["id"] == "t1" and recorded == ["t1"] and provider.submitted == ["t1"]
    ctx, recorded, _ = job_context(tmp_path)
    run_task(ctx, "P", FAST, submit=provider.submit, look=provider.look, failure=provider.failure, find=lambda: None)
    assert provider.submitted == ["t1", "t2"] and recorded == ["t2"]  # nothing found: submitted once
