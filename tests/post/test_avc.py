"""The avcC record: read and written back unchanged, merged so a decoder set up by it knows both
streams' parameter sets, and garbage refused with AvcError (a clear message), never a crash."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaipai.post.avc import AvcConfig, AvcError, merged, nal_types, pps_ids, relength, sps_id
from kaipai.post.ffmpeg import ffmpeg


def x264_config(folder: Path, *args: str) -> AvcConfig:
    out = folder / f"c{abs(hash(args))}.mp4"
    subprocess.run(
        [ffmpeg(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-t", "0.4",
         "-pix_fmt", "yuv420p", "-c:v", "libx264", *args, str(out)],
        check=True,
    )  # fmt: skip
    with av.open(str(out)) as c:
        return AvcConfig.parse(bytes(c.streams.video[0].codec_context.extradata))


@pytest.mark.parametrize("ident", [0, 1, 7, 31])
def test_the_ids_x264_was_asked_for_are_read_back(tmp_path: Path, ident: int) -> None:
    config = x264_config(tmp_path, "-x264-params", f"sps-id={ident}")
    assert [sps_id(s) for s in config.sps] == [ident]
    assert [pps_ids(p) for p in config.pps] == [(ident, ident)]
    assert AvcConfig.parse(config.to_bytes()) == config
    assert config.free_id() == (1 if ident == 0 else 0)


def test_two_setups_merge_into_one_record_a_decoder_accepts(tmp_path: Path) -> None:
    baseline = x264_config(tmp_path, "-preset", "ultrafast")
    high = x264_config(tmp_path, "-preset", "medium", "-x264-params", "sps-id=1")
    both = merged(baseline, high)
    assert both.sps == baseline.sps + high.sps and both.pps == baseline.pps + high.pps
    assert both.profile == 100 and both.level == max(baseline.level, high.level) and both.extension
    assert AvcConfig.parse(both.to_bytes()) == both
    assert merged(baseline, baseline) == baseline  # the same setup twice is listed once
    with pytest.raises(AvcError, match="one parameter set id"):
        merged(baseline, x264_config(tmp_path, "-preset", "medium"))  # both call their sets 0


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=64), st.binary(max_size=64).map(lambda b: b"\x01" + b)))
def test_garbage_is_refused_with_a_reason(data: bytes) -> None:
    reason = ""
    try:
        AvcConfig.parse(data).ids()
    except AvcError as exc:
        reason = str(exc) or "(none)"
    assert reason != "(none)"


units = st.lists(st.binary(min_size=1, max_size=300), min_size=1, max_size=6)


@given(units, st.sampled_from([1, 2, 3, 4]), st.sampled_from([2, 3, 4]))
def test_length_prefixes_are_rewritten_without_touching_the_units(nals: list[bytes], have: int, want: int) -> None:
    nals = [n[: (1 << (8 * min(have, want))) - 1] for n in nals]
    sample = b"".join(len(n).to_bytes(have, "big") + n for n in nals)
    rewritten = relength(sample, have, want)
    assert rewritten == b"".join(len(n).to_bytes(want, "big") + n for n in nals)
    assert relength(rewritten, want, have) == sample
    assert nal_types(rewritten, want) == [n[0] & 0x1F for n in nals]
