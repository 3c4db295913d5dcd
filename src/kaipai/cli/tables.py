"""Tables designed for an 80-column terminal that show more on a wider one.

Every listing (shots, status, takes, backends …) is printed by :func:`print_table`. Each column
says what kind of text it holds, and the widths are worked out here, once, for the terminal:

- ``id``: shot ids, take ids, backend names, numbers: always whole, never wrapped or cut;
- ``state``: short symbols (✓ ○ ↻ ✗ —) explained by a legend under the table;
- ``text``: names, descriptions, messages: one line per line of text, shortened with an ellipsis
  when the terminal is narrow (never wrapped into a column a few characters wide);
- a column may be ``optional`` (a rank): on a narrow terminal the highest rank goes first, and the
  table says what it left out; ``--json`` always has everything.

Cells are plain text, never markup: a name with brackets prints as written. A cell that needs a
colour is a :class:`rich.text.Text` (see :func:`styled`).

Rich lays a table out cell by cell (about a millisecond a row), so a feature film's shot list or
status would take seconds; past :data:`RICH_ROWS` rows the same layout is written as aligned
columns straight to the terminal, each distinct cell painted once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from rich import box
from rich.cells import cell_len
from rich.color import ColorSystem
from rich.console import Console
from rich.padding import Padding
from rich.style import Style
from rich.table import Table
from rich.text import Text

from kaipai.cli.app import console as default_console

Kind = Literal["id", "state", "text"]
Cell = str | Text

#: How a render node's state reads in a table; the legend under a status table explains them.
STATE_SYMBOL = {
    "current": ("✓", "green"),
    "missing": ("○", "cyan"),
    "stale": ("↻", "yellow"),
    "failed": ("✗", "bold red"),
    "blocked": ("⊘", "red"),
    "none": ("—", "dim"),
}
#: How a take's status reads in a table (``kaipai takes``, ``kaipai qc SHOT``).
TAKE_STATUS = {"circled": ("● circled", "green"), "pending": ("○ pending", ""), "rejected": ("✗ rejected", "dim")}
#: Longer tables are written as aligned columns instead of a Rich table (same layout, no box).
RICH_ROWS = 200
#: The narrowest a note's text becomes beside its label before it moves under it.
NOTE_MIN = 32
STATE_LEGEND = "✓ current  ○ missing  ↻ stale  ✗ failed  ⊘ blocked  — not needed"


@dataclass
class Col:
    """One column: its header, the kind of text it holds, and how narrow it may become."""

    header: str
    kind: Kind = "text"
    #: the narrowest a text column becomes before an optional column is left out
    min_width: int = 8
    #: a text column grows no wider than this (None: as wide as its longest line)
    max_width: int | None = None
    #: None: always shown; a rank (1, 2, …): left out on a narrow terminal, highest rank first
    optional: int | None = None
    justify: Literal["left", "right"] = "left"


def styled(text: str, style: str) -> Text:
    """A cell in a colour (the text is taken as it is, never read as markup)."""
    return Text(text, style=style)


@functools.cache
def state_cell(state: str, detail: str = "") -> Text:
    """A render state as its symbol (``✓``, ``↻ 1/3``), coloured: one cell per state, shared by every
    row (a feature film's status table has tens of thousands of them; cells are never changed)."""
    symbol, style = STATE_SYMBOL.get(state, ("?", ""))
    return Text(f"{symbol} {detail}".rstrip(), style=style)


def _lines(cell: Cell) -> list[str]:
    return (cell.plain if isinstance(cell, Text) else cell).split("\n")


def _natural(col: Col, cells: list[Cell]) -> int:
    distinct = {line for cell in {id(c): c for c in cells}.values() for line in _lines(cell)}
    return max([cell_len(col.header), *(cell_len(line) for line in distinct)])


def layout(columns: Sequence[Col], rows: Sequence[Sequence[Cell]], width: int, gap: int = 2) -> list[int | None]:
    """Each column's width for a terminal ``width`` columns wide (None: the column is left out).

    ``id`` and ``state`` columns keep their natural width; text columns share what is left,
    none wider than it needs; optional columns go, highest rank first, while the text columns
    would fall below their ``min_width``.
    """
    naturals = [_natural(col, [row[i] for row in rows]) for i, col in enumerate(columns)]
    shown = list(range(len(columns)))

    def fixed(i: int) -> bool:
        return columns[i].kind != "text"

    def wanted(i: int) -> int:
        cap = columns[i].max_width
        return naturals[i] if cap is None or fixed(i) else min(naturals[i], cap)

    def room_in(cols: list[int]) -> tuple[int, int]:
        """The columns left to text columns, and what the text columns need at least."""
        room = width - gap * (len(cols) - 1) - sum(wanted(i) for i in cols if fixed(i))
        return room, sum(min(wanted(i), columns[i].min_width) for i in cols if not fixed(i))

    dropped: list[int] = []
    while True:
        room, needed = room_in(shown)
        droppable = [i for i in shown if columns[i].optional is not None]
        if room >= needed or not droppable:
            break
        dropped.append(max(droppable, key=lambda i: (columns[i].optional or 0, i)))
        shown.remove(dropped[-1])
    for i in reversed(dropped):  # a narrow column left out before a wide one may fit again
        if (fit := room_in(sorted([*shown, i])))[0] >= fit[1]:
            shown = sorted([*shown, i])
    room, _ = room_in(shown)
    flexible = [i for i in shown if not fixed(i)]
    widths: list[int | None] = [None] * len(columns)
    for i in shown:
        if fixed(i):
            widths[i] = wanted(i)
    # each text column gets its minimum, then the rest is water-filled: a column that wants less
    # than an equal share of what is left gets what it wants, the others split the remainder
    base = {i: min(wanted(i), columns[i].min_width) for i in flexible}
    left = max(room - sum(base.values()), 0)
    pending = sorted(flexible, key=lambda i: wanted(i) - base[i])
    while pending:
        share = left // len(pending)
        i = pending[0]
        if wanted(i) - base[i] <= share:
            widths[i] = wanted(i)
            left -= wanted(i) - base[i]
            pending.pop(0)
            continue
        for n, j in enumerate(pending):  # the first ones get a column more when it does not divide evenly
            widths[j] = base[j] + share + (1 if n < left - share * len(pending) else 0)
        break
    return widths


def print_table(
    title: str,
    columns: Sequence[Col],
    rows: Sequence[Sequence[Cell]],
    *,
    legend: str = "",
    console: Console | None = None,
) -> None:
    """Print ``rows`` under ``columns`` to fit the terminal, with the legend and what was left out under it.

    Columns with nothing in them are left out.
    """
    out = console or default_console
    keep = [i for i in range(len(columns)) if any(_lines(row[i]) != [""] for row in rows)]
    columns = [columns[i] for i in keep]
    rows = [[row[i] for i in keep] for row in rows]
    gap = 2
    widths = layout(columns, rows, out.width, gap)
    shown = [i for i, w in enumerate(widths) if w is not None]
    if len(rows) > RICH_ROWS:
        _print_aligned(out, title, [columns[i] for i in shown], [[row[i] for i in shown] for row in rows],
                       [widths[i] or 0 for i in shown], gap)  # fmt: skip
    else:
        _print_rich(out, title, columns, rows, widths, gap)
    notes = [legend] if legend else []
    hidden = [columns[i].header for i, w in enumerate(widths) if w is None]
    if hidden:
        notes.append(f"a wider terminal shows {', '.join(hidden)}; --json shows everything")
    for note in notes:
        out.print(Text(note, style="dim"))


def _print_rich(
    out: Console, title: str, columns: Sequence[Col], rows: Sequence[Sequence[Cell]], widths: list[int | None], gap: int
) -> None:
    table = Table(
        title=title or None,
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, gap - 1, 0, 0),
        header_style="bold",
    )
    shown = [i for i, w in enumerate(widths) if w is not None]
    for i in shown:
        col = columns[i]
        whole = col.kind != "text"  # folded onto a second line on an absurdly narrow terminal, never cut
        table.add_column(
            col.header,
            width=widths[i],
            no_wrap=not whole,
            overflow="fold" if whole else "ellipsis",
            justify=col.justify,
        )
    for row in rows:
        table.add_row(*(_fit(row[i], widths[i] or 0) if columns[i].kind == "text" else _text(row[i]) for i in shown))
    out.print(table)


def _print_aligned(
    out: Console, title: str, columns: Sequence[Col], rows: Sequence[Sequence[Cell]], widths: list[int], gap: int
) -> None:
    """The table as aligned lines written straight to the terminal: a cell that repeats (a state, a
    size) is shortened, padded and painted once."""
    paint = _painter(out)
    space = " " * gap
    header = space.join(_pad(col.header, w, col.justify) for col, w in zip(columns, widths, strict=True))
    lines = [paint(title, "bold"), paint(header.rstrip(), "bold")] if title else [paint(header.rstrip(), "bold")]
    done: dict[tuple[str, str, int, int], list[str]] = {}  # a cell's painted lines
    blank = [" " * w for w in widths]
    for row in rows:
        cells = []
        for n, (cell, col, w) in enumerate(zip(row, columns, widths, strict=True)):
            style = str(cell.style) if isinstance(cell, Text) else ""
            text = cell.plain if isinstance(cell, Text) else cell
            key = (text, style, w, n)
            if key not in done:
                parts = text.split("\n")
                if col.kind == "text":
                    parts = [shorten(part, w) for part in parts]
                done[key] = [paint(_pad(part, w, col.justify), style) for part in parts]
            cells.append(done[key])
        for k in range(max(len(c) for c in cells)):
            line = space.join(c[k] if k < len(c) else blank[n] for n, c in enumerate(cells))
            lines.append(line.rstrip())
    out.file.write("\n".join(lines) + "\n")
    out.file.flush()


def _pad(text: str, width: int, justify: str) -> str:
    room = max(0, width - cell_len(text))
    return " " * room + text if justify == "right" else text + " " * room


def _painter(console: Console) -> Callable[[str, str], str]:
    """Text in a Rich style as the terminal's escape codes (as it is when the output has no colour)."""
    system = {"standard": ColorSystem.STANDARD, "256": ColorSystem.EIGHT_BIT, "truecolor": ColorSystem.TRUECOLOR}.get(
        console.color_system or ""
    )
    if system is None or console.no_color:
        return lambda text, _style: text
    styles: dict[str, Style] = {}

    def paint(text: str, style: str) -> str:
        if not style or not text.strip():
            return text
        if style not in styles:
            styles[style] = Style.parse(style)
        return styles[style].render(text, color_system=system)

    return paint


def _text(cell: Cell) -> Text:
    return cell if isinstance(cell, Text) else Text(cell)


def shorten(line: str, width: int) -> str:
    """``line`` cut to ``width`` terminal columns, ending in … when cut (wide characters count two)."""
    if cell_len(line) <= width:
        return line
    out = ""
    for char in line:
        if cell_len(out + char) > width - 1:
            break
        out += char
    return out.rstrip() + "…"


def _fit(cell: Cell, width: int) -> Text:
    """A text cell with every line shortened to ``width`` (Rich would leave a gap before … after a wide character)."""
    fitted = "\n".join(shorten(line, width) for line in _lines(cell))
    if isinstance(cell, Text):
        if cell.spans:  # several styles: Rich shortens it
            return cell
        return Text(fitted, style=cell.style)
    return Text(fitted)


def print_notes(rows: Sequence[tuple[Cell, str]], *, title: str = "", console: Console | None = None) -> None:
    """Labelled notes (how to set a backend up, what a check found): each text wraps under itself.

    A note is prose to read whole, so it wraps instead of ending in …; when the labels leave it
    less than :data:`NOTE_MIN` columns, each text goes on its own line under its label.
    """
    out = console or default_console
    if title:
        out.print(Text(title, style="bold"))
    label_width = max((cell_len(_lines(label)[0]) for label, _ in rows), default=0)
    if out.width - label_width - 4 < NOTE_MIN:
        for label, text in rows:
            out.print(Text("  ") + _text(label))
            out.print(Padding(Text(text), (0, 0, 0, 6)))
        return
    grid = Table.grid(padding=(0, 2), pad_edge=False)
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for label, text in rows:
        grid.add_row(Text("  ") + _text(label), Text(text))
    out.print(grid)
