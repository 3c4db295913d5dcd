"""Which backend renders a capability: the document's ``backends:`` and a shot's own overrides."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from kaipai.document.strict import Strict


class BackendChoice(Strict):
    use: str = Field(description="Backend name as registered (e.g. previz, espeak, diffusers, comfyui).")
    model: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)


Capability = Literal["planner", "image", "video", "speech", "lipsync", "music", "sound", "judge"]


DEFAULT_BACKENDS: dict[str, str] = {
    "planner": "rules",
    "image": "previz",
    "video": "previz",
    "speech": "espeak",
    "lipsync": "previz",
    "music": "previz",
    "sound": "previz",
}
