"""Screenplay import: Fountain and the Chinese screenplay convention, detected automatically.

Every parser produces the same :class:`~kaipai.screenplay.model.Screenplay`; the only error any of
them raises is :class:`~kaipai.screenplay.model.ScreenplayError`, which names the file and line.
"""

from __future__ import annotations

from pathlib import Path

from kaipai.screenplay.detect import detect_format
from kaipai.screenplay.fountain import parse_fountain
from kaipai.screenplay.model import Element, ElementType, Screenplay, ScreenplayError, ScreenplayScene
from kaipai.screenplay.source import check_plain_text, decode_screenplay
from kaipai.screenplay.zh import parse_zh

__all__ = [
    "Element",
    "ElementType",
    "Screenplay",
    "ScreenplayError",
    "ScreenplayScene",
    "detect_format",
    "parse_file",
    "parse_text",
]


def parse_text(text: str, *, filename: str = "", format: str | None = None) -> Screenplay:
    """Parse screenplay text; ``format`` is ``fountain`` or ``zh``, detected when not given."""
    check_plain_text(text, filename)
    if not text.strip():
        raise ScreenplayError("the screenplay is empty; write at least one scene", file=filename)
    fmt = format or detect_format(text, filename)
    if fmt not in ("fountain", "zh"):
        raise ScreenplayError(f"unknown screenplay format {fmt!r}; use fountain or zh", file=filename)
    sp = parse_zh(text) if fmt == "zh" else parse_fountain(text)
    if not sp.scenes and not any(el.text.strip() or el.character for el in sp.preamble):
        raise ScreenplayError("nothing in the screenplay could be read as a scene, action or dialogue", file=filename)
    return sp


def parse_file(path: Path | str, *, format: str | None = None) -> Screenplay:
    """Read a screenplay file (UTF-8, with or without BOM, or GB18030) and parse it."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ScreenplayError("no such file; check the path", file=str(path)) from None
    except IsADirectoryError:
        raise ScreenplayError("this is a folder, not a screenplay file", file=str(path)) from None
    except OSError as exc:
        raise ScreenplayError(f"cannot read the file ({exc.strerror})", file=str(path)) from None
    return parse_text(decode_screenplay(data, str(path)), filename=str(path), format=format)
