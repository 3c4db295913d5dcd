"""ruamel's round trip as kaipai uses it: one set of output settings, and merging a model into a tree.

Saving never rebuilds the YAML tree: the validated model is merged into the tree it was read
from, so comments, key order, quoting and flow style the director chose stay where they were.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.emitter import RoundTripEmitter
from ruamel.yaml.scalarstring import LiteralScalarString


class _Emitter(RoundTripEmitter):
    """ruamel's emitter, except that plain text holding a run of spaces is never folded.

    Folding a plain scalar turns its line break into one space and drops the spaces before it, and
    ruamel breaks before a word that overflows the line even after two spaces: "hungry.  I'm" came
    back "hungry. I'm", a different line, re-voiced and paid for again. Such text stays on one line.
    """

    def write_plain(self, text: Any, split: Any = True) -> None:
        if "  " not in text:
            super().write_plain(text, split)
            return
        width, self.best_width = self.best_width, 1 << 30
        try:
            super().write_plain(text, split)
        finally:
            self.best_width = width


def rt_yaml() -> YAML:
    """The round-trip parser and emitter, with kaipai's output settings."""
    y = YAML(typ="rt")
    y.Emitter = _Emitter
    y.preserve_quotes = True
    y.width = 100
    y.indent(mapping=2, sequence=4, offset=2)
    y.allow_unicode = True
    return y


def plain(node: Any) -> Any:
    """Round-trip YAML types to plain Python for validation."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def merge(node: Any, full: Any, minimal: Any) -> Any:
    """Bring a YAML node up to date with ``full``; keys absent from the node are added only when
    they differ from the default (``minimal``), so hand-written files stay short."""
    if isinstance(full, dict):
        target = node if isinstance(node, CommentedMap) else CommentedMap()
        minimal = minimal if isinstance(minimal, dict) else {}
        for key in list(target.keys()):
            if key not in full:
                del target[key]
        for key, value in full.items():
            if key in target:
                target[key] = merge(target[key], value, minimal.get(key, value))
            elif key in minimal:
                target[key] = merge(None, value, minimal[key])
        return target
    if isinstance(full, list):
        target = node if isinstance(node, CommentedSeq) else CommentedSeq()
        minimal = minimal if isinstance(minimal, list) and len(minimal) == len(full) else full
        if full and all(isinstance(v, dict) and "id" in v for v in full):
            by_id = {item.get("id"): item for item in target if isinstance(item, CommentedMap)}
            merged = [merge(by_id.get(v["id"]), v, m) for v, m in zip(full, minimal)]
        else:
            merged = [
                merge(target[i] if i < len(target) else None, v, m) for i, (v, m) in enumerate(zip(full, minimal))
            ]
        if len(target) == len(merged) and all(a is b for a, b in zip(target, merged)):
            return target
        comments = target.ca.items if isinstance(target, CommentedSeq) else {}
        kept = {id(item): i for i, item in enumerate(target)}
        old_comments = dict(comments)
        del target[:]
        target.ca.items.clear()
        for i, item in enumerate(merged):
            target.append(item)
            j = kept.get(id(item))
            if j is not None and j in old_comments:
                target.ca.items[i] = old_comments[j]
        return target
    if node is not None and not isinstance(node, (dict, list)) and same_scalar(node, full):
        return node
    if isinstance(full, str) and "\n" in full:
        return LiteralScalarString(full)
    return full


def same_scalar(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    return str(a) == str(b) if isinstance(a, str) and isinstance(b, str) else a == b
