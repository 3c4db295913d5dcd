"""Tables that stay fast at feature length.

Rich lays out a table cell by cell (about a millisecond a row); a 1,660-shot film's shot
list or status took seconds to print. Up to :data:`RICH_ROWS` rows a Rich table is printed
as before; longer ones are printed as aligned columns with the same headers, colours and
title, written straight to the terminal (no markup to parse, no cell measuring), the last
column wrapped under itself. Callers choose: ``len(rows) > RICH_ROWS``.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

from rich.color import ColorSystem
from rich.console import Console
from rich.style import Style

RICH_ROWS = 200
COLUMN = 24  # the widest a column other than the last grows; longer cells end in …
_TAG = re.compile(r"\[(/?[a-z][a-z ]*)\]")


@dataclass
class Cell:
    """One cell: plain text (may hold line breaks in the last column) and a Rich style."""

    text: str
    style: str = ""


def print_long_table(console: Console, title: str, headers: list[str], rows: list[list[Cell]]) -> None:
    """Print ``rows`` under ``headers`` as aligned columns; the last column is free text, wrapped under itself."""
    cells = [[_clip(c) for c in r[:-1]] for r in rows]  # (text, width, style) of the aligned columns
    widths = [max([len(h)] + [r[i][1] for r in cells]) for i, h in enumerate(headers[:-1])]
    start = sum(widths) + 2 * len(widths)
    room = max(20, console.width - start)
    paint = _painter(console)
    header = "  ".join(h.ljust(w) for h, w in zip(headers, [*widths, 0])).rstrip()
    out = [paint(title, "italic"), "\n", paint(header, "bold"), "\n"]
    pad = "\n" + " " * start
    done: dict[tuple[str, str, int], str] = {}  # a status table repeats a handful of cells thousands of times
    for row, clipped in zip(rows, cells):
        for (text, width, style), column in zip(clipped, widths):
            key = (text, style, column)
            if key not in done:
                done[key] = paint(text, style) + " " * (column - width + 2)
            out.append(done[key])
        last = row[-1]
        lines = [wrapped for line in last.text.split("\n") for wrapped in _wrap(line, room)]
        out.append(paint(pad.join(lines), last.style) + "\n")
    console.file.write("".join(out))
    console.file.flush()


def _painter(console: Console) -> Callable[[str, str], str]:
    """Text in a Rich style as the terminal's escape codes (as is when the output has no colour)."""
    system = {"standard": ColorSystem.STANDARD, "256": ColorSystem.EIGHT_BIT, "truecolor": ColorSystem.TRUECOLOR}.get(
        console.color_system or ""
    )
    if system is None or console.no_color:
        return lambda text, _style: text
    styles: dict[str, Style] = {}

    def paint(text: str, style: str) -> str:
        if not style or not text:
            return text
        if style not in styles:
            styles[style] = Style.parse(style)
        return styles[style].render(text, color_system=system)

    return paint


def _wrap(line: str, room: int) -> list[str]:
    if _width(line) <= room:
        return [line]
    if not line.isascii():
        return textwrap.wrap(line, room, break_long_words=True, replace_whitespace=False) or [""]
    out, current = [], ""
    for word in line.split(" "):
        while len(word) > room:
            if current:
                out.append(current)
                current = ""
            out.append(word[:room])
            word = word[room:]
        if current and len(current) + 1 + len(word) > room:
            out.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    out.append(current)
    return out


def _clip(cell: Cell) -> tuple[str, int, str]:
    """The cell's text (ending in … past :data:`COLUMN` columns), its width and its style."""
    text, width = cell.text, _width(cell.text)
    if width > COLUMN:
        while _width(text) > COLUMN - 1:
            text = text[:-1]
        text, width = text + "…", _width(text) + 1
    return text, width, cell.style


def _width(text: str) -> int:
    """Terminal columns of a short cell: East Asian wide characters take two."""
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def markup_cell(text: str) -> Cell:
    """A cell from simple Rich markup such as ``[green]current[/]`` (one style for the whole cell)."""
    match = _TAG.match(text)
    if match and text.endswith("[/]"):
        return Cell(text[match.end() : -3], match.group(1))
    return Cell(_TAG.sub("", text))
