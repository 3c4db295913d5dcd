"""The film on paper: the storyboard PDF (:mod:`kaipai.post.board`) and the contact sheet."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from kaipai.fonts import cjk_font_path
from kaipai.post.board import scene_label, storyboard_pdf, without_bar
from kaipai.post.cut import Cut

__all__ = ["contact_sheet", "scene_label", "storyboard_pdf"]


def contact_sheet(cut: Cut, stills: dict[str, Path], out: Path, columns: int = 5, thumb: int = 320) -> Path:
    """A grid of every shot's frame with its id and time, as one PNG."""
    th = int(thumb * cut.height / cut.width)
    rows = max(1, -(-len(cut.shots) // columns))
    label = 22
    sheet = Image.new("RGB", (columns * thumb, rows * (th + label)), (16, 16, 18))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.truetype(str(cjk_font_path()), 15)
    for i, cs in enumerate(cut.shots):
        x, y = (i % columns) * thumb, (i // columns) * (th + label)
        still = stills.get(cs.shot)
        if still is not None and still.exists():
            with Image.open(still) as img:
                sheet.paste(without_bar(img, cs.band).resize((thumb, th)), (x, y))
        draw.text(
            (x + 4, y + th + 3), f"{cs.shot}  {cs.start:.1f}s  {cs.duration:.1f}s", font=font, fill=(230, 230, 230)
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    return out
