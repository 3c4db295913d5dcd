"""The ``film`` fixture: a small project rendered with the ``simulated`` backends (see films)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from films import Film, small_film


@pytest.fixture
def film(tmp_path: Path) -> Callable[..., Film]:
    def make(options: dict[str, Any] | None = None, per_cap: dict[str, dict[str, Any]] | None = None, name: str = "film") -> Film:
        f = Film(tmp_path / name, options or {})
        f.paths.root.mkdir(parents=True, exist_ok=True)
        f.write(small_film(f.options, per_cap))
        return f

    return make
