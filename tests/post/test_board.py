"""The storyboard PDF an assistant director prints, read back with pypdf: numbered panels in film order,
the title, version and date on every page with "page n of N", scene headers, the shot data and the
sound, in portrait and landscape, and the pictures are the circled keyframes."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import numpy as np
import pypdf
import pytest
from PIL import Image

from kaipai.document.models import Document
from kaipai.post.board import document_version, storyboard_pdf
from kaipai.post.cut import Cut, CutShot

COLOURS = [(200, 40, 40), (40, 160, 60), (40, 70, 200), (220, 190, 40), (150, 60, 170), (40, 170, 170), (230, 120, 30)]


def board_film(tmp_path: Path, n: int = 7) -> tuple[Document, Cut, dict[str, Path]]:
    """Seven shots in two scenes, each keyframe a flat colour with a white square, so a panel's picture is
    recognisable by its colour."""
    doc = Document.model_validate(
        {
            "project": {"title": "最后一班车", "language": "zh", "resolution": [320, 180], "fps": 24},
            "cast": {"characters": [{"id": "lin", "name": "林夏"}]},
            "scenes": [
                {"id": "S01", "heading": "1-1 夜 外 公交站台", "ambience": "夜晚户外，雨声"},
                {"id": "S02", "heading": "1-2 夜 内 公交车厢", "ambience": "车厢内，发动机低鸣"},
            ],
            "shots": [
                {
                    "id": f"S0{1 + (i >= 3)}-00{i + 1}",
                    "scene": "S01" if i < 3 else "S02",
                    "order": i,
                    "size": "CU",
                    "move": "push_in",
                    "lens": "85mm",
                    "transition": "dissolve" if i == 3 else "cut",
                    "description": f"第{i + 1}个镜头",
                    "dialogue": [{"id": f"L{i}", "speaker": "lin", "text": f"台词{i + 1}"}],
                    "sfx": ["车门开合声"] if i == 1 else [],
                    "music": "开场：安静的钢琴" if i == 0 else "",
                }
                for i in range(n)
            ],
        }
    )
    cut = Cut(title=doc.project.title, language="zh", width=320, height=180, fps=24)
    stills: dict[str, Path] = {}
    t = 0.0
    for i, shot in enumerate(doc.ordered_shots()):
        img = Image.new("RGB", (320, 180), COLOURS[i])
        img.paste((255, 255, 255), (20, 20, 60, 60))
        stills[shot.id] = tmp_path / f"{shot.id}.png"
        img.save(stills[shot.id])
        cut.shots.append(
            CutShot(shot=shot.id, start=t, duration=2.5, picture=None, still=stills[shot.id], description="")
        )
        t += 2.5
    return doc, cut, stills


def text_of(page: pypdf.PageObject) -> str:
    return page.extract_text().replace("\x00", "")  # CID fonts extract with NULs


@pytest.mark.parametrize(("orientation", "per_page"), [("portrait", 4), ("landscape", 6)])
def test_numbered_panels_headers_and_page_numbers(tmp_path: Path, orientation: str, per_page: int) -> None:
    doc, cut, stills = board_film(tmp_path)
    day = datetime.date(2026, 3, 1)
    pdf = pypdf.PdfReader(str(storyboard_pdf(doc, cut, stills, tmp_path / "b.pdf", orientation=orientation, date=day)))
    pages = [text_of(p) for p in pdf.pages]
    wide = orientation == "landscape"
    assert (float(pdf.pages[0].mediabox.width) > float(pdf.pages[0].mediabox.height)) == wide
    assert 2 <= len(pages) <= 3  # seven panels and two scene headers, 3–6 a page
    for n, text in enumerate(pages, start=1):
        assert "最后一班车" in text and f"版本 {document_version(doc)}" in text and "2026-03-01" in text
        assert f"第 {n} / {len(pages)} 页" in text
    everything = "".join(pages)
    order = [everything.index(s.shot) for s in cut.shots]
    assert order == sorted(order), "panels out of film order"
    assert "1-1 夜 外 公交站台" in everything and "1-2 夜 内 公交车厢" in everything  # scene headers
    assert "环境声：夜晚户外，雨声" in everything
    for word in ("景别", "特写", "运镜", "推", "镜头", "85mm", "时长", "2.5s", "转场", "叠化"):
        assert word in everything, word  # the shot data grid
    assert "林夏：台词2" in everything and "车门开合声" in everything and "开场：安静的钢琴" in everything
    counts = [sum(1 for s in cut.shots if s.shot in text) for text in pages]
    assert all(3 <= c <= per_page for c in counts[:-1]) and sum(counts) == len(cut.shots)
    for number, shot in enumerate(cut.shots, start=1):  # each panel's number in its tab, just before its shot id
        assert re.search(rf"(^|\n){number}\s+{shot.shot}\b", everything), (number, shot.shot)


def test_the_panels_show_the_keyframes(tmp_path: Path) -> None:
    doc, cut, stills = board_film(tmp_path)
    pdf = pypdf.PdfReader(str(storyboard_pdf(doc, cut, stills, tmp_path / "b.pdf")))
    shown = []
    for page in pdf.pages:
        for image in page.images:
            pixels = np.asarray(image.image.convert("RGB")).astype(int)
            shown.append(tuple(np.median(pixels.reshape(-1, 3), axis=0)))
    assert len(shown) == len(cut.shots)
    for colour, expected in zip(shown, COLOURS, strict=True):
        assert max(abs(a - b) for a, b in zip(colour, expected)) < 8


def test_a_bar_baked_into_an_old_previz_keyframe_is_cropped_away(tmp_path: Path) -> None:
    doc, cut, stills = board_film(tmp_path, n=3)
    for shot, path in zip(cut.shots, stills.values(), strict=True):
        with Image.open(path) as img:
            img.paste((12, 12, 14), (0, 155, 320, 180))  # the first release's dark bar, 14 %
            img.save(path)
        shot.band = 0.14
    pdf = pypdf.PdfReader(str(storyboard_pdf(doc, cut, stills, tmp_path / "b.pdf")))
    for image in pdf.pages[0].images:
        pixels = np.asarray(image.image.convert("RGB"))
        assert pixels.shape[0] == 155 and pixels[-3:].mean() > 30
