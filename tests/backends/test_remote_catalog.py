"""Capability sheets as data: variants, regions with their prices, currencies and model ids, and every
shipped catalog loads into valid sheets; an SDK's HTTP error is read whatever envelope its body uses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kaipai.backends.base import Capability, CapabilitySheet, NotConfigured
from kaipai.backends.remote import sheets
from kaipai.backends.remote.sdk import failure_from, status_error

CATALOGS = ("ark", "comfyui", "dashscope", "kling", "minimax", "openai", "runway", "veo", "vidu")


@pytest.mark.parametrize("provider", CATALOGS)
def test_every_sheet_of_every_catalog_loads_in_every_region(provider: str) -> None:
    regions = list(sheets.regions(provider)) or [None]
    for sid in sheets.sheet_ids(provider):
        for region in regions:
            if not sheets.sold_in(provider, sid, region):  # a model priced only where it is sold
                with pytest.raises(NotConfigured, match="does not sell"):
                    sheets.load_sheet(provider, sid, region=region)
                continue
            sheet = sheets.load_sheet(provider, sid, region=region)
            assert isinstance(sheet, CapabilitySheet) and sheet.typical_seconds > 0
            if region is not None:
                assert sheet.currency == sheets.regions(provider)[region]["currency"]
                assert sheets.provider_model(provider, sid, region)
    for capability in Capability:
        try:
            default = sheets.default_model(provider, capability)
        except Exception:
            continue
        assert any(sid == default or sid.startswith(default + "@") for sid in sheets.sheet_ids(provider))


def test_a_variant_is_its_model_with_the_variant_laid_over() -> None:
    tier = sheets.load_sheet("ark", "doubao-seedance-1-0-pro-250528@1080p", region="intl")
    assert tier.resolutions is not None and tier.resolutions[0] == (1920, 1088)
    assert (tier.cost_per_unit, tier.currency, tier.first_last_frame) == (0.1224, "USD", True)
    assert sheets.provider_model("ark", "doubao-seedance-1-0-pro-250528@1080p", "intl") == "seedance-1-0-pro-250528"
    assert (
        sheets.provider_model("ark", "doubao-seedance-1-0-pro-250528@1080p", "cn") == "doubao-seedance-1-0-pro-250528"
    )
    assert sheets.prices("minimax", "speech-2.8-hd") == {"cn": (0.00035, "CNY"), "global": (0.0001, "USD")}
    assert sheets.variant_id("vidu", "viduq1", "720p", chosen=False) == "viduq1@1080p"
    with pytest.raises(NotConfigured, match="1080p"):
        sheets.variant_id("vidu", "viduq1", "720p", chosen=True)
    assert sheets.load_sheet("kling", "kling-v1-6@pro").first_last_frame  # exact ids still win


def test_a_newer_model_is_described_by_the_project_and_unknown_regions_are_refused() -> None:
    newer = sheets.load_sheet("ark", "doubao-seedance-3-0@720p", {"capability": "video", "max_duration": 20})
    assert newer.model == "doubao-seedance-3-0" and newer.max_duration == 20
    with pytest.raises(NotConfigured, match="choose one of"):
        sheets.load_sheet("ark", "doubao-seedance-3-0@720p")
    with pytest.raises(NotConfigured, match="no region 'eu'"):
        sheets.region_name("minimax", "eu")
    assert sheets.region_name("minimax", None) == "cn" and sheets.base_url("vidu", "global") == "https://api.vidu.com"


def test_an_address_on_a_regions_own_host_says_the_region_unless_one_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KAIPAI_CONFIG", str(tmp_path / "none.toml"))
    for name in ("ARK_REGION", "ARK_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    byteplus = "https://ark.ap-southeast.bytepluses.com/api/v3"
    assert sheets.located("ark", {}) == ("cn", "https://ark.cn-beijing.volces.com/api/v3")
    assert sheets.located("ark", {"base_url": byteplus + "/"}) == ("intl", byteplus)
    assert sheets.located("ark", {"base_url": byteplus, "region": "cn"}) == ("cn", byteplus)
    assert sheets.located("ark", {"base_url": "http://127.0.0.1:8000"}) == ("cn", "http://127.0.0.1:8000")
    monkeypatch.setenv("ARK_BASE_URL", byteplus)
    assert sheets.located("ark", {}) == ("intl", byteplus)


@pytest.mark.parametrize(
    ("status", "body", "code", "message"),
    [
        (400, {"error": {"code": "InvalidParameter", "message": "bad duration"}}, "InvalidParameter", "bad duration"),
        (400, {"error": "Invalid ratio"}, "", "Invalid ratio"),
        (
            400,
            {"detail": {"error": "validation_error", "message": "Voice 'x' not found"}},
            "validation_error",
            "Voice 'x' not found",
        ),
        (422, {"detail": [{"loc": ["body", "speed"], "msg": "too fast"}]}, "", "too fast"),
        (
            400,
            {"code": 400, "reason": "FieldUnwanted", "message": "unwanted field: aspect_ratio"},
            "FieldUnwanted",
            "unwanted field: aspect_ratio",
        ),
        (500, "<html>Bad Gateway</html>", "", "<html>Bad Gateway</html>"),
    ],
)
def test_error_envelopes_are_read(status: int, body: object, code: str, message: str) -> None:
    raw = body if isinstance(body, str) else json.dumps(body)
    failure = failure_from(status, raw.encode(), {"retry-after": "7"})
    assert (failure.code, failure.message, failure.retry_after) == (code, message, 7)


def test_what_a_status_means_when_the_provider_says_nothing_more() -> None:
    assert isinstance(status_error("P", failure_from(401, b"{}")), NotConfigured)
    busy = status_error("P", failure_from(429, b'{"error": "slow down"}', {"retry-after": "2"}))
    assert busy.transient and busy.retry_after == 2
    assert status_error("P", failure_from(503, b"")).transient
    assert not status_error("P", failure_from(400, b'{"error": "no"}')).transient


@given(
    st.integers(400, 599),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
        max_leaves=8,
    ),
)
def test_any_error_body_is_read_without_crashing(status: int, body: object) -> None:
    failure = failure_from(status, json.dumps(body).encode(), {})
    assert failure.status == status and isinstance(failure.code, str) and isinstance(failure.message, str)
    assert isinstance(status_error("P", failure).args[0], str)
