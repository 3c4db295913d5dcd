"""Capability sheets of the remote models, kept as YAML data files in ``catalog/`` beside this module.

Providers change durations, sizes and prices more often than code; a sheet is data so a
release can update it (and a reader can check it) without touching a backend. Each file
``catalog/<provider>.yaml`` holds ``sheets: {id: {CapabilitySheet fields}}``; an id is the
provider's model name, with ``@mode`` where a mode changes what the model can do (Kling).

A provider with regions lists them under ``regions: {name: {…, default: true}}`` (hosts and the
region's own ``defaults``). A sheet offered in some regions only says so with ``regions: {name:
{overrides}}``: the model's name there (Singapore's ``wan2.1-…`` for Beijing's ``wanx2.1-…``), its
price and currency. A model asked for in a region that does not offer it is a clear configuration
error; a sheet without ``regions`` is the same everywhere.
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


def catalog_section(provider: str, section: str) -> dict[str, Any]:
    """Another top-level table of a provider's catalog (e.g. DashScope's voices per model)."""
    value = _raw(provider).get(section) or {}
    return value if isinstance(value, dict) else {}


def sheet_ids(provider: str) -> list[str]:
    return list((_raw(provider).get("sheets") or {}).keys())


def regions(provider: str) -> dict[str, dict[str, Any]]:
    """The provider's regions and what the backend needs to reach each (hosts); empty without regions."""
    return {str(k): dict(v or {}) for k, v in (_raw(provider).get("regions") or {}).items()}


def region_name(provider: str, asked: str | None) -> str | None:
    """The region a name or alias means (``intl`` → ``singapore``), the default one for None; None without regions."""
    known = regions(provider)
    if not known:
        return None
    if not asked:
        return next((name for name, info in known.items() if info.get("default")), next(iter(known)))
    wanted = str(asked).strip().lower()
    for name, info in known.items():
        if wanted == name or wanted in [str(a).lower() for a in info.get("aliases") or []]:
            return name
    names = ", ".join(f"{n} ({', '.join(info.get('aliases') or [])})" for n, info in known.items())
    raise NotConfigured(f"{provider} has no region {asked!r}; choose one of: {names}")


def region_of_host(provider: str, base_url: str | None) -> str | None:
    """The region whose host an explicit ``base_url`` names (``dashscope-intl…`` → singapore), else None."""
    if not base_url:
        return None
    host = str(base_url).split("://", 1)[-1].split("/", 1)[0].lower()
    for name, info in regions(provider).items():
        if host and str(info.get("base_url", "")).split("://", 1)[-1].lower() == host:
            return name
    return None


def _find(provider: str, sheet_id: str, region: str | None) -> tuple[str, dict[str, Any]] | None:
    """The sheet called ``sheet_id``, or the one a region calls by that name (``wan2.1-…`` for ``wanx2.1-…``)."""
    sheets = _raw(provider).get("sheets") or {}
    if sheet_id in sheets:
        return sheet_id, dict(sheets[sheet_id])
    base, _, mode = sheet_id.partition("@")
    for sid, fields in sheets.items():
        if sid.partition("@")[2] != mode:
            continue
        local = {r: str((o or {}).get("model", "")) for r, o in (fields.get("regions") or {}).items()}
        if base in ([local.get(region, "")] if region is not None else local.values()):
            return sid, dict(fields)
    return None


def offered_in(fields: dict[str, Any], region: str | None) -> bool:
    where = fields.get("regions")
    return region is None or not where or region in where


def load_sheet(
    provider: str, sheet_id: str, overrides: dict[str, Any] | None = None, region: str | None = None
) -> CapabilitySheet:
    """The sheet ``sheet_id`` of ``provider`` in ``region``, with the project's ``sheet`` overrides applied."""
    found = _find(provider, sheet_id, region)
    if found is None and overrides and "capability" in overrides:  # a model newer than this release
        return CapabilitySheet(**{"model": sheet_id.split("@")[0], **overrides})
    if found is None:
        known = ", ".join(s for s in sheet_ids(provider) if offered_in(_raw(provider)["sheets"][s], region)) or "none"
        where = f" in region {region}" if region else ""
        raise NotConfigured(
            f"{provider} has no model {sheet_id!r}{where} that kaipai knows; choose one of: {known} "
            "(or describe a newer model yourself under options.sheet, with its capability)"
        )
    sid, fields = found
    per_region = fields.pop("regions", None) or {}
    if region is not None and per_region:
        if region not in per_region:
            raise NotConfigured(
                f"{provider} model {sid!r} is not offered in region {region}; it is offered in "
                f"{', '.join(per_region)}: choose that region (options.region) or another model"
            )
        fields.update(per_region[region] or {})
    fields.update(overrides or {})
    try:
        return CapabilitySheet(**fields)
    except ValidationError as exc:
        raise NotConfigured(f"{provider} sheet {sid!r}: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from None


def sheets_for(provider: str, capability: Capability, region: str | None = None) -> dict[str, CapabilitySheet]:
    """Every sheet of one capability offered in ``region`` (for `kaipai backends`)."""
    out = {}
    for sid in sheet_ids(provider):
        if not offered_in(_raw(provider)["sheets"][sid], region):
            continue
        sheet = load_sheet(provider, sid, region=region)
        if sheet.capability == capability:
            out[sid] = sheet
    return out


def default_model(provider: str, capability: Capability, region: str | None = None) -> str:
    """The model a capability uses when the document names none: the region's own default first."""
    defaults = dict(_raw(provider).get("defaults") or {})
    if region is not None:
        defaults.update(regions(provider).get(region, {}).get("defaults") or {})
    if capability.value not in defaults:
        where = f" in region {region}" if region else ""
        raise UnsupportedRequest(f"{provider} does not do {capability.value}{where}")
    return str(defaults[capability.value])
