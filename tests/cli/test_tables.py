"""The table helper every listing uses: widths for the terminal, ids whole, text shortened with …"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console

from kaipai.cli.tables import Col, layout, print_notes, print_table, shorten

words = st.text(alphabet=st.sampled_from("ab -_[]/林夏：…0"), min_size=0, max_size=40)
kinds = st.sampled_from(["id", "state", "text"])


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[Col], list[list[str]], int]:
    n = draw(st.integers(1, 8))
    columns = [
        Col(
            f"c{i}",
            draw(kinds),
            min_width=draw(st.integers(1, 20)),
            max_width=draw(st.none() | st.integers(1, 60)),
            optional=draw(st.none() | st.integers(1, 5)),
        )
        for i in range(n)
    ]
    rows = draw(st.lists(st.lists(words, min_size=n, max_size=n), max_size=6))
    return columns, rows, draw(st.integers(20, 200))


def natural(column: Col, rows: list[list[str]], i: int) -> int:
    return max([cell_len(column.header), *(cell_len(line) for row in rows for line in row[i].split("\n"))])


@given(tables())
def test_ids_stay_whole_text_shares_the_rest_and_only_optional_columns_go(table) -> None:
    columns, rows, width = table
    widths = layout(columns, rows, width)
    shown = [i for i, w in enumerate(widths) if w is not None]
    assert all(columns[i].optional is not None for i, w in enumerate(widths) if w is None)
    for i in shown:
        full = natural(columns[i], rows, i)
        if columns[i].kind != "text":
            assert widths[i] == full  # an id or a state is never cut
        else:
            cap = full if columns[i].max_width is None else min(full, columns[i].max_width)
            assert min(cap, columns[i].min_width) <= widths[i] <= cap
    least = 2 * (len(shown) - 1) + sum(
        widths[i] if columns[i].kind != "text" else min(widths[i], columns[i].min_width) for i in shown
    )
    if least <= width:  # whenever the shown columns can fit, they do
        assert sum(widths[i] for i in shown) + 2 * (len(shown) - 1) <= width
    every = 2 * (len(columns) - 1) + sum(
        natural(c, rows, i) if c.kind != "text" else min(natural(c, rows, i), c.max_width or 10**6, c.min_width)
        for i, c in enumerate(columns)
    )
    if every <= width:  # nothing is left out that would have fitted
        assert None not in widths


@given(words, st.integers(1, 50))
def test_shortened_text_fits_and_ends_in_an_ellipsis_only_when_cut(line: str, width: int) -> None:
    short = shorten(line, width)
    if cell_len(line) <= width:
        assert short == line
    else:
        assert short.endswith("…") and cell_len(short) <= width and line.startswith(short[:-1].rstrip())


def render(width: int, *args, **kwargs) -> str:
    console = Console(width=width, record=True, color_system=None)
    with console.capture() as captured:
        print_table(*args, console=console, **kwargs)
    return captured.get()


def test_a_narrow_terminal_shortens_text_and_leaves_out_optional_columns_and_says_so() -> None:
    columns = [Col("shot", "id"), Col("state", "state"), Col("note", min_width=10), Col("file", optional=1)]
    rows = [["S01-001-LONG-ID", "✓", "空镜：雨夜的城市，路灯下空荡的公交站台。" * 2, "x" * 30]]
    narrow = render(40, "t", columns, rows, legend="✓ current")
    lines = narrow.splitlines()
    assert all(cell_len(line.rstrip()) <= 40 for line in lines)
    row = next(line for line in lines if line.startswith("S01-001-LONG-ID"))
    assert "…" in row and "file" not in lines[1]
    assert "✓ current" in narrow and "a wider terminal shows file" in narrow
    wide = render(200, "t", columns, rows)
    assert "x" * 30 in wide and "…" not in wide and "wider terminal" not in wide


def test_cells_are_text_not_markup() -> None:
    out = render(80, "t", [Col("name", "id"), Col("hint")], [["[bold]kling[/]", "under [dashscope] in config"]])
    assert "[bold]kling[/]" in out and "[dashscope]" in out


def test_notes_wrap_under_their_label_and_keep_brackets() -> None:
    console = Console(width=50, color_system=None)
    hint = "the DashScope API key is not set: add api_key under [dashscope] in ~/.config/kaipai/config.toml"
    with console.capture() as captured:
        print_notes([("dashscope", hint)], title="to set up", console=console)
    text = captured.get()
    assert "[dashscope]" in text and all(cell_len(line.rstrip()) <= 50 for line in text.splitlines())
    assert text.splitlines()[2].startswith(" " * 13)  # the second line of the hint starts under its first
