"""C2PA Content Credentials, checked with c2pa-python's own Reader against a chain made in the test:
a manifest that says created from trained algorithmic media with the takes as ingredients, Trusted
with the test root as anchor, only Valid without it, Invalid once a byte of the picture changes,
and a certificate C2PA refuses is one clear error."""

from __future__ import annotations

from pathlib import Path

import c2pa
import pytest

from kaipai.post import credentials
from kaipai.post.credentials import TRAINED, CredentialsError, Ingredient, Signing
from tests.support.certificates import make_chain
from tests.support.media import Media


def _takes(media: Media, tmp_path: Path) -> list[Ingredient]:
    clip = media.clip("take", "green", 1.0)
    odd = tmp_path / "take.sim"  # a take in a format C2PA cannot open: declared, not streamed
    odd.write_bytes(b"simulated")
    return [
        Ingredient(clip, "S01/clip", "clip", "S01", "dashscope", "wan2.2-i2v-plus", 42, "a" * 64),
        Ingredient(odd, "S02/clip", "clip", "S02", "simulated", "simulated-video", 7, "b" * 64),
    ]


def _signed(media: Media, tmp_path: Path, chain_ok: bool = True) -> tuple[Path, str]:
    chain = make_chain(email_protection=chain_ok)
    root, cert, key = chain.write(tmp_path / "certs")
    takes = _takes(media, tmp_path)
    film = media.clip("film", "red", 1.5)
    out = tmp_path / "signed.mp4"
    credentials.sign(film, out, Signing(cert, key), credentials.manifest("Night Bus", "0.1.0", takes), takes)
    return out, root.read_text()


def test_a_signed_master_validates_as_trusted_with_its_root(media: Media, tmp_path: Path) -> None:
    out, root = _signed(media, tmp_path)
    found = credentials.read(out, root)
    assert found is not None and found.state == "Trusted", found
    created = [a for a in found.actions if a["action"] == "c2pa.created"]
    assert created and created[0]["digitalSourceType"] == TRAINED
    placed = [a for a in found.actions if a["action"] == "c2pa.placed"]
    assert {a["softwareAgent"]["name"] for a in placed} == {"dashscope/wan2.2-i2v-plus", "simulated/simulated-video"}
    names = {i["title"] for i in found.ingredients}
    assert names == {"S01/clip (dashscope/wan2.2-i2v-plus)", "S02/clip (simulated/simulated-video)"}
    assert all(i["relationship"] == "componentOf" for i in found.ingredients)
    assert found.signer == "kaipai Test Signer"
    # read with c2pa-python directly, the way a platform would
    settings = {"trust": {"user_anchors": root}, "verify": {"remote_manifest_fetch": False}}
    with c2pa.Context.from_dict(settings) as ctx, open(out, "rb") as f, c2pa.Reader("video/mp4", f, context=ctx) as r:
        assert r.get_validation_state() == "Trusted"


def test_without_the_root_it_is_valid_but_untrusted_and_tampering_breaks_it(media: Media, tmp_path: Path) -> None:
    out, root = _signed(media, tmp_path)
    untrusted = credentials.read(out)
    assert untrusted is not None and untrusted.state == "Valid"
    assert any("signingCredential.untrusted" in f for f in untrusted.failures)
    data = bytearray(out.read_bytes())
    data[-200] ^= 0xFF  # one byte of the picture (faststart: mdat is last)
    tampered = tmp_path / "tampered.mp4"
    tampered.write_bytes(bytes(data))
    broken = credentials.read(tampered, root)
    assert broken is not None and broken.state == "Invalid"
    assert credentials.read(media.clip("unsigned", "blue", 0.5), root) is None


def test_a_certificate_c2pa_refuses_is_one_clear_error(media: Media, tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="emailProtection"):
        _signed(media, tmp_path, chain_ok=False)
    assert not (tmp_path / "signed.mp4").exists()
