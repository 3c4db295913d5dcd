"""Capability sheets of the remote models, kept as YAML data files in ``catalog/`` beside this module.

Providers change durations, sizes and prices more often than code; a sheet is data so a
release can update it (and a reader can check it) without touching a backend. Each file
``catalog/<provider>.yaml`` holds ``sheets: {id: {CapabilitySheet fields}}``; an id is the
provider's model name, with ``@mode`` where a mode changes what the model can do (Kling).
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML

from kaipai.backends.base import (
    Capability,
    CapabilitySheet,
    NotConfigured,
    UnsupportedRequest,
)


@functools.cache
def _raw(provider: str) -> dict[str, Any]:
    text = resources.files("kaipai.backends.remote").joinpath("catalog", f"{provider}.yaml").read_text(encoding="utf-8")
    data = YAML(typ="safe").load(text) or {}
    return data


def sheet_ids(provider: str) -> list[str]:
    return list((_raw(provider).get("sheets") or {}).keys())


def load_sheet(provider: str, sheet_id: str, overrides: dict[str, Any] | None = None) -> CapabilitySheet:
    """The sheet ``sheet_id`` of ``provider``, with the project's ``sheet`` overrides applied."""
    sheets = _raw(provider).get("sheets") or {}
    if sheet_id not in sheets and overrides and "capability" in overrides:  # a model newer than this release
        return CapabilitySheet(**{"model": sheet_id.split("@")[0], "num_cpus": 0.0, **overrides})
    if sheet_id not in sheets:
        known = ", ".join(sheets) or "none"
        raise NotConfigured(
            f"{provider} has no model {sheet_id!r} that kaipai knows; choose one of: {known} "
            "(or describe a newer model yourself under options.sheet, with its capability)"
        )
    # A service computes on its own machines: its client needs no cores of ours on a cluster.
    fields = {"num_cpus": 0.0, **sheets[sheet_id], **(overrides or {})}
    try:
        return CapabilitySheet(**fields)
    except ValidationError as exc:
        raise NotConfigured(
            f"{provider} sheet {sheet_id!r}: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}"
        ) from None


def sheets_for(provider: str, capability: Capability) -> dict[str, CapabilitySheet]:
    """Every known sheet of one capability (for `kaipai backends`)."""
    out = {}
    for sid in sheet_ids(provider):
        sheet = load_sheet(provider, sid)
        if sheet.capability == capability:
            out[sid] = sheet
    return out


def default_model(provider: str, capability: Capability) -> str:
    defaults = _raw(provider).get("defaults") or {}
    if capability.value not in defaults:
        raise UnsupportedRequest(f"{provider} does not do {capability.value}")
    return str(defaults[capability.value])
