"""`kaipai cut` and `kaipai export …` on a project whose circled takes are test clips: a partial film is
watchable (slates), subtitles sit beside it, the exports land in one movable folder, and the master
plays to the end in a browser."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import av
import pysubs2
import pytest
from typer.testing import CliRunner

import kaipai.service.cut as service_cut
from kaipai.cli import app
from kaipai.project import ProjectPaths
from kaipai.service.takes import CircledMedia, VoiceMedia
from tests.support.media import FPS, H, Media, W
from tests.support.playback import CHROMIUM, play_to_the_end, serve_film


@pytest.fixture
def project(tmp_path: Path, media: Media, monkeypatch: pytest.MonkeyPatch) -> ProjectPaths:
    """Three shots: two with clips and a line each, the middle one not rendered yet."""
    doc = {
        "project": {"title": "Night Bus", "language": "en", "resolution": [W, H], "fps": FPS},
        "cast": {"characters": [{"id": "lin", "name": "Lin"}]},
        "scenes": [{"id": "SC1", "heading": "EXT. BUS STOP - NIGHT"}],
        "shots": [
            {
                "id": "S1",
                "scene": "SC1",
                "order": 0,
                "description": "A bus stop in the rain",
                "duration": 2.0,
                "music": "soft piano",
                "dialogue": [{"id": "L1", "speaker": "lin", "text": "It's late.", "translation": "很晚了。"}],
            },
            {
                "id": "S2",
                "scene": "SC1",
                "order": 1,
                "description": "Headlights through the rain",
                "duration": 1.6,
                "transition": "dissolve",
                "transition_duration": 0.4,
                "sfx": ["rain"],
            },
            {
                "id": "S3",
                "scene": "SC1",
                "order": 2,
                "description": "Lin looks up",
                "duration": 2.4,
                "dialogue": [{"id": "L3", "speaker": "lin", "text": "Here it comes."}],
            },
        ],
    }
    root = tmp_path / "film"
    root.mkdir()
    (root / "kaipai.yaml").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    voice = media.tone("voice", 0.8, freq=220, amp=0.2, wobble=True)
    circled = {
        "S1": CircledMedia(
            shot="S1",
            position=0,
            duration=2.0,
            clip=media.clip("s1", "red", 2.0),
            voices=[VoiceMedia(line="L1", speaker="lin", path=voice, start=0.3, end=1.1, duration=0.8, on_screen=True)],
        ),
        "S2": CircledMedia(shot="S2", position=1, duration=1.6),
        "S3": CircledMedia(
            shot="S3",
            position=2,
            duration=2.4,
            clip=media.clip("s3", "blue", 2.4),
            voices=[VoiceMedia(line="L3", speaker="lin", path=voice, start=0.5, end=1.3, duration=0.8, on_screen=True)],
        ),
    }
    # the edit reads circled takes through this one function; here they are test clips
    monkeypatch.setattr(service_cut, "circled_media", lambda paths: circled)
    return ProjectPaths(root)


def test_cut_writes_a_watchable_partial_film_with_subtitles(project: ProjectPaths) -> None:
    result = service_cut.make_cut(project, profile="broadcast")
    assert result.film == project.output / "film.mp4" and result.missing == ["S2"]
    with av.open(str(result.film)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(frames) == 6 * FPS
    slate = frames[round(2.2 * FPS)]
    assert slate.std() > 5 and slate.mean() < 120  # the dark card with the shot's text
    subs = pysubs2.load(str(result.srt))
    assert [e.plaintext for e in subs] == ["It's late.\n很晚了。", "Here it comes."]
    assert [e.start for e in subs] == [300, 4100]
    assert abs(result.loudness["input_i"]) < 70


def test_cli_cut_and_exports(project: ProjectPaths, tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(app, ["cut", "--burn-subtitles", "-p", str(project.root)])
    assert done.exit_code == 0, done.output
    assert "film" in done.output and "S2" in done.output
    dest = tmp_path / "handoff"
    done = runner.invoke(app, ["export", "all", "-o", str(dest), "-p", str(project.root)])
    assert done.exit_code == 0, done.output
    names = {p.name for p in dest.iterdir()}
    assert {
        "film.otio",
        "film.fcpxml",
        "film.xml",
        "film.edl",
        "film.srt",
        "film.ass",
        "stems",
        "storyboard.pdf",
        "contact-sheet.png",
        "media",
    } <= names
    done = runner.invoke(app, ["export", "subtitles", "-o", str(tmp_path / "subs"), "-p", str(project.root)])
    assert done.exit_code == 0 and (tmp_path / "subs" / "film.srt").exists()


def test_cut_with_an_unknown_profile_is_one_clear_error(project: ProjectPaths) -> None:
    done = CliRunner().invoke(app, ["cut", "--profile", "cinema", "-p", str(project.root)])
    assert done.exit_code != 0 and "cinema" in done.output


@pytest.fixture
def served(project: ProjectPaths) -> Iterator[str]:
    with serve_film(service_cut.make_cut(project).film) as url:
        yield url


@pytest.mark.browser
def test_master_plays_to_the_end_in_chromium(served: str) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM}")
    assert play_to_the_end(served, timeout_ms=30000) == "ended after 6.00"


def test_cutting_again_with_nothing_changed_keeps_the_film_and_a_change_recuts_it(project: ProjectPaths) -> None:
    first = service_cut.make_cut(project)
    made = first.film.stat().st_mtime_ns
    again = service_cut.make_cut(project)
    assert again.film.stat().st_mtime_ns == made and again.loudness == first.loudness
    burned = service_cut.make_cut(project, burn_subtitles=True)  # another master: cut again
    assert burned.film.stat().st_mtime_ns != made


def test_a_film_is_current_until_what_it_is_cut_from_changes(project: ProjectPaths) -> None:
    """What lets a render that made nothing skip the cut (without loading post-production)."""
    from kaipai.service.freshness import film_is_current

    assert not film_is_current(project)
    service_cut.make_cut(project)
    assert film_is_current(project)
    doc = project.document
    doc.write_text(doc.read_text(encoding="utf-8").replace("in the rain", "in the snow"), encoding="utf-8")
    assert not film_is_current(project)
    service_cut.make_cut(project)
    assert film_is_current(project)
