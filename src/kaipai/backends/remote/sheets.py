"""Capability sheets of the remote models, kept as YAML data files in ``catalog/`` beside this module.

Providers change durations, sizes and prices more often than code; a sheet is data so a
release can update it (and a reader can check it) without touching a backend. Each file
``catalog/<provider>.yaml`` holds ``sheets: {id: {CapabilitySheet fields}}``; an id is the
provider's model name, with ``@mode`` where a mode changes what the model can do (Kling).

Beside the sheet fields an entry may carry catalog data that is not part of a sheet:

- ``variants: {name: {fields}}`` — ``model@name`` is the entry with those fields laid over it
  (Seedance's 480p/720p/1080p tiers differ in sizes and price, nothing else);
- ``prices: {region: cost_per_unit}`` — the price in each region the provider sells in, in the
  currency that ``regions: {region: {currency, base_url}}`` at the top of the file names;
- ``ids: {region: model id}`` — where a region names the model differently (BytePlus drops
  Volcengine's ``doubao-`` prefix; DashScope Singapore says ``wan2.1-…`` for Beijing's ``wanx2.1-…``);
  a model may be asked for by either name;
- anything else a backend reads with :func:`entry` (e.g. ``silent_factor``).

A model with ``prices`` is sold only in the regions it prices. A region may list ``aliases`` (``intl``
for ``singapore``) and its own ``defaults`` (the models a capability uses there when none is named);
other top-level tables (DashScope's ``voices``) are read with :func:`catalog_section`.
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
from kaipai.backends.remote.tasks import setting

#: Keys of a catalog entry that are catalog data, not fields of a :class:`CapabilitySheet`.
CATALOG_KEYS = frozenset({"variants", "prices", "ids", "silent_factor", "min_pixels", "camera_commands", "notes"})


@functools.cache
def _raw(provider: str) -> dict[str, Any]:
    text = resources.files("kaipai.backends.remote").joinpath("catalog", f"{provider}.yaml").read_text(encoding="utf-8")
    data = YAML(typ="safe").load(text) or {}
    return data


def catalog_section(provider: str, section: str) -> dict[str, Any]:
    """Another top-level table of a provider's catalog (e.g. DashScope's voices per model)."""
    value = _raw(provider).get(section) or {}
    return value if isinstance(value, dict) else {}


def has_catalog(provider: str) -> bool:
    return resources.files("kaipai.backends.remote").joinpath("catalog", f"{provider}.yaml").is_file()


def sheet_ids(provider: str) -> list[str]:
    """Every sheet id of a provider: plain entries, and ``model@variant`` for entries with variants."""
    out: list[str] = []
    for sid, fields in (_raw(provider).get("sheets") or {}).items():
        variants = (fields or {}).get("variants") or {}
        out.extend([f"{sid}@{v}" for v in variants] if variants else [sid])
    return out


def variant_id(provider: str, model: str, variant: str, chosen: bool = True) -> str:
    """``model@variant``; a model with one variant gets that one unless another was ``chosen`` on purpose.

    A model the catalog does not know is returned as it is (described under ``options.sheet``).
    """
    if "@" in model or entry(provider, f"{model}@{variant}") is not None:
        return model if "@" in model else f"{model}@{variant}"
    offered = [sid.split("@", 1)[1] for sid in sheet_ids(provider) if sid.startswith(model + "@")]
    if len(offered) == 1 and not chosen:
        return f"{model}@{offered[0]}"
    if offered:
        raise NotConfigured(f"{model} does not make {variant}; choose a resolution of: {', '.join(offered)}")
    return model


def entry(provider: str, sheet_id: str) -> dict[str, Any] | None:
    """The catalog entry of ``sheet_id`` with its variant laid over it (catalog keys included), or None."""
    sheets = _raw(provider).get("sheets") or {}
    if sheet_id in sheets:
        return dict(sheets[sheet_id] or {})
    base, _, variant = sheet_id.partition("@")
    variants = (sheets.get(base) or {}).get("variants") or {}
    if variant and variant in variants:
        return {**sheets[base], **(variants[variant] or {})}
    return None


# --------------------------------------------------------------------------- regions


def regions(provider: str) -> dict[str, dict[str, Any]]:
    """``{region: {currency, base_url, …}}`` as the catalog lists them (empty for one-region providers)."""
    return dict(_raw(provider).get("regions") or {})


def region_name(provider: str, region: str | None) -> str | None:
    """The region asked for (by name or alias), checked; the catalog's first region when none is asked for."""
    known = regions(provider)
    if not known:
        return None
    if region is None:
        return next(iter(known))
    wanted = str(region).strip().lower()
    for name, info in known.items():
        if wanted == name or wanted in [str(a).lower() for a in (info or {}).get("aliases") or []]:
            return name
    shown = ", ".join(
        name + (f" ({', '.join(str(a) for a in info['aliases'])})" if (info or {}).get("aliases") else "")
        for name, info in known.items()
    )
    raise NotConfigured(f"{provider} has no region {region!r}; choose one of: {shown}")


def region_of_host(provider: str, address: str | None) -> str | None:
    """The region whose host an explicit address names (``dashscope-intl…`` → singapore), else None."""
    if not address:
        return None
    host = str(address).split("://", 1)[-1].split("/", 1)[0].lower()
    for name, info in regions(provider).items():
        if host and str((info or {}).get("base_url", "")).split("://", 1)[-1].split("/", 1)[0].lower() == host:
            return name
    return None


def sold_in(provider: str, sheet_id: str, region: str | None) -> bool:
    """Whether the model is offered in ``region`` (a model without ``prices`` is offered everywhere)."""
    table = (entry(provider, sheet_id) or {}).get("prices") or {}
    return region is None or not table or region in table


def sheet_named(provider: str, name: str, region: str | None = None) -> str:
    """The sheet id of a model asked for by its own id or by the name a region gives it."""
    if entry(provider, name) is not None:
        return name
    base, _, variant = name.partition("@")
    for sid in sheet_ids(provider):
        ids = (entry(provider, sid) or {}).get("ids") or {}
        names = [ids.get(region)] if region is not None else list(ids.values())
        if base in names and sid.partition("@")[2] == variant:
            return sid
    return name


def base_url(provider: str, region: str | None) -> str | None:
    """The region's default address, when the catalog names one."""
    name = region_name(provider, region)
    if name is None:
        return None
    return str(regions(provider)[name].get("base_url") or "") or None


def located(provider: str, options: dict[str, Any]) -> tuple[str | None, str]:
    """(region, address) of a regional provider: the options, then ``{PROVIDER}_REGION`` / ``_BASE_URL`` or the
    user config; with no region named, an address on a region's own host is that region; else the catalog's
    first region and its address."""
    env = provider.upper()
    explicit = options.get("base_url") or setting(provider, "base_url", f"{env}_BASE_URL")
    asked = options.get("region") or setting(provider, "region", f"{env}_REGION")
    region = region_name(provider, asked or region_of_host(provider, explicit))
    return region, str(explicit or base_url(provider, region)).rstrip("/")


def silenced(
    provider: str, sheet_id: str, sheet: CapabilitySheet, options: dict[str, Any], overrides: dict[str, Any]
) -> CapabilitySheet:
    """The sheet without the model's own sound when the project says ``audio: false`` (a ``sheet`` override of
    ``native_audio`` wins), priced at the catalog's ``silent_factor``."""
    if sheet.native_audio and options.get("audio") is False and "native_audio" not in overrides:
        factor = float((entry(provider, sheet_id) or {}).get("silent_factor", 1.0))
        return sheet.model_copy(update={"native_audio": False, "cost_per_unit": sheet.cost_per_unit * factor})
    return sheet


def provider_model(provider: str, sheet_id: str, region: str | None = None) -> str:
    """The model id the provider expects in ``region`` (the sheet's model unless the region renames it)."""
    found = entry(provider, sheet_id) or {}
    name = region_name(provider, region)
    ids = found.get("ids") or {}
    return str(ids.get(name) or found.get("model") or sheet_id.split("@")[0])


def prices(provider: str, sheet_id: str) -> dict[str, tuple[float, str]]:
    """``{region: (cost per unit, currency)}`` of one sheet; empty when the sheet has one price."""
    found = entry(provider, sheet_id) or {}
    known = regions(provider)
    return {
        region: (float(cost), str(known.get(region, {}).get("currency") or found.get("currency") or "USD"))
        for region, cost in (found.get("prices") or {}).items()
    }


# --------------------------------------------------------------------------- sheets


def load_sheet(
    provider: str, sheet_id: str, overrides: dict[str, Any] | None = None, region: str | None = None
) -> CapabilitySheet:
    """The sheet ``sheet_id`` of ``provider`` priced for ``region``, with the project's ``sheet`` overrides."""
    found = entry(provider, sheet_id)
    if found is None and overrides and "capability" in overrides:  # a model newer than this release
        return CapabilitySheet(**{"model": sheet_id.split("@")[0], "num_cpus": 0.0, **overrides})
    if found is None:
        known = ", ".join(sheet_ids(provider)) or "none"
        raise NotConfigured(
            f"{provider} has no model {sheet_id!r} that kaipai knows; choose one of: {known} "
            "(or describe a newer model yourself under options.sheet, with its capability)"
        )
    # A service computes on its own machines: its client needs no cores of ours on a cluster.
    fields = {"num_cpus": 0.0, **{k: v for k, v in found.items() if k not in CATALOG_KEYS}}
    name = region_name(provider, region)
    table = prices(provider, sheet_id)
    if name is not None and table:
        if name not in table:
            raise NotConfigured(
                f"{provider} does not sell {sheet_id!r} in region {name!r} (it is sold in {', '.join(table)}); "
                "choose that region (options.region) or another model"
            )
        fields["cost_per_unit"], fields["currency"] = table[name]
    fields.update(overrides or {})
    try:
        return CapabilitySheet(**fields)
    except ValidationError as exc:
        raise NotConfigured(
            f"{provider} sheet {sheet_id!r}: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}"
        ) from None


def for_capability(label: str, sheet: CapabilitySheet, capability: Capability) -> CapabilitySheet:
    """``sheet`` when its model does ``capability``: the one model a project names is asked of every capability,
    and a model of another kind is refused by name."""
    if sheet.capability != capability:
        raise NotConfigured(
            f"{label} model {sheet.model!r} does {sheet.capability.value}, not {capability.value}; "
            f"choose a {capability.value} model"
        )
    return sheet


def sheets_for(provider: str, capability: Capability, region: str | None = None) -> dict[str, CapabilitySheet]:
    """Every known sheet of one capability (for `kaipai backends`)."""
    out = {}
    for sid in sheet_ids(provider):
        if not sold_in(provider, sid, region_name(provider, region)):
            continue
        sheet = load_sheet(provider, sid, region=region)
        if sheet.capability == capability:
            out[sid] = sheet
    return out


def default_model(provider: str, capability: Capability, region: str | None = None) -> str:
    """The model a capability uses when the document names none: the region's own default first."""
    defaults = dict(_raw(provider).get("defaults") or {})
    if region is not None:
        defaults.update((regions(provider).get(region) or {}).get("defaults") or {})
    if capability.value not in defaults:
        raise UnsupportedRequest(f"{provider} does not do {capability.value}")
    return str(defaults[capability.value])
