"""The shot list export: CSV that opens in Excel with Chinese intact, and a printable PDF."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pypdf
import pytest

from kaipai.document.models import Document
from kaipai.planning.importer import document_from_screenplay
from kaipai.planning.rules import plan_document
from kaipai.post.shotlist import HEADINGS, export_shotlist_csv, export_shotlist_pdf
from tests.support.scripts import en_screenplay, zh_screenplay


@pytest.fixture(scope="module")
def zh_doc() -> Document:
    return plan_document(document_from_screenplay(zh_screenplay())).document


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def page_text(page: pypdf.PageObject) -> str:
    """The page's text without spacing (pypdf interleaves NULs when it decodes this CID font)."""
    return re.sub(r"[\s\x00]+", "", page.extract_text())


def test_csv_has_one_row_per_shot_in_film_order_with_chinese_intact(tmp_path: Path, zh_doc: Document) -> None:
    path = export_shotlist_csv(zh_doc, tmp_path / "shotlist.csv")
    rows = read_csv(path)
    assert rows[0] == HEADINGS["zh"] and rows[0][0] == "镜号"
    body = rows[1:]
    assert [r[0] for r in body] == [s.id for s in zh_doc.ordered_shots()]
    by_id = {r[0]: dict(zip(rows[0], r, strict=True)) for r in body}
    line_shot = next(s for s in zh_doc.shots if any(d.text == "爸，你还没睡？" for d in s.dialogue))
    row = by_id[line_shot.id]
    assert row["台词"] == "林晓（低声）：爸，你还没睡？"
    assert row["景别"].startswith("中景") and row["场次"] == "S01"
    assert "林晓（画左·朝右）" in row["人物／构图"]
    assert float(row["时长（秒）"]) == pytest.approx(line_shot.duration)
    narr = next(r for r in body if "旁白" in r[8])
    assert "V.O." in narr[8] and "那一年，我二十五岁。" in narr[8]
    knock = next(r for r in body if "敲门声" in r[9])
    assert knock[0].startswith("S01-")


def test_csv_headings_follow_the_project_language(tmp_path: Path) -> None:
    doc = plan_document(document_from_screenplay(en_screenplay())).document
    rows = read_csv(export_shotlist_csv(doc, tmp_path / "en.csv"))
    assert rows[0] == HEADINGS["en"]
    line = next(r for r in rows[1:] if "You know exactly" in r[8])
    assert line[8] == "Mary (angry): You know exactly who it is from!"
    assert len(rows) == len(doc.shots) + 1


def test_pdf_is_landscape_with_every_shot_id_and_a_heading_on_each_page(tmp_path: Path, zh_doc: Document) -> None:
    doc = zh_doc.model_copy(deep=True)
    # enough shots for several pages
    extra = []
    for k in range(60):
        s = doc.shots[k % len(doc.shots)].model_copy(
            update={"id": f"S02-{100 + k:03d}", "scene": "S02", "order": 10_000 + k, "dialogue": []}
        )
        extra.append(s)
    doc.shots = doc.shots + extra
    path = export_shotlist_pdf(doc, tmp_path / "shotlist.pdf")
    reader = pypdf.PdfReader(str(path))
    assert len(reader.pages) >= 2
    box = reader.pages[0].mediabox
    assert box.width > box.height  # landscape
    pages = [page_text(p) for p in reader.pages]
    text = "".join(pages)
    for shot in doc.shots:
        assert shot.id in text
    assert all("镜号" in p and "分镜头脚本" in p for p in pages)  # heading row and title on every page
    assert "爸，你还没睡？" in text
    assert list(tmp_path.iterdir()) == [path]  # written atomically: no temporary files left


def test_pdf_of_a_document_without_shots_still_prints(tmp_path: Path) -> None:
    doc = document_from_screenplay(en_screenplay())
    path = export_shotlist_pdf(doc, tmp_path / "empty.pdf")
    reader = pypdf.PdfReader(str(path))
    assert len(reader.pages) == 1
    assert "kaipaiplan" in page_text(reader.pages[0])
