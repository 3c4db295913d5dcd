"""The example screenplays that ship with kaipai: the demo film and a first project to play with."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

EXAMPLES = {"zh": "zh/screenplay.txt", "en": "en/screenplay.fountain"}


def example_path(lang: str = "zh") -> Path:
    """Path of the bundled example screenplay in ``lang`` (``zh`` or ``en``)."""
    if lang not in EXAMPLES:
        raise ValueError(f"no bundled example in {lang!r}; choose one of {', '.join(EXAMPLES)}")
    return Path(str(resources.files("kaipai.examples").joinpath(EXAMPLES[lang])))
