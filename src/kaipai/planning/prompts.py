"""Words for a planned shot: lighting, what is seen, and the keyframe and clip prompts.

Written in the project's language so the director reads the shot script in it, and built
only from the shot's own fields plus the cast and style bible, so an edited shot can be
re-described the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from kaipai.document.cast import Character
from kaipai.document.models import Document
from kaipai.document.scenes import IntExt, Scene, TimeOfDay
from kaipai.document.settings import Style
from kaipai.document.shots import Angle, Delivery, Shot, ShotKind
from kaipai.document.vocabulary import ANGLE, FACING, INT_EXT, MOVE_PROMPT, NARRATOR, SIZE, THIRD, TIME, label, lang_of
from kaipai.planning.names import has_cjk

_CJK = re.compile(r"[\u4e00-\u9fff]")

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
        # A title, POV, montage or insert heading names a shot, not a place.
        place = loc.name if loc else (_heading_place(scene.heading) if scene.kind == "scene" else "")
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
        """``Harbour Pier (exterior, night)``; empty where the script never says where we are."""
        if not self.place:
            return ""
        said = [w for w in (INT_EXT[self.lang][self.scene.int_ext], TIME[self.lang][self.scene.time_of_day]) if w]
        if not said:  # the heading says neither: nothing to add
            return self.place
        if self.lang == "zh":
            return f"{self.place}（{'·'.join(said)}）"
        return f"{self.place} ({', '.join(said)})"


#: Headings the importer gives the text before the first scene heading: no place is named there.
OPENING_HEADINGS = frozenset({"OPENING", "序幕"})


def _heading_place(heading: str) -> str:
    if heading.strip() in OPENING_HEADINGS:
        return ""
    return re.sub(r"^\s*(?:\d+[-–.]\d+|\d+\.?|INT\.?/EXT\.?|INT\.?|EXT\.?|I/E\.?)\s*", "", heading, flags=re.I).strip(
        " .-"
    )


def first_sentences(text: str, n: int) -> str:
    """The first ``n`` sentences of ``text`` (Chinese or English punctuation)."""
    parts = re.split(r"(?<=[。！？!?])|(?<=\.)\s+", text.strip())
    if len(parts) <= n:
        return text.strip()
    return ("" if _CJK.search(text) else " ").join(p.strip() for p in parts[:n] if p.strip())


#: Colour words for the style bible's palette: image models read "teal", not "#008080".
_COLOURS = [
    ((0, 0, 0), "black", "黑"), ((255, 255, 255), "white", "白"), ((128, 128, 128), "grey", "灰"),
    ((200, 30, 40), "red", "红"), ((128, 0, 32), "burgundy", "酒红"), ((255, 140, 0), "orange", "橙"),
    ((255, 176, 0), "amber", "琥珀"), ((240, 210, 60), "yellow", "黄"), ((110, 140, 60), "olive green", "橄榄绿"),
    ((40, 150, 60), "green", "绿"), ((0, 128, 128), "teal", "青"), ((60, 130, 220), "blue", "蓝"),
    ((20, 30, 90), "navy", "藏青"), ((120, 60, 160), "purple", "紫"), ((240, 150, 180), "pink", "粉"),
    ((140, 90, 50), "brown", "棕"), ((225, 205, 170), "beige", "米"), ((180, 110, 60), "copper", "铜"),
]  # fmt: skip


def colour_words(palette: list[str], language: str) -> list[str]:
    """The nearest colour word for each ``#RRGGBB`` of the palette, without repeats."""
    zh = lang_of(language) == "zh"
    words: list[str] = []
    for hex_colour in palette:
        rgb = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
        _, en, cn = min(_COLOURS, key=lambda c: sum((a - b) ** 2 for a, b in zip(c[0], rgb, strict=True)))
        word = cn + "色" if zh else en
        if word not in words:
            words.append(word)
    return words


def prompt_text(text: str, w: SceneWords) -> str:
    """Script prose as a model should read it: ``ELI (70s, oilskin coat) steps`` → ``Eli steps``.

    The introduction is already in the character's look; screenplay capitals (names, sounds,
    props) become plain words, short acronyms (TV, FBI) stay.
    """
    pattern, names = _name_pattern(tuple((c.name, tuple(c.aliases)) for c in w.people.values()))
    if pattern is not None:
        text = pattern.sub(lambda m: names[m.group(m.lastgroup or 0)], text)
    return re.sub(r"\b[A-Z][A-Z'\-]{3,}\b", lambda m: m.group(0).lower(), text)


@lru_cache(maxsize=64)
def _name_pattern(people: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """One pattern for every way the cast is written, with an introduction in brackets after it.

    Names match as written, in capitals or capitalised only: "will" the verb is not WILL the man.
    """
    names: dict[str, str] = {}
    for name, aliases in people:
        for form in (name, *aliases):
            form = form.strip()
            for variant in {form} if has_cjk(form) else {form, form.upper(), form.title()}:
                if variant:
                    names.setdefault(variant, name)
    forms = sorted(names, key=len, reverse=True)
    latin = "|".join(re.escape(f) for f in forms if not has_cjk(f))
    cjk = "|".join(re.escape(f) for f in forms if has_cjk(f))
    alternatives = ([rf"(?<!\w)(?P<latin>{latin})(?!\w)(?:\s*\([^()]*\))?"] if latin else []) + (
        [rf"(?P<cjk>{cjk})(?:[（(][^（）()]*[）)])?"] if cjk else []
    )
    return (re.compile("|".join(alternatives)) if alternatives else None), names


def lighting_for(scene: Scene, style: Style, language: str) -> str:
    """Lighting from interior/exterior and time of day, then the style bible's own tonality and palette."""
    lang = lang_of(language)
    exterior = scene.int_ext == IntExt.EXT
    base = _LIGHT[lang][(exterior, scene.time_of_day)]
    ie = INT_EXT[lang][scene.int_ext]
    tod = TIME[lang][scene.time_of_day]
    colours = colour_words(style.palette, lang)
    said = [w for w in (ie, tod) if w]
    if lang == "zh":
        parts = [
            f"{'·'.join(said)}：{base}" if said else base,
            style.lighting,
            "主色调：" + "、".join(colours) if colours else "",
        ]
        return "；".join(p for p in parts if p)
    parts = [
        f"{', '.join(said).capitalize()}: {base}" if said else base.capitalize(),
        style.lighting,
        "palette of " + ", ".join(colours) if colours else "",
    ]
    return "; ".join(p for p in parts if p)


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
    where = w.setting()
    if shot.kind == ShotKind.establishing:
        core = (
            (f"{size}：{where}" if zh else f"{size.capitalize()} of {where}")
            if where
            else (size if zh else size.capitalize())
        )
    elif shot.kind == ShotKind.cutaway:
        seen = subject or where or ("环境" if zh else "the surroundings")
        core = f"空镜：{seen}" if zh else f"Cutaway: {seen}"
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
    elif shot.angle == Angle.pov:
        seen = who or where
        whose = (f"（{subject}）" if zh else f" ({subject})") if subject else ""
        core = (
            f"主观镜头{whose}，{size}" + (f"：{seen}" if seen else "")
            if zh
            else f"Point of view{whose}, {size}" + (f": {seen}" if seen else "")
        )
    else:
        seen = who or where
        core = (
            (f"{size}：{seen}" if zh else f"{size.capitalize()} of {seen}")
            if seen
            else (size if zh else size.capitalize())
        )
    sentences = [core]
    if action and shot.kind not in (ShotKind.cutaway, ShotKind.caption):
        sentences.append(action)
    return _sentences(sentences, zh)


#: What a script line may end with that is not a sentence's end: "She answers the phone call:".
_DANGLING = ":：,，;；、-–—"


def _sentences(parts: list[str], zh: bool) -> str:
    """Join sentences, ending each with a full stop unless it already ends with one (or a quote);
    a dangling colon, comma or dash gives way to the stop."""
    out = []
    for part in parts:
        part = part.strip().rstrip(_DANGLING).rstrip()
        if part and part[-1] not in '。！？!?.…”"':
            part += "。" if zh else "."
        out.append(part)
    return ("" if zh else " ").join(p for p in out if p)


def _clause(text: str) -> str:
    """A prompt's clause without the stop or dangling punctuation it ended with."""
    return text.strip().rstrip("。." + _DANGLING).strip()


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
            where = side if side == "centre" else "screen " + side
            parts.append(f"{w.name(p.character)}{' (' + look + ')' if look else ''} at {where}, {facing}")
    if shot.action and shot.kind not in (ShotKind.caption, ShotKind.cutaway):
        parts.append(prompt_text(first_sentences(shot.action, 1), w))  # a keyframe is one moment
    if shot.kind != ShotKind.caption:
        parts.append(
            w.setting()
            + (
                f"，{w.place_description}"
                if zh and w.place_description
                else (f", {w.place_description}" if w.place_description else "")
            )
        )
        parts.append(shot.lighting)
    if w.style.visual_style:
        parts.append(w.style.visual_style)
    if w.style.lens:
        parts.append(w.style.lens)
    parts.append("电影感剧照" if zh else "cinematic film still")
    return ("，" if zh else ", ").join(_clause(p) for p in parts if _clause(p))


def video_prompt(shot: Shot, w: SceneWords, subject: str = "") -> str:
    """The clip: the camera move first, then what moves and who speaks."""
    zh = w.lang == "zh"
    parts = [MOVE_PROMPT[w.lang][shot.move]]
    if shot.kind == ShotKind.insert and subject:
        parts.append(f"{subject}的细节" if zh else f"on the {subject}")
    elif shot.kind == ShotKind.cutaway and subject:
        parts.append(subject)
    if shot.action and shot.kind not in (ShotKind.caption, ShotKind.cutaway):
        parts.append(prompt_text(first_sentences(shot.action, 2), w))  # clip models follow a short prompt best
    framed = {p.character for p in shot.composition}
    for d in shot.dialogue:
        if d.delivery == Delivery.on and d.speaker in framed:
            note = d.parenthetical
            if zh:
                parts.append(f"{w.name(d.speaker)}{'（' + note + '）' if note else ''}说话，口型清晰")
            else:
                parts.append(f"{w.name(d.speaker)} speaks{' (' + note + ')' if note else ''}, clear lip movement")
    thinking = [
        p.character
        for p in shot.composition
        if any(d.speaker == p.character and d.delivery == Delivery.vo for d in shot.dialogue)
    ]
    for cid in thinking:  # their own voice over their face: the lips stay still
        parts.append(f"{w.name(cid)}沉默不语，若有所思" if zh else f"{w.name(cid)} silent, lost in thought, lips still")
    if shot.kind == ShotKind.reaction:
        names = (
            "、".join(w.name(p.character) for p in shot.composition)
            if zh
            else " and ".join(w.name(p.character) for p in shot.composition)
        )
        parts.append(f"{names}静静倾听，表情细微变化" if zh else f"{names} listens, a subtle change of expression")
    if shot.kind == ShotKind.caption:
        parts.append("字幕缓缓浮现" if zh else "the caption fades in and holds")
    return ("，" if zh else ", ").join(_clause(p) for p in parts if _clause(p))
