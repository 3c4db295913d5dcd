"""DashScope's error codes as a render should treat them, and default voices as a cast grows."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaipai.backends.base import AccountError, BackendError, NotConfigured, RefusedError
from kaipai.backends.dashscope.protocol import billed_seconds, error_for
from kaipai.backends.dashscope.speech import billable_characters
from kaipai.backends.dashscope.voices import default_voice
from kaipai.backends.remote.sheets import catalog_section
from kaipai.document.cast import Character


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (429, "Throttling.RateQuota", None),  # waited out: tasks.send makes it a TransientError
        (429, "Throttling.BurstRate", None),
        (429, "Throttling", None),
        (429, "Throttling.AllocationQuota", AccountError),  # "Free allocated quota exceeded": waiting refills nothing
        (403, "AllocationQuota.FreeTierOnly", AccountError),
        (400, "Arrearage", AccountError),
        (429, "PrepaidBillOverdue", AccountError),
        (403, "Model.AccessDenied", AccountError),
        (401, "InvalidApiKey", NotConfigured),
        (404, "ModelNotFound", NotConfigured),
        (400, "DataInspectionFailed", RefusedError),
        (400, "IPInfringementSuspect", RefusedError),
        (400, "CustomRoleBlocked", RefusedError),
        (400, "InvalidParameter.DataInspection", BackendError),  # a download failure, not a refusal
        (400, "InvalidParameter", BackendError),
        (500, "InternalError", None),
        (503, "ModelUnavailable", None),
    ],
)
def test_each_error_code_means_what_the_error_page_says(status: int, code: str, kind: type | None) -> None:
    error = error_for(status, code, "message", "region beijing")
    if kind is None:
        assert error is None
    else:
        assert type(error) is kind and not error.transient


def test_billing_reads_each_generations_usage_field() -> None:
    assert billed_seconds({"duration": 5, "SR": 480, "video_count": 1}, 9) == 5  # wan2.2 and later
    assert billed_seconds({"video_duration": 10.23, "video_ratio": "standard"}, 9) == 10.23  # wan2.1, s2v
    assert billed_seconds({}, 4.5) == 4.5
    assert billable_characters("你好，world") == 2 * 2 + 1 + 5  # ，is punctuation, counted once


CAST_IDS = st.lists(st.text("abcdefghij", min_size=1, max_size=6), min_size=1, max_size=8, unique=True)


@settings(max_examples=60, deadline=None)
@given(CAST_IDS, st.sampled_from(["女，二十岁", "男，三十岁", "", "老人，七十岁"]))
def test_default_voices_differ_while_voices_last_and_stay_as_the_cast_grows(ids: list[str], description: str) -> None:
    cast = [Character(id=i, name=i, description=description) for i in ids]
    voices = [default_voice("cosyvoice-v3-flash", c, cast) for c in cast]
    total = len({v for group in catalog_section("dashscope", "voices")["cosyvoice-v3-flash"].values() for v in group})
    if len(cast) <= total:
        assert len(set(voices)) == len(voices)
    grown = [*cast, Character(id="newcomer", name="newcomer", description=description)]
    assert [default_voice("cosyvoice-v3-flash", c, grown) for c in cast] == voices  # nobody's voice changes
