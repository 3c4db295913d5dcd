"""The render's stages by name, in dependency order. Plain data with no imports, so the command
line can offer them as choices without loading the engine."""

from __future__ import annotations

STAGES: tuple[str, ...] = (
    "sheet", "voice", "shot_audio", "keyframe", "clip", "lipsync", "music", "ambience", "sfx"
)  # fmt: skip
#: Stages a director can retake (shot_audio is computed, not generated).
GENERATED_STAGES: tuple[str, ...] = ("sheet", "voice", "keyframe", "clip", "lipsync", "music", "ambience", "sfx")
CAPABILITY: dict[str, str | None] = {
    "sheet": "image",
    "voice": "speech",
    "shot_audio": None,
    "keyframe": "image",
    "clip": "video",
    "lipsync": "lipsync",
    "music": "music",
    "ambience": "sound",
    "sfx": "sound",
}
