"""The ``media`` fixture: a folder of test media made on the spot (see post_media)."""

from __future__ import annotations

from pathlib import Path

import pytest
from post_media import Media


@pytest.fixture
def media(tmp_path: Path) -> Media:
    folder = tmp_path / "media"
    folder.mkdir()
    return Media(folder)
