"""The implicit AIGC label of GB 45438-2025 (Annex E): one metadata entry named ``AIGC`` in each file.

Its value is JSON with seven elements (``Label`` "1" = AI-generated, the producer's name or code and
content id, a reserved code, then the same three for the platform that propagates the file; on
first write they equal the producer's). Values are printable ASCII without spaces, quotes or
backslashes. Where it goes depends on the format, following the TC260 practice guides:

- MP4/MOV: a QuickTime metadata key (``moov/udta/meta`` keys + ilst), which ffmpeg's muxer writes
  only with ``-movflags use_metadata_tags`` (it silently drops unknown keys otherwise); ffprobe,
  PyAV and ``ffmpeg -f ffmetadata`` read it as the format tag ``AIGC``.
- PNG, JPEG, WebP: XMP with the property ``TC260:AIGC`` holding the inner JSON object.
- PDF: the same XMP packet as the document's metadata stream.

A file keeps exactly one label (GB 45438 6.1 c): writers drop inherited tags first.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from kaipai.post.ffmpeg import run

#: The element names of Annex E, in the standard's order.
KEYS = ("Label", "ContentProducer", "ProduceID", "ReservedCode1", "ContentPropagator", "PropagateID", "ReservedCode2")
TC260_NS = "http://www.tc260.org.cn/ns/AIGC/1.0/"
_ALLOWED = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]*")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".m4a"}


class AigcError(ValueError):
    """A value that is not an Annex E label; the message says which element and why."""


@dataclass(frozen=True)
class AigcLabel:
    """The seven elements, as written. ``label``: "1" is, "2" possibly, "3" suspected AI-generated."""

    label: str
    producer: str
    produce_id: str
    reserved1: str = ""
    propagator: str = ""
    propagate_id: str = ""
    reserved2: str = ""

    def __post_init__(self) -> None:
        for name, value in zip(KEYS, self.values(), strict=True):
            if not isinstance(value, str) or not _ALLOWED.fullmatch(value):
                raise AigcError(
                    f"AIGC {name} {value!r} must be printable ASCII without spaces, quotes or backslashes "
                    "(GB 45438-2025 Annex E)"
                )
        if self.label not in ("1", "2", "3"):
            raise AigcError(f"AIGC Label {self.label!r} must be 1, 2 or 3")

    @classmethod
    def first_write(cls, producer: str, produce_id: str, reserved: str = "") -> AigcLabel:
        """A label written by the producer: the propagator elements repeat the producer's."""
        return cls("1", producer, produce_id, reserved, producer, produce_id, reserved)

    def values(self) -> tuple[str, ...]:
        return tuple(asdict(self).values())

    def elements(self) -> dict[str, str]:
        return dict(zip(KEYS, self.values(), strict=True))

    def value(self) -> str:
        """The string stored under the key ``AIGC`` in media: the Annex E form ``{"AIGC":{…}}``."""
        return json.dumps({"AIGC": self.elements()}, ensure_ascii=True, separators=(",", ":"))

    def inner(self) -> str:
        """The bare object, as the TC260 image guide puts it in XMP ``TC260:AIGC``."""
        return json.dumps(self.elements(), ensure_ascii=True, separators=(",", ":"))


def parse(value: str) -> AigcLabel:
    """Read a label written either way (``{"AIGC":{…}}`` or the bare object); AigcError if it is not one."""
    try:
        obj = json.loads(value)
    except ValueError as exc:
        raise AigcError(f"AIGC metadata is not JSON: {exc}") from None
    if isinstance(obj, dict) and isinstance(obj.get("AIGC"), dict):
        obj = obj["AIGC"]
    if not isinstance(obj, dict):
        raise AigcError("AIGC metadata is not a JSON object")
    missing = [k for k in KEYS if k not in obj]
    if missing:
        raise AigcError(f"AIGC metadata lacks {', '.join(missing)}")
    values = [obj[k] if isinstance(obj[k], str) else str(obj[k]) for k in KEYS]
    return AigcLabel(*values)


# --------------------------------------------------------------------------- video and audio containers


def movflags(label: AigcLabel | None) -> str:
    """The MP4 muxer's flags: faststart, and the metadata keys it would otherwise drop when there is a label."""
    return "+faststart" if label is None else "+faststart+use_metadata_tags"


def mp4_args(label: AigcLabel | None) -> list[str]:
    """Output options of an MP4 master: no metadata inherited from the inputs (a provider's clip may
    carry its own label, and a file keeps one), the label when there is one, and faststart."""
    if label is None:
        return ["-map_metadata", "-1", "-movflags", movflags(label)]
    return ["-map_metadata", "-1", "-metadata", f"AIGC={label.value()}", "-movflags", movflags(label)]


def tag_media(src: Path, dst: Path, label: AigcLabel) -> Path:
    """Copy a video or audio file with the label in its metadata (streams copied, not re-encoded)."""
    if dst.suffix.lower() in VIDEO_SUFFIXES:
        out = mp4_args(label)
    else:
        out = ["-map_metadata", "-1", "-metadata", f"AIGC={label.value()}"]
    run(["-i", str(src), "-map", "0", "-c", "copy", *out, str(dst)], what="label the media")
    return dst


def media_tags(path: Path) -> dict[str, str]:
    """Every AIGC entry of a media file (format and stream level), by key as written."""
    import av

    found: dict[str, str] = {}
    with av.open(str(path)) as container:
        sources = [container.metadata, *(s.metadata for s in container.streams)]
        for tags in sources:
            for key, value in tags.items():
                if "aigc" in key.lower():
                    found.setdefault(key, value)
    return found


# --------------------------------------------------------------------------- images and documents


def xmp(label: AigcLabel) -> str:
    """An ``x:xmpmeta`` element carrying ``TC260:AIGC`` (without the xpacket wrapper)."""
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:TC260="{TC260_NS}">'
        f"<TC260:AIGC>{html.escape(label.inner(), quote=False)}</TC260:AIGC>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    )


def xmp_packet(label: AigcLabel) -> str:
    return f'<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>{xmp(label)}<?xpacket end="w"?>'


def from_xmp(data: str | bytes) -> str | None:
    """The ``TC260:AIGC`` value in an XMP packet (element or attribute form), or None."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    m = re.search(r"<TC260:AIGC>(.*?)</TC260:AIGC>", text, re.S) or re.search(r'TC260:AIGC="([^"]*)"', text)
    return html.unescape(m.group(1)) if m else None


def tag_image(src: Path, dst: Path, label: AigcLabel) -> Path:
    """Write ``src`` to ``dst`` with the label as XMP and no other AIGC entry (PNG, JPEG or WebP)."""
    from PIL import Image, PngImagePlugin

    suffix = dst.suffix.lower()
    with Image.open(src) as img:
        img.load()
        if suffix == ".png":
            info = PngImagePlugin.PngInfo()
            for key, value in img.text.items() if hasattr(img, "text") else []:
                if "aigc" not in key.lower() and key != "XML:com.adobe.xmp":
                    info.add_text(key, value)
            info.add_itxt("XML:com.adobe.xmp", xmp_packet(label))
            img.save(dst, format="PNG", pnginfo=info)
        elif suffix in (".jpg", ".jpeg"):
            img.save(dst, format="JPEG", quality=95, xmp=xmp_packet(label).encode())
        elif suffix == ".webp":
            img.save(dst, format="WEBP", lossless=True, xmp=xmp_packet(label).encode())
        else:
            raise AigcError(f"{dst.name}: cannot carry AIGC metadata (PNG, JPEG and WebP can)")
    return dst


def image_tags(path: Path) -> dict[str, str]:
    """Every AIGC entry of an image: XMP ``TC260:AIGC`` and text chunks named like AIGC."""
    from PIL import Image

    found: dict[str, str] = {}
    with Image.open(path) as img:
        texts = dict(getattr(img, "text", {}) or {})
        packet = img.info.get("xmp") or texts.pop("XML:com.adobe.xmp", None)
        if packet:
            value = from_xmp(packet)
            if value is not None:
                found["TC260:AIGC"] = value
        for key, value in texts.items():
            if "aigc" in key.lower():
                found[key] = value
    return found


def document_tags(path: Path) -> dict[str, str]:
    """The AIGC entry of a PDF's XMP packet, found by packet scanning (XMP part 3) as metadata streams
    are stored uncompressed."""
    value = from_xmp(path.read_bytes())
    return {"TC260:AIGC": value} if value is not None else {}


def read_tags(path: Path) -> dict[str, str]:
    """Every AIGC entry a file carries, whatever its kind (empty when none, or an unknown kind)."""
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return image_tags(path)
    if suffix == ".pdf":
        return document_tags(path)
    return media_tags(path)
