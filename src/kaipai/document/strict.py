"""What every model of the production document shares.

Models are strict: unknown keys are errors, so a typo in ``kaipai.yaml`` is caught, not ignored.
A path the document names must stay inside the project folder.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    """Base for every document model: unknown keys are reported, not dropped."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, populate_by_name=True)


RelPath = Annotated[str, Field(description="A path relative to the project folder; it may not leave it.")]


def check_relative_path(value: str) -> str:
    """Reject a path that escapes the project folder (absolute, or with `..` that climbs out)."""
    p = PurePosixPath(value.replace("\\", "/"))
    if p.is_absolute() or (len(value) > 1 and value[1] == ":"):
        raise ValueError(f"path {value!r} must be relative to the project folder, not absolute")
    depth = 0
    for part in p.parts:
        if part == "..":
            depth -= 1
            if depth < 0:
                raise ValueError(f"path {value!r} leaves the project folder")
        elif part not in (".", ""):
            depth += 1
    return value
