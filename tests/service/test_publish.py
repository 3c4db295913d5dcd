"""Publishing a film: a film with generative takes (the simulated provider) leaves the studio with all
three AIGC labels and its provenance; a previz-only film carries none under ``auto``; ``on`` and
``off`` force them; labelling changes nothing after the opening; the exports carry the labels too."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kaipai.backends.registry import Registry
from kaipai.document.io import load
from kaipai.document.publish import Publish
from kaipai.engine.keys import file_digest
from kaipai.post import label
from kaipai.post.aigc import image_tags, media_tags, parse, read_tags
from kaipai.post.credentials import TRAINED
from kaipai.service.cut import export_all, make_cut
from kaipai.service.publish import generative
from kaipai.service.render import render
from kaipai.service.verify import verify
from tests.support.certificates import make_chain
from tests.support.films import Film
from tests.support.media import pictures_and_sound

W, H, FPS = 640, 360, 25


@pytest.fixture
def signer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The user's config names a signing chain made for the test (paths relative to the config file)."""
    root, _, _ = make_chain().write(tmp_path / "config" / "c2pa")
    config = tmp_path / "config" / "config.toml"
    config.write_text('[c2pa]\ncertificate = "c2pa/chain.pem"\nkey = "c2pa/signer.key"\n', encoding="utf-8")
    monkeypatch.setenv("KAIPAI_CONFIG", str(config))
    for name in ("KAIPAI_C2PA_CERT", "KAIPAI_C2PA_KEY"):
        monkeypatch.delenv(name, raising=False)
    return root.read_text()


def made(film: Callable[..., Film], *, previz: bool = False, **publish: object) -> Film:
    """The small film at 640x360, 25 fps, rendered with the simulated provider (or the previz defaults)."""
    f = film({"media": "real"})
    doc = load(f.paths.document).doc
    doc.project.resolution, doc.project.fps = (W, H), FPS
    if previz:
        doc.backends = {}
    doc.publish = Publish(**publish)
    f.write(doc)
    summary = render(f.paths, settings=f.settings)
    assert not summary.failures, summary.failures
    return f


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255**2 / mse)


def test_generative_is_decided_by_the_backend_not_a_list() -> None:
    assert not any(generative(name) for name in ("previz", "espeak", "rules", "kaipai"))
    assert all(generative(name) for name in ("simulated", "dashscope", "kling", "comfyui", "openai"))
    assert all(Registry().load(n).generative is False for n in ("previz", "espeak", "rules"))
    assert generative("a-backend-not-installed")  # unknown: labelled, when in doubt


def test_a_film_with_generative_takes_carries_all_three_labels(film: Callable[..., Film], signer: str) -> None:
    f = made(film)
    result = make_cut(f.paths)
    assert result.labels["labelled"] and result.labels["c2pa"]["signed"]
    found = verify(result.film, anchors=signer)
    # 1. the visible notice: on the opening for at least 2 s, 5 % of the shorter side, gone after
    v = found.visible
    assert v is not None and v.found and v.text == "AI生成" and v.corner == "top_left"
    assert v.first == 0.0 and v.seconds >= 2.0 and not v.later
    assert v.ink_percent >= 5.0
    # 2. one AIGC metadata entry, Annex E, producer and propagator the same on first write
    assert [m.key for m in found.metadata] == ["AIGC"]
    aigc = found.metadata[0].label
    assert aigc is not None and aigc.label == "1" and aigc.producer == aigc.propagator == "kaipai"
    assert aigc.produce_id == aigc.propagate_id and aigc.produce_id
    # 3. C2PA, checked with c2pa-python's reader against the test's root
    c = found.c2pa
    assert c is not None and c.state == "Trusted", c
    assert any(a["action"] == "c2pa.created" and a["digitalSourceType"] == TRAINED for a in c.actions)
    generated = result.labels["generative_takes"]
    assert len(c.ingredients) == generated > 0
    assert all("simulated/simulated-" in i["title"] for i in c.ingredients)
    assert found.problems == []
    # the metadata survived the signing, and the signature covers the labelled file
    assert parse(media_tags(result.film)["AIGC"]) == aigc
    # provenance: every shot's circled takes with what made them
    record = json.loads((f.paths.output / "provenance.json").read_text(encoding="utf-8"))
    assert [s["shot"] for s in record["shots"]] == ["S1", "S2", "S3"]
    s2 = {t["stage"]: t for t in record["shots"][1]["takes"]}
    assert {"keyframe", "clip", "lipsync", "voice", "shot_audio", "sheet"} <= set(s2)
    kf = s2["keyframe"]
    assert kf["backend"] == "simulated" and kf["model"] == "simulated-image" and kf["generative"]
    assert "林晓站在门口" in kf["prompt"] and isinstance(kf["seed"], int) and "cost" in kf and "seconds" in kf
    assert [r["role"] for r in kf["references"]] == ["reference_images"] and len(kf["references"][0]["sha256"]) == 64
    assert s2["shot_audio"]["generative"] is False
    assert sum(t["generative"] for s in record["shots"] for t in s["takes"]) == generated
    assert record["labels"]["c2pa"]["signed"] and record["sha256"] == file_digest(result.film)


def test_a_previz_film_carries_none_under_auto_and_on_forces_them(film: Callable[..., Film], signer: str) -> None:
    f = made(film, previz=True)
    plain = make_cut(f.paths)
    assert not plain.labels["labelled"] and plain.labels["generative_takes"] == 0
    found = verify(plain.film, anchors=signer)
    assert found.visible is not None and not found.visible.found
    assert found.metadata == [] and found.c2pa is None
    doc = load(f.paths.document).doc
    doc.publish = Publish(labels="on", label_text="人工智能生成", corner="bottom_left")
    f.write(doc)
    forced = make_cut(f.paths)
    found = verify(forced.film, anchors=signer)
    assert found.visible is not None and found.visible.found and found.visible.text == "人工智能生成"
    assert found.visible.corner == "bottom_left" and found.visible.seconds >= 2.0
    assert found.metadata and found.c2pa is not None and found.c2pa.state == "Trusted"
    assert found.c2pa.ingredients == []  # nothing generative to list


def test_off_forces_no_labels_on_a_generative_film(film: Callable[..., Film], signer: str) -> None:
    f = made(film, labels="off")
    result = make_cut(f.paths)
    assert not result.labels["labelled"] and result.labels["generative_takes"] > 0
    found = verify(result.film, anchors=signer)
    assert not found.visible.found and found.metadata == [] and found.c2pa is None


def test_recutting_with_labels_changes_nothing_after_the_opening(film: Callable[..., Film]) -> None:
    """A film that is encoded (here: dissolves between its shots) keeps every frame and sample after
    the notice; a cut-only film of conforming clips, stream-copied unlabelled, is encoded once labelled."""
    f = made(film, labels="off")
    doc = load(f.paths.document).doc
    for shot in doc.shots[1:]:
        shot.transition, shot.transition_duration = "dissolve", 0.4
    f.write(doc)
    before, sound_before = pictures_and_sound(make_cut(f.paths).film)
    doc.publish = Publish(labels="on")
    f.write(doc)
    result = make_cut(f.paths)
    after, sound_after = pictures_and_sound(result.film)
    opening = result.labels["visible"]["frames"]
    assert opening == 63 and result.labels["visible"]["rest_copied"]
    assert len(before) == len(after)
    assert all(np.array_equal(a, b) for a, b in zip(before[opening:], after[opening:], strict=True))
    assert np.array_equal(sound_before, sound_after)
    assert min(psnr(a, b) for a, b in zip(before[:opening], after[:opening], strict=True)) > 20  # the notice only


def test_a_stream_copied_film_keeps_every_frame_after_the_opening(film: Callable[..., Film]) -> None:
    """Cuts between conforming clips are copied, labelled or not: the notice stays on until the
    picture's first keyframe after 2.5 s, and from there the labelled film is the unlabelled one."""
    f = made(film, labels="off")
    plain = make_cut(f.paths)
    assert plain.loudness["stream_copy"] == 1.0
    before, sound_before = pictures_and_sound(plain.film)
    doc = load(f.paths.document).doc
    doc.publish = Publish(labels="on")
    f.write(doc)
    labelled = make_cut(f.paths)
    after, sound_after = pictures_and_sound(labelled.film)
    visible = labelled.labels["visible"]
    opening = visible["frames"]
    starts = np.cumsum([0] + [round(shot.duration * FPS) for shot in doc.shots])
    assert opening == visible["encoded_frames"] == min(s for s in starts if s >= 63) and visible["rest_copied"]
    assert labelled.loudness["stream_copy"] == 1.0
    assert len(before) == len(after) and np.array_equal(sound_before, sound_after)
    assert all(np.array_equal(a, b) for a, b in zip(before[opening:], after[opening:], strict=True))
    seen = [i for i, frame in enumerate(after) if label.find(frame, ["AI生成", "AI generated"]) is not None]
    assert seen == list(range(opening))


def test_the_exports_carry_the_labels(film: Callable[..., Film], tmp_path: Path) -> None:
    f = made(film, corner_mark=True)
    result = make_cut(f.paths)
    found = verify(result.film)
    assert found.visible is not None and found.visible.later  # the corner mark stays
    dest = tmp_path / "handoff"
    out = export_all(f.paths, dest)
    value = result.labels["aigc"]
    assert value["ContentProducer"] == "kaipai"
    otio_doc = json.loads(out["otio"].read_text(encoding="utf-8"))
    assert parse(otio_doc["metadata"]["AIGC"]).label == "1"
    tracks = [t["name"] for t in otio_doc["tracks"]["children"]]
    assert "AIGC notice" in tracks
    assert "AIGC" in out["fcpxml"].read_text(encoding="utf-8") and "aigc-notice.png" in out["fcp7"].read_text()
    assert "* AIGC: " in out["edl"].read_text(encoding="utf-8")
    with Image.open(dest / "media" / "aigc-notice.png") as still:  # the notice track's still, frame-sized
        assert still.size == (W, H) and label.find(np.asarray(still.convert("RGB")), ["AI生成"]) is not None
    for clip in ("S1.mp4", "S2.mp4", "S3.mp4"):  # the generated clips the timeline points at
        assert parse(media_tags(dest / "media" / clip)["AIGC"]).producer == "kaipai"
    sheet = verify(out["contact sheet"])
    assert sheet.visible is not None and sheet.visible.found and sheet.metadata
    assert parse(image_tags(out["contact sheet"])["TC260:AIGC"]).label == "1"
    assert parse(read_tags(out["storyboard"])["TC260:AIGC"]).label == "1"


def test_publish_settings_are_checked_where_they_are_written(tmp_path: Path) -> None:
    from kaipai.document.io import DocumentError

    base = "project: {title: t}\npublish:\n"
    (tmp_path / "kaipai.yaml").write_text(base + "  labels: on\n  corner: bottom_right\n", encoding="utf-8")
    publish = load(tmp_path).doc.publish
    assert publish.labels.value == "on" and publish.corner.value == "bottom_right"  # YAML's bare on is "on"
    (tmp_path / "kaipai.yaml").write_text(base + "  producer: my studio\n  label_seconds: 1\n", encoding="utf-8")
    with pytest.raises(DocumentError) as caught:
        load(tmp_path)
    text = str(caught.value)
    assert "kaipai.yaml:4" in text and "publish.producer" in text and "printable ASCII" in text
    assert "publish.label_seconds" in text
