"""Reading the command line's tables back in tests.

Columns are at least two spaces apart and a cell holds at most one space in a row, so a row's
cells are its text split at runs of two or more spaces (an empty cell in the middle of a row is
not seen: use ``--json`` for data, the table for what a reader sees).
"""

from __future__ import annotations

import re


def rows(output: str, first: str = r"S\d") -> dict[str, list[str]]:
    """The table rows whose first cell matches ``first``, by that cell: their cells, left to right."""
    found: dict[str, list[str]] = {}
    for line in output.splitlines():
        if re.match(first, line.strip()):
            cells = re.split(r"\s{2,}", line.strip())
            found[cells[0]] = cells
    return found
