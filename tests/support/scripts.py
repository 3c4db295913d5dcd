"""Small screenplays for the planning tests, built as the parsers would build them, and checks on plans."""

from __future__ import annotations

from collections import Counter, defaultdict

from kaipai.document.models import Document
from kaipai.screenplay.model import Element, ElementType, Screenplay, ScreenplayScene

E = Element


def zh_screenplay() -> Screenplay:
    """Two scenes in the Chinese convention: a night kitchen, then a cemetery by day."""
    return Screenplay(
        format="zh",
        title_page={"title": "最后一张生日卡"},
        scenes=[
            ScreenplayScene(
                heading="1-1 夜 内 厨房",
                int_ext="INT",
                time_of_day="night",
                location="厨房",
                characters=["林晓（女，25岁）", "父亲"],
                elements=[
                    E(type=ElementType.cutaway, text="窗外的雨夜，路灯昏黄", line=3),
                    E(
                        type=ElementType.action,
                        text="林晓推门进来，父亲坐在桌边。林晓拿出一张生日卡，放在桌上。门外传来敲门声。",
                        line=4,
                    ),
                    E(
                        type=ElementType.dialogue,
                        character="林晓",
                        text="爸，你还没睡？",
                        parenthetical="（低声）",
                        line=5,
                    ),
                    E(type=ElementType.dialogue, character="父亲", text="睡不着。今天是你妈的生日。", line=6),
                    E(
                        type=ElementType.dialogue,
                        character="林晓",
                        text="我知道！我一直都记得！",
                        parenthetical="哽咽",
                        line=7,
                    ),
                    E(type=ElementType.action, text="父亲沉默，看着窗外。", line=8),
                    E(type=ElementType.dialogue, character="父亲", text="她走的那天，也在下雨。", line=9),
                    E(type=ElementType.dialogue, character="旁白", text="那一年，我二十五岁。", line=10),
                    E(type=ElementType.caption, text="三年后", line=11),
                    E(type=ElementType.transition, text="叠化", line=12),
                ],
            ),
            ScreenplayScene(
                heading="1-2 日 外 墓地",
                int_ext="EXT",
                time_of_day="day",
                location="墓地",
                elements=[
                    E(type=ElementType.action, text="林晓和父亲站在墓前。", line=15),
                    E(type=ElementType.dialogue, character="林晓", text="妈，生日快乐。", line=16),
                    E(type=ElementType.dialogue, character="父亲", extension="OS", text="走吧，要下雨了。", line=17),
                ],
            ),
        ],
    )


def en_screenplay() -> Screenplay:
    """Three Fountain-style scenes: a new location, the same location continued, a third place."""
    return Screenplay(
        format="fountain",
        title_page={"title": "_**The Card**_", "author": "Test"},
        scenes=[
            ScreenplayScene(
                heading="INT. KITCHEN - NIGHT",
                int_ext="INT",
                time_of_day="night",
                location="KITCHEN",
                elements=[
                    E(
                        type=ElementType.action,
                        text="MARY sits alone. She opens a BIRTHDAY CARD and reads it twice.",
                        line=3,
                    ),
                    E(type=ElementType.dialogue, character="MARY", text="He remembered.", line=5),
                    E(type=ElementType.action, text="JOHN enters, shaking off the rain.", line=7),
                    E(type=ElementType.dialogue, character="JOHN", text="Who is it from?", line=9),
                    E(
                        type=ElementType.dialogue,
                        character="MARY",
                        text="You know exactly who it is from!",
                        parenthetical="(angry)",
                        line=11,
                    ),
                    E(type=ElementType.dialogue, character="JOHN", text="I told you not to open his letters.", line=14),
                    E(type=ElementType.dialogue, character="MARY (CONT'D)", text="And I told you I would.", line=17),
                    E(
                        type=ElementType.dialogue,
                        character="NARRATOR",
                        extension="V.O.",
                        text="That was the last card he ever sent.",
                        line=19,
                    ),
                    E(type=ElementType.transition, text="DISSOLVE TO:", line=21),
                ],
            ),
            ScreenplayScene(
                heading="INT. KITCHEN - LATER",
                int_ext="INT",
                time_of_day="unspecified",
                location="KITCHEN",
                elements=[
                    E(
                        type=ElementType.dialogue,
                        character="JOHN",
                        extension="O.S.",
                        text="Mary? Are you still up?",
                        line=24,
                    ),
                    E(
                        type=ElementType.dialogue,
                        character="MARY",
                        text="Go to bed, John.",
                        parenthetical="(quietly)",
                        line=26,
                    ),
                ],
            ),
            ScreenplayScene(
                heading="EXT. HARBOUR - DAWN",
                int_ext="EXT",
                time_of_day="dawn",
                location="HARBOUR",
                elements=[
                    E(
                        type=ElementType.action,
                        text="Mary walks along the pier and drops the card into the water.",
                        line=30,
                    ),
                    E(
                        type=ElementType.dialogue,
                        character="MARY",
                        extension="V.O.",
                        text="Some things you keep by letting them go.",
                        line=32,
                    ),
                ],
            ),
        ],
    )


def screenplay_lines(doc: Document) -> list[str]:
    """Ids the planner must give every voiced part of every speech of every scene: ``<scene>-L<n>`` for a
    speech, ``<scene>-L<n>-<k>`` for its k-th part after a parenthetical inside it."""
    ids = []
    for scene in doc.scenes:
        n = 0
        for el in scene.elements:
            if el.type != "dialogue" or not el.character.strip():
                continue
            voiced = [t for t in (el.text, *(p.text for p in el.parts)) if t.strip()]
            if voiced:
                n += 1
                ids.extend(f"{scene.id}-L{n}" + (f"-{k + 1}" if k else "") for k in range(len(voiced)))
    return ids


def line_owners(doc: Document) -> Counter[str]:
    return Counter(d.id for s in doc.shots for d in s.dialogue)


def side_violations(doc: Document) -> list[str]:
    """Characters seen on more than one screen third within one scene (the 180° line crossed)."""
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    for shot in doc.shots:
        for p in shot.composition:
            seen[(shot.scene, p.character)].add(p.third.value)
    return [f"{scene}/{cid}: {sorted(v)}" for (scene, cid), v in seen.items() if len(v) > 1]


def speakers_by_scene(doc: Document) -> dict[str, list[str]]:
    """On-screen speakers of each scene in order of their first line."""
    out: dict[str, list[str]] = defaultdict(list)
    for shot in doc.ordered_shots():
        for d in shot.dialogue:
            if d.delivery.value == "on" and d.speaker not in out[shot.scene]:
                out[shot.scene].append(d.speaker)
    return out
