"""What the planner tells the language model: the role, the film's context and the task.

Context is built from the document only (style bible, cast, the scene's screenplay body),
so the same document always produces the same request.
"""

from __future__ import annotations

import json

from kaipai.backends.openai.replies import Outline
from kaipai.document.models import Document
from kaipai.document.scenes import Scene
from kaipai.document.shots import DialogueLine, Shot

_LANG = {"zh": "Simplified Chinese", "en": "English"}

WRITER = (
    "You are a screenwriter for short AI-generated films. You write visual, filmable scenes: concrete action a camera "
    "can see, short natural dialogue, few characters and locations. Keep the story self-contained."
)

DIRECTOR = (
    "You are a film director and cinematographer breaking a screenplay scene into a shot script (分镜头脚本). "
    "Use film grammar: establish the space, cover dialogue with singles, over-the-shoulders and reactions, "
    "keep the 180° line (characters keep their screen side), motivate camera moves. "
    "Shot sizes: ECU, CU, MCU, MS, MLS, LS, WS, EWS. "
    "For every shot write two different prompts: image_prompt describes ONE still frame (subject, framing, setting, "
    "light, lens, style; no motion words); "
    "video_prompt describes only what MOVES (action, performance, camera move, pace)."
)


def language_name(language: str) -> str:
    return _LANG.get(language, language)


def outline_request(idea: str, language: str, max_scenes: int) -> str:
    return (
        f"Write the outline of a short film from this idea:\n{idea.strip()}\n\n"
        f"Language of the film: {language_name(language)} (title, names, synopses). "
        f"Between 1 and {max_scenes} scenes. Each scene happens in one place at one time. "
        "List every speaking character once in characters, with age, look and wardrobe."
    )


def scene_request(outline: Outline, index: int, language: str) -> str:
    scene = outline.scenes[index]
    cast = "\n".join(f"- {c.name}: {c.description}" for c in outline.characters)
    others = "\n".join(
        f"{i + 1}. {s.int_ext} {s.location} ({s.time_of_day}): {s.synopsis}" for i, s in enumerate(outline.scenes)
    )
    return (
        f"Film: {outline.title}. {outline.logline}\nCharacters:\n{cast}\nAll scenes:\n{others}\n\n"
        f"Write scene {index + 1} in full ({scene.int_ext} {scene.location}, {scene.time_of_day}): {scene.synopsis}\n"
        f"Write in {language_name(language)}. "
        "Beats are action (what the camera sees), dialogue (a character from the list, "
        "or NARRATOR for voice-over) or caption (on-screen text). Keep each beat to one or two sentences."
    )


def _style(doc: Document) -> str:
    s = doc.style
    parts = [
        f"visual style: {s.visual_style}" if s.visual_style else "",
        f"lighting: {s.lighting}" if s.lighting else "",
        f"lens: {s.lens}" if s.lens else "",
    ]
    if s.palette:
        parts.append("palette: " + ", ".join(s.palette))
    return "; ".join(p for p in parts if p) or "(none yet: propose a consistent look)"


def film_context(doc: Document) -> str:
    cast = (
        "\n".join(f"- id {c.id}: {c.name}. {c.description} {c.wardrobe}".rstrip() for c in doc.cast.characters)
        or "- (no characters)"
    )
    places = "\n".join(f"- id {loc.id}: {loc.name}. {loc.description}".rstrip() for loc in doc.cast.locations)
    props = "\n".join(f"- id {p.id}: {p.name}" for p in doc.cast.props)
    w, h = doc.project.resolution
    return (
        f"Film: {doc.project.title} ({doc.project.aspect_ratio}, {w}x{h}, {doc.project.fps} fps).\n"
        f"Style bible: {_style(doc)}.\nCast (use these ids in composition):\n{cast}\n"
        + (f"Locations:\n{places}\n" if places else "")
        + (f"Props:\n{props}\n" if props else "")
    )


def scene_body(doc: Document, scene: Scene, lines: list[DialogueLine]) -> str:
    """The scene's screenplay with each dialogue line numbered, as the model must refer to it."""
    numbered = iter(enumerate(lines, start=1))
    out = []
    for el in scene.elements:
        kind = el.type
        text = el.text.strip()
        if kind == "dialogue":
            # one numbered line per voiced part of the speech (a parenthetical inside it starts a part)
            voiced = [t for t in (text, *(p.text.strip() for p in el.parts)) if t]
            for _ in voiced:
                n, line = next(numbered, (0, None))
                if line is None:
                    break
                who = doc.character(line.speaker)
                name = who.name if who is not None else line.speaker
                paren = f" ({line.parenthetical})" if line.parenthetical else ""
                out.append(f"[line {n}] {name} [{line.speaker}]{paren} {line.delivery.value}: {line.text}")
        elif text:
            out.append(f"{kind}: {text}")
    for n, line in numbered:  # lines the elements did not show (hand-edited scenes)
        out.append(f"[line {n}] {line.speaker}: {line.text}")
    return "\n".join(out)


def plan_request(doc: Document, scene: Scene, lines: list[DialogueLine], prompt_language: str) -> str:
    loc = next((x for x in doc.cast.locations if x.id == scene.location), None)
    place = f"{loc.name}. {loc.description}".strip() if loc else scene.heading
    return (
        film_context(doc)
        + f"\nScene {scene.id}: {scene.heading} ({scene.int_ext.value}, {scene.time_of_day.value}); place: {place}.\n"
        + (f"Synopsis: {scene.synopsis}\n" if scene.synopsis else "")
        + f"Screenplay of the scene:\n{scene_body(doc, scene, lines)}\n\n"
        "Break this scene into shots, in screen order. "
        f"The scene has {len(lines)} dialogue lines: put each line number in "
        "exactly one shot's lines, keeping their order; shots without dialogue have lines []. "
        f"Write description, action and lighting in {language_name(doc.project.language.value)}; "
        f"write image_prompt and video_prompt in {language_name(prompt_language)}. Durations in seconds."
    )


def revise_request(doc: Document, shot: Shot, note: str, prompt_language: str) -> str:
    scene = doc.scene(shot.scene)
    current = shot.model_dump(
        mode="json",
        include={
            "kind",
            "size",
            "angle",
            "move",
            "lens",
            "composition",
            "description",
            "action",
            "lighting",
            "image_prompt",
            "video_prompt",
            "sfx",
            "music",
            "caption",
            "transition",
            "duration",
        },
    )
    lines = "\n".join(f"- {d.speaker}: {d.text}" for d in shot.dialogue) or "- (none)"
    return film_context(doc) + (
        f"\nScene: {scene.heading if scene else shot.scene}.\n"
        f"Shot {shot.id} now:\n{json.dumps(current, ensure_ascii=False, indent=1)}\n"
        f"Its dialogue (fixed, do not change):\n{lines}\n\nThe director's note: {note.strip()}\n\n"
        "Rewrite the shot to follow the note. "
        "Change only what the note asks for and what must follow from it; keep the rest. "
        f"Write description, action and lighting in {language_name(doc.project.language.value)}, "
        f"image_prompt and video_prompt in {language_name(prompt_language)}. "
        "In summary, say in one sentence what changed."
    )
