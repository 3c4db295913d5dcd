"""H.264 parameter sets in MP4 (the ``avcC`` record of ISO/IEC 14496-15 §5.3.3), as much as joining
a labelled opening to a stream-copied picture needs.

A picture copied from its clips keeps the clips' parameter sets (SPS and PPS) in its sample
description; an opening encoded by kaipai has its own, and two streams whose parameter sets differ
cannot simply be concatenated. The record may list several of each, told apart by their ids, so the
opening is encoded under ids the clips do not use and the joined file lists both sets: every packet
after the opening stays the clip's own, bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

#: profiles whose record ends with the chroma format and bit depths (ISO/IEC 14496-15 §5.3.3.1.2)
_EXTENDED = {100, 110, 122, 144}
#: x264 numbers its SPS and PPS with one id, 0..31
MAX_ID = 31


class AvcError(ValueError):
    """Bytes that are not an avcC record or an H.264 parameter set."""


def _unescape(nal: bytes) -> bytes:
    """The RBSP of a NAL unit: emulation-prevention bytes (00 00 03) removed."""
    out, zeros = bytearray(), 0
    for b in nal:
        if zeros >= 2 and b == 3:
            zeros = 0
            continue
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


def _ue(data: bytes, bit: int) -> tuple[int, int]:
    """One unsigned Exp-Golomb number at ``bit``; returns it and the next bit position."""
    zeros = 0
    while True:
        if bit >= 8 * len(data):
            raise AvcError("parameter set ends inside a number")
        if data[bit // 8] >> (7 - bit % 8) & 1:
            break
        zeros += 1
        bit += 1
        if zeros > 31:
            raise AvcError("parameter set holds an impossible number")
    bit += 1
    value = 0
    for _ in range(zeros):
        if bit >= 8 * len(data):
            raise AvcError("parameter set ends inside a number")
        value = value << 1 | (data[bit // 8] >> (7 - bit % 8) & 1)
        bit += 1
    return (1 << zeros) - 1 + value, bit


def sps_id(sps: bytes) -> int:
    """seq_parameter_set_id: after the NAL header, profile, constraint flags and level."""
    if len(sps) < 5 or sps[0] & 0x1F != 7:
        raise AvcError("not a sequence parameter set")
    return _ue(_unescape(sps[4:12]), 0)[0]


def pps_ids(pps: bytes) -> tuple[int, int]:
    """(pic_parameter_set_id, the seq_parameter_set_id it refers to)."""
    if len(pps) < 2 or pps[0] & 0x1F != 8:
        raise AvcError("not a picture parameter set")
    rbsp = _unescape(pps[1:12])
    own, bit = _ue(rbsp, 0)
    return own, _ue(rbsp, bit)[0]


@dataclass(frozen=True)
class AvcConfig:
    """One AVCDecoderConfigurationRecord."""

    profile: int
    compatibility: int
    level: int
    length_size: int  # bytes of each NAL unit's length prefix in the samples
    sps: tuple[bytes, ...]
    pps: tuple[bytes, ...]
    extension: bytes = b""  # chroma format, bit depths and SPS extensions of the high profiles

    @classmethod
    def parse(cls, data: bytes) -> AvcConfig:
        if len(data) < 7 or data[0] != 1:
            raise AvcError("not an avcC record (Annex B extradata or none)")
        pos = 6
        lists: list[tuple[bytes, ...]] = []
        for count in (data[5] & 0x1F, None):
            if count is None:
                if pos >= len(data):
                    raise AvcError("avcC record ends before its PPS count")
                count, pos = data[pos], pos + 1
            units = []
            for _ in range(count):
                if pos + 2 > len(data):
                    raise AvcError("avcC record ends inside a parameter set")
                size = int.from_bytes(data[pos : pos + 2], "big")
                if pos + 2 + size > len(data) or size == 0:
                    raise AvcError("avcC record ends inside a parameter set")
                units.append(bytes(data[pos + 2 : pos + 2 + size]))
                pos += 2 + size
            lists.append(tuple(units))
        return cls(data[1], data[2], data[3], (data[4] & 3) + 1, lists[0], lists[1], bytes(data[pos:]))

    def to_bytes(self) -> bytes:
        out = bytearray([1, self.profile, self.compatibility, self.level, 0xFC | (self.length_size - 1)])
        out.append(0xE0 | len(self.sps))
        for unit in self.sps:
            out += len(unit).to_bytes(2, "big") + unit
        out.append(len(self.pps))
        for unit in self.pps:
            out += len(unit).to_bytes(2, "big") + unit
        return bytes(out + self.extension)

    def ids(self) -> set[int]:
        """Every id in use, SPS and PPS alike (x264 gives both one id)."""
        used = {sps_id(s) for s in self.sps}
        for p in self.pps:
            used.update(pps_ids(p))
        return used

    def free_id(self) -> int | None:
        """The smallest id x264 can take that none of these parameter sets uses."""
        used = self.ids()
        return next((i for i in range(MAX_ID + 1) if i not in used), None)


def merged(first: AvcConfig, second: AvcConfig) -> AvcConfig:
    """One record that lists both streams' parameter sets, so a decoder set up by it decodes either.

    The profile and level are the higher of the two and the compatibility flags those both allow.
    Refused when the sets collide (one id, different contents) or the length prefixes differ."""
    if first.length_size != second.length_size:
        raise AvcError("the streams use NAL length prefixes of different sizes")
    sps = first.sps + tuple(s for s in second.sps if s not in first.sps)
    pps = first.pps + tuple(p for p in second.pps if p not in first.pps)
    if len({sps_id(s) for s in sps}) != len(sps) or len({pps_ids(p)[0] for p in pps}) != len(pps):
        raise AvcError("the streams use one parameter set id for different settings")
    if len(sps) > 31 or len(pps) > 255:
        raise AvcError("too many parameter sets for one record")
    profile = max(first.profile, second.profile)
    extension = first.extension if first.profile == profile else second.extension
    if profile in _EXTENDED and not extension:
        extension = bytes([0xFC | 1, 0xF8, 0xF8, 0])  # 4:2:0, 8 bits (a copied picture is yuv420p)
    return AvcConfig(
        profile=profile,
        compatibility=first.compatibility & second.compatibility,
        level=max(first.level, second.level),
        length_size=first.length_size,
        sps=sps,
        pps=pps,
        extension=extension,
    )


def nal_types(sample: bytes, length_size: int) -> list[int]:
    """The NAL unit types in one length-prefixed sample (5 is an IDR slice)."""
    types, pos = [], 0
    while pos + length_size <= len(sample):
        size = int.from_bytes(sample[pos : pos + length_size], "big")
        pos += length_size
        if size == 0 or pos + size > len(sample):
            break
        types.append(sample[pos] & 0x1F)
        pos += size
    return types


def relength(sample: bytes, have: int, want: int) -> bytes:
    """The sample with each NAL unit's length prefix rewritten from ``have`` bytes to ``want``."""
    if have == want:
        return sample
    out, pos = bytearray(), 0
    while pos + have <= len(sample):
        size = int.from_bytes(sample[pos : pos + have], "big")
        pos += have
        if size >= 1 << (8 * want):
            raise AvcError("a NAL unit is too long for the length prefix")
        out += size.to_bytes(want, "big") + sample[pos : pos + size]
        pos += size
    return bytes(out)
