"""Getting a validated JSON object out of a chat model, whatever the endpoint supports.

The ladder: ``response_format: json_schema`` (strict) → ``json_object`` → a plain prompt
that carries the schema. The first mode the endpoint accepts is remembered. Every reply is
parsed and validated (the pydantic reply model plus the caller's own checks); a reply with
violations gets one repair round that quotes them. A reply still invalid after that is
raised as :class:`InvalidReply`, carrying the text so it is kept as a draft, never dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from kaipai.backends.base import BackendError, RefusedError
from kaipai.backends.openai.client import ChatClient, ChatReply, FormatRejected, Message

Mode = Literal["json_schema", "json_object", "prompt"]
MODES: tuple[Mode, ...] = ("json_schema", "json_object", "prompt")
T = TypeVar("T", bound=BaseModel)

#: Schema keywords strict structured output does not accept everywhere; kaipai validates them itself.
_DROPPED = {
    "default",
    "title",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "pattern",
    "format",
}


class InvalidReply(BackendError):
    """The model's reply broke the rules even after a repair round. ``draft`` keeps what it wrote."""

    def __init__(self, task: str, violations: list[str], draft: str, where: str = "") -> None:
        self.task, self.violations, self.draft, self.where = task, violations, draft, where
        shown = "; ".join(violations[:5]) + (f"; and {len(violations) - 5} more" if len(violations) > 5 else "")
        super().__init__(f"the language model's {task} is invalid ({shown})")

    def save(self, folder: Path) -> Path:
        """Write the draft with its violations under ``folder`` and return the file."""
        from kaipai.document.io import atomic_write_text

        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        slug = re.sub(r"[^\w\-]+", "-", self.task).strip("-") or "reply"
        path = folder / f"{stamp}-{slug}.md"
        lines = [f"# Draft: {self.task}", "", f"From {self.where}." if self.where else "", "", "## Violations", ""]
        lines += [f"- {v}" for v in self.violations]
        lines += ["", "## Reply as received", "", "```", self.draft, "```", ""]
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, "\n".join(lines))
        return path


class DraftKept(BackendError):
    """An invalid reply was saved as a draft; the message says where and why, and the command fails."""

    def __init__(self, error: InvalidReply, path: Path) -> None:
        self.error, self.path = error, path
        listed = "\n".join(f"  - {v}" for v in error.violations)
        super().__init__(
            f"the language model's {error.task} broke the rules even after one repair round; nothing was changed. "
            f"Its reply is kept as a draft in {path} with these violations:\n{listed}\n"
            "Run the command again (replies vary), choose a stronger model, or write this part by hand."
        )


def strict_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema in the form strict structured output requires.

    Every object closed (``additionalProperties: false``) with every property required.
    """

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: walk(v) for k, v in node.items() if k not in _DROPPED}
            if out.get("type") == "object" and "properties" in out:
                out["additionalProperties"] = False
                out["required"] = list(out["properties"])
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(model.model_json_schema())


def parse_json(text: str) -> Any:
    """The JSON object in a reply, tolerating code fences, a reasoning preamble and trailing chatter."""
    text = re.sub(r"<think>.*?</think>", "", text, flags=re.S).strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, flags=re.S)
    if fenced:
        text = fenced.group(1).strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError as first:
        start = text.find("{")
        if start >= 0:
            try:
                obj, _ = json.JSONDecoder().raw_decode(text[start:])
                return obj
            except json.JSONDecodeError:
                pass
        raise ValueError(
            f"the reply is not valid JSON ({first.msg} at line {first.lineno}, column {first.colno})"
        ) from None


def validation_messages(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(reply)"
        out.append(f"{where}: {err['msg']}")
    return out


class StructuredChat:
    """Asks for one reply model at a time and returns it validated, or raises :class:`InvalidReply`."""

    def __init__(self, client: ChatClient, mode: Mode = "json_schema") -> None:
        if mode not in MODES:
            raise ValueError(f"structured_output must be one of {', '.join(MODES)}, not {mode!r}")
        self.client = client
        self.mode: Mode = mode

    def ask(
        self,
        task: str,
        system: str,
        user: str | list[dict[str, Any]],
        reply: type[T],
        check: Callable[[T], list[str]] | None = None,
    ) -> T:
        """``user`` is the request: text, or content parts (text and images) for a vision model."""
        schema = strict_schema(reply)
        messages: list[Message] = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        text = self._complete(messages, task, schema)
        result, problems = self._validate(text, reply, check)
        if result is not None and not problems:
            return result
        messages += [
            {"role": "assistant", "content": text.content},
            {"role": "user", "content": repair_prompt(problems)},
        ]
        text = self._complete(messages, task, schema)
        result, problems = self._validate(text, reply, check)
        if result is not None and not problems:
            return result
        raise InvalidReply(task, problems, text.content, self.client.where)

    def _complete(self, messages: list[Message], task: str, schema: dict[str, Any]) -> ChatReply:
        while True:
            try:
                reply = self.client.chat(self._messages(messages, schema), self._format(task, schema))
            except FormatRejected:
                if self.mode == "prompt":  # never happens: prompt mode sends no response_format
                    raise
                self.mode = MODES[MODES.index(self.mode) + 1]
                continue
            if reply.refusal:
                raise RefusedError(f"{self.client.where} declined: {reply.refusal}", provider_reason=reply.refusal)
            if reply.finish_reason == "content_filter":
                raise RefusedError(
                    f"{self.client.where} withheld its reply (content filter)", provider_reason="content_filter"
                )
            return reply

    def _format(self, task: str, schema: dict[str, Any]) -> dict[str, Any] | None:
        if self.mode == "json_schema":
            name = re.sub(r"[^a-zA-Z0-9_-]", "_", task)[:64] or "reply"
            return {"type": "json_schema", "json_schema": {"name": name, "strict": True, "schema": schema}}
        if self.mode == "json_object":
            return {"type": "json_object"}
        return None

    def _messages(self, messages: list[Message], schema: dict[str, Any]) -> list[Message]:
        if self.mode == "json_schema":
            return messages
        shape = (
            "Reply with one JSON object only, no prose and no code fence, following this JSON Schema:\n"
            + json.dumps(schema, ensure_ascii=False)
        )
        first = dict(messages[0])
        first["content"] = first["content"] + "\n\n" + shape
        return [first, *messages[1:]]

    @staticmethod
    def _validate(
        text: ChatReply, reply: type[T], check: Callable[[T], list[str]] | None
    ) -> tuple[T | None, list[str]]:
        cut = (
            ["the reply was cut off at the token limit (finish_reason=length); answer more briefly"]
            if text.finish_reason == "length"
            else []
        )
        try:
            data = parse_json(text.content)
        except ValueError as exc:
            return None, [*cut, str(exc)]
        try:
            result = reply.model_validate(data)
        except ValidationError as exc:
            return None, [*cut, *validation_messages(exc)]
        return result, [*cut, *(check(result) if check is not None else [])]


def repair_prompt(problems: list[str]) -> str:
    listed = "\n".join(f"- {p}" for p in problems)
    return f"Your reply breaks these rules:\n{listed}\nReply again with the whole corrected JSON object only."
