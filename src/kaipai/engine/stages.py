"""The render's stages by name, in dependency order. Plain data with no imports, so the command
line can offer them as choices without loading the engine."""

from __future__ import annotations

STAGES: tuple[str, ...] = (
    "sheet",
    "voice",
    "shot_audio",
    "keyframe",
    "end_keyframe",
    "clip",
    "lipsync",
    "music",
    "ambience",
    "sfx",
)
#: Stages a director can retake (shot_audio is computed, not generated).
GENERATED_STAGES: tuple[str, ...] = (
    "sheet", "voice", "keyframe", "end_keyframe", "clip", "lipsync", "music", "ambience", "sfx"
)  # fmt: skip
#: Stages that come along when a render names another: ``--stage keyframe`` makes the stills, last frames too.
ALONG: dict[str, tuple[str, ...]] = {"keyframe": ("end_keyframe",)}


def with_along(stages: set[str]) -> set[str]:
    """The stages named and those that come along with them."""
    return stages | {extra for s in stages for extra in ALONG.get(s, ())}


CAPABILITY: dict[str, str | None] = {
    "sheet": "image",
    "voice": "speech",
    "shot_audio": None,
    "keyframe": "image",
    "end_keyframe": "image",  # the last frame of a shot that says where it ends
    "clip": "video",
    "lipsync": "lipsync",
    "music": "music",
    "ambience": "sound",
    "sfx": "sound",
}
