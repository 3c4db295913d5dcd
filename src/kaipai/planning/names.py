"""Names in a screenplay → stable ids: one person however the script spells them.

Screenplays write the same character as ``MARY``, ``MARY (CONT'D)`` or ``Mary``;
Chinese scripts as ``林晓`` or ``林晓（画外音）``. Everything that maps a name to a cast
id goes through :func:`name_key`, so the importer and the planner agree.
"""

from __future__ import annotations

import colorsys
import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

_PARENS = re.compile(r"\s*[\(（\[【][^\)）\]】]*[\)）\]】]\s*")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z0-9]+(?:['’\-][A-Za-z0-9]+)*")

#: Speaker names that mean "the narrator", who is heard but never cast.
NARRATOR_NAMES = frozenset({"narrator", "the narrator", "narration", "旁白", "解说", "画外旁白"})
NARRATOR_ID = "narrator"

#: Distinct previz colours, chosen to stay apart from each other on a grey storyboard.
PREVIZ_COLOURS = [
    "#E4572E", "#2E86DE", "#76B041", "#F4B400", "#8E44AD", "#17BEBB",
    "#D81B60", "#8D6E63", "#FF8A3D", "#3949AB", "#C0CA33", "#00897B",
]  # fmt: skip


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def cjk_count(text: str) -> int:
    return len(_CJK.findall(text))


def latin_words(text: str) -> list[str]:
    return _LATIN_WORD.findall(text)


def detect_language(texts: Iterable[str]) -> str:
    """``zh`` when Chinese characters outnumber Latin words, else ``en``."""
    cjk = words = 0
    for t in texts:
        cjk += cjk_count(t)
        words += len(latin_words(t))
    return "zh" if cjk > words else "en"


@lru_cache(maxsize=8192)
def normalize_name(raw: str) -> str:
    """The name without Fountain markers (``@``, ``^``), extensions in brackets or a trailing colon."""
    name = unicodedata.normalize("NFKC", raw).strip()
    name = name.lstrip("@").rstrip("^").strip()
    name = _PARENS.sub(" ", name)
    name = re.sub(r"\s+", " ", name).strip().rstrip(":：").strip()
    return name


def parenthesised(raw: str) -> list[str]:
    """Texts in brackets inside a name, e.g. ``林晓（女，25岁）`` → ``['女，25岁']``."""
    return [m.strip() for m in re.findall(r"[\(（]([^\)）]*)[\)）]", raw) if m.strip()]


def name_key(raw: str) -> str:
    return normalize_name(raw).casefold()


def is_narrator(raw: str) -> bool:
    return name_key(raw) in NARRATOR_NAMES


def display_name(raw: str) -> str:
    """How the cast lists a name: ``MR. O'BRIEN`` → ``Mr. O'Brien``; other scripts as written."""
    name = normalize_name(raw)
    if name.isascii() and name.upper() == name and any(c.isalpha() for c in name):
        return _capitalised(name)
    return name


def slugify(name: str) -> str:
    """An id matching ``^[\\w\\-]+$``: lower-case words joined by ``-``; Chinese stays Chinese."""
    s = unicodedata.normalize("NFKC", name).casefold()
    s = re.sub(r"['’`]", "", s)
    # Only what every regex engine calls a word character (letters, marks, digits, _): a document
    # checker reading ids with the schema's pattern must accept them too.
    s = "".join(
        c if c in "_-" or unicodedata.category(c)[0] in "LM" or unicodedata.category(c) == "Nd" else "-" for c in s
    )
    s = re.sub(r"-+", "-", s).strip("-_")
    return re.sub(r"-{2,}", "-", s) or "x"


def unique_id(base: str, taken: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3``… when taken; records the result in ``taken``."""
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    taken.add(candidate)
    return candidate


def previz_colour(index: int, taken: Iterable[str] = ()) -> str:
    """The ``index``-th distinct colour; past the fixed palette, golden-ratio hues."""
    used = {c.upper() for c in taken}
    for c in PREVIZ_COLOURS[index:] + PREVIZ_COLOURS[:index]:
        if c.upper() not in used:
            return c
    k = index
    while True:
        h = (k * 0.618033988749895) % 1.0
        v = 0.95 - 0.25 * ((k // 7) % 3)
        r, g, b = colorsys.hsv_to_rgb(h, 0.75, v)
        c = f"#{round(r * 255):02X}{round(g * 255):02X}{round(b * 255):02X}"
        if c not in used:
            return c
        k += 1


class NameIndex:
    """Resolves names as written (cue, alias, id) to cast ids, and finds cast members named in text."""

    def __init__(self, people: Sequence[tuple[str, str, Sequence[str]]]) -> None:
        """``people``: (id, name, aliases) of each character."""
        self._by_key: dict[str, str] = {}
        self._by_form: dict[str, str] = {}
        for cid, name, aliases in people:
            for form in (name, *aliases, cid):
                key = name_key(form)
                if key:
                    self._by_key.setdefault(key, cid)
        for cid, name, aliases in people:
            for form in (name, *aliases):
                form = normalize_name(form)
                if not form:
                    continue
                # as written, capitalised or in capitals: "will" the verb is not WILL the man
                variants = {form} if has_cjk(form) else {form, form.upper(), _capitalised(form)}
                for v in variants:
                    self._by_form.setdefault(v, cid)
        forms = sorted(self._by_form, key=len, reverse=True)
        cjk = [re.escape(f) for f in forms if has_cjk(f)]
        latin = [re.escape(f) for f in forms if not has_cjk(f)]
        alts = ([rf"(?<!\w)(?:{'|'.join(latin)})(?!\w)"] if latin else []) + (["|".join(cjk)] if cjk else [])
        self._pattern = re.compile("|".join(alts)) if alts else None

    def resolve(self, raw: str) -> str | None:
        return self._by_key.get(name_key(raw))

    def mentioned(self, text: str) -> list[str]:
        """Ids of the characters the text names, in order of first mention."""
        if self._pattern is None:
            return []
        found: dict[str, None] = {}
        for m in self._pattern.finditer(text):
            found.setdefault(self._by_form[m.group(0)], None)
        return list(found)


@lru_cache(maxsize=64)
def name_index(people: tuple[tuple[str, str, tuple[str, ...]], ...]) -> NameIndex:
    """A shared index for a cast (planning a film asks for the same one in every scene)."""
    return NameIndex(people)


def _capitalised(name: str) -> str:
    """``MR. O'BRIEN'S DOG`` → ``Mr. O'Brien's Dog``: words capitalised, a possessive 's kept small."""

    def word(m: re.Match[str]) -> str:
        head, _, tail = m.group(0).partition("'")
        if not _:
            return head.capitalize()
        return head.capitalize() + "'" + (tail.lower() if len(tail) <= 1 else tail.capitalize())

    return re.sub(r"[A-Za-z]+(?:'[A-Za-z]+)?", word, name)
