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


def subset_font(text: str, out: Path) -> Path:
    """The CJK font cut down to the characters of ``text`` (kilobytes instead of 16 MB), family name kept,
    so subtitles can carry or ship the font they name (OTF, written to ``out``)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    font = TTFont(str(cjk_font_path()))
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(set(text + " ?"))))
    subsetter.subset(font)
    # libass finds a font it is handed (embedded, or in a fonts folder) by its family name (name ID 1),
    # which in Noto's file is "… Regular", the plain family sitting in ID 16: make ID 1 the family itself
    names = font["name"]
    for record in list(names.names):
        if record.nameID in (16, 17):
            names.removeNames(nameID=record.nameID)
        elif record.nameID == 1:
            record.string = FONT_FAMILY
    out.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(out))
    return out
