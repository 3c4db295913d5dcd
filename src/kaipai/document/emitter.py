"""Write blocks of ``kaipai.yaml`` quickly, byte for byte as ruamel writes them.

Saving a document rewrites only the blocks that changed (see :mod:`kaipai.document.splice`).
A block with the director's comments or hand formatting goes through ruamel's round trip; a
block kaipai wrote itself (and a new one) is written here, in pure Python but without
ruamel's event pipeline, following the same rules for kaipai's settings (width 100, mappings
indented by 2, sequence dashes by 2 inside their parent): plain, single- or double-quoted
scalars folded where ruamel folds them, ``|`` blocks for text with line breaks. For anything
outside those rules (control characters, a list inside a list, a key that is not a simple
name, infinities) it declines by returning None and the caller asks ruamel. Tests hold this
module to ruamel's output; callers also read what it wrote back before using it.
"""

from __future__ import annotations

import math
import re
from typing import Any

from kaipai.document.yaml12 import STR, plain_tag

WIDTH = 100
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_TOKENS = re.compile(r" +|[^ ]+")
_QUOTED_TOKENS = re.compile(r" +|'|[^ ']+")
#: characters ruamel does not write as they are (allow_unicode): controls, surrogates, BOM and non-characters
_ODD = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff]")
_ODD_IN_BLOCK = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff]")
_FIRST_INDICATOR = set("#,[]{}&*!|>'\"%@`")


class _Decline(Exception):
    pass


class _Writer:
    def __init__(self, column: int = 0) -> None:
        self.parts: list[str] = []
        self.col = column
        self.fresh = False  # at the start of a line that a block scalar's last break opened
        self.folded = False  # a scalar went into double quotes (escapes, folds) or a | block: read it back

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.col += len(text)

    def newline(self, indent: int) -> None:
        self.parts.append((" " * indent) if self.fresh else "\n" + " " * indent)
        self.col, self.fresh = indent, False


def emit_block(key: str, value: Any) -> str | None:
    """``key: value`` as a top-level block of the document (ending with a newline), or None."""
    written = block_and_risk(key, value)
    return written and written[0]


def emit_item(value: Any, dash: int = 2) -> str | None:
    """One item of a top-level list whose dashes stand at column ``dash`` (ending with a newline), or None."""
    written = item_and_risk(value, dash)
    return written and written[0]


def block_and_risk(key: str, value: Any) -> tuple[str, bool] | None:
    """:func:`emit_block`, and whether a scalar in it went into double quotes or a ``|`` block (the
    intricate rules; plain and single-quoted text only breaks at single spaces)."""
    try:
        w = _Writer()
        _key(w, key)
        _value(w, value, 0)
    except _Decline:
        return None
    return _end(w), w.folded


def item_and_risk(value: Any, dash: int = 2) -> tuple[str, bool] | None:
    """:func:`emit_item`, and whether a scalar in it went into double quotes or a ``|`` block."""
    try:
        w = _Writer()
        w.write(" " * dash + "- ")
        _item(w, value, dash)
    except _Decline:
        return None
    return _end(w), w.folded


def _end(w: _Writer) -> str:
    text = "".join(w.parts)
    return text if w.fresh else text + "\n"


def _key(w: _Writer, key: Any) -> None:
    if not isinstance(key, str) or not _KEY.match(key) or plain_tag(key) != STR:
        raise _Decline
    w.write(key + ":")


def _value(w: _Writer, value: Any, key_col: int) -> None:
    """The value of a mapping key written at ``key_col`` (the key and its colon are written)."""
    if isinstance(value, dict):
        if not value:
            w.write(" {}")
            return
        _mapping(w, value, key_col + 2, inline=False)
    elif isinstance(value, list):
        if not value:
            w.write(" []")
            return
        for item in value:
            w.newline(key_col + 2)
            w.write("- ")
            _item(w, item, key_col + 2)
    else:
        _scalar(w, value, key_col + 2, lead=True)


def _item(w: _Writer, value: Any, dash: int) -> None:
    """A sequence item after its ``- `` (the dash at column ``dash``)."""
    if isinstance(value, dict):
        if not value:
            w.write("{}")
            return
        _mapping(w, value, dash + 2, inline=True)
    elif isinstance(value, list):
        raise _Decline  # a list in a list: ruamel's compact form is not worth copying
    else:
        _scalar(w, value, dash + 2, lead=False)


def _mapping(w: _Writer, value: dict[str, Any], indent: int, *, inline: bool) -> None:
    for i, (k, v) in enumerate(value.items()):
        if i or not inline:
            w.newline(indent)
        _key(w, k)
        _value(w, v, indent)


def _scalar(w: _Writer, value: Any, indent: int, *, lead: bool) -> None:
    """A scalar at the current column; ``indent`` is where folded lines continue."""
    if value is None:
        return
    sep = " " if lead else ""
    if isinstance(value, bool):
        w.write(sep + ("true" if value else "false"))
    elif isinstance(value, int):
        w.write(sep + str(value))
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise _Decline
        w.write(sep + repr(value).lower())
    elif isinstance(value, str):
        _string(w, value, indent, sep)
    else:
        raise _Decline


def _string(w: _Writer, s: str, indent: int, sep: str) -> None:
    if "\n" in s:
        _literal(w, s, indent, sep)
        return
    if _ODD.search(s):
        raise _Decline  # control characters: ruamel escapes them in double quotes
    if _plain_allowed(s):
        if w.col + len(sep) + len(s) <= WIDTH or "  " in s:  # fits, or would lose a space if folded
            w.write(sep + s)
        else:
            w.write(sep)
            _plain(w, s, indent)
    elif "'" in s:
        _double(w, s, indent, sep)
    elif w.col + len(sep) + len(s) + 2 <= WIDTH:
        w.write(f"{sep}'{s}'")
    else:
        _single(w, s, indent, sep)


def _style(s: str) -> str:
    """How :func:`_string` writes ``s``."""
    if "\n" in s:
        return "literal"
    if _ODD.search(s):
        return "escaped"
    if _plain_allowed(s):
        return "plain"
    return "double" if "'" in s else "single"


def restyled(old: Any, new: Any) -> bool:
    """Whether a string changes where ruamel would write the new one in the old one's style.

    ruamel's maps give a new value the style of the quoted or block string it replaces (to keep a
    director's quotes), which the emitter, writing each value in its own style, cannot; only a
    string replaced by one of another style tells them apart."""
    if isinstance(old, dict) and isinstance(new, dict):
        return any(restyled(old[k], new[k]) for k in old.keys() & new.keys())
    if isinstance(old, list) and isinstance(new, list):  # items are rebuilt: only maps inside keep styles
        if all(isinstance(v, dict) and "id" in v for v in (*old, *new)):
            by_id = {v["id"]: v for v in old}
            return any(restyled(by_id[v["id"]], v) for v in new if v["id"] in by_id)
        return any(restyled(a, b) for a, b in zip(old, new) if isinstance(a, dict))
    if isinstance(old, str) and isinstance(new, str) and old != new:
        was = _style(old)
        return was != "plain" and was != _style(new)
    return False


def _plain_allowed(s: str) -> bool:
    if not s or s[0] == " " or s[-1] == " " or plain_tag(s) != STR:
        return False
    if s.startswith(("---", "...")) or s[0] in _FIRST_INDICATOR:
        return False
    if s[0] in "?:-" and (len(s) == 1 or s[1] == " "):
        return False
    return not (": " in s or s.endswith(":") or " #" in s)


def _plain(w: _Writer, s: str, indent: int) -> None:
    spaces = 1
    for tok in _TOKENS.findall(s):
        if tok[0] == " ":
            spaces = len(tok)
            if spaces == 1 and w.col >= WIDTH:
                w.newline(indent)
            else:
                w.write(tok)
        else:
            # A word longer than the rest of the line starts the next one, as ruamel does (text with a
            # run of spaces never gets here: it stays on one line, see roundtrip._Emitter).
            if len(tok) + w.col > WIDTH and w.col > indent and spaces == 1:
                w.newline(indent)
            w.write(tok)
            spaces = 0


def _single(w: _Writer, s: str, indent: int, sep: str) -> None:
    w.write(sep + "'")
    pos = 0
    for tok in _QUOTED_TOKENS.findall(s):
        end = pos + len(tok)
        if tok == "'":
            w.write("''")
        elif tok[0] == " " and len(tok) == 1 and w.col > WIDTH and pos != 0 and end != len(s):
            w.newline(indent)
        else:
            w.write(tok)
        pos = end
    w.write("'")


def _double(w: _Writer, s: str, indent: int, sep: str) -> None:
    """Double quotes (a text with an apostrophe that cannot be plain), folded as ruamel folds them."""
    w.folded = True
    w.write(sep + '"')
    n, start = len(s), 0
    for end in range(n + 1):
        ch = s[end] if end < n else None
        if ch is None or ch in '"\\':
            if start < end:
                w.write(s[start:end])
                start = end
            if ch is not None:
                w.write("\\" + ch)
                start = end + 1
        if 0 < end < n - 1 and (ch == " " or start >= end) and w.col + (end - start) > WIDTH:
            backslash = True
            space = s.find(" ", end)
            if (
                0 <= space < n - 1
                and '"' not in s[end:space]
                and "'" not in s[end:space]
                and s[space + 1] != " "
                and s[end - 1 : end + 1] != "  "
                and start != end
            ):
                backslash = False
            w.write(s[start:end] + ("\\" if backslash else ""))
            start = max(start, end)
            w.newline(indent)
            if s[start] == " ":
                if backslash:
                    w.write("\\")
                else:
                    start += 1
    w.write('"')


def _literal(w: _Writer, s: str, indent: int, sep: str) -> None:
    if s[0] in " \n" or _ODD_IN_BLOCK.search(s) or s.endswith("\n\n"):
        raise _Decline  # indentation indicators and kept trailing lines: left to ruamel
    body = s[:-1] if s.endswith("\n") else s
    w.folded = True
    w.write(sep + ("|" if s.endswith("\n") else "|-"))
    pad = " " * indent
    w.parts.append("".join("\n" + (pad + line if line else "") for line in body.split("\n")) + "\n")
    w.col, w.fresh = 0, True
