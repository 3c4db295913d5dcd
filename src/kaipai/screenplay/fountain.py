"""Fountain (https://fountain.io/syntax) into the common screenplay model.

The parser works on paragraphs (runs of non-blank lines) because that is how Fountain decides
what a line is: a scene heading or a transition must stand alone, a character cue must be
followed by dialogue. Notes and boneyard are blanked out first, keeping line numbers, so every
element still points at its line in the file the writer edits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kaipai.screenplay.model import Element, ElementType, Screenplay, ScreenplayScene, SpeechPart

HEADING = re.compile(r"^(?:INT\.?/EXT|INT/EXT|I\.?/E|INT|EXT|EST)(?:\.|\s)", re.IGNORECASE)
_SCENE_NUMBER = re.compile(r"\s*#([\w.\-]+)#\s*$")
_TITLE_KEY = re.compile(r"^([A-Za-z][A-Za-z ]*?):\s*(.*)$")
_CHARACTER = re.compile(r"^(?P<name>[^()\^]*?)\s*(?P<ext>(?:\([^)]*\)\s*)*)\s*(?P<dual>\^)?\s*$")
#: Emphasis markers hug the words they mark (``*word*``, not ``5 * 3 * 2``); underline does not
#: start or end inside a word (``file_name`` stays as written).
_EMPHASIS = [
    re.compile(r"(?<!\\)\*\*\*(?=\S)(.+?)(?<=\S)(?<!\\)\*\*\*"),
    re.compile(r"(?<!\\)\*\*(?=\S)(.+?)(?<=\S)(?<!\\)\*\*"),
    re.compile(r"(?<![\\*])\*(?=[^\s*])(.+?)(?<=[^\s\\])\*"),
    re.compile(r"(?<![\\\w])_(?=\S)(.+?)(?<=[^\s\\])_(?!\w)"),
]
_TIMES = {
    "DAY": "day",
    "MORNING": "day",
    "AFTERNOON": "day",
    "NOON": "day",
    "NIGHT": "night",
    "EVENING": "dusk",
    "DUSK": "dusk",
    "SUNSET": "dusk",
    "TWILIGHT": "dusk",
    "DAWN": "dawn",
    "SUNRISE": "dawn",
    "MIDNIGHT": "night",
}
#: Transitions that do not end in "TO:" but that every screenplay writer uses as one.
_COMMON_TRANSITIONS = {
    "FADE IN:",
    "FADE OUT.",
    "FADE OUT",
    "FADE TO BLACK.",
    "FADE TO BLACK",
    "CUT TO BLACK.",
    "THE END",
}


def strip_emphasis(text: str) -> str:
    """Drop *italic*, **bold**, ***both*** and _underline_ markers, keeping escaped ``\\*`` and ``\\_``."""
    for pattern in _EMPHASIS:
        text = pattern.sub(r"\1", text)
    return text.replace("\\*", "*").replace("\\_", "_")


def _blank_spans(text: str, start: str, end: str, notes: list[tuple[int, str]] | None) -> str:
    """Remove ``start … end`` spans (boneyard, notes), keeping their newlines so line numbers hold."""
    out: list[str] = []
    pos = 0
    while True:
        i = text.find(start, pos)
        if i < 0:
            break
        j = text.find(end, i + len(start))
        if j < 0:
            break
        out.append(text[pos:i])
        inner = text[i + len(start) : j]
        if notes is not None:
            notes.append((text.count("\n", 0, i) + 1, " ".join(inner.split())))
        out.append("\n" * inner.count("\n"))
        pos = j + len(end)
    out.append(text[pos:])
    return "".join(out)


@dataclass
class _Line:
    number: int
    text: str  # as written, trailing whitespace kept for the two-space rule

    @property
    def s(self) -> str:
        return self.text.strip()


def _paragraphs(lines: list[_Line]) -> list[list[_Line]]:
    paras: list[list[_Line]] = []
    current: list[_Line] = []
    for line in lines:
        if line.s or (current and line.text.startswith("  ") and len(line.text) >= 2 and _in_dialogue(current)):
            current.append(line)
        else:
            if current:
                paras.append(current)
            current = []
    if current:
        paras.append(current)
    return paras


def _in_dialogue(para: list[_Line]) -> bool:
    return len(para) >= 1 and _is_character(para[0].s, following=True)


def _is_character(s: str, *, following: bool) -> bool:
    if not following or not s:
        return False
    if s.startswith("@"):
        return len(s) > 1
    if s.startswith(("!", ".", ">", "~", "=", "#", "[[")):
        return False
    m = _CHARACTER.match(s)
    if not m:
        return False
    name = m.group("name")
    return bool(name) and any(ch.isalpha() for ch in name) and name == name.upper() and not HEADING.match(name + " ")


def _heading(s: str) -> bool:
    if s.startswith(".") and len(s) > 1 and s[1] != ".":
        return True
    return bool(HEADING.match(s))


def _transition(s: str) -> bool:
    if s.startswith(">") and not s.endswith("<"):
        return True
    bare = s.rstrip()
    return (
        bare == bare.upper() and bare.endswith("TO:") and any(ch.isalpha() for ch in bare)
    ) or bare in _COMMON_TRANSITIONS


def parse_heading(raw: str) -> tuple[str, str | None, str, str, str]:
    """Split a scene heading into (heading, scene number, INT/EXT, time of day, location)."""
    heading = raw[1:] if raw.startswith(".") and not raw.startswith("..") else raw
    number = None
    m = _SCENE_NUMBER.search(heading)
    if m:
        number = m.group(1)
        heading = heading[: m.start()]
    heading = strip_emphasis(heading).strip()
    int_ext = ""  # a forced heading that does not say INT or EXT leaves it open
    rest = heading
    pm = HEADING.match(heading + " ")
    if pm:
        prefix = pm.group(0).strip().rstrip(".").upper().replace(".", "")
        int_ext = {"INT": "INT", "EXT": "EXT", "EST": "EXT"}.get(prefix, "INT/EXT")
        rest = heading[pm.end() :] if len(heading) >= pm.end() else ""
    parts = [p.strip() for p in re.split(r"\s+-\s+|\s+–\s+|\s+—\s+", rest.strip(" -.")) if p.strip()]
    time_of_day = "unspecified"
    if len(parts) == 1 and " " in parts[0] and pm:  # INT HOUSE DAY
        words = parts[0].split()
        if re.sub(r"[^A-Z]", "", words[-1].upper()) in _TIMES:
            parts = [" ".join(words[:-1]), words[-1]]
    kept: list[str] = []
    for i, part in enumerate(parts):
        word = re.sub(r"\(.*?\)", "", part).strip().upper().rstrip(".")
        if i > 0 and word in _TIMES and time_of_day == "unspecified":
            time_of_day = _TIMES[word]
        elif i == 0 or not (word in {"CONTINUOUS", "LATER", "MOMENTS LATER", "SAME", "SAME TIME"} or word in _TIMES):
            kept.append(part)
    location = re.sub(r"\s*\(\d{3,4}\)\s*$", "", kept[0]).strip() if kept else ""
    return heading, number, int_ext, time_of_day, location


_TITLES = re.compile(
    r"(?:(?:OPENING|MAIN|END|CLOSING|FINAL)\s+)?(?:TITLES?|CREDITS?)(?:\s+(?:SEQUENCE|CARDS?|ROLL|OVER BLACK))?"
    r"|TITLE\s+(?:CARD|SEQUENCE)"
)
_POV = re.compile(r"\bPOV\b|\bPOINT OF VIEW\b|\bP\.O\.V\.?")
_MONTAGE = re.compile(r"\bMONTAGE\b|\bSERIES OF (?:SHOTS|IMAGES|SCENES)\b|\bQUICK CUTS\b")
_INSERT = re.compile(r"^INSERT\b\s*[-–—:,.]*\s*(.*)$")


def heading_kind(heading: str) -> tuple[str, str]:
    """What a heading announces, and its subject: ``("title", "")``, ``("pov", "SNIPER SCOPE")``,
    ``("montage", "")``, ``("insert", "THE LETTER")``, or ``("scene", "")`` for a place.

    A title, POV, montage or insert is a shot of its own, not somewhere to go: the planner
    draws it as such (a caption card, a point-of-view shot, a run of short shots, an insert).
    """
    upper = re.sub(r"\s+", " ", strip_emphasis(heading).upper()).strip(" .")
    segments = [p.strip(" .,:") for p in re.split(r"\s+[-–—]\s+", upper) if p.strip(" .,:")]
    if m := _INSERT.match(upper):
        return "insert", m.group(1).strip(" .,:")
    if any(_TITLES.fullmatch(seg) for seg in segments):
        return "title", ""
    for seg in segments:
        if _POV.search(seg):
            whose = re.sub(r"['’]S$", "", _POV.sub("", seg).strip(" .,:")).strip()
            return "pov", whose
    if any(_MONTAGE.search(seg) for seg in segments):
        return "montage", ""
    return "scene", ""


def _title_page(lines: list[_Line]) -> tuple[dict[str, str], int]:
    """Read the title page if the file starts with one; return it and the index where the body starts."""
    if not lines or not _TITLE_KEY.match(lines[0].text) or _heading(lines[0].s) or _transition(lines[0].s):
        return {}, 0
    page: dict[str, str] = {}
    key = ""
    i = 0
    while i < len(lines) and lines[i].s:
        text = lines[i].text
        m = _TITLE_KEY.match(text)
        if m and not text.startswith((" ", "\t")):
            key = m.group(1).strip().lower()
            page[key] = strip_emphasis(m.group(2).strip())
        elif key and text.startswith((" ", "\t")):
            page[key] = (page[key] + "\n" + strip_emphasis(text.strip())).strip()
        else:
            return {}, 0  # not a title page after all: a body line with a colon
        i += 1
    return page, i


def parse_fountain(text: str) -> Screenplay:
    """Parse Fountain text. Never raises: anything unrecognised is action, as the spec says."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    notes: list[tuple[int, str]] = []
    text = _blank_spans(text, "/*", "*/", None)
    text = _blank_spans(text, "[[", "]]", notes)
    lines = [_Line(i + 1, t.replace("\t", "    ")) for i, t in enumerate(text.split("\n"))]
    title_page, start = _title_page(lines)
    sp = Screenplay(format="fountain", title_page=title_page)
    body = lines[start:]

    scene: ScreenplayScene | None = None

    def emit(el: Element) -> None:
        (scene.elements if scene is not None else sp.preamble).append(el)

    for para in _paragraphs(body):
        first = para[0].s
        if len(para) == 1 and _heading(first):
            heading, number, int_ext, tod, location = parse_heading(first)
            kind, _ = heading_kind(heading)
            scene = ScreenplayScene(
                heading=heading,
                line=para[0].number,
                number=number,
                int_ext=int_ext,
                time_of_day=tod,
                location=location,
                kind=kind,
            )
            sp.scenes.append(scene)
            continue
        if _is_character(first, following=len(para) > 1):
            emit(_dialogue(para))
            continue
        for line in para:
            s = line.s
            if not s:
                continue
            if re.fullmatch(r"={3,}", s):
                emit(Element(type=ElementType.page_break, line=line.number))
            elif s.startswith("#"):
                depth = len(s) - len(s.lstrip("#"))
                emit(Element(type=ElementType.section, text=s[depth:].strip(), depth=depth, line=line.number))
            elif s.startswith("=") and not s.startswith("=="):
                emit(Element(type=ElementType.synopsis, text=strip_emphasis(s[1:].strip()), line=line.number))
            elif s.startswith("~"):
                emit(Element(type=ElementType.lyric, text=strip_emphasis(s[1:].strip()), line=line.number))
            elif s.startswith(">") and s.endswith("<"):
                emit(Element(type=ElementType.centered, text=strip_emphasis(s[1:-1].strip()), line=line.number))
            elif len(para) == 1 and _transition(s):
                emit(Element(type=ElementType.transition, text=s.lstrip(">").strip(), line=line.number))
            else:
                _action(scene, sp, line)
    for number, note in notes:
        target = sp.preamble
        for sc in sp.scenes:
            if sc.line <= number:
                target = sc.elements
        target.append(Element(type=ElementType.note, text=note, line=number))
    for els in [sp.preamble, *(sc.elements for sc in sp.scenes)]:
        els.sort(key=lambda el: el.line)
    return sp


def _action(scene: ScreenplayScene | None, sp: Screenplay, line: _Line) -> None:
    """Consecutive action lines in a paragraph make one action element."""
    s = line.text.strip()
    if s.startswith("!"):
        s = s[1:].strip()
    s = re.sub(r"(?<=\S) {2,}(?=\S)", " ", strip_emphasis(s))  # where an inline note or boneyard was
    target = scene.elements if scene is not None else sp.preamble
    if (
        target
        and target[-1].type == ElementType.action
        and target[-1].line + target[-1].text.count("\n") + 1 == line.number
    ):
        target[-1].text += "\n" + s
    else:
        target.append(Element(type=ElementType.action, text=s, line=line.number))


def _dialogue(para: list[_Line]) -> Element:
    cue = para[0].s
    if cue.startswith("@"):
        cue = cue[1:]
    m = _CHARACTER.match(cue)
    name = (m.group("name") if m else cue).strip()
    ext = " ".join(re.findall(r"\(([^)]*)\)", m.group("ext"))) if m else ""
    dual = bool(m and m.group("dual"))
    # Each parenthetical inside the speech starts a new part that keeps it: (pause), (turning to her)…
    parts: list[tuple[str, list[str]]] = [("", [])]
    for line in para[1:]:
        s = line.s
        if s.startswith("(") and s.endswith(")"):
            note, words = parts[-1]
            if any(words):
                parts.append((s, []))
            else:  # two notes in a row belong to the same words
                parts[-1] = ((note + " " + s).strip(), words)
            continue
        parts[-1][1].append(strip_emphasis(s[1:].strip() if s.startswith("~") else s))
    (first_note, first_words), rest = parts[0], parts[1:]
    return Element(
        type=ElementType.dialogue,
        character=name,
        extension=ext.upper(),
        parenthetical=first_note,
        text=_speech(first_words),
        dual=dual,
        parts=[SpeechPart(parenthetical=note, text=_speech(words)) for note, words in rest],
        line=para[0].number,
    )


def _speech(words: list[str]) -> str:
    return "\n".join(w for w in words if w).strip()
