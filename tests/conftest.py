"""Shared fixtures. Every test runs offline on the CPU.

``film``: a small project rendered with the ``simulated`` backends (see :mod:`tests.support.films`);
``media``: a folder of test media made on the spot (see :mod:`tests.support.media`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tests.support.films import Film, small_film
from tests.support.media import Media

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Tables are read by tests at a wide terminal unless a test sets its own width (80-column tests do).
os.environ.setdefault("COLUMNS", "200")
# The suite runs one test worker per core (-n auto): numerical libraries (torch, numpy's BLAS) take one
# thread each, set before they load. Their own thread pools spin-wait against the other workers, and a
# tiny diffusers pipeline ran six times slower that way on a loaded machine.
for _threads in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")

# No property here is about speed: a per-example deadline, or the health check that times the drawing of
# examples, only fails what a loaded machine (a CI runner, ``-n auto`` on two cores) happens to run
# slowly. A test that is about time asserts it itself.
settings.register_profile("kaipai", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("kaipai")

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def film(tmp_path: Path) -> Callable[..., Film]:
    def make(
        options: dict[str, Any] | None = None, per_cap: dict[str, dict[str, Any]] | None = None, name: str = "film"
    ) -> Film:
        f = Film(tmp_path / name, options or {})
        f.paths.root.mkdir(parents=True, exist_ok=True)
        f.write(small_film(f.options, per_cap))
        return f

    return make


@pytest.fixture
def media(tmp_path: Path) -> Media:
    folder = tmp_path / "media"
    folder.mkdir()
    return Media(folder)
