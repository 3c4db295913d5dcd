"""A fast reader for ``kaipai.yaml``: libyaml's C parser with YAML 1.2 scalar rules.

ruamel's round-trip parser keeps comments but is pure Python: a feature film's document
(1,660 shots, 2 MB) takes seconds. Reading only needs the values, so this module parses with
PyYAML's C parser and resolves plain scalars with ruamel's own YAML 1.2 table, so that both
read the same file as the same values. Anything it is not sure of (a tag, an anchor shared
between blocks, a merge key, a timestamp, an octal or an ``.inf``, a duplicate key, a syntax
error) raises :class:`NotPlain` and the caller reads the file with ruamel, which either
agrees or reports the located error. It also returns the :class:`Layout` of the text (where
each top-level key and each item of a top-level list starts), which saving uses to rewrite
only the blocks that changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

STR, INT, FLOAT, BOOL, NULL, OTHER, MAP, SEQ = (
    "kaipai:str",
    "kaipai:int",
    "kaipai:float",
    "kaipai:bool",
    "kaipai:null",
    "kaipai:other",
    "kaipai:map",
    "kaipai:seq",
)
_TAGS = {
    "tag:yaml.org,2002:bool": BOOL,
    "tag:yaml.org,2002:int": INT,
    "tag:yaml.org,2002:float": FLOAT,
    "tag:yaml.org,2002:null": NULL,
}


@cache
def _resolvers() -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    """First character -> [(tag, regexp)]: YAML 1.2 as ruamel resolves it (one table for reading and writing)."""
    from ruamel.yaml.resolver import implicit_resolvers

    table: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
    for versions, tag, regexp, first in implicit_resolvers:
        if (1, 2) in versions:
            for ch in first:
                table.setdefault(ch, []).append((_TAGS.get(tag, OTHER), regexp))
    return table


_SIMPLE_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\Z")
_SIMPLE_FLOAT = re.compile(r"[-+]?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?\Z")
#: breaks a YAML 1.1 parser folds and a 1.2 one keeps: such a text is left to ruamel
_UNICODE_BREAKS = re.compile("[\x85\u2028\u2029]")
#: other breaks: with any of them, marks' line numbers are not the text's ``\n`` lines
_ODD_BREAKS = re.compile("[\r\x0b\x0c]")


class NotPlain(Exception):
    """This text needs the round-trip parser (to read it the same way, or to locate an error)."""


def plain_tag(value: str) -> str:
    """What a plain (unquoted) scalar ``value`` reads as under YAML 1.2: STR, INT, FLOAT, BOOL, NULL or OTHER."""
    for tag, regexp in _resolvers().get(value[:1], ()):
        if regexp.match(value):
            return tag
    return STR


@dataclass
class Item:
    """One item of a top-level block list: its id (when it is a mapping with one) and first line."""

    id: str | None
    line: int


@dataclass
class Block:
    """A top-level key: the line it starts on and, for a block list, where each item starts."""

    key: str
    line: int
    items: list[Item] | None = None  # None: not a block list of items (a scalar, a mapping, a flow list…)
    dash: int = 0  # the column of the items' dashes


@dataclass
class Layout:
    """Where the blocks of a document text start (0-based line numbers); ``lines`` is the text's line count."""

    lines: int
    blocks: list[Block] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "blocks": [
                [b.key, b.line, b.dash, None if b.items is None else [[i.id, i.line] for i in b.items]]
                for b in self.blocks
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Layout:
        return cls(
            lines=int(data["lines"]),
            blocks=[
                Block(key, line, None if items is None else [Item(i, n) for i, n in items], dash)
                for key, line, dash, items in data["blocks"]
            ],
        )


@cache
def _parser_class() -> type | None:
    """libyaml's parser and composer with kaipai's resolver (private tags: an explicit tag stays unknown)."""
    try:  # the C extension ships in PyYAML's wheels; without it ruamel reads everything
        from yaml import MappingNode, ScalarNode
        from yaml._yaml import CParser
    except ImportError:  # pragma: no cover - a PyYAML built without libyaml
        return None

    class Parser(CParser):  # type: ignore[misc,valid-type]
        def descend_resolver(self, *_args: Any) -> None:
            pass

        def ascend_resolver(self, *_args: Any) -> None:
            pass

        def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
            if kind is ScalarNode:
                return plain_tag(value) if implicit[0] else STR
            return MAP if kind is MappingNode else SEQ

    return Parser


def read(text: str) -> tuple[Any, Layout | None]:
    """The document's plain data (dicts, lists, str, int, float, bool, None) and its layout.

    Raises NotPlain when the text must go through the round-trip parser instead.
    """
    parser_class = _parser_class()
    if parser_class is None:
        raise NotPlain("the C YAML parser is not installed")
    if text.startswith("%") or "\n%" in text:
        raise NotPlain("a YAML directive")
    if _UNICODE_BREAKS.search(text):
        raise NotPlain("a Unicode line break")
    parser = parser_class(text)
    try:
        root = parser.get_single_node()
    except Exception as exc:  # any YAML error: the round-trip parser locates it
        raise NotPlain(str(exc)) from None
    finally:
        parser.dispose()
    if root is None:
        raise NotPlain("empty")
    seen: set[int] = set()
    data = _build(root, seen)
    layout = None if _ODD_BREAKS.search(text) else _layout(root, text)
    return data, layout


def _build(node: Any, seen: set[int]) -> Any:
    tag = node.tag
    if tag == STR:
        return node.value
    if tag in (MAP, SEQ):
        if id(node) in seen:  # an alias: shared between blocks, so blocks cannot be rewritten alone
            raise NotPlain("an alias")
        seen.add(id(node))
        if tag == SEQ:
            return [_build(v, seen) for v in node.value]
        out: dict[str, Any] = {}
        for k, v in node.value:
            if k.tag != STR:
                raise NotPlain("a key that is not a string")
            if k.value in out:
                raise NotPlain("a duplicate key")
            out[k.value] = _build(v, seen)
        return out
    value = node.value
    if tag == INT and _SIMPLE_INT.match(value):
        return int(value)
    if tag == FLOAT and _SIMPLE_FLOAT.match(value):
        return float(value)
    if tag == BOOL:
        return value[0] in "tT"
    if tag == NULL:
        return None
    raise NotPlain(f"a scalar read differently by YAML parsers: {value!r}")


def _layout(root: Any, text: str) -> Layout | None:
    """Where each top-level key and list item starts, or None when the text is not laid out in blocks."""
    if root.tag != MAP or root.flow_style:
        return None
    lines = text.split("\n")
    count = len(lines) - (1 if text.endswith("\n") else 0)
    blocks: list[Block] = []
    for key, value in root.value:
        if key.start_mark.column != 0 or (blocks and key.start_mark.line <= blocks[-1].line):
            return None
        block = Block(key.value, key.start_mark.line)
        if value.tag == SEQ and not value.flow_style and value.value:
            block.items = _items(value, lines, key.start_mark.line)
            if block.items:
                block.dash = value.value[0].start_mark.column - 2
        blocks.append(block)
    return Layout(lines=count, blocks=blocks)


def _items(seq: Any, lines: list[str], key_line: int) -> list[Item] | None:
    """Items that each start a line with ``- `` at one column, after the key's line; else None."""
    items: list[Item] = []
    column = seq.value[0].start_mark.column
    last = key_line
    for node in seq.value:
        mark = node.start_mark
        prefix = lines[mark.line][: mark.column]
        if mark.column != column or column < 2 or prefix != " " * (column - 2) + "- " or mark.line <= last:
            return None
        ident = None
        if node.tag == MAP:
            ident = next((v.value for k, v in node.value if k.value == "id" and v.tag == STR), None)
        items.append(Item(ident, mark.line))
        last = mark.line
    return items
