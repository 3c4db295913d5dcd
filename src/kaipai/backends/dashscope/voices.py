"""A default CosyVoice voice for each character: one that suits them, and not anyone else's.

A voice belongs to one model (a v2 voice on v3 is "Engine return error code: 418"), so the system
voices are listed per model in the catalog, grouped by who they suit. What the document says of a
character — 女/男, an age in 岁 or years, child, old — picks the group; the character's id picks a
voice in it (stable: the same character keeps its voice), and characters earlier in the cast keep
theirs, so two characters never share a voice while the group has one to spare.
"""

from __future__ import annotations

import hashlib
import re

from kaipai.backends.base import NotConfigured
from kaipai.backends.remote.sheets import catalog_section
from kaipai.document.cast import Character

FEMALE = ("女", "妈", "母", "姐", "妹", "奶奶", "婆", "她", "姑", "嫂", "妻", "娘")
MALE = ("男", "爸", "父", "哥", "弟", "爷", "叔", "他", "伯", "舅", "夫")
FEMALE_EN = ("woman", "girl", "mother", "mom", "she", "her", "lady", "wife", "daughter", "sister", "aunt", "grandma")
MALE_EN = ("man", "boy", "father", "dad", "he", "his", "husband", "son", "brother", "uncle", "grandpa", "gentleman")
CHILD = ("孩子", "小孩", "儿童", "男孩", "女孩", "童")
CHILD_EN = {"child", "kid", "boy", "girl"}
OLD = ("老", "年迈", "爷爷", "奶奶")
OLD_EN = {"elderly", "old", "grandma", "grandpa"}


def _age(text: str) -> int | None:
    found = re.search(r"(\d{1,3})\s*(?:岁|歲|-year-old|years? old|yo\b)", text) or re.search(
        r"\baged?\s+(\d{1,3})", text
    )
    return int(found.group(1)) if found else None


def kind_of(character: Character | None) -> str:
    """female, male, older_female, older_male, girl, boy or narrator — as far as the document says."""
    if character is None:
        return "narrator"
    text = " ".join([character.description, character.name, *character.aliases, character.wardrobe])
    words = set(re.findall(r"[a-z]+", text.lower()))
    female = sum(text.count(w) for w in FEMALE) + len(words & set(FEMALE_EN))
    male = sum(text.count(w) for w in MALE) + len(words & set(MALE_EN))
    age = _age(text)
    if age is not None:
        child, old = age < 13, age >= 55
    else:
        child = any(w in text for w in CHILD) or bool(words & CHILD_EN)
        old = any(w in text for w in OLD) or bool(words & OLD_EN)
    is_female = female > male
    if child:
        return "girl" if is_female else "boy"
    if old:
        return "older_female" if is_female else "older_male"
    if female == male:
        return "female" if _stable(character.id, 2) else "male"
    return "female" if is_female else "male"


def _stable(cid: str, n: int) -> int:
    return int(hashlib.sha256(cid.encode()).hexdigest(), 16) % n


def default_voice(model: str, character: Character | None, cast: list[Character]) -> str:
    """The system voice ``character`` speaks with on ``model`` when the document names none."""
    table = catalog_section("dashscope", "voices").get(model)
    if table is None:
        raise NotConfigured(f"kaipai knows no system voices of {model}; name one under the character's voice.voice")
    if not any(table.values()):
        raise NotConfigured(
            f"{model} has no system voices: give the character a voice.sample to clone, "
            "or a cloned voice id under voice.voice"
        )
    everyone = [v for group in table.values() for v in group]
    taken: set[str] = set()
    place = next((i for i, c in enumerate(cast) if character is not None and c.id == character.id), len(cast))
    for earlier in cast[:place]:  # characters before this one keep their voices
        taken.add(earlier.voice.voice or _pick(table, everyone, earlier, taken))
    return _pick(table, everyone, character, taken)


def _pick(table: dict[str, list[str]], everyone: list[str], character: Character | None, taken: set[str]) -> str:
    kind = kind_of(character)
    group = list(table.get(kind) or []) or list(table.get(kind.removeprefix("older_")) or []) or everyone
    cid = character.id if character is not None else "narrator"
    start = _stable(cid, len(group))
    for step in range(len(group)):
        voice = group[(start + step) % len(group)]
        if voice not in taken:
            return voice
    free = [v for v in everyone if v not in taken]  # the group is used up: any voice nobody has
    return free[_stable(cid, len(free))] if free else group[start]
