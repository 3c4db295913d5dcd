"""The Chinese screenplay convention, as short-drama writers and AI drama tools write it.

There is no formal standard, so the parser accepts the forms in common use: scene headings
(``1-1 日 内 客厅``, ``第1场 夜 外 街道``, ``场景一：…``, ``### 场1-1`` with ``日 内 地点`` below, fused
``晨外``), episodes (``第1集``), cast lines (``人物：``), dialogue (``张三（低声）：台词``), ``△`` action,
``（OS）``/``（vo）`` voice-over, ``旁白`` narration and bracketed notes (``【空镜：…】``, ``【字幕：…】``).
A line that is none of these is action, so any text parses.
"""

from __future__ import annotations

import re

from kaipai.screenplay.model import Element, ElementType, Screenplay, ScreenplayScene

_NUM = r"[0-9０-９一二三四五六七八九十百零〇两]+"
_EPISODE = re.compile(rf"^第\s*({_NUM})\s*集\s*[：:]?\s*(.*)$")
_HEADINGS = [
    re.compile(
        r"^(?:#{1,6}\s*)?(?:场景?|场次)?\s*(\d+\s*[-－—–]\s*\d+)\s*[：:.、]?\s*(.*)$"
    ),  # 1-1 日 内 客厅 / ### 场1-1
    re.compile(rf"^(?:#{{1,6}}\s*)?第\s*({_NUM})\s*场\s*[：:.、]?\s*(.*)$"),  # 第1场 夜 外 街道
    re.compile(rf"^(?:#{{1,6}}\s*)?场景\s*({_NUM})\s*[：:.、]?\s*(.*)$"),  # 场景一：…
    re.compile(rf"^(?:#{{1,6}}\s*)?场\s*({_NUM})\s*[：:.、]?\s*(.*)$"),  # ### 场3
]
_NUMBERED = re.compile(r"^(\d+)\s*[.、]\s*(.+)$")  # 3. 夜 外 街道 — a heading only if the rest reads as one
_CAST = re.compile(r"^(?:出场人物|出场角色|登场人物|人物|角色)\s*[：:]\s*(.*)$")
_TITLE = re.compile(r"^(?:剧名|片名|标题|剧本名)\s*[：:]\s*(.+)$|^《(.+)》$")
_BRACKET = re.compile(r"^[【\[]\s*(空镜|字幕|画外|备注|注|音效|音乐|闪回|转场)?\s*[：:]?\s*(.*?)\s*[】\]]\s*(.*)$")
_ACTION_MARK = re.compile(r"^[△▲]\s*")
_DIALOGUE = re.compile(
    r"^(?P<name>[^\s：:（）()“”\"「」【】，。！？、；△▲#]{1,12}?)\s*"
    r"(?:[（(](?P<p1>[^）)]{0,20})[）)])?\s*[：:]\s*"
    r"(?:[（(](?P<p2>[^）)]{0,20})[）)])?\s*(?P<text>.*)$"
)
_TRANSITIONS = {"切至", "切到", "切", "硬切", "叠化", "淡入", "淡出", "黑场", "转场", "闪白", "渐隐", "渐显", "切换"}
_NOT_SPEAKERS = {
    "时间",
    "地点",
    "场景",
    "人物",
    "角色",
    "道具",
    "服装",
    "备注",
    "注",
    "字幕",
    "空镜",
    "画面",
    "镜头",
    "音效",
    "音乐",
    "内容",
    "景别",
    "剧情",
    "简介",
    "梗概",
    "主题",
    "时长",
    "第",
}
_TIME_WORDS = [
    ("凌晨", "dawn"),
    ("清晨", "dawn"),
    ("黎明", "dawn"),
    ("拂晓", "dawn"),
    ("早晨", "day"),
    ("早上", "day"),
    ("上午", "day"),
    ("中午", "day"),
    ("下午", "day"),
    ("白天", "day"),
    ("午后", "day"),
    ("黄昏", "dusk"),
    ("傍晚", "dusk"),
    ("日落", "dusk"),
    ("深夜", "night"),
    ("午夜", "night"),
    ("夜晚", "night"),
    ("晚上", "night"),
    ("夜里", "night"),
    ("晨", "dawn"),
    ("早", "day"),
    ("日", "day"),
    ("昼", "day"),
    ("昏", "dusk"),
    ("晚", "night"),
    ("夜", "night"),
]
_PLACE_WORDS = [
    ("内外", "INT/EXT"),
    ("室内", "INT"),
    ("室外", "EXT"),
    ("内景", "INT"),
    ("外景", "EXT"),
    ("内", "INT"),
    ("外", "EXT"),
]
#: Marks that say how a line is heard rather than how it is played (the planner reads what they mean).
_VOICE = frozenset(
    {"os", "o.s.", "o.s", "vo", "v.o.", "v.o", "画外音", "画外", "画外音os"}
    | {"内心", "心声", "内心独白", "独白", "电话", "旁白"}
)
_QUOTES = '“”"「」『』'


def _time_and_place(token: str) -> tuple[str | None, str | None, str]:
    """Read 日/夜/晨 and 内/外 from the start or end of a token, fused (晨外) or alone; return the rest."""
    time = place = None
    rest = token
    for _ in range(2):
        for word, value in _PLACE_WORDS:
            if (
                place is None
                and (rest.startswith(word) or rest.endswith(word))
                and (len(rest) == len(word) or time is not None or _is_time(rest.replace(word, "", 1)))
            ):
                place, rest = value, (rest[len(word) :] if rest.startswith(word) else rest[: -len(word)])
                break
        for word, value in _TIME_WORDS:
            if (
                time is None
                and (rest.startswith(word) or rest.endswith(word))
                and (len(rest) == len(word) or place is not None or _is_place(rest.replace(word, "", 1)))
            ):
                time, rest = value, (rest[len(word) :] if rest.startswith(word) else rest[: -len(word)])
                break
    return time, place, rest


def _is_time(s: str) -> bool:
    return any(s == w for w, _ in _TIME_WORDS)


def _is_place(s: str) -> bool:
    return any(s == w for w, _ in _PLACE_WORDS)


def read_heading_rest(rest: str) -> tuple[str, str, str, bool]:
    """(INT/EXT or "", time of day, location, whether any time or INT/EXT word was found) of a heading's tail."""
    tokens = [t for t in re.split(r"[\s、，,/|·。．.\-－—（）()\[\]【】]+", rest.strip(" ：:")) if t]
    int_ext, tod, location, found = "", "unspecified", [], False  # no 内/外 written: left open
    for token in tokens:
        time, place, left = _time_and_place(token)
        if (time or place) and not left:
            found = True
            tod = time or tod
            int_ext = place or int_ext
        else:
            location.append(token)
    return int_ext, tod, " ".join(location), found


def _number(raw: str) -> str:
    return re.sub(r"\s+", "", raw).replace("－", "-").replace("—", "-").replace("–", "-")


def _heading(s: str) -> tuple[str, str] | None:
    for pattern in _HEADINGS:
        m = pattern.match(s)
        if m:
            return _number(m.group(1)), m.group(2).strip()
    m = _NUMBERED.match(s)
    if m and read_heading_rest(m.group(2))[3] and len(m.group(2)) <= 30:
        return m.group(1), m.group(2).strip()
    if _unnumbered_heading(s):
        return "", s
    return None


def _numbered_heading(s: str) -> bool:
    return bool((head := _heading(s)) and head[0])


def _unnumbered_heading(s: str) -> bool:
    """``日 内 客厅`` / ``内景 客厅 日`` on a line of its own: both a time and INT/EXT, and little else."""
    if len(s) > 30 or re.search(r"[。！？!?，,：:“”\"]", s):
        return False
    tokens = [t for t in re.split(r"[\s、/|·（）()]+", s) if t]
    if not 2 <= len(tokens) <= 4:
        return False
    times = places = 0
    for token in tokens:
        time, place, left = _time_and_place(token)
        if left:
            continue
        times += time is not None
        places += place is not None
    return times >= 1 and places >= 1


_VOICE_MARK = re.compile(r"(?<![a-z])(?:(o\.?s\.?)|(v\.?o\.?))(?![a-z])")


def _voice(paren: str) -> tuple[str, str]:
    """Split a bracketed cue into (extension, parenthetical): （OS）→ OS; （低声）→ a parenthetical.

    Writers also combine the mark with a note (（内心OS）, （电话 OS）); those are voice marks too.
    The mark is kept as written (upper-cased): （OS） is the speaker's thought in this convention
    and （画外音） a voice from off screen, so the planner must be able to tell them apart.
    """
    key = paren.strip().lower().replace(" ", "")
    if key in _VOICE or _VOICE_MARK.search(key):
        return " ".join(paren.split()).upper(), ""
    return "", paren.strip()


def _strip_quotes(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    return text


def _split_cast(text: str) -> list[str]:
    names, depth, current = [], 0, ""
    for ch in text:
        if ch in "（(":
            depth += 1
        elif ch in "）)":
            depth = max(0, depth - 1)
        if depth == 0 and ch in "、，,；; /":
            if current.strip():
                names.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        names.append(current.strip().rstrip("。"))
    return names


def _base_name(raw: str) -> str:
    return re.split(r"[（(]", raw, maxsplit=1)[0].strip()


#: What a cast line writes when nobody is in the scene (人物：无): words, not names.
_NOBODY = frozenset({"无", "无人", "暂无", "没有", "空", "空镜", "无角色", "none", "n/a", "na"})


def _is_nobody(name: str) -> bool:
    base = _base_name(name).strip("。.")
    return base.casefold() in _NOBODY or not base.strip("-—–－_·… ")


def parse_zh(text: str) -> Screenplay:
    """Parse a screenplay in the Chinese convention. Never raises."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    sp = Screenplay(format="zh")
    scene: ScreenplayScene | None = None
    episode: int | None = None
    known: set[str] = set()
    lines = text.split("\n")

    def emit(el: Element) -> None:
        (scene.elements if scene is not None else sp.preamble).append(el)

    i = 0
    while i < len(lines):
        number = i + 1
        s = lines[i].strip().replace("\u3000", " ")
        i += 1
        if not s:
            continue
        if not sp.title_page.get("title") and scene is None and (m := _TITLE.match(s)):
            sp.title_page["title"] = (m.group(1) or m.group(2)).strip().strip("《》")
            continue
        if (m := _ALONE_TITLE.match(s)) and _title_line(scene, sp, m.group(1).strip(), s, number):
            continue
        if m := _EPISODE.match(s):
            episode = _episode_number(m.group(1))
            emit(Element(type=ElementType.episode, text=s, line=number))
            continue
        if head := _heading(s):
            num, rest = head
            heading_text = s.lstrip("# ").strip()
            int_ext, tod, location, found = read_heading_rest(rest)
            # ### 场1-1 with 日 内 地点 on the next line
            if not found and i < len(lines):
                nxt = lines[i].strip()
                n_ie, n_tod, n_loc, n_found = read_heading_rest(nxt)
                if (
                    n_found
                    and nxt
                    and not _numbered_heading(nxt)
                    and not _CAST.match(nxt)
                    and not _DIALOGUE.match(nxt)
                    and len(nxt) <= 30
                ):
                    int_ext, tod, location = n_ie, n_tod, n_loc or location
                    heading_text = f"{heading_text} {nxt}"
                    i += 1
            scene = ScreenplayScene(
                heading=heading_text,
                line=number,
                number=num or None,
                int_ext=int_ext,
                time_of_day=tod,
                location=location,
                episode=episode,
            )
            sp.scenes.append(scene)
            continue
        if m := _CAST.match(s):
            names = [n for n in _split_cast(m.group(1)) if not _is_nobody(n)]
            known.update(_base_name(n) for n in names)
            if scene is not None:
                scene.characters.extend(n for n in names if n not in scene.characters)
            continue
        if m := _BRACKET.match(s):
            kind, body, tail = m.group(1) or "", m.group(2).strip(), m.group(3).strip()
            content = (body + (" " + tail if tail else "")).strip()
            etype = {"空镜": ElementType.cutaway, "字幕": ElementType.caption, "转场": ElementType.transition}.get(
                kind, ElementType.note
            )
            if kind in ("音效", "音乐", "闪回", "画外"):
                content = f"{kind}：{content}"
            emit(Element(type=etype, text=content, line=number))
            continue
        if _ACTION_MARK.match(s):
            emit(Element(type=ElementType.action, text=_ACTION_MARK.sub("", s), line=number))
            continue
        if s.rstrip("：:。.") in _TRANSITIONS:
            emit(Element(type=ElementType.transition, text=s.rstrip("：:。."), line=number))
            continue
        if _continues_dialogue(scene.elements if scene is not None else sp.preamble, s):
            previous = (scene.elements if scene is not None else sp.preamble)[-1]
            previous.text = f"{previous.text}\n{_strip_quotes(s)}".strip()
            continue
        if (m := _DIALOGUE.match(s)) and _speaker(m.group("name"), known, m.group("text")):
            name = m.group("name")
            ext, paren = "", ""
            for raw in (m.group("p1"), m.group("p2")):
                if raw is None:
                    continue
                e, p = _voice(raw)
                ext = ext or e
                paren = paren or p
            if name == "旁白":
                ext = ext or "VO"
            known.add(name)
            emit(
                Element(
                    type=ElementType.dialogue,
                    character=name,
                    extension=ext,
                    parenthetical=paren,
                    text=_strip_quotes(m.group("text")),
                    line=number,
                )
            )
            continue
        emit(Element(type=ElementType.action, text=s, line=number))
    return sp


def _title_line(scene: ScreenplayScene | None, sp: Screenplay, title: str, line: str, number: int) -> bool:
    """A line that is only a 《title》: the episode's title after 第N集, the scene's before anything
    happens in it. Titles name what follows; they are not action to film."""
    elements = scene.elements if scene is not None else sp.preamble
    if elements and elements[-1].type == ElementType.episode:
        elements[-1].text = f"{elements[-1].text} {line}"
        return True
    if scene is not None and not scene.title and not any(el.type in _HAPPENS for el in scene.elements):
        scene.title = title
        return True
    if scene is None:  # a title before the first scene, after the screenplay's own: kept as a note
        sp.preamble.append(Element(type=ElementType.note, text=line, line=number))
        return True
    return False


_ALONE_TITLE = re.compile(r"^《([^《》]+)》$")
#: Elements that mean the scene has begun: a title after one of them is something seen, not a title.
_HAPPENS = frozenset(
    {ElementType.action, ElementType.dialogue, ElementType.caption, ElementType.cutaway, ElementType.transition}
)


def _continues_dialogue(elements: list[Element], s: str) -> bool:
    """A line wholly in quotes right after a speaker's line is more of what they say."""
    return (
        bool(elements)
        and elements[-1].type == ElementType.dialogue
        and len(s) >= 2
        and s[0] in '“"「『'
        and s[-1] in '”"」』'
    )


def _speaker(name: str, known: set[str], text: str) -> bool:
    """Whether ``name：…`` is a speaker's cue rather than an action sentence that contains a colon."""
    if name in _NOT_SPEAKERS or not text.strip() or re.fullmatch(r"[\d\s.:：]+", name):
        return False
    if name in known or name == "旁白":
        return True
    return len(name) <= 6 and not re.search(r"[的了着在是把被向从对说道]", name[1:])


def _episode_number(raw: str) -> int:
    digits = raw.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if digits.isdigit():
        return int(digits)
    values = {
        "零": 0,
        "〇": 0,
        "一": 1,
        "二": 2,
        "两": 2,
        "三": 3,
        "四": 4,
        "五": 5,
        "六": 6,
        "七": 7,
        "八": 8,
        "九": 9,
    }
    total, current = 0, 0
    for ch in raw:
        if ch in values:
            current = values[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
    return total + current
