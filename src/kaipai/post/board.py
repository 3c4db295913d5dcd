"""The storyboard PDF an assistant director prints: numbered panels, the shot data as a grid, the sound.

Each page carries the film's title, the document's version and the date, and "page n of N". Every
panel is bordered and numbered in film order, with the circled keyframe (the clean picture), a
compact grid of size, angle, move, lens, duration and transition, then the dialogue and the sound
(effects, the music cue that starts there). A scene opens with a header band (its heading and
ambience) that separates it from the scene before. Portrait pages stack four panels, picture beside
data; landscape pages hold six, picture above data. Panels flow down the page, so a page is only
short where a scene needs a fresh header and the panel would not fit.
"""

from __future__ import annotations

import datetime
import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from PIL import Image

from kaipai.document.models import Document
from kaipai.document.scenes import Scene
from kaipai.document.shots import Shot
from kaipai.document.vocabulary import ANGLE, MOVE, NARRATOR, SIZE, TRANSITION, label
from kaipai.fonts import cjk_font_path
from kaipai.post.cut import Cut, CutShot

WORDS = {
    "zh": {
        "board": "分镜故事板", "version": "版本", "page": "第 {n} / {N} 页", "size": "景别", "angle": "角度",
        "move": "运镜", "lens": "镜头", "duration": "时长", "transition": "转场", "dialogue": "对白",
        "sound": "声音", "music": "音乐", "ambience": "环境声", "colon": "：",
    },
    "en": {
        "board": "Storyboard", "version": "version", "page": "page {n} of {N}", "size": "Size", "angle": "Angle",
        "move": "Move", "lens": "Lens", "duration": "Duration", "transition": "Transition", "dialogue": "Dialogue",
        "sound": "Sound", "music": "Music", "ambience": "Ambience", "colon": ": ",
    },
}  # fmt: skip
INK, GREY, RULE, ACCENT = (20, 20, 24), (110, 110, 118), (170, 170, 178), (196, 60, 40)
MARGIN, HEADER, FOOTER, SCENE_BAND, GAP = 10.0, 16.0, 9.0, 8.0, 3.0
DATA_BELOW = 38.0  # mm under a landscape frame: id, the grid, four lines of dialogue and sound


@dataclass(frozen=True)
class Layout:
    orientation: str  # "P" or "L"
    columns: int
    rows: int
    beside: bool  # picture beside the data (portrait) or above it (landscape)


LAYOUTS = {"portrait": Layout("P", 1, 4, True), "landscape": Layout("L", 3, 2, False)}


def scene_label(scene: Scene, lang: str) -> str:
    """``S01  1-1 日 内 客厅 《重逢》``: the scene's id, its heading, and its title when it has one."""
    title = (f"《{scene.title}》" if lang == "zh" else f"“{scene.title}”") if scene.title else ""
    return "  ".join(x for x in (scene.id, scene.heading, title) if x)


def document_version(doc: Document) -> str:
    """A short fingerprint of the document the board was drawn from: two prints of one version match."""
    return hashlib.sha256(doc.model_dump_json().encode()).hexdigest()[:8]


class _Board(FPDF):
    def __init__(self, layout: Layout, title: str, subtitle: str, page_words: str) -> None:
        super().__init__(orientation=layout.orientation, unit="mm", format="A4")
        self.add_font("cjk", "", str(cjk_font_path()))
        self.set_auto_page_break(False)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.alias_nb_pages("{N}")
        self.board_title, self.subtitle, self.page_words = title, subtitle, page_words

    def header(self) -> None:
        self.set_text_color(*INK)
        self.set_font("cjk", size=13)
        self.set_xy(MARGIN, MARGIN - 2)
        self.cell(self.w / 2, 7, self.board_title)
        self.set_font("cjk", size=8.5)
        self.set_text_color(*GREY)
        self.set_xy(self.w / 2, MARGIN - 1)
        self.cell(self.w / 2 - MARGIN, 6, self.subtitle, align="R")
        self.set_draw_color(*INK)
        self.set_line_width(0.4)
        self.line(MARGIN, MARGIN + 6, self.w - MARGIN, MARGIN + 6)

    def footer(self) -> None:
        self.set_font("cjk", size=8)
        self.set_text_color(*GREY)
        self.set_xy(MARGIN, self.h - MARGIN - 3)
        self.cell(self.w - 2 * MARGIN, 5, self.page_words.format(n=self.page_no(), N="{N}"), align="C")


def _fit(pdf: FPDF, text: str, width: float, lines: int) -> list[str]:
    """``text`` broken into rows of ``width`` mm (by character, as CJK sets), at most ``lines``, the last ending
    in an ellipsis when it does not all fit."""
    rows: list[str] = []
    for para in text.split("\n"):
        row = ""
        for ch in para:
            if pdf.get_string_width(row + ch) > width:
                rows.append(row)
                row = ""
            row += ch
        rows.append(row)
    if len(rows) > lines:
        rows = rows[:lines]
        last = rows[-1]
        while last and pdf.get_string_width(last + "…") > width:
            last = last[:-1]
        rows[-1] = last + "…"
    return rows


def without_bar(img: Image.Image, band: float) -> Image.Image:
    """The picture in RGB with the bottom ``band`` of its height (an info bar the first release baked in) cut off."""
    w, h = img.size
    return img.convert("RGB").crop((0, 0, w, round(h * (1 - band))))


def _clean_still(still: Path | None, band: float, scratch: Path) -> Path | None:
    """The keyframe as the panel shows it: a bar baked in by the first release cropped away."""
    if still is None or not still.exists() or band <= 0:
        return still
    with Image.open(still) as img:
        out = scratch / f"{still.stem}-clean.png"
        without_bar(img, band).save(out)
    return out


def storyboard_pdf(
    doc: Document,
    cut: Cut,
    stills: dict[str, Path],
    out: Path,
    *,
    orientation: str = "portrait",
    date: datetime.date | None = None,
    xmp: str | None = None,
) -> Path:
    """Write the storyboard of ``cut`` (frames from ``stills``, shot id → image) to ``out``; ``xmp``: the
    document's XMP metadata (the AIGC label)."""
    lang = "zh" if doc.project.language.value == "zh" else "en"
    words = WORDS[lang]
    layout = LAYOUTS[orientation]
    when = (date or datetime.date.today()).isoformat()
    subtitle = f"{words['board']} · {words['version']} {document_version(doc)} · {when}"
    pdf = _Board(layout, doc.project.title, subtitle, words["page"])
    if xmp:
        pdf.set_xmp_metadata(xmp)
    shots = {s.id: s for s in doc.shots}
    names = {c.id: c.name for c in doc.cast.characters} | {"narrator": NARRATOR[lang]}
    top, bottom = MARGIN + 9.0, pdf.h - MARGIN - FOOTER
    width = pdf.w - 2 * MARGIN
    col_w = (width - GAP * (layout.columns - 1)) / layout.columns
    panel_h = (bottom - top - SCENE_BAND - GAP * layout.rows) / layout.rows
    y, column, scene = bottom + 1, 0, None
    with tempfile.TemporaryDirectory() as tmp:
        for number, cs in enumerate(cut.shots, start=1):
            shot = shots[cs.shot]
            if shot.scene != scene or column == layout.columns:  # a new row
                y, column = (y + panel_h + GAP if column else y), 0
            needs = panel_h + (SCENE_BAND if shot.scene != scene else 0)
            if y + needs > bottom + 0.01:
                pdf.add_page()
                y, column = top, 0
            if shot.scene != scene:
                scene = shot.scene
                _scene_band(pdf, doc, scene, y, width, words)
                y += SCENE_BAND
            x = MARGIN + column * (col_w + GAP)
            still = _clean_still(stills.get(cs.shot), cs.band, Path(tmp))
            _panel(pdf, layout, x, y, col_w, panel_h, number, cs, shot, still, names, words, lang)
            column += 1
        out.parent.mkdir(parents=True, exist_ok=True)
        pdf.output(str(out))
    return out


def _scene_band(pdf: FPDF, doc: Document, scene_id: str, y: float, width: float, words: dict[str, str]) -> None:
    scene = doc.scene(scene_id)
    pdf.set_fill_color(*INK)
    pdf.rect(MARGIN, y + 0.5, width, SCENE_BAND - 2, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_font("cjk", size=9.5)
    pdf.set_xy(MARGIN + 2, y + 0.8)
    lang = "zh" if doc.project.language.value == "zh" else "en"
    heading = scene_label(scene, lang) if scene is not None else scene_id
    pdf.cell(width * 0.55, SCENE_BAND - 2.6, _fit(pdf, heading, width * 0.55, 1)[0])
    if scene is not None and scene.ambience:
        pdf.set_font("cjk", size=7.5)
        pdf.set_xy(MARGIN + width * 0.5, y + 0.8)
        text = f"{words['ambience']}{words['colon']}{scene.ambience}"
        pdf.cell(width * 0.5 - 2, SCENE_BAND - 2.6, _fit(pdf, text, width * 0.5 - 4, 1)[0], align="R")


def _panel(
    pdf: FPDF,
    layout: Layout,
    x: float,
    y: float,
    w: float,
    h: float,
    number: int,
    cs: CutShot,
    shot: Shot,
    still: Path | None,
    names: dict[str, str],
    words: dict[str, str],
    lang: str,
) -> None:
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.35)
    pdf.rect(x, y, w, h)
    pad = 2.0
    if layout.beside:
        img_w = w * 0.5 - pad
        img_h = min(h - 2 * pad, img_w * 9 / 16)
        img_w = img_h * 16 / 9
        img = (x + pad, y + pad, img_w, img_h)
        data = (x + 2 * pad + img_w, y + pad, w - 3 * pad - img_w)
    else:  # the frame as large as leaves room for the data and four lines of text under it
        img_h = min((w - 2 * pad) * 9 / 16, h - 3 * pad - DATA_BELOW)
        img_w = img_h * 16 / 9
        img = (x + (w - img_w) / 2, y + pad, img_w, img_h)
        data = (x + pad, y + 2 * pad + img_h, w - 2 * pad)
    ix, iy, iw, ih = img
    if still is not None and still.exists():
        pdf.image(str(still), x=ix, y=iy, w=iw, h=ih, keep_aspect_ratio=True)
    pdf.set_line_width(0.2)
    pdf.rect(ix, iy, iw, ih)
    # the panel number, in a tab over the frame's corner
    pdf.set_fill_color(*ACCENT)
    pdf.set_text_color(255, 255, 255)
    pdf.set_font("cjk", size=10)
    tab = max(7.0, pdf.get_string_width(str(number)) + 4)
    pdf.rect(ix, iy, tab, 6, style="F")
    pdf.set_xy(ix, iy)
    pdf.cell(tab, 6, str(number), align="C")
    dx, dy, dw = data
    pdf.set_text_color(*INK)
    pdf.set_font("cjk", size=9.5)
    pdf.set_xy(dx, dy)
    pdf.cell(dw, 5, f"{cs.shot}    {cs.start:.1f}s")
    dy += 5.5
    grid = [
        (words["size"], label(SIZE, shot.size, lang)),
        (words["angle"], label(ANGLE, shot.angle, lang)),
        (words["move"], label(MOVE, shot.move, lang)),
        (words["lens"], shot.lens or "—"),
        (words["duration"], f"{cs.duration:.1f}s"),
        (words["transition"], label(TRANSITION, shot.transition, lang)),
    ]
    cell_w, cell_h = dw / 3, 4.2
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.15)
    for k, (name, value) in enumerate(grid):
        cx, cy = dx + (k % 3) * cell_w, dy + (k // 3) * 2 * cell_h
        pdf.rect(cx, cy, cell_w, 2 * cell_h)
        pdf.set_font("cjk", size=6)
        pdf.set_text_color(*GREY)
        pdf.set_xy(cx + 0.8, cy + 0.2)
        pdf.cell(cell_w - 1.6, cell_h, name)
        pdf.set_font("cjk", size=7.5)
        pdf.set_text_color(*INK)
        pdf.set_xy(cx + 0.8, cy + cell_h - 0.3)
        pdf.cell(cell_w - 1.6, cell_h, _fit(pdf, value, cell_w - 1.6, 1)[0])
    dy += 4 * cell_h + 1.5
    lines = [f"{names.get(d.speaker, d.speaker)}{words['colon']}{d.text}" for d in shot.dialogue]
    sound = [*(s for s in shot.sfx), *([f"♪ {shot.music}"] if shot.music else [])]
    text = "\n".join(
        [
            *([shot.description] if shot.description and layout.beside else []),
            *lines,
            *([f"{words['sound']}{words['colon']}{' / '.join(sound)}"] if sound else []),
        ]
    )
    size, leading = 7.5, 3.4
    pdf.set_font("cjk", size=size)
    room = int((y + h - pad - dy) / leading)
    for k, row in enumerate(_fit(pdf, text, dw, max(1, room))):
        pdf.set_xy(dx, dy + k * leading)
        pdf.cell(dw, leading, row)
