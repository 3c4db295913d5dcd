"""The implicit AIGC label (GB 45438-2025 Annex E): its value round-trips in both shapes found in the
wild, refuses what the standard does not allow, and lands where readers look for it in MP4, PNG,
JPEG, WebP and PDF, once per file."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import av
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from kaipai.post.aigc import (
    KEYS,
    AigcError,
    AigcLabel,
    document_tags,
    image_tags,
    media_tags,
    mp4_args,
    parse,
    read_tags,
    tag_image,
    tag_media,
    xmp,
)
from kaipai.post.ffmpeg import ffmpeg
from tests.support.media import Media

ALLOWED = st.text(
    alphabet=st.characters(codec="ascii", min_codepoint=0x21, max_codepoint=0x7E, exclude_characters='"\\')
)


@given(producer=ALLOWED.filter(bool), produce_id=ALLOWED, reserved=ALLOWED)
def test_a_label_round_trips_in_both_shapes(producer: str, produce_id: str, reserved: str) -> None:
    label = AigcLabel.first_write(producer, produce_id, reserved)
    assert parse(label.value()) == label == parse(label.inner())
    obj = json.loads(label.value())
    assert list(obj) == ["AIGC"] and list(obj["AIGC"]) == list(KEYS)
    # on first write the propagator's elements are the producer's
    assert (label.propagator, label.propagate_id, label.reserved2) == (producer, produce_id, reserved)
    assert label.value().isascii() and " " not in label.value()


@pytest.mark.parametrize("producer", ["my studio", "开拍", 'say "hi"', "back\\slash", "tab\t"])
def test_values_outside_printable_ascii_are_refused(producer: str) -> None:
    with pytest.raises(AigcError, match="ContentProducer"):
        AigcLabel.first_write(producer, "id1")


@pytest.mark.parametrize(
    ("value", "why"),
    [("not json", "not JSON"), ("[1]", "not a JSON object"), ('{"AIGC":{"Label":"1"}}', "lacks ContentProducer")],
)
def test_malformed_metadata_is_named(value: str, why: str) -> None:
    with pytest.raises(AigcError, match=why):
        parse(value)


def _ffmetadata(path: Path) -> dict[str, str]:
    """Global tags as plain ffmpeg prints them (the bundled build has no ffprobe)."""
    out = subprocess.run(
        [ffmpeg(), "-v", "error", "-i", str(path), "-f", "ffmetadata", "-"], check=True, capture_output=True, text=True
    ).stdout
    tags = {}
    for line in out.splitlines()[1:]:
        if line.startswith("["):
            break
        key, _, value = line.partition("=")
        tags[key] = value.replace("\\=", "=").replace("\\;", ";").replace("\\#", "#").replace("\\\\", "\\")
    return tags


def test_the_mp4_label_is_a_format_tag_ffprobe_reads_replacing_an_inherited_one(media: Media, tmp_path: Path) -> None:
    clip = media.clip("c", "red", 1.0)
    provider = tmp_path / "provider.mp4"  # a provider's clip with its own (different) label
    theirs = AigcLabel.first_write("001191110102MAD55U9H0F10002", "their-id")
    tag_media(clip, provider, theirs)
    assert parse(media_tags(provider)["AIGC"]) == theirs
    ours = AigcLabel.first_write("my-studio", "film-1")
    film = tmp_path / "film.mp4"
    subprocess.run(
        [ffmpeg(), "-v", "error", "-y", "-i", str(provider), "-c", "copy", *mp4_args(ours), str(film)], check=True
    )
    assert media_tags(film) == {"AIGC": ours.value()}  # one label, ours: the inherited one is gone
    assert parse(_ffmetadata(film)["AIGC"]) == ours
    with av.open(str(film)) as c:  # PyAV reads the same format tags ffprobe -show_format prints
        assert parse(c.metadata["AIGC"]) == ours
    assert b"mdta" in film.read_bytes()  # QuickTime metadata keys, moov/udta/meta
    if shutil.which("ffprobe"):  # where an ffprobe is installed, it shows TAG:AIGC itself
        shown = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format_tags=AIGC", "-of", "json", str(film)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        assert parse(json.loads(shown)["format"]["tags"]["AIGC"]) == ours


def test_without_metadata_tags_the_mp4_muxer_drops_the_key(media: Media, tmp_path: Path) -> None:
    """Why mp4_args sets +use_metadata_tags: ffmpeg's MP4 muxer silently drops unknown keys otherwise."""
    out = tmp_path / "plain.mp4"
    label = AigcLabel.first_write("kaipai", "x")
    subprocess.run(
        [ffmpeg(), "-v", "error", "-y", "-i", str(media.clip("c", "blue", 0.5)), "-c", "copy",
         "-metadata", f"AIGC={label.value()}", str(out)],
        check=True,
    )  # fmt: skip
    assert media_tags(out) == {}


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp"])
def test_images_carry_one_label_as_tc260_xmp(tmp_path: Path, suffix: str) -> None:
    src = tmp_path / f"still{suffix}"
    Image.new("RGB", (64, 36), (200, 30, 30)).save(src)
    if suffix == ".png":  # an inherited text label is replaced, not kept beside ours
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        info.add_text("AIGC", '{"Label":"1"}')
        info.add_text("Title", "keep me")
        Image.new("RGB", (64, 36), (200, 30, 30)).save(src, pnginfo=info)
    label = AigcLabel.first_write("kaipai", "still-1")
    out = tag_image(src, tmp_path / f"labelled{suffix}", label)
    tags = image_tags(out)
    assert list(tags) == ["TC260:AIGC"] and parse(tags["TC260:AIGC"]) == label
    assert json.loads(tags["TC260:AIGC"]) == label.elements()  # the bare object, as the TC260 image guide has it
    with Image.open(out) as img:
        assert img.size == (64, 36)
        if suffix == ".png":
            assert img.text["Title"] == "keep me"


def test_a_pdf_carries_the_label_in_its_xmp(tmp_path: Path) -> None:
    from fpdf import FPDF

    label = AigcLabel.first_write("kaipai", "board-1")
    pdf = FPDF()
    pdf.add_page()
    pdf.set_xmp_metadata(xmp(label))
    out = tmp_path / "board.pdf"
    pdf.output(str(out))
    assert parse(document_tags(out)["TC260:AIGC"]) == label
    assert read_tags(out) == document_tags(out)
