"""Where an OpenAI-compatible chat model lives and how to reach it, read from a backend's options.

Shared by every ``openai`` backend (the planner, the vision judge): the options common to all of
them, each falling back to the environment — ``base_url`` (``KAIPAI_OPENAI_BASE_URL``), the model
(``KAIPAI_OPENAI_MODEL``), the key from ``OPENAI_API_KEY`` or the variable named by ``api_key_env``
(never from the document), ``structured_output``, ``timeout``, ``max_retries``, ``backoff``,
``max_backoff``, ``max_tokens``, ``temperature`` — and the structured chat built from them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlparse

from kaipai.backends.base import NotConfigured
from kaipai.backends.openai.client import ChatClient
from kaipai.backends.openai.structured import StructuredChat

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"
COMMON = frozenset(
    {
        "base_url",
        "api_key_env",
        "structured_output",
        "timeout",
        "max_retries",
        "backoff",
        "max_backoff",
        "max_tokens",
        "temperature",
    }
)


class Endpoint:
    """An OpenAI-compatible endpoint and model for one backend (``role`` names it in messages)."""

    def __init__(
        self, role: str, model: str | None, options: dict[str, Any], own: Iterable[str] = (), temperature: float = 0.7
    ) -> None:
        if "api_key" in options:
            raise NotConfigured(
                "keep API keys out of kaipai.yaml: set OPENAI_API_KEY, or name another variable with api_key_env"
            )
        known = COMMON | set(own)
        unknown = sorted(set(options) - known)
        if unknown:
            raise NotConfigured(
                f"the {role} has no option {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known))}"
            )
        self.role = role
        self.model = model or os.environ.get("KAIPAI_OPENAI_MODEL") or DEFAULT_MODEL
        self.options = options
        self.base_url = str(options.get("base_url") or os.environ.get("KAIPAI_OPENAI_BASE_URL") or DEFAULT_BASE_URL)
        self.key_variable = str(options.get("api_key_env") or "OPENAI_API_KEY")
        self.temperature = temperature

    def needs_key(self) -> bool:
        host = urlparse(self.base_url).hostname or ""
        return host not in ("localhost", "127.0.0.1", "::1", "0.0.0.0") and not host.endswith(".local")

    def check(self) -> str:
        if self.needs_key() and not os.environ.get(self.key_variable):
            raise NotConfigured(
                f"the {self.role} needs an API key for {self.base_url}: set {self.key_variable} in the environment"
            )
        return f"{self.model} at {self.base_url}"

    def chat(self) -> StructuredChat:
        """A structured chat on this endpoint (checks the key first)."""
        self.check()
        o = self.options
        temperature = o.get("temperature", self.temperature)
        client = ChatClient(
            base_url=self.base_url,
            model=str(self.model),
            api_key=os.environ.get(self.key_variable, ""),
            timeout=float(o.get("timeout", 120.0)),
            max_retries=int(o.get("max_retries", 4)),
            backoff=float(o.get("backoff", 2.0)),
            max_backoff=float(o.get("max_backoff", 60.0)),
            max_tokens=int(o.get("max_tokens", 4096)) or None,
            temperature=None if temperature is None else float(temperature),
        )
        return StructuredChat(client, o.get("structured_output", "json_schema"))
