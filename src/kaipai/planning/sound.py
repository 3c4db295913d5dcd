"""The planner's sound design: effects the action implies, a bed for each scene, music cues to propose.

A storyboard artist hears the script as well as seeing it: a bus pulling up is an engine and a
door, a character crossing a room is footsteps, a rainy night street is a bed of rain and distant
traffic under the whole scene. And a film with no music cue in its script still wants music at its
opening, where the story turns and at its end: the planner proposes those cues in the shots'
``music`` fields, where the director keeps, rewrites or deletes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kaipai.document.models import Document
from kaipai.document.scenes import IntExt, Scene, TimeOfDay
from kaipai.document.shots import Shot
from kaipai.planning.lexicon import is_emotional, sounds_in

# --------------------------------------------------------------------------- effects the action implies

_VEHICLE_ZH = r"(?:公交|汽车|巴士|卡车|出租车|轿车|摩托|火车|列车|车)"
_VEHICLE_EN = r"(?:car|bus|truck|taxi|van|cab|motorbike|train|engine)"
#: (class, pattern, Chinese name, English name): first the more specific, so a bus door is not a house door.
IMPLIED: list[tuple[str, re.Pattern[str], str, str]] = [
    (
        "bus door",
        re.compile(r"车门[^，。！？,.]{0,4}(?:打开|开了|关上|关闭|开启)|bus doors? (?:open|close|hiss)", re.I),
        "车门开合声",
        "bus door hiss",
    ),
    (
        "door",
        re.compile(
            r"(?:推开|拉开|打开|关上|摔上|推)(?:了)?(?:房|大|木|铁|屋|卧室|厨房)?门|开门|关门|门(?:开了|被推开|被打开|砰地)"
            r"|\b(?:opens?|closes?|slams?|shuts?|opening|closing|slamming)\s+(?:the|a|his|her|their)\s+(?:\w+\s+)?doors?\b"
            r"|\bdoors? (?:opens?|closes?|slams?|swings? open|creaks?)\b",
            re.I,
        ),
        "开门声",
        "door opening",
    ),
    (
        "footsteps",
        re.compile(
            r"走进|走出|走向|走到|走过|走来|走去|踱步|进门|出门|下楼|上楼|跑"
            r"|\b(?:walks?|walking|strides?|paces?|pacing|steps? (?:in|out|into|inside|forward)|enters?|runs?|running"
            r"|climbs? the stairs|crosses (?:the|to))\b",
            re.I,
        ),
        "脚步声",
        "footsteps",
    ),
    (
        "engine",
        re.compile(
            rf"{_VEHICLE_ZH}[^，。！？]{{0,8}}(?:停下|停住|驶|开来|开走|开过|发动|启动|靠站|疾驰|轰鸣)|发动机|引擎"
            rf"|\b{_VEHICLE_EN}s?\b[^.]{{0,30}}\b(?:pulls?|drives?|stops?|arrives?|starts?|roars?|idles?|speeds?)\b",
            re.I,
        ),
        "发动机声",
        "engine",
    ),
]
_CLASS_OF_NAMED = [
    ("footsteps", re.compile(r"脚步|footstep", re.I)),
    ("door", re.compile(r"开门|关门|door", re.I)),
    ("engine", re.compile(r"发动机|引擎|engine", re.I)),
]


def implied_sounds(text: str, language: str) -> list[str]:
    """Effects an action implies without naming them: a door, footsteps, an engine (in the film's language),
    in the order the action has them happen."""
    found: list[tuple[int, str]] = []
    taken: set[str] = set()
    for kind, pattern, zh, en in IMPLIED:
        if kind == "door" and "bus door" in taken:
            continue
        if m := pattern.search(text):
            taken.add(kind)
            found.append((m.start(), zh if language == "zh" else en))
    return [name for _, name in sorted(found)]


def effects_in(text: str, language: str = "zh") -> list[str]:
    """Every sound effect of an action line: those it names (``sounds_in``) and those it implies, once each."""
    named = sounds_in(text)
    kinds = {kind for s in named for kind, pattern in _CLASS_OF_NAMED if pattern.search(s)}
    implied = [
        s for s in implied_sounds(text, language) if not any(p.search(s) for k, p in _CLASS_OF_NAMED if k in kinds)
    ]
    return named + implied


# --------------------------------------------------------------------------- a bed for each scene

#: (pattern over the scene's heading, place and action, Chinese, English)
_FEATURES: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"雨(?!停|过)|\brain(?!coat)|drizzl", re.I), "雨声", "rain"),
    (re.compile(r"风(?!停)|\bwind(?!ow)|gale", re.I), "风声", "wind"),
    (
        re.compile(r"车厢|车内|车上|公交车上|bus interior|inside the (?:bus|car|train)|cabin|驾驶", re.I),
        "发动机低鸣",
        "engine hum",
    ),
    (
        re.compile(r"街|路|站|城市|广场|street|road|station|stop|city|square|avenue", re.I),
        "远处车流",
        "distant traffic",
    ),
    (re.compile(r"海|浪|沙滩|beach|sea|ocean|shore|harbou?r|pier", re.I), "海浪", "waves"),
    (
        re.compile(r"餐厅|饭店|咖啡|酒吧|市场|集市|食堂|restaurant|cafe|café|bar\b|market|canteen|diner", re.I),
        "人声嘈杂",
        "murmur of a crowd",
    ),
    (re.compile(r"公园|树林|森林|花园|park|forest|woods|garden", re.I), "鸟鸣", "birdsong"),
    (re.compile(r"乡村|田野|村|countryside|field|village|farm", re.I), "虫鸣", "crickets"),
]
_MORNING = re.compile(r"清晨|早晨|早上|黎明|天亮|morning|dawn|sunrise", re.I)
_TIME = {
    TimeOfDay.day: ("白天", "day"),
    TimeOfDay.night: ("夜晚", "night"),
    TimeOfDay.dawn: ("清晨", "dawn"),
    TimeOfDay.dusk: ("黄昏", "dusk"),
    TimeOfDay.unspecified: ("", ""),
}


def scene_text(doc: Document, scene: Scene) -> str:
    """The words that tell how a scene sounds: heading, place, synopsis and the action."""
    place = next((loc.name for loc in doc.cast.locations if loc.id == scene.location), "")
    body = [el.text for el in scene.elements if el.type in ("action", "cutaway", "caption")]
    return " ".join([scene.heading, place, scene.synopsis, *body])


def scene_ambience(doc: Document, scene: Scene) -> str:
    """The bed under a scene, from its place, time of day and the weather its action mentions:
    e.g. "夜晚户外，雨声，远处车流" or "night exterior, rain, distant traffic"."""
    zh = doc.project.language.value == "zh"
    text = scene_text(doc, scene)
    time_zh, time_en = _TIME[scene.time_of_day]
    outside = scene.int_ext != IntExt.INT
    features = [(z, e) for pattern, z, e in _FEATURES if pattern.search(text)]
    interior_vehicle = any(e == "engine hum" for _, e in features)
    if outside and (scene.time_of_day in (TimeOfDay.dawn, TimeOfDay.day) and _MORNING.search(text)):
        features.append(("鸟鸣", "birdsong"))
    if not outside and not interior_vehicle:
        features = [(z, e) for z, e in features if e not in ("distant traffic",)]
        features.append(("室内安静的房间底噪", "quiet room tone"))
    if outside and not features:
        features.append(("远处城市的低鸣", "distant city hum"))
    seen: dict[str, str] = {}
    for z, e in features:
        seen.setdefault(e, z)
    if zh:
        where = "车厢内" if interior_vehicle else ("户外" if outside else "室内")
        return "，".join([f"{time_zh}{where}", *[z for z in seen.values() if z != "室内安静的房间底噪"]]) + (
            "，房间底噪" if not outside and not interior_vehicle else ""
        )
    where = "inside a vehicle" if interior_vehicle else ("exterior" if outside else "interior")
    head = f"{time_en} {where}".strip()
    return ", ".join([head, *seen.keys()])


# --------------------------------------------------------------------------- music to propose


@dataclass(frozen=True)
class Proposal:
    shot: str
    cue: str
    reason: str  # opening, turn, scene change, ending


def _mood(scene: Scene | None, zh: bool) -> str:
    time = scene.time_of_day if scene is not None else TimeOfDay.unspecified
    if time == TimeOfDay.night:
        return "安静而忧郁" if zh else "quiet and melancholy"
    if time == TimeOfDay.dusk:
        return "怅然若失" if zh else "wistful"
    return "温暖而充满希望" if zh else "warm and hopeful"


def _cue(reason: str, scene: Scene | None, zh: bool) -> str:
    mood = _mood(scene, zh)
    if zh:
        return {
            "opening": f"开场：{mood}的钢琴与弦乐，缓慢铺开",
            "turn": "情绪转折：弦乐渐起，克制而动人",
            "scene change": f"转场：{mood}的旋律，节奏舒缓",
            "ending": "结尾：温暖的钢琴旋律，渐渐收束",
        }[reason]
    return {
        "opening": f"opening: {mood} piano and strings, slow",
        "turn": "turn: strings rising, restrained and moving",
        "scene change": f"scene change: a {mood} melody, unhurried",
        "ending": "ending: a warm piano theme, fading out",
    }[reason]


def propose_music(doc: Document) -> list[Proposal]:
    """Cues for a film whose script names none: its opening; in each later scene, a change between day
    and night at its first shot, else its first line spoken in strong feeling (a performance note such as
    （激动） or (furious)); and the ending, at the last scene's last line when that scene has no cue yet.
    At most one cue a scene, each decided by its own scene, so editing one scene never moves another's
    cue. Locked shots are never given one."""
    shots = doc.ordered_shots()
    if not shots or any(s.music for s in shots) or not doc.project.propose_music:
        return []
    zh = doc.project.language.value == "zh"
    scenes = {s.id: s for s in doc.scenes}
    runs: list[list[Shot]] = []
    for shot in shots:
        if runs and runs[-1][0].scene == shot.scene:
            runs[-1].append(shot)
        else:
            runs.append([shot])
    out: list[Proposal] = []
    previous: Scene | None = None
    for k, run in enumerate(runs):
        scene = scenes.get(run[0].scene)
        pick: tuple[Shot, str] | None = None
        if k == 0:
            pick = (run[0], "opening")
        elif (
            scene is not None
            and previous is not None
            and None not in (_daylight(scene), _daylight(previous))
            and _daylight(scene) != _daylight(previous)
        ):
            pick = (run[0], "scene change")
        else:
            felt = next((s for s in run if any(is_emotional("", d.parenthetical) for d in s.dialogue)), None)
            pick = (felt, "turn") if felt is not None else None
        if pick is None and k == len(runs) - 1 and k > 0:
            pick = (_ending(run), "ending")
        if pick is not None and not pick[0].locked:
            out.append(Proposal(pick[0].id, _cue(pick[1], scene, zh), pick[1]))
        previous = scene or previous
    return out


def _daylight(scene: Scene) -> bool | None:
    return {TimeOfDay.day: True, TimeOfDay.dawn: True, TimeOfDay.night: False, TimeOfDay.dusk: False}.get(
        scene.time_of_day
    )


def _ending(run: list[Shot]) -> Shot:
    """Where an ending cue starts: the last scene's last line, so the music carries the film out."""
    spoken = [s for s in run if s.dialogue]
    return spoken[-1] if spoken else run[-1]


def with_sound_design(doc: Document) -> tuple[Document, list[Proposal]]:
    """``doc`` with a bed for every scene that has none yet (``ambience`` unset; an empty one is the
    director's silence) and, when the script names no music, proposed cues on unlocked shots."""
    doc = doc.model_copy()
    doc.scenes = [
        s if s.ambience is not None else s.model_copy(update={"ambience": scene_ambience(doc, s)}) for s in doc.scenes
    ]
    proposals = propose_music(doc)
    if proposals:
        cues = {p.shot: p.cue for p in proposals}
        doc.shots = [s.model_copy(update={"music": cues[s.id]}) if s.id in cues else s for s in doc.shots]
    return doc, proposals
