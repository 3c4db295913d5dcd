"""`kaipai verify FILE`: what a director runs before uploading. It says whether the notice is on the
opening (and for how long, how tall), what the AIGC metadata holds and whether the C2PA manifest
holds; a malformed label is exit status 1 with the reason, a missing file one clear error."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin
from typer.testing import CliRunner

from kaipai.cli import app
from kaipai.post import credentials, label
from kaipai.post.aigc import AigcLabel, tag_image, xmp_packet
from kaipai.post.ffmpeg import ffmpeg, h264
from kaipai.post.opening import label_opening
from tests.support.certificates import make_chain

W, H, FPS = 320, 180, 25
runner = CliRunner()


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 4 s film with the notice on its first 2.5 s, the AIGC metadata and a C2PA signature."""
    tmp = tmp_path_factory.mktemp("verify")
    plain = tmp / "plain.mp4"
    subprocess.run(
        [ffmpeg(), "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={W}x{H}:rate={FPS}", "-f", "lavfi",
         "-i", "sine=frequency=330", "-t", "4", *h264(FPS), "-force_key_frames", "expr:eq(n,63)", "-c:a", "aac",
         str(plain)],
        check=True,
    )  # fmt: skip
    n = label.notice("AI生成", W, H, "top_left")
    picture = label.OnPicture(n, label.write_images(n, tmp / "labels"), 63)
    labelled = tmp / "labelled.mp4"
    aigc = AigcLabel.first_write("my-studio", "film-42")
    label_opening(plain, labelled, picture, fps=FPS, codec=h264(FPS), aigc=aigc)
    root, cert, key = make_chain().write(tmp / "certs")
    film = tmp / "film.mp4"
    credentials.sign(labelled, film, credentials.Signing(cert, key), credentials.manifest("t", "0.1.0", []), [])
    return film, root


def test_verify_reports_all_three_labels(signed: tuple[Path, Path]) -> None:
    film, root = signed
    done = runner.invoke(app, ["verify", str(film), "--trust", str(root)], terminal_width=200)
    assert done.exit_code == 0, done.output
    assert "visible notice  AI生成 top-left, 2.52 s from 0.00 s, text height" in done.output
    assert "gone after the opening" in done.output
    assert "ContentProducer=my-studio" in done.output and "ProduceID=film-42" in done.output
    assert "C2PA            Trusted, signed by kaipai Test Signer" in done.output
    assert "trainedAlgorithmicMedia" in done.output
    untrusted = runner.invoke(app, ["verify", str(film)], terminal_width=200)
    assert untrusted.exit_code == 0 and "C2PA            Valid" in untrusted.output
    assert "signingCredential.untrusted" in untrusted.output


def test_verify_as_json(signed: tuple[Path, Path]) -> None:
    film, root = signed
    done = runner.invoke(app, ["verify", str(film), "--trust", str(root), "--json"])
    assert done.exit_code == 0, done.output
    found = json.loads(done.output)
    assert found["visible"]["found"] and found["visible"]["seconds"] >= 2.0 and found["visible"]["ink_percent"] >= 5
    assert found["aigc"][0]["elements"]["ContentProducer"] == "my-studio"
    assert found["c2pa"]["state"] == "Trusted" and found["problems"] == []


def test_a_tampered_film_fails(signed: tuple[Path, Path], tmp_path: Path) -> None:
    film, root = signed
    data = bytearray(film.read_bytes())
    data[-300] ^= 0xFF
    tampered = tmp_path / "tampered.mp4"
    tampered.write_bytes(bytes(data))
    done = runner.invoke(app, ["verify", str(tampered), "--trust", str(root)], terminal_width=200)
    assert done.exit_code == 1 and "Invalid" in done.output and "does not validate" in done.output


def test_an_image_with_two_labels_or_a_malformed_one_fails(tmp_path: Path) -> None:
    png = tmp_path / "still.png"
    info = PngImagePlugin.PngInfo()
    info.add_text("AIGC", '{"Label":"1"}')  # malformed: lacks the other elements
    Image.new("RGB", (320, 180), (20, 60, 90)).save(png, pnginfo=info)
    done = runner.invoke(app, ["verify", str(png)], terminal_width=200)
    assert done.exit_code == 1 and "lacks ContentProducer" in done.output
    assert "visible notice  none" in done.output
    # XMP added beside the text chunk: two labels in one file
    both = tmp_path / "both.png"
    info = PngImagePlugin.PngInfo()
    info.add_text("AIGC", AigcLabel.first_write("a", "1").value())
    info.add_itxt("XML:com.adobe.xmp", xmp_packet(AigcLabel.first_write("b", "2")))
    Image.new("RGB", (320, 180), (20, 60, 90)).save(both, pnginfo=info)
    done = runner.invoke(app, ["verify", str(both)], terminal_width=200)
    assert done.exit_code == 1 and "2 AIGC metadata entries" in done.output
    one = tag_image(png, tmp_path / "one.png", AigcLabel.first_write("kaipai", "still-1"))
    done = runner.invoke(app, ["verify", str(one)], terminal_width=200)
    assert done.exit_code == 0 and "TC260:AIGC" in done.output


def test_a_missing_file_is_one_clear_error(tmp_path: Path) -> None:
    done = runner.invoke(app, ["verify", str(tmp_path / "nope.mp4")])
    assert done.exit_code == 1 and "no such file" in done.output and "Traceback" not in done.output


def test_verify_has_help() -> None:
    done = runner.invoke(app, ["verify", "--help"], terminal_width=120)
    assert done.exit_code == 0 and "GB 45438" in done.output and "--trust" in done.output
