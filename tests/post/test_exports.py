"""Exports an editor opens: every timeline format re-opens with OpenTimelineIO to the same cut and its
media, from wherever the folder is moved; stems line up with the film; the storyboard and contact
sheet show every shot."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pypdf
import pytest
from PIL import Image

from kaipai.post.assemble import render_stems
from kaipai.post.cut import Cut
from kaipai.post.storyboard import contact_sheet
from kaipai.post.timeline import FORMATS, build_timeline, export
from tests.support.media import FPS, Media


def video_clips(tl: otio.schema.Timeline) -> list[otio.schema.Clip]:
    track = next(t for t in tl.tracks if t.kind == otio.schema.TrackKind.Video)
    return list(track.find_clips())


def resolve(url: str, folder: Path) -> Path:
    if "://" in url:
        return Path(otio.url_utils.filepath_from_url(url))
    return folder / url


@pytest.fixture
def cut(media: Media) -> Cut:
    cut = media.film(["red", "blue", "green"], transition="dissolve", td=0.4)
    cut.shots[1].sfx = ["rain on glass", "a bus passes"]
    return cut


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_export_reopens_to_the_same_cut_after_the_folder_moves(
    cut: Cut, media: Media, tmp_path: Path, fmt: str
) -> None:
    made = export(cut, tmp_path / "package", [fmt], music=media.with_music(cut))
    moved = tmp_path / "elsewhere" / "package"
    shutil.move(str(tmp_path / "package"), moved)  # as if zipped and unpacked on the editor's machine
    path = moved / made[fmt].name
    options = {"rate": FPS} if fmt == "edl" else {}  # an EDL does not record its frame rate: the editor says it
    clips = video_clips(otio.adapters.read_from_file(str(path), **options))
    assert [c.source_range.duration.to_frames() for c in clips] == [round(s.duration * FPS) for s in cut.shots]
    if fmt != "edl":  # an EDL keeps reel names, not clip names
        assert [c.name for c in clips] == [s.shot for s in cut.shots]
    for clip, shot in zip(clips, cut.shots, strict=True):
        url = clip.media_reference.target_url
        assert "://" not in url or fmt == "fcpxml", f"{fmt} keeps an absolute path: {url}"
        target = resolve(url, path.parent)
        assert target.is_file(), f"{fmt}: {url} is not in the package"
        assert target.read_bytes() == shot.picture.read_bytes()  # type: ignore[union-attr]


def test_otio_has_dialogue_at_its_place_music_effects_and_markers(cut: Cut, media: Media) -> None:
    cut.lines[2].start += 0.5  # a line that starts half a second into its shot
    cut.lines[2].end += 0.5
    tl = build_timeline(cut, music=media.with_music(cut))
    tracks = {t.name: t for t in tl.tracks}
    assert set(tracks) == {"picture", "dialogue", "music", "effects"}
    dialogue = [(c.name, c.range_in_parent().start_time.to_frames()) for c in tracks["dialogue"].find_clips()]
    assert dialogue == [(ln.line, round(ln.start * FPS)) for ln in cut.lines]
    assert tracks["music"].duration().to_frames() == round(cut.duration * FPS)
    (effect,) = tracks["effects"].find_clips()
    assert effect.name == "rain on glass / a bus passes"
    assert effect.range_in_parent().start_time.to_frames() == round(cut.shots[1].start * FPS)
    markers = [(m.name, m.comment) for c in video_clips(tl) for m in c.markers]
    assert markers == [(s.shot, s.notes) for s in cut.shots]
    transitions = [t for t in tracks["picture"] if isinstance(t, otio.schema.Transition)]
    assert len(transitions) == 2 and all(t.in_offset.to_frames() + t.out_offset.to_frames() == 10 for t in transitions)
    # the picture track is as long as the film: transitions overlap shots, they do not add time
    assert tracks["picture"].duration().to_frames() == round(cut.duration * FPS)


def test_missing_pictures_are_exported_as_slates(cut: Cut, media: Media, tmp_path: Path) -> None:
    cut.shots[0].picture = None
    slate = media.slate()(cut.shots[0])
    export(cut, tmp_path / "p", ["otio"], slates={"S0": slate})
    first = video_clips(otio.adapters.read_from_file(str(tmp_path / "p" / "film.otio")))[0]
    target = resolve(first.media_reference.target_url, tmp_path / "p")
    with Image.open(target) as img:
        assert img.size == (160, 90)


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        data = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, w.getnchannels()) / 32768
        return data.mean(axis=1), w.getframerate()


def test_stems_line_up_with_the_film_and_music_ducks_under_dialogue(cut: Cut, media: Media, tmp_path: Path) -> None:
    music = media.with_music(cut)
    cut.lines[0].path = media.tone("long line", 1.0, freq=300, amp=0.5)
    cut.lines[0].end = cut.lines[0].start + 1.0
    stems = render_stems(cut, tmp_path / "stems", music)
    lengths = {}
    for name, path in stems.items():
        pcm, rate = read_wav(path)
        lengths[name] = len(pcm) / rate

        def rms(a: float, b: float, pcm: np.ndarray = pcm, rate: int = rate) -> float:
            return float(np.sqrt(np.mean(pcm[int(a * rate) : int(b * rate)] ** 2)))

        if name == "dialogue":
            line = cut.lines[0]
            assert rms(line.start + 0.1, line.end - 0.1) > 0.2 and rms(0, line.start - 0.05) < 1e-3
        if name == "music":
            under, clear = (
                rms(cut.lines[0].start + 0.3, cut.lines[0].end - 0.1),
                rms(cut.shots[1].start - 0.7, cut.shots[1].start - 0.2),
            )
            assert under < clear / 2, "music is not ducked under the dialogue"
        if name == "effects":
            assert rms(0, lengths[name]) == 0
    assert all(abs(s - cut.duration) < 1e-3 for s in lengths.values())


def test_storyboard_pdf_and_contact_sheet_show_every_shot(cut: Cut, media: Media, tmp_path: Path) -> None:
    from kaipai.document.models import Document

    doc = Document.model_validate(
        {
            "project": {"title": "雨夜", "language": "zh", "resolution": [160, 90], "fps": FPS},
            "scenes": [{"id": "SC1", "heading": "公交站 夜", "title": "雨中的站台"}],
            "shots": [
                {
                    "id": s.shot,
                    "scene": "SC1",
                    "order": i,
                    "description": f"第{i}个镜头",
                    "dialogue": [{"id": f"L{i}", "speaker": "narrator", "text": f"台词{i}"}],
                }
                for i, s in enumerate(cut.shots)
            ],
        }
    )
    stills = {s.shot: media.slate()(s) for s in cut.shots}
    from kaipai.post.storyboard import storyboard_pdf

    pdf = pypdf.PdfReader(str(storyboard_pdf(doc, cut, stills, tmp_path / "board.pdf")))
    text = "".join(page.extract_text() for page in pdf.pages).replace("\x00", "")  # CID fonts extract with NULs
    assert len(pdf.pages) == 1 and all(s.shot in text for s in cut.shots)
    assert "旁白：台词2" in text and "分镜" in text and "中景" in text  # the layout itself: tests/post/test_board.py
    assert text.count("SC1  公交站 夜  《雨中的站台》") == 1  # the scene's heading and title, once, where it starts
    sheet = contact_sheet(cut, stills, tmp_path / "sheet.png", columns=2, thumb=100)
    with Image.open(sheet) as img:
        assert img.size[0] == 200 and img.size[1] == 2 * (56 + 22)
        first = np.asarray(img.convert("RGB"))[10:40, 10:90]
    assert first.std() > 5  # the slate's text, not an empty cell
