"""Turning the model's structured screenplay into a script file kaipai reads back.

The model never writes screenplay syntax itself: it returns an outline and scene beats,
and this module sets them as Fountain (English) or the Chinese convention (中文剧本格式).
The result is parsed back with kaipai's own parser and compared with what was written,
so a script that would import wrongly is caught here, not after ``kaipai new``.
"""

from __future__ import annotations

import re

from kaipai.backends.openai.replies import Outline, SceneBody, ScriptBeat, ScriptScene

NARRATORS = {"narrator", "旁白"}
_ZH_TIME = {"day": "日", "night": "夜", "dawn": "晨", "dusk": "昏"}
_ZH_PLACE = {"INT": "内", "EXT": "外"}


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def outline_problems(outline: Outline, max_scenes: int) -> list[str]:
    problems = []
    if not outline.title.strip():
        problems.append("title: give the film a title")
    if not outline.scenes:
        problems.append("scenes: write at least one scene")
    if len(outline.scenes) > max_scenes:
        problems.append(f"scenes: {len(outline.scenes)} scenes, at most {max_scenes} for this film")
    names = {c.name.strip() for c in outline.characters}
    for i, scene in enumerate(outline.scenes):
        if not scene.location.strip():
            problems.append(f"scenes.{i}.location: name the place")
        for name in scene.characters:
            if name.strip() not in names:
                problems.append(f"scenes.{i}.characters: {name!r} is not in the characters list")
    return problems


def body_problems(body: SceneBody, outline: Outline) -> list[str]:
    problems = []
    names = {c.name.strip() for c in outline.characters}
    if not body.beats:
        problems.append("beats: write the scene (at least one beat)")
    for i, beat in enumerate(body.beats):
        if not beat.text.strip():
            problems.append(f"beats.{i}.text: empty")
        if beat.type == "dialogue":
            who = beat.character.strip()
            if who not in names and who.casefold() not in NARRATORS:
                problems.append(f"beats.{i}.character: {beat.character!r} is not in the characters list (or NARRATOR)")
    return problems


def render(outline: Outline, bodies: list[SceneBody], language: str) -> str:
    """The screenplay text; Fountain for English, the Chinese convention for Chinese."""
    return _render_zh(outline, bodies) if language == "zh" else _render_fountain(outline, bodies)


def _render_fountain(outline: Outline, bodies: list[SceneBody]) -> str:
    out = [f"Title: {_one_line(outline.title)}", "Credit: written with kaipai", "", ""]
    if outline.logline.strip():
        out += [f"/* {_one_line(outline.logline)} */", ""]
    for scene, body in zip(outline.scenes, bodies):
        tod = scene.time_of_day.upper()
        out += [f"{scene.int_ext}. {_one_line(scene.location).upper()} - {tod}", ""]
        for beat in body.beats:
            out += [*_fountain_beat(beat), ""]
    return "\n".join(out).rstrip() + "\n"


def _fountain_beat(beat: ScriptBeat) -> list[str]:
    text = _one_line(beat.text)
    if beat.type == "dialogue":
        name = _one_line(beat.character)
        cue = name.upper() if name.upper() != name.lower() and name.isascii() else f"@{name}"
        lines = [cue]
        if beat.parenthetical.strip():
            lines.append(f"({_one_line(beat.parenthetical).strip('()')})")
        return [*lines, text]
    if beat.type == "caption":
        return [f"SUPER: {text}"]
    return ["!" + text if text.isupper() else text]


def _render_zh(outline: Outline, bodies: list[SceneBody]) -> str:
    out = [f"剧名：《{_one_line(outline.title).strip('《》')}》", ""]
    if outline.logline.strip():
        out += [f"【备注：{_one_line(outline.logline)}】", ""]
    for n, (scene, body) in enumerate(zip(outline.scenes, bodies), start=1):
        out.append(f"1-{n} {_ZH_TIME[scene.time_of_day]} {_ZH_PLACE[scene.int_ext]} {_zh_place(scene)}")
        if scene.characters:
            out.append("人物：" + "、".join(_one_line(c) for c in scene.characters))
        out += [_zh_beat(beat) for beat in body.beats]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _zh_place(scene: ScriptScene) -> str:
    return re.sub(r"[\s、，,/|·。．.\-－—（）()\[\]【】：:]+", "", scene.location) or "某处"


def _zh_beat(beat: ScriptBeat) -> str:
    text = _one_line(beat.text)
    if beat.type == "dialogue":
        name = (
            "旁白" if beat.character.strip().casefold() in NARRATORS else re.sub(r"[\s：:（）()]", "", beat.character)
        )
        paren = _one_line(beat.parenthetical).strip("（）()")
        return f"{name}（{paren}）：{text}" if paren else f"{name}：{text}"
    if beat.type == "caption":
        return f"【字幕：{text}】"
    return f"△{text}"


def roundtrip_problems(text: str, outline: Outline, bodies: list[SceneBody], language: str) -> list[str]:
    """Parse the rendered script with kaipai's parser; report scenes or lines that would be lost."""
    from kaipai.screenplay import ScreenplayError, parse_text

    try:
        sp = parse_text(text, format="zh" if language == "zh" else "fountain")
    except ScreenplayError as exc:
        return [f"the script cannot be read back: {exc}"]
    problems = []
    if len(sp.scenes) != len(outline.scenes):
        problems.append(
            f"the script reads back as {len(sp.scenes)} scenes, not {len(outline.scenes)}; "
            "keep scene locations to plain place names"
        )
    written = sum(1 for b in bodies for beat in b.beats if beat.type == "dialogue")
    if sp.dialogue_count() != written:
        problems.append(
            f"the script reads back with {sp.dialogue_count()} dialogue lines, not {written}; "
            "keep speaker names short and plain"
        )
    return problems
