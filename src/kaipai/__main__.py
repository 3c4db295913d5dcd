"""``python -m kaipai`` and the ``kaipai`` command.

``kaipai --help`` (and ``kaipai`` alone) is the first thing a new user types, and Typer's Rich
help needs a fifth of a second of imports before it prints anything. The help it printed is
kept under the user's cache folder, keyed by kaipai's version, the command modules' files
and the terminal (width, colours), and printed from there next time without importing the
command line at all. Every other command goes straight to :func:`kaipai.cli.main`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

_TERMINAL_ENV = ("COLUMNS", "LINES", "TERM", "COLORTERM", "NO_COLOR", "FORCE_COLOR", "TERMINAL_WIDTH", "TTY_COMPATIBLE")


def _help_cache() -> Path | None:
    """Where this terminal's help is kept, or None when the command is not a plain help request."""
    if sys.argv[1:] not in ([], ["--help"]):
        return None
    here = Path(__file__).resolve().parent
    sources = sorted([*(here / "cli").glob("*.py"), here / "__init__.py", here / "engine" / "stages.py"])
    facts: list[Any] = [sys.version, sys.argv]  # the program name is in the usage line
    with contextlib.suppress(OSError):
        facts += [[p.name, p.stat().st_mtime_ns, p.stat().st_size] for p in sources]
    facts += [[k, os.environ.get(k)] for k in _TERMINAL_ENV]
    facts += [sys.stdout.isatty(), tuple(shutil.get_terminal_size((80, 24)))]
    key = hashlib.sha256(json.dumps(facts, default=str).encode()).hexdigest()[:24]
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "kaipai" / "help" / f"{key}.txt"


class _Tee:
    """Standard output that also keeps what was written (Rich still sees the real terminal)."""

    def __init__(self, stream: Any) -> None:
        self.stream, self.parts = stream, []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return self.stream.write(text)

    def text(self) -> str | None:
        """What was written, or None when part of it did not come as text (not worth keeping)."""
        parts = [p for p in self.parts if p]
        return "".join(parts) if all(isinstance(p, str) for p in parts) else None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def main() -> None:
    cached = _help_cache()
    if cached is not None and cached.is_file():
        with contextlib.suppress(OSError):
            sys.stdout.write(cached.read_text(encoding="utf-8"))
            sys.stdout.flush()
            return
    from kaipai.cli import main as cli_main

    if cached is None:
        cli_main()
        return
    tee = _Tee(sys.stdout)
    sys.stdout = tee  # type: ignore[assignment]
    code: Any = 0
    try:
        cli_main()
    except SystemExit as exc:
        code = exc.code
        raise
    finally:
        sys.stdout = tee.stream
        text = tee.text()
        if code in (0, None) and text and "Usage:" in text:
            with contextlib.suppress(OSError):
                cached.parent.mkdir(parents=True, exist_ok=True)
                tmp = cached.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(text, encoding="utf-8")
                os.replace(tmp, cached)


if __name__ == "__main__":
    main()
