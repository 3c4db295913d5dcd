"""The content-addressed store in ``.kaipai/store``.

A file is stored under the SHA-256 of its bytes (``ab/abcdef….ext``), so an artifact is
written once however many takes refer to it, and a file's name proves its content. Files
arrive by rename from a job's scratch folder on the same disk, so a reader (or a crash)
never sees half a file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from kaipai.engine.keys import file_digest


class Store:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, relative: str) -> Path:
        """Absolute path of a stored file from its store-relative name."""
        return self.root / relative

    def put(self, source: Path, *, move: bool = True) -> str:
        """Add a file and return its store-relative name; ``move`` consumes the source.

        The name keeps the source's suffix so tools recognise the media type.
        """
        source = Path(source)
        digest = file_digest(source)
        relative = f"{digest[:2]}/{digest}{source.suffix.lower()}"
        target = self.root / relative
        if target.exists():
            if move:
                with contextlib.suppress(FileNotFoundError):
                    source.unlink()
            return relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if move:
            with open(source, "rb") as fh:  # the bytes reach the disk before the name does
                os.fsync(fh.fileno())
            try:
                os.replace(source, target)  # same disk: atomic, complete or absent
                return relative
            except OSError:
                pass  # another filesystem: copy below
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming.", suffix=".tmp")
        os.close(fd)
        try:
            shutil.copyfile(source, tmp)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, target)
            if move:
                source.unlink()
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return relative

    def verify(self) -> list[str]:
        """Store-relative names whose bytes do not match their name (empty when the store is sound)."""
        bad: list[str] = []
        if not self.root.exists():
            return bad
        for path in self.root.glob("*/*"):
            if path.name.startswith(".incoming."):
                continue
            if file_digest(path) != path.name.split(".")[0]:
                bad.append(str(path.relative_to(self.root)))
        return bad

    def sweep_incoming(self) -> int:
        """Remove leftovers of copies interrupted by a crash; they were never referenced."""
        removed = 0
        if self.root.exists():
            for path in self.root.glob("*/.incoming.*"):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed += 1
        return removed
