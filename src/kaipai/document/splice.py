"""Save a document by rewriting only the blocks that changed.

A feature-length ``kaipai.yaml`` holds thousands of shots; writing all of it through ruamel
takes seconds, and an edit in the studio changes one shot. Using the file's :class:`Layout`
(where each top-level key and each item of the ``shots``/``scenes`` lists starts), the new
text keeps every unchanged block byte for byte, comments and hand formatting included, and
writes each changed block on its own:

- a block that is exactly what kaipai would write for its old value (no comment, no hand
  formatting) is written by :mod:`kaipai.document.emitter`, merged the way ruamel merges;
- any other block goes through ruamel's round trip on its own, keeping its comments;
- new blocks (a new shot, a new key) are written by the emitter.

What the emitter wrote is read back with the C reader before it is used: every block of an
edit, and of a bulk write (a plan, a new document) the blocks with double-quoted or ``|``
scalars, the intricate rules; if one does not read back as meant, the whole tree is saved by
ruamel instead. (Plain and single-quoted text only ever breaks at single spaces.) :func:`splice` returns None when the
text cannot be spliced (an old format version, flow style at the top, an alias), and the
caller saves the whole tree with ruamel as before.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from kaipai.document.emitter import block_and_risk, emit_block, emit_item, item_and_risk, restyled
from kaipai.document.models import SCHEMA_VERSION, Document
from kaipai.document.roundtrip import merge, rt_yaml, same_scalar
from kaipai.document.yaml12 import Block, Item, Layout, NotPlain, read

__all__ = ["compose", "merge_plain", "splice"]


#: Up to this many blocks written, every one is read back; a bulk write reads back the intricate ones.
BULK = 64


class _Fallback(Exception):
    pass


def merge_plain(old: Any, full: Any, minimal: Any) -> Any:
    """:func:`kaipai.document.roundtrip.merge` on plain data: what a merge into a tree made of ``old`` writes."""
    if isinstance(full, dict):
        target = dict(old) if isinstance(old, dict) else {}
        minimal = minimal if isinstance(minimal, dict) else {}
        for key in [k for k in target if k not in full]:
            del target[key]
        for key, value in full.items():
            if key in target:
                target[key] = merge_plain(target[key], value, minimal.get(key, value))
            elif key in minimal:
                target[key] = merge_plain(None, value, minimal[key])
        return target
    if isinstance(full, list):
        minimal = minimal if isinstance(minimal, list) and len(minimal) == len(full) else full
        old = old if isinstance(old, list) else []
        if full and all(isinstance(v, dict) and "id" in v for v in full):
            by_id = {item.get("id"): item for item in old if isinstance(item, dict)}
            return [merge_plain(by_id.get(v["id"]), v, m) for v, m in zip(full, minimal)]
        return [merge_plain(old[i] if i < len(old) else None, v, m) for i, (v, m) in enumerate(zip(full, minimal))]
    if old is not None and not isinstance(old, (dict, list)) and same_scalar(old, full):
        return old
    return full


def _field(doc: Document, key: str) -> tuple[Any, Any]:
    """A top-level field as JSON data, in full and without defaults (None when it is all default)."""
    full = doc.model_dump(mode="json", include={key})[key]
    return full, full if key == "version" else _minimal(doc, key)


def _minimal(doc: Document, key: str) -> Any:
    """A top-level field without defaults (None when it is all default); the version is always written,
    as a full save writes it."""
    if key == "version":
        return doc.model_dump(mode="json", include={key})[key]
    return doc.model_dump(mode="json", exclude_defaults=True, include={key}).get(key)


@dataclass
class _Piece:
    """A top-level block of the new text: its head (the whole block when it has no items) and its items."""

    key: str
    head: str
    items: list[tuple[str, str]] | None = None  # (id, text)
    dash: int = 2


class _Splicer:
    def __init__(self, text: str, layout: Layout, old: Document, new: Document) -> None:
        self.text = text if text.endswith("\n") or not text else text + "\n"
        self.starts = [0, *(m.end() for m in re.finditer("\n", self.text))]  # where each line starts
        self.layout, self.old, self.new = layout, old, new
        self.pieces: list[_Piece] = []
        self.checks: list[tuple[str, Any, int, bool]] = []  # (emitted text, value meant, piece index, intricate)

    def text_of(self, start: int, end: int) -> str:
        """Lines ``start`` to ``end`` (exclusive), each ending with a line break."""
        last = len(self.starts) - 1
        return self.text[self.starts[min(start, last)] : self.starts[min(end, last)]]

    def run(self) -> tuple[str, Layout]:
        blocks = self.layout.blocks
        ends = [b.line for b in blocks[1:]] + [self.layout.lines]
        version = next((b for b in blocks if b.key == "version"), None)
        if version is None or self.text_of(version.line, version.line + 1) != f"version: {SCHEMA_VERSION}\n":
            raise _Fallback  # an older format: the whole file is upgraded through ruamel
        fields = Document.model_fields
        if any(b.key not in fields for b in blocks) or len({b.key for b in blocks}) != len(blocks):
            raise _Fallback
        preamble = self.text_of(0, blocks[0].line)
        present = {b.key for b in blocks}
        for block, end in zip(blocks, ends):
            self.block(block, end)
        for key in fields:  # keys the file did not have are added at its end, as a merge adds them
            if key not in present:
                full, minimal = _field(self.new, key)
                if minimal is not None:
                    self.emitted(key, merge_plain(None, full, minimal))
        self.verify()
        return self.assemble(preamble)

    # ------------------------------------------------------------------ one top-level key

    def block(self, block: Block, end: int) -> None:
        key = block.key
        old, new = getattr(self.old, key), getattr(self.new, key)
        text = self.text_of(block.line, end)
        if old == new:
            if block.items:
                stops = [i.line for i in block.items[1:]] + [end]
                items = [(i.id or "", self.text_of(i.line, stop)) for i, stop in zip(block.items, stops)]
                self.pieces.append(_Piece(key, self.text_of(block.line, block.items[0].line), items, block.dash))
            else:
                self.pieces.append(_Piece(key, text))
            return
        if block.items and block.dash == 2 and isinstance(new, list) and new and self.items_ok(block, old):
            head = self.text_of(block.line, block.items[0].line)
            if re.match(rf"{key}:\s*(#.*)?\n", head):
                self.list_block(block, end, head)
                return
        full, minimal = _field(self.new, key)
        old_minimal = _minimal(self.old, key)
        meant = None if old_minimal is None else merge_plain(old_minimal, full, full if minimal is None else minimal)
        if old_minimal is not None and emit_block(key, old_minimal) == text and not restyled(old_minimal, meant):
            self.emitted(key, meant)
        else:
            self.pieces.append(_Piece(key, _ruamel_block(text, key, full, full if minimal is None else minimal)))

    def items_ok(self, block: Block, old: Any) -> bool:
        ids = [i.id for i in block.items or []]
        return (
            isinstance(old, list)
            and len(old) == len(ids)
            and all(getattr(o, "id", None) == i for o, i in zip(old, ids))
            and None not in ids
            and len(set(ids)) == len(ids)
        )

    def list_block(self, block: Block, end: int, head: str) -> None:
        items = block.items or []
        stops = [i.line for i in items[1:]] + [end]
        olds = getattr(self.old, block.key)
        old_by_id = {i.id: (o, self.text_of(i.line, stop)) for i, o, stop in zip(items, olds, stops)}
        out: list[tuple[str, str]] = []
        index = len(self.pieces)
        for value in getattr(self.new, block.key):
            found = old_by_id.get(value.id)
            if found is not None and found[0] == value:
                out.append((value.id, found[1]))
                continue
            full, minimal = value.model_dump(mode="json"), value.model_dump(mode="json", exclude_defaults=True)
            if found is None:
                meant = merge_plain(None, full, minimal)
            else:
                old_minimal = found[0].model_dump(mode="json", exclude_defaults=True)
                meant = merge_plain(old_minimal, full, minimal)
                if emit_item(old_minimal) != found[1] or restyled(old_minimal, meant):  # comments, formatting
                    out.append((value.id, _ruamel_item(found[1], block.key, full, minimal)))
                    continue
            written = item_and_risk(meant)
            if written is None:
                out.append((value.id, _ruamel_item(found[1] if found else None, block.key, full, minimal)))
            else:
                self.checks.append((written[0], meant, index, written[1]))
                out.append((value.id, written[0]))
        self.pieces.append(_Piece(block.key, head, out))

    def emitted(self, key: str, meant: Any) -> None:
        """A block written from scratch: a list of items with ids item by item (so its layout knows them)."""
        index = len(self.pieces)
        if (
            isinstance(meant, list)
            and meant
            and all(isinstance(v, dict) and isinstance(v.get("id"), str) for v in meant)
        ):
            items: list[tuple[str, str]] = []
            for value in meant:
                written = item_and_risk(value)
                if written is None:
                    text = _ruamel_item(None, key, value, value)
                else:
                    text = written[0]
                    self.checks.append((text, value, index, written[1]))
                items.append((value["id"], text))
            self.pieces.append(_Piece(key, f"{key}:\n", items))
            return
        block = block_and_risk(key, meant)
        if block is None:
            text = _ruamel_block(None, key, meant, meant)
        else:
            text = block[0]
            self.checks.append((text, {key: meant}, index, block[1]))
        self.pieces.append(_Piece(key, text))

    # ------------------------------------------------------------------ reading back what was emitted

    def verify(self) -> None:
        """Read every emitted block back (one pass per list) and compare it with what was meant."""
        by_piece: dict[int, list[tuple[str, Any]]] = {}
        every = len(self.checks) <= BULK
        for text, meant, index, intricate in self.checks:
            if every or intricate:
                by_piece.setdefault(index, []).append((text, meant))
        for index, checks in by_piece.items():
            piece = self.pieces[index]
            if piece.items is None:
                body, expected = checks[0]
            else:
                body = f"{piece.key}:\n" + "".join(t for t, _ in checks)
                expected = {piece.key: [m for _, m in checks]}
            try:
                data, _ = read(body)
            except NotPlain:
                raise _Fallback from None
            if data != expected:
                raise _Fallback

    def assemble(self, preamble: str) -> tuple[str, Layout]:
        parts = [preamble]
        line = preamble.count("\n")
        blocks: list[Block] = []
        for piece in self.pieces:
            block = Block(piece.key, line)
            parts.append(piece.head)
            line += piece.head.count("\n")
            if piece.items is not None:
                block.items, block.dash = [], piece.dash
                for ident, text in piece.items:
                    block.items.append(Item(ident, line))
                    parts.append(text)
                    line += text.count("\n")
            blocks.append(block)
        return "".join(parts), Layout(lines=line, blocks=blocks)


def _ruamel_block(text: str | None, key: str, full: Any, minimal: Any) -> str:
    """One top-level block through ruamel's round trip (comments in ``text`` kept)."""
    y = rt_yaml()
    tree = y.load(text) if text else None
    tree = merge(tree, {key: full}, {key: minimal})
    buf = io.StringIO()
    y.dump(tree, buf)
    return buf.getvalue()


def _ruamel_item(text: str | None, key: str, full: Any, minimal: Any) -> str:
    """One list item through ruamel's round trip, as it sits under ``key:``."""
    dumped = _ruamel_block(f"{key}:\n{text}" if text else None, key, [full], [minimal])
    head, _, body = dumped.partition("\n")
    if head != f"{key}:" or not body.startswith("  - "):
        raise _Fallback
    return body


def splice(text: str, layout: Layout | None, old: Document, new: Document) -> tuple[str, Layout] | None:
    """The text of ``new`` made from ``text`` (which reads as ``old``), rewriting only what changed.

    Returns the new text and its layout, or None when the whole tree must be saved by ruamel.
    """
    if layout is None or not layout.blocks:
        return None
    try:
        return _Splicer(text, layout, old, new).run()
    except _Fallback:
        return None


def compose(doc: Document, preamble: str = "") -> tuple[str, Layout] | None:
    """The text of a brand-new document (after ``preamble``, a comment header), as a full save writes it."""
    splicer = _Splicer(preamble, Layout(lines=preamble.count("\n")), doc, doc)
    try:
        for key in Document.model_fields:
            full, minimal = _field(doc, key)
            if minimal is not None:
                splicer.emitted(key, merge_plain(None, full, minimal))
        splicer.verify()
    except _Fallback:
        return None
    return splicer.assemble(preamble)
