"""Storyboard PDF and contact sheet: the film on paper, in the project's language."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

from kaipai.document.models import Document, Scene
from kaipai.document.vocabulary import ANGLE, MOVE, NARRATOR, SIZE, label
from kaipai.fonts import cjk_font_path
from kaipai.post.cut import Cut

LABELS = {
    "zh": {
        "shot": "镜头",
        "size": "景别",
        "angle": "角度",
        "move": "运镜",
        "duration": "时长",
        "dialogue": "对白",
        "board": "分镜故事板",
    },
    "en": {
        "shot": "Shot",
        "size": "Size",
        "angle": "Angle",
        "move": "Move",
        "duration": "Duration",
        "dialogue": "Dialogue",
        "board": "Storyboard",
    },
}


def storyboard_pdf(doc: Document, cut: Cut, stills: dict[str, Path], out: Path, xmp: str | None = None) -> Path:
    """Three shots per A4 page: frame on the left, shot data and dialogue on the right; ``xmp``: the
    document's XMP metadata (the AIGC label)."""
    lang = "zh" if doc.project.language.value == "zh" else "en"
    words = LABELS[lang]
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.add_font("cjk", "", str(cjk_font_path()))
    pdf.set_auto_page_break(False)
    if xmp:
        pdf.set_xmp_metadata(xmp)
    names = {c.id: c.name for c in doc.cast.characters} | {"narrator": NARRATOR[lang]}
    shots = {s.id: s for s in doc.shots}
    scenes = {s.id: s for s in doc.scenes}
    per_page, top, row_h = 3, 22, 88
    previous_scene = None
    for i, cs in enumerate(cut.shots):
        if i % per_page == 0:
            pdf.add_page()
            pdf.set_font("cjk", size=14)
            pdf.set_xy(10, 8)
            pdf.cell(0, 8, f"{doc.project.title} · {words['board']}  ({i // per_page + 1})")
        shot = shots[cs.shot]
        y = top + (i % per_page) * row_h
        still = stills.get(cs.shot)
        if still is not None and still.exists():
            pdf.image(str(still), x=10, y=y, w=110)
        else:
            pdf.rect(10, y, 110, 110 * doc.project.resolution[1] / doc.project.resolution[0])
        scene = scenes.get(shot.scene)
        if scene is not None and scene.id != previous_scene:  # a new scene: its heading and title as written
            pdf.set_font("cjk", size=9)
            pdf.set_xy(125, y)
            pdf.cell(75, 5, scene_label(scene, lang)[:60])
            y += 6
        previous_scene = shot.scene
        pdf.set_font("cjk", size=11)
        pdf.set_xy(125, y)
        pdf.cell(75, 6, f"{words['shot']} {cs.shot}   {cs.start:.1f}s", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=9)
        pdf.set_xy(125, y + 7)
        pdf.multi_cell(
            75,
            4.5,
            (
                f"{words['size']}: {label(SIZE, shot.size, lang)}  {words['angle']}: {label(ANGLE, shot.angle, lang)}\n"
                f"{words['move']}: {label(MOVE, shot.move, lang)}  {words['duration']}: {cs.duration:.1f}s\n"
                f"{shot.description}"
            )[:400],
        )
        colon = "：" if lang == "zh" else ": "
        lines = [f"{names.get(d.speaker, d.speaker)}{colon}{d.text}" for d in shot.dialogue]
        if lines:
            pdf.set_x(125)
            pdf.multi_cell(75, 4.5, f"{words['dialogue']}:\n" + "\n".join(lines)[:500])
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))
    return out


def scene_label(scene: Scene, lang: str) -> str:
    """``S01  1-1 日 内 客厅 《重逢》``: the scene's id, its heading, and its title when it has one."""
    title = (f"《{scene.title}》" if lang == "zh" else f"“{scene.title}”") if scene.title else ""
    return "  ".join(x for x in (scene.id, scene.heading, title) if x)


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
                sheet.paste(img.convert("RGB").resize((thumb, th)), (x, y))
        draw.text(
            (x + 4, y + th + 3), f"{cs.shot}  {cs.start:.1f}s  {cs.duration:.1f}s", font=font, fill=(230, 230, 230)
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    return out
