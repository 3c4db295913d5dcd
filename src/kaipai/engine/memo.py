"""Keys remembered from the previous run, so a no-op render need not rebuild every request.

A node's key hashes its request, built from the document, its inputs' takes, its backend's
capability sheet and the files it references. Building and hashing 5,000 of them is most of what
a no-op ``kaipai render`` or ``kaipai status`` of a feature film costs, and it almost always gives
what the previous run gave. So the engine keeps, per node, the inputs key it computed and what it
computed it from:

- the run's context: the document as validated (its JSON), kaipai's code (each module's size and
  time), pydantic's version, the engine version and the project's folder. Any change discards every
  entry: an edited shot, a changed backend option or an upgrade recompute the keys as before;
- the node's own: each upstream take (id, creation, key, file, length), its backend (name, version,
  model and capability sheet) and each file it hashed (size and time): a file replaced, deleted
  or moved into the project misses.

An entry only stands in for the inputs key; the seed and the take are found as before, and a node
without a usable take builds its request in full. Kept in ``.kaipai/cache/keys.json``: losing it
costs time, never a take.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pydantic

from kaipai.document.models import Document
from kaipai.engine.db import Take
from kaipai.engine.keys import ENGINE_VERSION

#: One remembered node: what it was computed from (its mark), the files it hashed, its inputs key.
Entry = tuple[str, list[tuple[str, int, int]], str]


@cache
def code_fingerprint() -> str:
    """kaipai's modules as installed (relative path, size, modification time) and pydantic's version."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256(pydantic.VERSION.encode())
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                st = os.stat(path)
                h.update(f"{os.path.relpath(path, root)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _stat(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def take_mark(take: Take) -> str:
    """An upstream take as a request may read it (a take's row never changes but for its status and report)."""
    return f"{take.id}:{take.created}:{take.key}:{take.media}:{take.duration}"


class KeyMemo:
    """The inputs keys of the previous run, checked against this one's context and each node's inputs."""

    def __init__(self, path: Path, doc: Document, root: Path, *, enabled: bool = True) -> None:
        """``enabled=False``: a status of a few shots (the studio's), where the context would cost more than
        building their requests: nothing is recalled, learned or written."""
        self.path = path
        self.enabled = enabled
        self._doc, self._root = doc, root
        self._context: str | None = None
        self._entries: dict[str, Entry] | None = None
        self._learned = False
        self._local = threading.local()
        self._lock = threading.Lock()

    @property
    def context(self) -> str:
        if self._context is None:
            h = hashlib.sha256(f"{ENGINE_VERSION}\n{code_fingerprint()}\n{self._root.resolve()}\n".encode())
            h.update(self._doc.model_dump_json().encode())
            self._context = h.hexdigest()
        return self._context

    def _load(self) -> dict[str, Entry]:
        if self._entries is None:
            entries: dict[str, Entry] = {}
            with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
                data = json.loads(self.path.read_bytes())
                if data["context"] == self.context:
                    entries = {k: (v[0], [tuple(f) for f in v[1]], v[2]) for k, v in data["nodes"].items()}
            with self._lock:
                if self._entries is None:
                    self._entries = entries
        return self._entries

    @staticmethod
    def mark(node: str, deps: tuple[str, ...], upstream: dict[str, Take], backend: str) -> str:
        """What a node's key follows besides the context and its files: its inputs' takes and its backend."""
        parts = [node, backend, *(f"{d}={take_mark(upstream[d])}" for d in deps)]
        return hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()

    def recall(self, node: str, mark: str) -> str | None:
        """The node's inputs key when everything it was computed from is as it was, else None."""
        if not self.enabled:
            return None
        found = self._load().get(node)
        if found is None or found[0] != mark:
            return None
        for path, size, mtime in found[1]:
            if _stat(path) != (size, mtime):
                return None
        return found[2]

    @contextlib.contextmanager
    def watching(self) -> Iterator[list[str]]:
        """Collect the files hashed (see :meth:`hashed`) while a node's request is built, on this thread."""
        seen: list[str] = []
        outer = getattr(self._local, "seen", None)
        self._local.seen = seen
        try:
            yield seen
        finally:
            self._local.seen = outer

    def hashed(self, path: Path) -> None:
        """A file a request's key depends on was hashed: the node's entry holds as long as it is unchanged."""
        seen = getattr(self._local, "seen", None)
        if seen is not None:
            seen.append(str(path))

    def learn(self, node: str, mark: str, files: list[str], inputs_key: str) -> None:
        if not self.enabled:
            return
        stats = []
        for path in dict.fromkeys(files):
            st = _stat(path)
            if st is None:
                return  # a file gone since it was hashed: nothing to remember
            stats.append((path, *st))
        entries = self._load()
        entry: Entry = (mark, stats, inputs_key)
        with self._lock:
            if entries.get(node) != entry:
                entries[node] = entry
                self._learned = True

    def save(self) -> None:
        """Write what was learned (atomically; another process's newer file simply wins or loses whole)."""
        with self._lock:
            if not self._learned or self._entries is None:
                return
            data: dict[str, Any] = {"context": self.context, "nodes": self._entries}
            self._learned = False
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".keys.", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(data, fh, separators=(",", ":"))
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
