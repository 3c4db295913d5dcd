"""Problems in a document, located at the file, line and column the director must look at."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from kaipai.document.messages import plain_message

ELEMENT_KINDS = "action, dialogue, transition, section, caption, cutaway, centered, lyric, note, synopsis, episode"


@dataclass(frozen=True)
class Problem:
    """One located problem in a document."""

    file: str
    line: int  # 1-based; 0 when unknown
    column: int  # 1-based; 0 when unknown
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        return f"{where}: {self.field or '(document)'}: {self.message}"


class DocumentError(Exception):
    """The document cannot be used as it is; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def validation_problems(exc: ValidationError, tree: Any, filename: str) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = _without_tags(tree, tuple(err["loc"]))
        ctx = err.get("ctx", {})
        if err["type"] == "union_tag_invalid":
            loc = (*loc, str(ctx.get("discriminator", "type")).strip("'"))
            msg = f"unknown kind {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
        elif err["type"] == "union_tag_not_found":
            loc = (*loc, str(ctx.get("discriminator", "type")).strip("'"))
            msg = f"this field is required: say what kind of element this is, e.g. type: action ({ELEMENT_KINDS})"
        elif err["type"] == "extra_forbidden":
            msg = "unknown field; check its spelling (see 'kaipai schema' for the fields allowed here)"
        else:
            msg = plain_message(err)
        if (
            err["type"] not in ("extra_forbidden", "missing", "union_tag_not_found")
            and "input" in err
            and not isinstance(err["input"], (dict, list))
        ):
            msg = f"{msg} (got {err['input']!r})"
        problems.append(locate(tree, loc, msg, filename))
    return problems


def _without_tags(tree: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop the kind pydantic puts in the path of a tagged union (``elements.1.dialogue.text``)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    node, out = tree, []
    for part in loc:
        if isinstance(node, CommentedMap) and part not in node and node.get("type") == part:
            continue
        out.append(part)
        in_map = isinstance(node, CommentedMap) and part in node
        in_seq = isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node)
        node = node[part] if in_map or in_seq else None
    return tuple(out)


def locate(tree: Any, loc: tuple[Any, ...], message: str, filename: str) -> Problem:
    """Find the line and column of the deepest node of ``loc`` that exists in the tree (ruamel's round-trip types)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    node = tree
    line, col = 1, 1
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            ln, cl = node.lc.key(part)
            line, col = ln + 1, cl + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            ln, cl = node.lc.item(part)
            line, col = ln + 1, cl + 1
            node = node[part]
        else:
            break
    path = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
    return Problem(filename, line, col, path, message)
