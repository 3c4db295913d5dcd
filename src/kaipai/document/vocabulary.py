"""The words of the shot script in each language: shot sizes, angles, moves, screen sides.

Shared by the planner (descriptions and prompts) and the shot list export, so a shot reads
the same in ``kaipai.yaml``, in prompts and on the printed 分镜头脚本.
"""

from __future__ import annotations

from enum import Enum

from kaipai.document.scenes import IntExt, TimeOfDay
from kaipai.document.shots import Angle, CameraMove, Depth, Facing, ScreenThird, ShotKind, ShotSize, Transition

SIZE = {
    "zh": {
        ShotSize.ECU: "大特写",
        ShotSize.CU: "特写",
        ShotSize.MCU: "近景",
        ShotSize.MS: "中景",
        ShotSize.MLS: "中全景",
        ShotSize.LS: "全景",
        ShotSize.WS: "远景",
        ShotSize.EWS: "大远景",
    },
    "en": {
        ShotSize.ECU: "extreme close-up",
        ShotSize.CU: "close-up",
        ShotSize.MCU: "medium close-up",
        ShotSize.MS: "medium shot",
        ShotSize.MLS: "medium long shot",
        ShotSize.LS: "long shot",
        ShotSize.WS: "wide shot",
        ShotSize.EWS: "extreme wide shot",
    },
}
ANGLE = {
    "zh": {
        Angle.eye: "平视",
        Angle.high: "俯拍",
        Angle.low: "仰拍",
        Angle.overhead: "顶拍",
        Angle.worms_eye: "大仰拍",
        Angle.dutch: "斜角",
        Angle.ots: "过肩",
        Angle.pov: "主观视角",
    },
    "en": {
        Angle.eye: "eye level",
        Angle.high: "high angle",
        Angle.low: "low angle",
        Angle.overhead: "overhead",
        Angle.worms_eye: "worm's-eye",
        Angle.dutch: "dutch angle",
        Angle.ots: "over the shoulder",
        Angle.pov: "point of view",
    },
}
MOVE = {
    "zh": {
        CameraMove.static: "固定",
        CameraMove.push_in: "推",
        CameraMove.pull_out: "拉",
        CameraMove.pan_left: "左摇",
        CameraMove.pan_right: "右摇",
        CameraMove.tilt_up: "上摇",
        CameraMove.tilt_down: "下摇",
        CameraMove.truck_left: "左移",
        CameraMove.truck_right: "右移",
        CameraMove.crane_up: "升",
        CameraMove.crane_down: "降",
        CameraMove.handheld: "手持",
        CameraMove.orbit: "环绕",
    },
    "en": {
        CameraMove.static: "static",
        CameraMove.push_in: "push in",
        CameraMove.pull_out: "pull out",
        CameraMove.pan_left: "pan left",
        CameraMove.pan_right: "pan right",
        CameraMove.tilt_up: "tilt up",
        CameraMove.tilt_down: "tilt down",
        CameraMove.truck_left: "truck left",
        CameraMove.truck_right: "truck right",
        CameraMove.crane_up: "crane up",
        CameraMove.crane_down: "crane down",
        CameraMove.handheld: "handheld",
        CameraMove.orbit: "orbit",
    },
}
#: How the move reads in a video prompt.
MOVE_PROMPT = {
    "zh": {
        CameraMove.static: "固定机位",
        CameraMove.push_in: "镜头缓慢推近",
        CameraMove.pull_out: "镜头缓慢拉远",
        CameraMove.pan_left: "镜头缓慢左摇",
        CameraMove.pan_right: "镜头缓慢右摇",
        CameraMove.tilt_up: "镜头缓慢上摇",
        CameraMove.tilt_down: "镜头缓慢下摇",
        CameraMove.truck_left: "镜头向左横移跟拍",
        CameraMove.truck_right: "镜头向右横移跟拍",
        CameraMove.crane_up: "镜头升起",
        CameraMove.crane_down: "镜头降下",
        CameraMove.handheld: "手持跟拍，轻微晃动",
        CameraMove.orbit: "镜头环绕",
    },
    "en": {
        CameraMove.static: "static camera",
        CameraMove.push_in: "slow push in",
        CameraMove.pull_out: "slow pull out",
        CameraMove.pan_left: "slow pan left",
        CameraMove.pan_right: "slow pan right",
        CameraMove.tilt_up: "slow tilt up",
        CameraMove.tilt_down: "slow tilt down",
        CameraMove.truck_left: "camera trucks left alongside",
        CameraMove.truck_right: "camera trucks right alongside",
        CameraMove.crane_up: "camera cranes up",
        CameraMove.crane_down: "camera cranes down",
        CameraMove.handheld: "handheld, slight shake",
        CameraMove.orbit: "camera orbits",
    },
}
KIND = {
    "zh": {
        ShotKind.establishing: "建立镜头",
        ShotKind.single: "单人",
        ShotKind.two_shot: "双人",
        ShotKind.group: "群像",
        ShotKind.ots: "过肩",
        ShotKind.reaction: "反应",
        ShotKind.insert: "插入",
        ShotKind.cutaway: "空镜",
        ShotKind.caption: "字幕",
        ShotKind.action: "动作",
    },
    "en": {
        ShotKind.establishing: "establishing",
        ShotKind.single: "single",
        ShotKind.two_shot: "two-shot",
        ShotKind.group: "group",
        ShotKind.ots: "over the shoulder",
        ShotKind.reaction: "reaction",
        ShotKind.insert: "insert",
        ShotKind.cutaway: "cutaway",
        ShotKind.caption: "caption",
        ShotKind.action: "action",
    },
}
THIRD = {
    "zh": {ScreenThird.left: "画左", ScreenThird.center: "画中", ScreenThird.right: "画右"},
    "en": {ScreenThird.left: "left", ScreenThird.center: "centre", ScreenThird.right: "right"},
}
FACING = {
    "zh": {Facing.camera: "面向镜头", Facing.left: "朝左", Facing.right: "朝右", Facing.away: "背对镜头"},
    "en": {
        Facing.camera: "facing camera",
        Facing.left: "facing left",
        Facing.right: "facing right",
        Facing.away: "back to camera",
    },
}
DEPTH = {
    "zh": {Depth.foreground: "前景", Depth.midground: "中景", Depth.background: "背景"},
    "en": {Depth.foreground: "foreground", Depth.midground: "midground", Depth.background: "background"},
}
INT_EXT = {
    "zh": {IntExt.INT: "内景", IntExt.EXT: "外景", IntExt.INT_EXT: "内外景", IntExt.unspecified: ""},
    "en": {IntExt.INT: "interior", IntExt.EXT: "exterior", IntExt.INT_EXT: "interior/exterior", IntExt.unspecified: ""},
}
TIME = {
    "zh": {
        TimeOfDay.day: "日",
        TimeOfDay.night: "夜",
        TimeOfDay.dawn: "黎明",
        TimeOfDay.dusk: "黄昏",
        TimeOfDay.unspecified: "",
    },
    "en": {
        TimeOfDay.day: "day",
        TimeOfDay.night: "night",
        TimeOfDay.dawn: "dawn",
        TimeOfDay.dusk: "dusk",
        TimeOfDay.unspecified: "",
    },
}
TRANSITION = {
    "zh": {
        Transition.cut: "切",
        Transition.dissolve: "叠化",
        Transition.fade_in: "淡入",
        Transition.fade_out: "淡出",
        Transition.wipe: "划像",
    },
    "en": {
        Transition.cut: "cut",
        Transition.dissolve: "dissolve",
        Transition.fade_in: "fade in",
        Transition.fade_out: "fade out",
        Transition.wipe: "wipe",
    },
}
NARRATOR = {"zh": "旁白", "en": "Narrator"}

#: Focal length that suits each size on a full-frame camera.
LENS = {
    ShotSize.EWS: "18mm",
    ShotSize.WS: "24mm",
    ShotSize.LS: "28mm",
    ShotSize.MLS: "35mm",
    ShotSize.MS: "40mm",
    ShotSize.MCU: "50mm",
    ShotSize.CU: "85mm",
    ShotSize.ECU: "100mm macro",
}


def lang_of(language: object) -> str:
    """``zh`` or ``en`` from a Language enum or a string; anything else reads as English."""
    value = language.value if isinstance(language, Enum) else str(language)
    return "zh" if value.startswith("zh") else "en"


def label(table: dict[str, dict], value: object, language: object) -> str:
    """The word for ``value`` in the project's language, falling back to the raw value."""
    return table[lang_of(language)].get(value, getattr(value, "value", str(value)))  # type: ignore[call-overload]
