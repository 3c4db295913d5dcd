"""The shot script (分镜头脚本) as a table for the crew: CSV for spreadsheets, PDF for print.

One row per shot in film order, with the columns a shooting script carries: shot, scene,
size, angle, move, lens, who is in frame and where, what is seen, dialogue, sound, length —
and, once takes exist, quality control's verdict on the shot and why it is flagged.
Headings follow the project's language.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path

from kaipai.document.io import atomic_write_bytes
from kaipai.document.models import Document
from kaipai.document.shots import Delivery, Shot
from kaipai.document.vocabulary import ANGLE, FACING, MOVE, NARRATOR, SIZE, THIRD, label, lang_of

HEADINGS = {
    "zh": [
        "镜号",
        "场次",
        "景别",
        "角度",
        "运镜",
        "镜头",
        "人物／构图",
        "画面内容",
        "台词",
        "音效／音乐",
        "时长（秒）",
    ],
    "en": [
        "Shot",
        "Scene",
        "Size",
        "Angle",
        "Move",
        "Lens",
        "Characters / composition",
        "Description",
        "Dialogue",
        "SFX / music",
        "Duration (s)",
    ],
}
QC_HEADINGS = {"zh": ["质检", "质检说明"], "en": ["QC", "QC notes"]}
TITLE = {"zh": "分镜头脚本", "en": "Shot script"}
#: Relative column widths of the PDF table (landscape A4), without and with the QC columns.
PDF_WIDTHS = (6.5, 4.5, 6, 5, 5, 6, 13, 27, 23, 9, 5)
PDF_WIDTHS_QC = (6, 4, 5.5, 4.5, 4.5, 5, 12, 22, 20, 8, 4.5, 5.5, 14)
_VERDICT = {
    "zh": {"passed": "合格", "flagged": "需复查", "unchecked": "未质检", "missing": ""},
    "en": {"passed": "passed", "flagged": "flagged", "unchecked": "not checked", "missing": ""},
}

#: Per shot id: quality control's verdict (passed, flagged, unchecked, missing), lowest score, reasons.
ShotQCLine = tuple[str, float | None, list[str]]


def qc_cells(line: ShotQCLine | None, lang: str) -> list[str]:
    """The two QC cells of a row: the verdict with its score, and why it is flagged."""
    if line is None:
        return ["", ""]
    verdict, score, reasons = line
    word = _VERDICT[lang].get(verdict, verdict)
    return [f"{word} {score:.2f}" if word and score is not None else word, "\n".join(reasons)]


def shotlist_rows(doc: Document, qc: Mapping[str, ShotQCLine] | None = None) -> list[list[str]]:
    """The table body: one row of strings per shot, in film order (with QC cells when ``qc`` is given)."""
    lang = lang_of(doc.project.language)
    names = {c.id: c.name for c in doc.cast.characters}
    names["narrator"] = NARRATOR[lang]
    rows = [_row(shot, lang, names) for shot in doc.ordered_shots()]
    if qc is not None:
        rows = [row + qc_cells(qc.get(row[0]), lang) for row in rows]
    return rows


def headings(doc: Document, qc: Mapping[str, ShotQCLine] | None = None) -> list[str]:
    lang = lang_of(doc.project.language)
    return HEADINGS[lang] + (QC_HEADINGS[lang] if qc is not None else [])


def _row(shot: Shot, lang: str, names: dict[str, str]) -> list[str]:
    zh = lang == "zh"
    size = label(SIZE, shot.size, lang)
    size = f"{size} {shot.size.value}" if zh else shot.size.value
    comp = []
    for p in shot.composition:
        who = names.get(p.character, p.character)
        comp.append(
            f"{who}（{THIRD[lang][p.third]}·{FACING[lang][p.facing]}）"
            if zh
            else f"{who} ({THIRD[lang][p.third]}, {FACING[lang][p.facing]})"
        )
    lines = []
    for d in shot.dialogue:
        who = names.get(d.speaker, d.speaker)
        marks = [d.parenthetical] if d.parenthetical else []
        if d.delivery != Delivery.on:
            marks.insert(0, d.delivery.value)
        note = ("（" + "，".join(marks) + "）" if zh else " (" + ", ".join(marks) + ")") if marks else ""
        lines.append(f"{who}{note}：{d.text}" if zh else f"{who}{note}: {d.text}")
    sound = list(shot.sfx)
    if shot.music:
        sound.append(("音乐：" if zh else "Music: ") + shot.music)
    description = shot.description or shot.action
    if shot.caption and shot.caption not in description:
        description = f"{description} [{shot.caption}]".strip()
    return [
        shot.id,
        shot.scene,
        size,
        label(ANGLE, shot.angle, lang),
        label(MOVE, shot.move, lang),
        shot.lens,
        ("；" if zh else "; ").join(comp),
        description,
        "\n".join(lines),
        ("；" if zh else "; ").join(sound),
        f"{shot.duration:.1f}",
    ]


def export_shotlist_csv(doc: Document, path: Path | str, qc: Mapping[str, ShotQCLine] | None = None) -> Path:
    """Write the shot list as CSV, UTF-8 with a BOM so Excel shows Chinese correctly."""
    path = Path(path)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(headings(doc, qc))
    writer.writerows(shotlist_rows(doc, qc))
    atomic_write_bytes(path, buf.getvalue().encode("utf-8-sig"))
    return path


def export_shotlist_pdf(doc: Document, path: Path | str, qc: Mapping[str, ShotQCLine] | None = None) -> Path:
    """Write the shot list as a landscape PDF table with the heading row repeated on every page."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    from kaipai.fonts import cjk_font_path

    lang = lang_of(doc.project.language)
    title = f"{doc.project.title} — {TITLE[lang]}"

    class _Sheet(FPDF):
        def header(self) -> None:
            self.set_font("cjk", size=11)
            self.cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
            self.ln(1)

        def footer(self) -> None:
            self.set_y(-10)
            self.set_font("cjk", size=8)
            self.cell(0, 6, f"{self.page_no()}/{{nb}}", align="R")

    pdf = _Sheet(orientation="L", unit="mm", format="A4")
    pdf.set_title(title)
    pdf.set_creator("kaipai")
    pdf.add_font("cjk", "", str(cjk_font_path()))
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.set_margins(8, 8, 8)
    pdf.add_page()
    pdf.set_font("cjk", size=7.5)
    rows = shotlist_rows(doc, qc)
    with pdf.table(
        col_widths=PDF_WIDTHS if qc is None else PDF_WIDTHS_QC,
        headings_style=FontFace(fill_color=(225, 225, 225)),
        line_height=3.6,
        text_align="LEFT",
        repeat_headings=1,
        padding=1,
    ) as table:
        table.row(headings(doc, qc))
        for row in rows:
            table.row(row)
    if not rows:
        pdf.ln(4)
        pdf.cell(
            0, 6, "（还没有镜头：先运行 kaipai plan）" if lang == "zh" else "(no shots yet: run 'kaipai plan' first)"
        )
    atomic_write_bytes(Path(path), bytes(pdf.output()))
    return Path(path)
