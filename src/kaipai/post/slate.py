"""A slate for a shot with no picture yet, so a partial film is always watchable."""

from __future__ import annotations

import hashlib
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from kaipai.fonts import cjk_font_path
from kaipai.post.cut import CutShot


def draw_slate(shot: CutShot, width: int, height: int, folder: Path) -> Path:
    """A dark card with the shot id and its description; cached by content."""
    key = hashlib.sha256(f"{shot.shot}|{shot.description}|{width}x{height}".encode()).hexdigest()[:16]
    path = folder / f"slate-{key}.png"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", (width, height), (24, 24, 28))
    draw = ImageDraw.Draw(img)
    big = ImageFont.truetype(str(cjk_font_path()), max(16, height // 10))
    small = ImageFont.truetype(str(cjk_font_path()), max(12, height // 24))
    draw.text((width / 2, height * 0.38), shot.shot, font=big, fill=(255, 210, 80), anchor="mm")
    text = " ".join(shot.description.split())
    rows, row = [], ""
    for ch in text:
        if draw.textlength(row + ch, font=small) > width * 0.8:
            rows.append(row)
            row = ""
        row += ch
    rows.append(row)
    for i, r in enumerate(rows[:4]):
        draw.text((width / 2, height * 0.55 + i * small.size * 1.4), r, font=small, fill=(220, 220, 220), anchor="mm")
    img.save(path)
    return path
