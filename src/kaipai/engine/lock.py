"""One render per project at a time: the CLI and the studio may both try."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator

from kaipai.backends.base import BackendError
from kaipai.project import ProjectPaths

__all__ = ["RenderBusy", "render_lock"]


class RenderBusy(BackendError):
    """Another render holds this project's lock."""


@contextlib.contextmanager
def render_lock(paths: ProjectPaths) -> Iterator[None]:
    """One render per project at a time (the CLI and the studio may both try)."""
    paths.state.mkdir(parents=True, exist_ok=True)
    with open(paths.state / "render.lock", "a+") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RenderBusy("another render is running in this project; wait for it to finish or cancel it") from None
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
