"""Turning a screenplay file's bytes into text, or saying clearly why that cannot be done.

Writers hand over whatever their tool saved: UTF-8 (with or without BOM), GB18030 from older
Chinese editors, and now and then a PDF, a Word file or a Final Draft file. The last three are
recognised by their first bytes so the writer is told how to export instead of seeing noise.
"""

from __future__ import annotations

import re

from kaipai.screenplay.model import ScreenplayError

ENCODINGS = ("utf-8-sig", "gb18030")

#: (leading bytes, what the file is, what to do instead)
_NOT_PLAIN_TEXT = [
    (b"%PDF", "a PDF", "export the screenplay from your writing app as Fountain (.fountain) or plain text (.txt)"),
    (b"PK\x03\x04", "a Word or other zipped document", "save it as plain text (.txt) or export it as Fountain"),
    (b"\xd0\xcf\x11\xe0", "an old Word (.doc) document", "save it as plain text (.txt) or export it as Fountain"),
    (b"{\\rtf", "a rich-text (.rtf) document", "save it as plain text (.txt) or export it as Fountain"),
]
_FINAL_DRAFT = re.compile(rb"<FinalDraft\b", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def decode_screenplay(data: bytes, file: str = "") -> str:
    """The text of a screenplay file; raises :class:`ScreenplayError` naming ``file`` otherwise."""
    for magic, what, todo in _NOT_PLAIN_TEXT:
        if data.startswith(magic):
            raise ScreenplayError(f"this is {what}, not a text screenplay; {todo}", file=file)
    if _FINAL_DRAFT.search(data[:4096]):
        raise ScreenplayError(
            "this is a Final Draft (.fdx) file; use File > Export > Fountain in Final Draft and import that", file=file
        )
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ScreenplayError("the file is neither UTF-8 nor GB18030 text; save it as UTF-8", file=file)
    check_plain_text(text, file)
    return text


def check_plain_text(text: str, file: str = "") -> None:
    """Refuse binary data that happens to decode: NUL bytes or many control characters."""
    controls = len(_CONTROL.findall(text))
    if "\x00" in text or controls > max(2, len(text) // 100):
        raise ScreenplayError(
            "this is not a text file (it holds binary data); save the screenplay as plain text (.fountain or .txt)",
            file=file,
        )
