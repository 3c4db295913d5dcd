"""What a validation error says, in the document's own words.

pydantic describes a bad value in its own terms ("Input should be a valid dictionary or
instance of Placement", "Value error, …"); a director reads ``kaipai.yaml``. Each message here
says what the field expects and gives an example written as it would be in the file.
"""

from __future__ import annotations

import re
from typing import Any

#: An example of each model, written as it would appear in kaipai.yaml.
MODEL_EXAMPLES = {
    "Project": "{title: My Film, language: en}",
    "Style": "{visual_style: cinematic realism, lighting: low-key}",
    "Voice": "{voice: en-us, pitch: 50}",
    "Character": "{id: maya, name: Maya}",
    "Location": "{id: pier, name: Harbour Pier}",
    "Prop": "{id: letter, name: the letter}",
    "Cast": "{characters: [{id: maya, name: Maya}]}",
    "Scene": "{id: S01, heading: INT. KITCHEN - NIGHT}",
    "Placement": "{character: maya, third: left, facing: right}",
    "DialogueLine": "{id: S01-L1, speaker: maya, text: Hello.}",
    "SpeechPart": "{parenthetical: (pause), text: He was alone.}",
    "BackendChoice": "{use: previz}",
    "Generation": "{seed: 42}",
    "Shot": "{id: S01-001, scene: S01, size: MS}",
    "Document": "{project: {title: My Film}}",
}
#: Examples of fields whose name says what they hold.
FIELD_EXAMPLES = {
    "fps": "24",
    "resolution": "[1280, 720]",
    "aspect_ratio": "16:9",
    "target_length": "90",
    "duration": "3.5",
    "transition_duration": "0.5",
    "offset": "1.2",
    "order": "10",
    "seed": "42",
    "pitch": "50",
    "rate": "175",
    "line": "12",
    "depth": "2",
    "version": "2",
    "color": "'#C8A165'",
    "palette": "['#1B2A41', '#C8A165']",
    "id": "S01-002",
    "title": "My Film",
    "heading": "INT. KITCHEN - NIGHT",
    "character": "maya",
    "speaker": "maya",
    "scene": "S01",
    "use": "previz",
}
#: Ids by the list they name: a character's id reads like a name, a shot's like S01-002.
_ID_EXAMPLES = {
    "characters": "maya",
    "locations": "pier",
    "props": "letter",
    "scenes": "S01",
    "shots": "S01-002",
    "dialogue": "S01-L1",
}
_PATTERNS = {
    r"^[\w\-]+$": "letters, digits, _ and - only (no spaces)",
    r"^#[0-9A-Fa-f]{6}$": "a colour written #RRGGBB",
}
_KINDS = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "string": "text",
    "list": "a list",
    "tuple": "a list",
    "dict": "a mapping",
}


def plain_message(err: Any) -> str:
    """The message for one pydantic error (``ValidationError.errors()`` item), without the value."""
    kind: str = err["type"]
    ctx: dict[str, Any] = err.get("ctx") or {}
    loc = err.get("loc") or ()
    name = next((str(p) for p in reversed(loc) if isinstance(p, str)), "")
    example = FIELD_EXAMPLES.get(name, "")
    if name == "id":
        example = next((_ID_EXAMPLES[p] for p in reversed(loc) if p in _ID_EXAMPLES), example)
    if kind == "value_error":
        return re.sub(r"^Value error,\s*", "", err["msg"])
    if kind == "assertion_error":
        return re.sub(r"^Assertion failed,\s*", "", err["msg"])
    if kind in ("model_type", "model_attributes_type", "dataclass_type"):
        model = str(ctx.get("class_name", ""))
        shown = MODEL_EXAMPLES.get(model)
        return f"expected a mapping of fields here, e.g. {shown}" if shown else "expected a mapping of fields here"
    if kind in ("enum", "literal_error"):
        return f"expected one of {_choices(str(ctx.get('expected', '')))}"
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        what = _PATTERNS.get(pattern, f"text of the form {pattern}")
        return _with_example(f"expected {what}", example or _pattern_example(pattern))
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bounds = {
            "greater_than_equal": ("of at least", "ge"),
            "greater_than": ("greater than", "gt"),
            "less_than_equal": ("of at most", "le"),
            "less_than": ("less than", "lt"),
        }
        words, key = bounds[kind]
        return _with_example(f"expected a number {words} {_number(ctx.get(key))}", example)
    if kind in ("string_too_short", "too_short") and ctx.get("min_length") == 1:
        return _with_example("expected something here; it may not be empty", example)
    if kind in ("string_too_short", "string_too_long", "too_short", "too_long"):
        low, high = ctx.get("min_length"), ctx.get("max_length")
        count = f"at least {low}" if low is not None and "short" in kind else f"at most {high}"
        unit = "characters" if kind.startswith("string") else "items"
        return _with_example(f"expected {count} {unit}", example)
    if kind == "missing":
        return _with_example("this field is required", example)
    for prefix, what in _KINDS.items():
        if kind.startswith(prefix):
            return _with_example(f"expected {what}", example or _kind_example(prefix))
    return _with_example(err["msg"][:1].lower() + err["msg"][1:], example)


def _with_example(message: str, example: str) -> str:
    return f"{message}, e.g. {example}" if example else message


def _choices(expected: str) -> str:
    """``'ECU', 'CU' or 'MS'`` → ``ECU, CU, MS``."""
    return ", ".join(w.strip().strip("'\"") for w in re.split(r",| or ", expected) if w.strip())


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def _kind_example(kind: str) -> str:
    return {"int": "2", "float": "2.5", "bool": "true", "list": "[a, b]", "tuple": "[a, b]"}.get(kind, "")


def _pattern_example(pattern: str) -> str:
    return {r"^[\w\-]+$": "S01-002", r"^#[0-9A-Fa-f]{6}$": "'#C8A165'"}.get(pattern, "")
