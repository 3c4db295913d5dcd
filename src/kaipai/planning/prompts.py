"""Words for a planned shot: lighting, what is seen, and the keyframe and clip prompts.

Written in the project's language so the director reads the shot script in it, and built
only from the shot's own fields plus the cast and style bible, so an edited shot can be
re-described the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CJK = re.compile(r"[\u4e00-\u9fff]")

from kaipai.document.models import Character, Delivery, Document, IntExt, Scene, Shot, ShotKind, Style, TimeOfDay
from kaipai.planning.vocabulary import ANGLE, FACING, INT_EXT, MOVE_PROMPT, NARRATOR, SIZE, THIRD, TIME, label, lang_of

_LIGHT = {
    "zh": {
        (False, TimeOfDay.day): "窗外柔和日光，柔光补光",
        (False, TimeOfDay.night): "暖色实用光源，光斑与深影，低调光",
        (False, TimeOfDay.dawn): "清晨微弱的冷色窗光，室内昏暗",
        (False, TimeOfDay.dusk): "夕阳暖光斜射入室，逐渐转暗",
        (False, TimeOfDay.unspecified): "有动机的室内光，柔和反差",
        (True, TimeOfDay.day): "自然日光，晴朗天空，清晰阴影",
        (True, TimeOfDay.night): "冷色月光与街灯，高反差",
        (True, TimeOfDay.dawn): "黎明的粉金色低角度光，长影，薄雾",
        (True, TimeOfDay.dusk): "黄金时刻逆光，天空由暖转蓝",
        (True, TimeOfDay.unspecified): "自然光，柔和反差",
    },
    "en": {
        (False, TimeOfDay.day): "soft daylight through the windows, gentle fill",
        (False, TimeOfDay.night): "warm practical lamps, pools of light and deep shadow, low-key",
        (False, TimeOfDay.dawn): "faint cool window light of early morning, dim room",
        (False, TimeOfDay.dusk): "low warm sunset light raking into the room, fading",
        (False, TimeOfDay.unspecified): "motivated interior light, soft contrast",
        (True, TimeOfDay.day): "natural sunlight, open sky, crisp shadows",
        (True, TimeOfDay.night): "cool moonlight and street lamps, high contrast",
        (True, TimeOfDay.dawn): "low pink-gold dawn light, long shadows, light haze",
        (True, TimeOfDay.dusk): "golden-hour backlight, sky turning from amber to blue",
        (True, TimeOfDay.unspecified): "natural light, soft contrast",
    },
}


@dataclass
class SceneWords:
    """What every shot of one scene shares when it is put into words."""

    lang: str
    scene: Scene
    style: Style
    place: str
    place_description: str
    people: dict[str, Character]
    lighting: str

    @classmethod
    def of(cls, doc: Document, scene: Scene) -> SceneWords:
        lang = lang_of(doc.project.language)
        loc = next((loc for loc in doc.cast.locations if loc.id == scene.location), None)
        place = loc.name if loc else _heading_place(scene.heading)
        return cls(
            lang=lang,
            scene=scene,
            style=doc.style,
            place=place,
            place_description=loc.description if loc else "",
            people={c.id: c for c in doc.cast.characters},
            lighting=lighting_for(scene, doc.style, lang),
        )

    def name(self, cid: str) -> str:
        if cid == "narrator":
            return NARRATOR[self.lang]
        c = self.people.get(cid)
        return c.name if c else cid

    def setting(self) -> str:
        ie = INT_EXT[self.lang][self.scene.int_ext]
        tod = TIME[self.lang][self.scene.time_of_day]
        if self.lang == "zh":
            return f"{self.place}（{ie}{'·' + tod if tod else ''}）" if self.place else f"{ie}{'·' + tod if tod else ''}"
        return f"{self.place} ({ie}{', ' + tod if tod else ''})" if self.place else f"{ie}{', ' + tod if tod else ''}"


def _heading_place(heading: str) -> str:
    return re.sub(r"^\s*(?:\d+[-–.]\d+|\d+\.?|INT\.?/EXT\.?|INT\.?|EXT\.?|I/E\.?)\s*", "", heading, flags=re.I).strip(" .-")


def first_sentences(text: str, n: int) -> str:
    """The first ``n`` sentences of ``text`` (Chinese or English punctuation)."""
    parts = re.split(r"(?<=[。！？!?])|(?<=\.)\s+", text.strip())
    if len(parts) <= n:
        return text.strip()
    return ("" if _CJK.search(text) else " ").join(p.strip() for p in parts[:n] if p.strip())


def lighting_for(scene: Scene, style: Style, language: str) -> str:
    """Lighting from interior/exterior and time of day, then the style bible's own tonality."""
    lang = lang_of(language)
    exterior = scene.int_ext == IntExt.EXT
    base = _LIGHT[lang][(exterior, scene.time_of_day)]
    ie = INT_EXT[lang][scene.int_ext]
    tod = TIME[lang][scene.time_of_day]
    if lang == "zh":
        text = f"{ie}{'·' + tod if tod else ''}：{base}"
        return f"{text}；{style.lighting}" if style.lighting else text
    text = f"{ie.capitalize()}{', ' + tod if tod else ''}: {base}"
    return f"{text}; {style.lighting}" if style.lighting else text


def _who(shot: Shot, w: SceneWords) -> str:
    """Each framed character with their side and facing."""
    parts = []
    for p in shot.composition:
        if w.lang == "zh":
            parts.append(f"{w.name(p.character)}（{THIRD['zh'][p.third]}，{FACING['zh'][p.facing]}）")
        else:
            side = "centre of frame" if p.third.value == "center" else f"screen {THIRD['en'][p.third]}"
            parts.append(f"{w.name(p.character)} ({side}, {FACING['en'][p.facing]})")
    return "、".join(parts) if w.lang == "zh" else ", ".join(parts)


def describe(shot: Shot, w: SceneWords, subject: str = "") -> str:
    """What is seen, the way a storyboard caption reads."""
    size = label(SIZE, shot.size, w.lang)
    who = _who(shot, w)
    action = shot.action.strip()
    zh = w.lang == "zh"
    if shot.kind == ShotKind.establishing:
        core = f"{size}：{w.setting()}" if zh else f"{size.capitalize()} of {w.setting()}"
    elif shot.kind == ShotKind.cutaway:
        core = f"空镜：{subject or w.setting()}" if zh else f"Cutaway: {subject or w.setting()}"
    elif shot.kind == ShotKind.caption:
        core = f"字幕卡：{shot.caption}" if zh else f"Caption card: {shot.caption}"
    elif shot.kind == ShotKind.insert:
        core = f"插入镜头，{size}：{subject}" if zh else f"Insert, {size} of the {subject}"
    elif shot.kind == ShotKind.ots and len(shot.composition) >= 2:
        front, back = shot.composition[0], shot.composition[1]
        core = (
            f"过肩镜头：越过{w.name(back.character)}的肩膀拍{w.name(front.character)}，{who}"
            if zh
            else f"Over {w.name(back.character)}'s shoulder onto {w.name(front.character)}: {who}"
        )
    elif shot.kind == ShotKind.reaction:
        core = f"反应镜头，{size}：{who}，倾听并作出反应" if zh else f"Reaction, {size} of {who}, listening"
    else:
        core = f"{size}：{who}" if zh else f"{size.capitalize()} of {who}" if who else f"{size.capitalize()} of {w.setting()}"
    sentences = [core]
    if action and shot.kind not in (ShotKind.cutaway, ShotKind.caption):
        sentences.append(action)
    return _sentences(sentences, zh)


def _sentences(parts: list[str], zh: bool) -> str:
    """Join sentences, ending each with a full stop unless it already ends with one (or a quote)."""
    out = []
    for part in parts:
        part = part.strip()
        if part and part[-1] not in "。！？!?.…”\"":
            part += "。" if zh else "."
        out.append(part)
    return ("" if zh else " ").join(p for p in out if p)


def image_prompt(shot: Shot, w: SceneWords, subject: str = "") -> str:
    """One still: framing, who (with their look), where, light, the style bible."""
    zh = w.lang == "zh"
    size, angle = label(SIZE, shot.size, w.lang), label(ANGLE, shot.angle, w.lang)
    parts: list[str] = [f"{size}，{angle}，{shot.lens}镜头" if zh else f"{size}, {angle}, {shot.lens} lens"]
    if shot.kind == ShotKind.caption:
        parts.append(f"黑底白字字幕卡：“{shot.caption}”" if zh else f"white title text on black: “{shot.caption}”")
    elif shot.kind == ShotKind.insert:
        parts.append(f"{subject}的细节" if zh else f"detail of the {subject}")
    elif shot.kind == ShotKind.cutaway and subject:
        parts.append(subject)
    for p in shot.composition:
        c = w.people.get(p.character)
        look = "，".join(x for x in (c.description, c.wardrobe) if x) if c else ""
        side = THIRD[w.lang][p.third]
        facing = FACING[w.lang][p.facing]
        if zh:
            parts.append(f"{w.name(p.character)}{'（' + look + '）' if look else ''}位于{side}，{facing}")
        else:
            parts.append(f"{w.name(p.character)}{' (' + look + ')' if look else ''} at {side if side == 'centre' else 'screen ' + side}, {facing}")
    if shot.action and shot.kind not in (ShotKind.caption, ShotKind.cutaway):
        parts.append(first_sentences(shot.action, 1))  # a keyframe is one moment
    if shot.kind != ShotKind.caption:
        parts.append(w.setting() + (f"，{w.place_description}" if zh and w.place_description else (f", {w.place_description}" if w.place_description else "")))
        parts.append(shot.lighting)
    if w.style.visual_style:
        parts.append(w.style.visual_style)
    if w.style.lens:
        parts.append(w.style.lens)
    parts.append("电影感剧照" if zh else "cinematic film still")
    return ("，" if zh else ", ").join(p.strip().rstrip("。.") for p in parts if p.strip())


def video_prompt(shot: Shot, w: SceneWords, subject: str = "") -> str:
    """The clip: the camera move first, then what moves and who speaks."""
    zh = w.lang == "zh"
    parts = [MOVE_PROMPT[w.lang][shot.move]]
    if shot.kind == ShotKind.insert and subject:
        parts.append(f"{subject}的细节" if zh else f"on the {subject}")
    elif shot.kind == ShotKind.cutaway and subject:
        parts.append(subject)
    if shot.action and shot.kind not in (ShotKind.caption, ShotKind.cutaway):
        parts.append(first_sentences(shot.action, 2))  # clip models follow a short prompt best
    framed = {p.character for p in shot.composition}
    for d in shot.dialogue:
        if d.delivery == Delivery.on and d.speaker in framed:
            note = d.parenthetical
            if zh:
                parts.append(f"{w.name(d.speaker)}{'（' + note + '）' if note else ''}说话，口型清晰")
            else:
                parts.append(f"{w.name(d.speaker)} speaks{' (' + note + ')' if note else ''}, clear lip movement")
    if shot.kind == ShotKind.reaction:
        names = "、".join(w.name(p.character) for p in shot.composition) if zh else " and ".join(w.name(p.character) for p in shot.composition)
        parts.append(f"{names}静静倾听，表情细微变化" if zh else f"{names} listens, a subtle change of expression")
    if shot.kind == ShotKind.caption:
        parts.append("字幕缓缓浮现" if zh else "the caption fades in and holds")
    return ("，" if zh else ", ").join(p.strip().rstrip("。.") for p in parts if p.strip())
