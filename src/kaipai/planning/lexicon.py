"""The few words the planner reads in a script: objects handled, sounds, feelings, movement.

Deliberately small and rule-based (no language model): it finds what a storyboard artist
would circle in the action lines — the card he opens, the knock at the door — in English
and in Chinese.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from kaipai.document.settings import Hearing
from kaipai.document.shots import CameraMove, Delivery
from kaipai.planning.names import has_cjk, normalize_name, parenthesised

# --------------------------------------------------------------------------- delivery

#: Voice marks every convention shares, by their compact key (upper case, no spaces, dots or hyphens).
_MARKS: dict[str, Hearing] = {
    "VO": Hearing.vo,
    "VOICEOVER": Hearing.vo,
    "NARRATOR": Hearing.vo,
    "OS": Hearing.os,
    "OC": Hearing.os,
    "OFF": Hearing.os,
    "OFFSCREEN": Hearing.os,
    "旁白": Hearing.vo,
    "内心": Hearing.inner,
    "心声": Hearing.inner,
    "内心独白": Hearing.inner,
    "独白": Hearing.inner,
    "画外音": Hearing.os,
    "画外": Hearing.os,
    "幕后": Hearing.os,
    "电话": Hearing.os,
}
#: In Chinese scripts （OS） is the speaker's inner voice, heard while we watch them (内心OS).
_ZH_MARKS: dict[str, Hearing] = {"OS": Hearing.inner}


def mark_key(mark: str) -> str:
    """``(V.O.)``, ``v.o``, ``VO`` → ``VO``: how a voice mark is looked up, however it is typed."""
    return re.sub(r"[\s.\-·()（）]", "", mark).upper()


def hearing_of(
    extension: str = "",
    character: str = "",
    parenthetical: str = "",
    *,
    language: str = "en",
    marks: Mapping[str, Hearing | str] | None = None,
) -> Hearing:
    """How a line is heard, from the marks of its cue: the extension, brackets in the name, a short note.

    ``language`` picks the convention (（OS） is an inner voice in Chinese scripts, (O.S.) off
    screen in English ones); ``marks`` is the project's own reading (``project.voice_marks``),
    which wins. A combined mark reads by its words: （内心OS） is a thought, （电话 OS） a voice
    from off screen, (V.O.) (CONT'D) a voice-over.
    """
    table: dict[str, Hearing] = {**_MARKS, **(_ZH_MARKS if language == "zh" else {})}
    table.update({mark_key(k): Hearing(v) for k, v in (marks or {}).items()})
    written = [m for m in (extension, *parenthesised(character), parenthetical if len(parenthetical) <= 6 else "") if m]
    for mark in written:
        if (key := mark_key(mark)) in table:
            return table[key]
    for mark in written:
        for word in re.split(r"[\s/,，、]+", mark):
            if word and (key := mark_key(word)) in table:
                return table[key]
    for mark in written:
        key = mark_key(mark)
        for found in sorted((k for k in table if has_cjk(k) and k in key), key=len, reverse=True)[:1]:
            return table[found]
        for word in re.findall(r"[A-Z']+", key):
            if word in table:
                return table[word]
    return Hearing.on


def delivery_of(
    extension: str = "",
    character: str = "",
    parenthetical: str = "",
    *,
    language: str = "en",
    marks: Mapping[str, Hearing | str] | None = None,
) -> Delivery:
    """V.O. / O.S. / on from the cue's marks (an inner voice is a voice-over of the speaker)."""
    return delivery_for(hearing_of(extension, character, parenthetical, language=language, marks=marks))


def delivery_for(hearing: Hearing) -> Delivery:
    """How a line so heard is delivered: on screen, off screen, or over the picture (a voice-over or a thought)."""
    return Delivery.on if hearing == Hearing.on else Delivery.os if hearing == Hearing.os else Delivery.vo


# --------------------------------------------------------------------------- feelings

_EN_EMOTION = re.compile(
    r"\b(angr\w*|shout\w*|yell\w*|scream\w*|cr(?:y|ies|ying)|sob\w*|tear\w*|furious\w*|desperat\w*|plead\w*|"
    r"trembl\w*|shak(?:y|ing)|break(?:s|ing)? down|choked?|horrified|terrified|panic\w*|explod\w*|hysteric\w*|"
    r"beg\w*|rag(?:e|ing)|devastat\w*|overwhelm\w*)\b",
    re.I,
)
_ZH_EMOTION = re.compile(r"哭|泣|怒|吼|喊|激动|哽咽|颤抖|崩溃|大叫|尖叫|咆哮|愤怒|含泪|绝望|嘶|哀求|失控|泪")


def is_emotional(text: str, parenthetical: str = "") -> bool:
    """An emotional beat: an exclamation, or a performance note of strong feeling."""
    if "!" in text or "！" in text:
        return True
    return bool(_EN_EMOTION.search(parenthetical) or _ZH_EMOTION.search(parenthetical))


# --------------------------------------------------------------------------- movement

_EN_RUN = re.compile(
    r"\b(run\w*|ran|rush\w*|chas\w*|fle[ed]\w*|sprint\w*|fight\w*|struggl\w*|dash\w*|bolt\w*|scrambl\w*|tackl\w*)\b",
    re.I,
)
_EN_WALK = re.compile(
    r"\b(walk\w*|enter\w*|cross\w*|approach\w*|pac(?:e|es|ing)|head(?:s|ing)? (?:to|for|toward)|stroll\w*"
    r"|step(?:s)? (?:in|out|into)|leav(?:e|es|ing)|exit\w*)\b",
    re.I,
)
_ZH_RUN = re.compile(r"跑|冲|追|逃|奔|扑|打斗|厮打|挣扎")
_ZH_WALK = re.compile(r"走进|走出|走向|走到|走过|踱步|进门|出门|离开|穿过|走来|走去|进来|进屋")


def camera_move_for_action(text: str) -> CameraMove:
    """Handheld for running and fighting, a tracking move for walking, otherwise still."""
    if _EN_RUN.search(text) or _ZH_RUN.search(text):
        return CameraMove.handheld
    if _EN_WALK.search(text) or _ZH_WALK.search(text):
        return CameraMove.truck_right
    return CameraMove.static


# --------------------------------------------------------------------------- objects

_EN_HANDLE = (
    r"(?:picks? up|picking up|opens?|opening|holds?|holding|reads?|reading|grabs?|grabbing|takes? out|pulls? out|"
    r"hands?(?: over)?|shows?|looks? at|looking at|stares? at|staring at|finds?|drops?|throws?(?: down)?|tosses?|"
    r"writes?|"
    r"puts? down|sets? down|lifts?|examines?|unfolds?|clutch(?:es)?|clutching|produces?|slides?|pockets?|lights?|"
    r"dials?|hangs? up|studies|rips? open|tears? open|seals?|signs?|points? at|raises?|gripping|grips?|sets?|places?|"
    r"puts?|lays?|gives?|passes?|offers?|carr(?:y|ies|ying)|hides?|burns?|tears? up|crumples?|fold(?:s|ing)?)"
)
_EN_DET = r"(?:the|a|an|his|her|their|its|my|your|our|one|another|some|this|that|two|three)"
#: "hands him the envelope": the one who receives it may stand between the verb and the thing.
_EN_OBJECT = re.compile(
    rf"\b{_EN_HANDLE}\s+(?:(?:him|her|them|me|us)\s+)?{_EN_DET}\s+((?:[A-Za-z][\w'\-]*\s*){{1,3}})", re.I
)
#: "sets the lantern and the letter on the table": a second thing joined to the first.
_EN_AND_OBJECT = re.compile(rf"\s*(?:,\s*)?(?:and|or)\s+{_EN_DET}\s+((?:[A-Za-z][\w'\-]*\s*){{1,3}})", re.I)
_EN_CAPS_OBJECT = re.compile(
    r"\b(?:the|a|an|his|her|their|its|another)\s+((?:[A-Z][A-Z'\-]+)(?:\s+[A-Z][A-Z'\-]+){0,2})\b"
)
_EN_STOP = {
    "on", "in", "at", "to", "from", "with", "and", "or", "but", "as", "into", "onto", "out", "up", "down", "over",
    "off", "of", "for", "while", "then", "that", "which", "who", "back", "again", "away", "before", "after", "when",
    "like", "too", "very", "so", "is", "are", "was", "were", "he", "she", "they", "it", "him", "her", "them", "there",
    "here", "just", "still", "we", "you", "i", "me", "us", "can", "will", "would", "should", "must", "inside",
    "across", "through", "toward", "towards", "around", "about", "if", "carefully",
    "slowly", "quickly", "gently", "finally", "open", "closed", "shut", "aside", "himself", "herself", "themselves",
    "by", "near", "beside", "behind", "under", "above", "below", "against", "along", "without", "within", "upon",
    "until", "the", "a", "an", "his", "its", "their", "my", "your", "our", "this", "these", "those", "what", "where",
    "right", "left", "tight", "hard", "close", "closer", "forward", "together", "high", "low", "now", "once", "twice",
}  # fmt: skip
_EN_PRONOUNS = {
    "it",
    "him",
    "her",
    "them",
    "me",
    "us",
    "you",
    "himself",
    "herself",
    "themselves",
    "this",
    "that",
    "everything",
    "something",
    "nothing",
    "anything",
    "one",
    "each",
    "other",
    "another",
    "way",
    "eyes",
    "head",
    "hand",
    "hands",
    "face",
    "breath",
    "moment",
    "time",
    "door",
}
_EN_PERSON = re.compile(
    r"(man|men|woman|women|boy|boys|girl|girls|kid|kids|guy|guys|lady|ladies|people|person|child|children|crowd|cop|cops|"
    r"officer|guard|nurse|doctor|waiter|waitress|driver|clerk|priest|mother|father|mom|dad|son|daughter|wife|husband|"
    r"friend|friends|stranger|everyone|somebody|someone|mailman|postman|audience|baby|judge|scout|congregation|family|"
    r"team|band|class|passenger|passengers|stewardess|soldier|soldiers|townsfolk|townfolk|students?|teacher|[a-z]+ess|"
    r"[a-z]+ers|beast|monster|giant|witch|dog|cat|horse|bird|birds|animal|animals|attendant|guards?|bidder|wisher|clown)$",
    re.I,
)
#: Not things at all: reactions, sounds, measures and places.
_EN_NOT_THING = re.compile(
    r"(reaction|gasp|titter|ohh+|laughter|laugh|whirr|blast|gaze|look|glance|moment|pause|beat|silence|inches|feet|"
    r"work|roll|reads|says|road|house|town|street|lawn|ground|floor|room|field|river|sky|world|way|place|time|one|rest)$",
    re.I,
)
#: Parts of the body are close-ups of a person, not inserts of a thing.
_EN_BODY = re.compile(
    r"(eye|eyes|hand|hands|face|smile|head|mouth|lips|arm|arms|leg|legs|foot|feet|finger|fingers|hair|tears?|shoulder|shoulders|back|chest|breath|voice|cough|lap|knees?|ourselves|yourself|myself)$",
    re.I,
)
_SCRIPT_CAPS = {
    "CONTINUOUS",
    "LATER",
    "MOMENTS",
    "MOMENT",
    "SAME",
    "CUT",
    "FADE",
    "DISSOLVE",
    "INTERCUT",
    "BACK",
    "POV",
    "CLOSE",
    "ANGLE",
    "INSERT",
    "MONTAGE",
    "END",
    "TITLE",
    "SUPER",
    "CONT'D",
    "V.O",
    "O.S",
    "OK",
    "TV",
    "I",
}

#: Sounds written in capitals in Fountain action ("a SOUND in the hall", "the phone RINGS").
_EN_SOUND_WORDS = {
    "SOUND", "SOUNDS", "BANG", "BANGS", "KNOCK", "KNOCKS", "KNOCKING", "RING", "RINGS", "RINGING", "CRASH", "CRASHES",
    "THUD", "SLAM", "SLAMS", "BEEP", "BEEPS", "BUZZ", "BUZZES", "SCREAM", "SCREAMS", "GUNSHOT", "GUNSHOTS", "SHOT",
    "THUNDER", "EXPLOSION", "SIREN", "SIRENS", "HONK", "HONKS", "CLICK", "CLICKS", "SNAP", "RUMBLE", "WHISTLE",
    "SPLASH", "CREAK", "CREAKS", "CRACK", "BOOM", "THUMP", "CLANG", "HISS", "ROAR", "BARK", "BARKS", "CHIME", "CHIMES",
    "DOORBELL", "ALARM", "SHATTER", "SHATTERS", "SCREECH", "POP", "WHOOSH", "APPLAUSE", "MUSIC",
}  # fmt: skip
_EN_SOUND_PHRASE = re.compile(
    r"\b((?:phone|doorbell|alarm|bell|telephone|clock)s? (?:rings?|ringing|buzz(?:es)?|chimes?|goes off)"
    r"|knock(?:s|ing)? (?:at|on) the door|dog(?:s)? bark(?:s|ing)?|thunder(?: rumbles| cracks)?|footsteps)\b",
    re.I,
)
_EN_SMALL = re.compile(
    r"(card|letter|ring|key|keys|photo|photograph|picture|note|envelope|watch|coin|pill|pills|ticket|button|badge|pen|bullet|phone|cellphone|screen|locket|stamp|lighter|match|matches|necklace|earring|glass|cup|button|check|cheque|receipt|page|map)$",
    re.I,
)

_ZH_HANDLE = re.compile(
    r"拿起|拿出|拿着|掏出|取出|打开|翻开|拆开|撕开|展开|握着|握住|攥着|递给|递过|捡起|放下|举起|摸着|盯着|读着|看着手中的|写下|点燃|合上|抱着|拎着|端着|捧着|翻看|摩挲|拨通|接起|挂断"
)
_ZH_DET = re.compile(
    r"^(?:了|着|起|出|来)?(?:[这那一两][个张封本杯把块只条支件台部份枚盒瓶顶双束朵页]|[个张封本杯把块只条支件台部份枚盒瓶顶双束朵页])?"
)
_ZH_STOP = re.compile(r"[，。！？、；：,.!?;:\s…—“”\"'（）()]")
_ZH_PERSON = re.compile(r"^(他|她|它|他们|她们|我|你|我们|自己|对方|父亲|母亲|爸爸|妈妈|男人|女人|孩子)$")
_ZH_SMALL = re.compile(
    r"(卡|信|戒指|钥匙|照片|相片|纸条|信封|手表|硬币|药|票|纽扣|徽章|笔|子弹|手机|屏幕|项链|耳环|杯|邮票|打火机|火柴|字条|便条|日记|吊坠)$"
)
_ZH_SOUNDS = re.compile(
    r"敲门声|门铃声?|电话铃声?|手机铃声|铃声|脚步声|雷声|雨声|枪声|笑声|哭声|风声|敲击声|警笛声?|汽笛声?|掌声|鸟鸣|狗叫声?|犬吠|"
    r"刹车声|爆炸声|钟声|关门声|开门声|水声|碎裂声|玻璃碎裂声|喇叭声|鞭炮声|烟花声|心跳声|呼吸声|闹钟声?|打雷"
)
_SFX_NOTE = re.compile(r"[【\[（(]\s*(?:音效|声音|SFX|Sfx|sfx)\s*[:：]\s*([^】\]）)]+)[】\]）)]")


def _clean_en(phrase: str) -> str:
    """The noun phrase at the start of ``phrase``: it ends at a preposition, an adverb or a participle."""
    words: list[str] = []
    for w in phrase.split():
        lw = w.lower()
        if lw in _EN_STOP or (lw.endswith("ly") and len(lw) > 4) or (words and lw.endswith("ed") and len(lw) > 3):
            break
        words.append(w.strip("'-"))
    if words and words[-1].lower().endswith("ing") and len(words[-1]) > 5:
        words.pop()  # "the cawing", "the ringing": a sound or an action, not a thing
    return " ".join(words)


@lru_cache(maxsize=64)
def _skip_set(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(normalize_name(x).casefold() for x in names)


def objects_in(text: str, exclude: Iterable[str] = ()) -> list[str]:
    """Objects the action has someone handle or points at in capitals: "opens the BIRTHDAY CARD" → "birthday card"."""
    skip = _skip_set(tuple(exclude))
    found: list[str] = []

    def add(obj: str) -> None:
        obj = obj.strip()
        key = obj.casefold()
        if not obj or key in skip or key in _EN_PRONOUNS or key in (f.casefold() for f in found):
            return
        if has_cjk(obj):
            if _ZH_PERSON.match(obj):
                return
        elif (
            _EN_PERSON.search(obj)
            or _EN_BODY.search(obj)
            or _EN_NOT_THING.search(obj)
            or any(w in skip for w in key.split())
        ):
            return
        found.append(obj)

    if has_cjk(text):
        matches = list(_ZH_HANDLE.finditer(text))
        for i, m in enumerate(matches):
            end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
            segment = text[m.end() : end]
            stop = _ZH_STOP.search(segment)
            segment = segment[: stop.start()] if stop else segment
            segment = _ZH_DET.sub("", segment)
            segment = segment.rsplit("的", 1)[-1]
            segment = re.sub(r"[了着过吧呢啊]+$", "", segment)
            segment = re.sub(r"[^\u4e00-\u9fffA-Za-z0-9]", "", segment)
            if 1 <= len(segment) <= 8:
                add(segment[-6:])
        return found
    for m in _EN_CAPS_OBJECT.finditer(text):
        phrase = m.group(1)
        words = phrase.split()
        if any(w in _SCRIPT_CAPS or w in _EN_SOUND_WORDS for w in words) or len(phrase) < 3:
            continue
        add(_clean_en(phrase).lower())
    for m in _EN_OBJECT.finditer(text):
        first = _clean_en(m.group(1))
        add(first.lower())
        rest = text[m.start(1) + len(first) :] if first else ""
        if more := _EN_AND_OBJECT.match(rest):
            add(_clean_en(more.group(1)).lower())
    return found


def is_small_object(name: str) -> bool:
    """Small things are shot in extreme close-up, bigger ones in close-up."""
    return bool(_ZH_SMALL.search(name) or _EN_SMALL.search(name))


def sounds_in(text: str) -> list[str]:
    """Sound effects the action names: capitalised sounds, known sound phrases, ``（音效：…）`` notes."""
    found: list[str] = []

    def add(s: str) -> None:
        s = s.strip()
        if s and s.casefold() not in (f.casefold() for f in found):
            found.append(s)

    for m in _SFX_NOTE.finditer(text):
        add(m.group(1))
    for m in _ZH_SOUNDS.finditer(text):
        add(m.group(0))
    for m in _EN_SOUND_PHRASE.finditer(text):
        add(m.group(1).lower())
    for m in re.finditer(r"\b[A-Z][A-Z'\-]{2,}\b", text):
        if m.group(0) in _EN_SOUND_WORDS:
            add(m.group(0).lower())
    return found
