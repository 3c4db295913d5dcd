"""Prompts for local models: the shot's camera move in words the video models were trained on.

The engine hands over the shot's video prompt (its action, or the planner's motion prompt);
the camera move is added when the prompt does not already say it, and the style bible's
negative prompt is joined with the usual defects to avoid in generated video.
"""

from __future__ import annotations

from kaipai.document.shots import CameraMove, Shot

CAMERA = {
    CameraMove.static: "static camera, locked-off shot",
    CameraMove.push_in: "the camera slowly pushes in",
    CameraMove.pull_out: "the camera slowly pulls out",
    CameraMove.pan_left: "the camera pans left",
    CameraMove.pan_right: "the camera pans right",
    CameraMove.tilt_up: "the camera tilts up",
    CameraMove.tilt_down: "the camera tilts down",
    CameraMove.truck_left: "the camera tracks left alongside the subject",
    CameraMove.truck_right: "the camera tracks right alongside the subject",
    CameraMove.crane_up: "the camera cranes up",
    CameraMove.crane_down: "the camera cranes down",
    CameraMove.handheld: "handheld camera, subtle natural shake",
    CameraMove.orbit: "the camera orbits around the subject",
}

#: Words that show a prompt already names the move (English and Chinese).
_MOVE_WORDS = {
    CameraMove.static: ("static", "locked", "固定"),
    CameraMove.push_in: ("push", "dolly in", "zoom in", "推"),
    CameraMove.pull_out: ("pull", "dolly out", "zoom out", "拉"),
    CameraMove.pan_left: ("pan", "摇"),
    CameraMove.pan_right: ("pan", "摇"),
    CameraMove.tilt_up: ("tilt", "摇"),
    CameraMove.tilt_down: ("tilt", "摇"),
    CameraMove.truck_left: ("track", "truck", "移"),
    CameraMove.truck_right: ("track", "truck", "移"),
    CameraMove.crane_up: ("crane", "升"),
    CameraMove.crane_down: ("crane", "降"),
    CameraMove.handheld: ("handheld", "手持"),
    CameraMove.orbit: ("orbit", "环绕"),
}

VIDEO_NEGATIVE = "blurry, distorted faces, extra limbs, flicker, jitter, watermark, text, low quality, static frame"
SHEET_VIEWS = (
    ("front", "front view, facing the camera"),
    ("side", "side view, profile facing left"),
    ("back", "back view, facing away"),
)


def motion_prompt(prompt: str, shot: Shot | None) -> str:
    """``prompt`` with the shot's camera move spelled out unless it already is."""
    if shot is None:
        return prompt
    low = prompt.lower()
    if any(word in low for word in _MOVE_WORDS[shot.move]):
        return prompt
    return f"{prompt.rstrip(' ,.')}, {CAMERA[shot.move]}" if prompt.strip() else CAMERA[shot.move]


def negative_prompt(style_negative: str, video: bool) -> str:
    parts = [style_negative.strip(), VIDEO_NEGATIVE if video else ""]
    return ", ".join(p for p in parts if p)


def sheet_prompt(prompt: str, view: str) -> str:
    """A reference-sheet view: the whole figure, one pose, on a plain neutral background."""
    return (
        f"character reference sheet, {view}, full body, standing straight, "
        f"neutral grey studio background, even soft light, {prompt}"
    )
