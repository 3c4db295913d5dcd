"""The CJK-capable font used for frames, burned subtitles and PDFs.

It comes from the ``mplfonts`` wheel (Noto Sans CJK SC, SIL Open Font Licence), so Chinese
text renders the same on every machine without relying on system fonts.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

FONT_FAMILY = "Noto Sans CJK SC"


@cache
def font_dir() -> Path:
    import mplfonts

    return Path(mplfonts.__file__).parent / "fonts"


@cache
def cjk_font_path() -> Path:
    """Path of Noto Sans CJK SC Regular (covers Chinese, Latin and punctuation)."""
    path = font_dir() / "NotoSansCJKsc-Regular.otf"
    if not path.exists():  # pragma: no cover - a broken install
        raise FileNotFoundError(f"{path} is missing; reinstall with 'pip install --force-reinstall mplfonts'")
    return path
