"""Continuity: the ledger of who wears and holds what in each scene, and the 180° check.

The ledger is what a script supervisor keeps: per scene, each character's wardrobe and what they
carry, and the screen direction they keep. The planner fills it from the screenplay (the character
descriptions and the action: "ELI (70s, oilskin coat)", "holding the lantern", "穿着红色外套") and
from its own shots (who stands on which side looking which way). The director edits it in
``kaipai.yaml``; a re-plan adds characters it lacks and never rewrites an entry that is there.
Wardrobe and props reach the keyframe prompts through :func:`continuity_clause`.

The 180° check walks each scene's cuts: a character who looked right now looks left, or two
characters who swap sides, means the camera crossed the line — unless the shot before moved the
camera around them (an orbit), which carries the audience across.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kaipai.document.models import Document
from kaipai.document.qc import Continuity
from kaipai.document.scenes import Scene
from kaipai.document.shots import CameraMove, Facing, ScreenThird, Shot
from kaipai.planning.names import has_cjk, name_index

_GARMENTS_EN = (
    r"coat|raincoat|overcoat|jacket|dress|gown|skirt|shirt|blouse|t-shirt|sweater|jumper|cardigan|hoodie|suit|"
    r"uniform|scarf|hat|cap|helmet|boots|jeans|trousers|pants|vest|robe|apron|oilskin|parka|cloak|tie|glasses"
)
_GARMENT = re.compile(rf"\b(?:{_GARMENTS_EN})s?\b", re.I)
_GARMENT_ZH = re.compile(r"衣|服|裙|裤|衫|袍|帽|靴|鞋|围巾|外套|大衣|雨衣|西装|制服|眼镜|夹克|毛衣|领带")
_HOLD_EN = re.compile(
    r"\b(?:holding|holds|carrying|carries|clutching|clutches|gripping|grips)\s+(?:(?:a|an|the|his|her|their)\s+)?"
    r"([\w' -]{2,40}?)(?=[,.;:!?)]|\s+(?:and|as|while|to|in|at|toward|towards)\b|$)",
    re.I,
)
_IN_HAND_EN = re.compile(r"((?:a|an|the)\s+[\w' -]{2,40}?)\s+in\s+(?:his|her|their)\s+hands?", re.I)
_HOLD_ZH = re.compile(r"(?:拿着|握着|抱着|提着|捧着|攥着|手里拿着|手持|手里)([^，。；、！？,.;]{1,12})")
_WEAR_EN = re.compile(r"\b(?:wearing|wears|dressed in|in an?)\s+([\w' -]{2,40}?)(?=[,.;:!?)]|$|\s+and\b)", re.I)
_WEAR_ZH = re.compile(r"(?:穿着|身穿|穿|戴着)([^，。；、！？,.;]{1,12})")
_TURNS = frozenset({CameraMove.orbit})
_SIDES = {ScreenThird.left: 0, ScreenThird.center: 1, ScreenThird.right: 2}


# --------------------------------------------------------------------------- the ledger


def garment_words(text: str) -> set[str]:
    """The garments a description names ('red wool coat' → {'coat'}), for comparing two descriptions."""
    words = (m.lower() for m in _GARMENT.findall(text))
    found = {w[:-1] if w.endswith("s") and not w.endswith("ss") else w for w in words}
    return found | set(_GARMENT_ZH.findall(text))


def _phrases(text: str) -> list[str]:
    return [p.strip(" .") for p in re.split(r"[,，;；、]", text) if p.strip(" .")]


def _looks(description: str) -> tuple[list[str], list[str]]:
    """Wardrobe and things held, from a description such as '30s, raincoat, a sealed envelope in her hand'."""
    wear: list[str] = []
    hold: list[str] = []
    for phrase in _phrases(description):
        held = _IN_HAND_EN.search(phrase) or _HOLD_EN.search(phrase) or _HOLD_ZH.search(phrase)
        if held:
            hold.append(held.group(1).strip())
        elif _GARMENT.search(phrase) or _GARMENT_ZH.search(phrase):
            wear.append(re.sub(r"^(?:wearing|wears|in an?|穿着|身穿)\s*", "", phrase, flags=re.I))
    return wear, hold


def _thing(held: str) -> str:
    """'A sealed envelope' → 'sealed envelope'."""
    return held if has_cjk(held) else re.sub(r"^(?:a|an|the|his|her|their)\s+", "", held.strip(), flags=re.I).lower()


def _scene_text(scene: Scene) -> list[str]:
    return [e.text for e in scene.elements if e.type in ("action", "centered") and e.text]


def _about(text: str, name_forms: list[str]) -> list[str]:
    """The sentences of ``text`` that name the character."""
    sentences = re.split(r"(?<=[.!?。！？])\s*", text)
    return [s for s in sentences if any(f and f in s for f in name_forms)]


def ledger_for(doc: Document, scene: Scene, shots: list[Shot]) -> list[Continuity]:
    """A fresh ledger for one scene, from the cast, the scene's action and its planned shots."""
    index = name_index(tuple((c.id, c.name, tuple(c.aliases)) for c in doc.cast.characters))
    present: dict[str, None] = dict.fromkeys(scene.characters)
    for shot in shots:
        present.update(dict.fromkeys(p.character for p in shot.composition))
    out = []
    for cid in present:
        character = doc.character(cid)
        if character is None:
            continue
        wear, _ = _looks(character.wardrobe or "")
        wear = wear or _looks(character.description)[0]  # clothes last the film; what is held is per scene
        hold: list[str] = []
        forms = [character.name, *character.aliases]
        forms += [f.upper() for f in forms if not has_cjk(f)] + [f.capitalize() for f in forms if not has_cjk(f)]
        for text in _scene_text(scene):
            if cid not in index.mentioned(text):
                continue
            for sentence in _about(text, forms):
                for m in (*_HOLD_EN.finditer(sentence), *_IN_HAND_EN.finditer(sentence)):
                    hold.append(m.group(1).strip())
                for m in _HOLD_ZH.finditer(sentence):
                    hold.append(m.group(1).strip())
                for m in (*_WEAR_EN.finditer(sentence), *_WEAR_ZH.finditer(sentence)):
                    if _GARMENT.search(m.group(1)) or _GARMENT_ZH.search(m.group(1)):
                        wear.append(m.group(1).strip())
        side, facing = _direction(cid, shots)
        out.append(
            Continuity(
                character=cid,
                wardrobe=", ".join(dict.fromkeys(w for w in wear if w)),
                holds=list(dict.fromkeys(_thing(h) for h in hold if _thing(h))),
                side=side,
                facing=facing,
            )
        )
    return out


def _direction(cid: str, shots: list[Shot]) -> tuple[ScreenThird | None, Facing | None]:
    """The side and look of the character's first shot that gives them one (the scene's line)."""
    for shot in shots:
        for p in shot.composition:
            if p.character == cid and p.facing in (Facing.left, Facing.right):
                side = p.third if p.third != ScreenThird.center else None
                return side, p.facing
    return None, None


def fill_ledgers(doc: Document) -> None:
    """Give every scene a ledger entry for each character in it; entries already there are kept as written."""
    by_scene: dict[str, list[Shot]] = {}
    for shot in doc.ordered_shots():
        by_scene.setdefault(shot.scene, []).append(shot)
    scenes = []
    for scene in doc.scenes:
        have = {e.character for e in scene.continuity}
        fresh = [e for e in ledger_for(doc, scene, by_scene.get(scene.id, [])) if e.character not in have]
        scenes.append(scene.model_copy(update={"continuity": [*scene.continuity, *fresh]}) if fresh else scene)
    doc.scenes = scenes


def continuity_clause(doc: Document, shot: Shot) -> str:
    """What the framed characters wear and hold in this scene, for the keyframe prompt (what the prompt
    does not already say)."""
    scene = doc.scene(shot.scene)
    if scene is None or not scene.continuity:
        return ""
    written = " ".join([shot.image_prompt, shot.description]).casefold()
    ledger = {e.character: e for e in scene.continuity}
    zh = doc.project.language.value == "zh"
    parts = []
    for p in shot.composition:
        entry, character = ledger.get(p.character), doc.character(p.character)
        if entry is None or character is None:
            continue
        bits = []
        if entry.wardrobe and entry.wardrobe.casefold() not in written:
            bits.append(("穿" if zh else "wears ") + entry.wardrobe)
        held = [h for h in entry.holds if h.casefold() not in written]
        if held:
            bits.append(("拿着" if zh else "holds ") + ("、" if zh else ", ").join(held))
        if bits:
            parts.append(character.name + ("" if zh else " ") + ("，" if zh else ", ").join(bits))
    return ("；" if zh else "; ").join(parts)


# --------------------------------------------------------------------------- the 180° line


@dataclass(frozen=True)
class Crossing:
    """A cut that crosses the line: from ``previous`` to ``shot``, and why."""

    scene: str
    previous: str
    shot: str
    reason: str


def line_crossings(doc: Document, scenes: set[str] | None = None) -> list[Crossing]:
    """Every cut inside a scene (of ``scenes``, when given) where the camera jumps the 180° line."""
    names = {c.id: c.name for c in doc.cast.characters}
    out: list[Crossing] = []
    by_scene: dict[str, list[Shot]] = {}
    for shot in doc.ordered_shots():
        if scenes is None or shot.scene in scenes:
            by_scene.setdefault(shot.scene, []).append(shot)
    for scene in doc.scenes:
        if scenes is not None and scene.id not in scenes:
            continue
        looks: dict[str, Facing] = {}
        sides: dict[str, ScreenThird] = {}
        for e in scene.continuity:  # the ledger's words, as the document's enums
            if e.facing in ("left", "right"):
                looks[e.character] = Facing(e.facing)
            if e.side in ("left", "right"):
                sides[e.character] = ScreenThird(e.side)
        previous: Shot | None = None
        for shot in by_scene.get(scene.id, []):
            if previous is not None and previous.move in _TURNS:
                looks, sides = {}, {}  # the camera went round them: this shot sets the line afresh
            reasons = _crossed(shot, looks, sides, names)
            if reasons and previous is not None:
                out.append(Crossing(scene.id, previous.id, shot.id, "; ".join(reasons)))
            for p in shot.composition:
                if p.facing in (Facing.left, Facing.right):
                    looks.setdefault(p.character, p.facing)
                if p.third in (ScreenThird.left, ScreenThird.right) and len(shot.composition) > 1:
                    sides.setdefault(p.character, p.third)
            previous = shot
    return out


def _crossed(shot: Shot, looks: dict[str, Facing], sides: dict[str, ScreenThird], names: dict[str, str]) -> list[str]:
    reasons = []
    for p in shot.composition:
        was = looks.get(p.character)
        if was is not None and p.facing in (Facing.left, Facing.right) and p.facing != was:
            who = names.get(p.character, p.character)
            reasons.append(f"{who} looks {p.facing.value}, {was.value} before")
    placed = [p for p in shot.composition if p.character in sides]
    for i, a in enumerate(placed):
        for b in placed[i + 1 :]:
            planned = _SIDES[sides[a.character]] - _SIDES[sides[b.character]]
            now = _SIDES[a.third] - _SIDES[b.third]
            if planned and now and (planned > 0) != (now > 0):
                left, right = (a, b) if now < 0 else (b, a)
                reasons.append(
                    f"{names.get(left.character, left.character)} is left of "
                    f"{names.get(right.character, right.character)} here, right of them before"
                )
    return reasons
