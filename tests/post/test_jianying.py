"""`kaipai export jianying`: a 剪映 draft that pyJianYingDraft's own reader opens again with the picture,
dialogue, music, ambience and effects tracks and the subtitles, each piece where and as long as the cut
has it, with its media inside the draft folder."""

from __future__ import annotations

import json
from pathlib import Path

import pyJianYingDraft as jy

from kaipai.post.cut import Bed, Cut, CutEffect
from kaipai.post.jianying import SEC, export_jianying
from kaipai.post.subtitles import write_subtitles
from tests.support.media import FPS, Media


def sound_film(media: Media) -> tuple[Cut, dict[int, Path], dict[int, Path]]:
    cut = media.film(["red", "blue", "green"])  # 2 s, 2.4 s, 2.8 s; a line in each
    music = media.with_music(cut)
    cut.beds = [Bed("SC1", "rain", 0.0, 4.4), Bed("SC2", "room tone", 4.4, cut.duration)]
    beds = {0: media.tone("rain", 3.0, freq=90, amp=0.1), 1: media.tone("room", 8.0, freq=60, amp=0.1)}
    door, steps = media.tone("door", 1.2, freq=400), media.tone("steps", 3.0, freq=150)
    cut.shots[1].effects = [
        CutEffect("door", cut.shots[1].start + 0.5, door),
        CutEffect("steps", cut.shots[1].start + 1.0, steps),
    ]
    return cut, music, beds


def reopen(draft: Path) -> object:
    return jy.DraftFolder(str(draft.parent)).load_template(draft.name)


def test_the_draft_reopens_with_every_track_and_its_durations(media: Media, tmp_path: Path) -> None:
    cut, music, beds = sound_film(media)
    srt = write_subtitles(cut, tmp_path / "subs")["srt"]
    draft = export_jianying(cut, tmp_path / "drafts", name="雨夜", music=music, beds=beds, srt=srt)
    script = reopen(draft)
    assert (script.width, script.height, script.fps) == (cut.width, cut.height, FPS)
    assert abs(script.duration - cut.duration * SEC) <= SEC / FPS
    tracks = {(t.track_type.name, t.name): t for t in script.imported_tracks}
    assert set(tracks) >= {
        ("video", "picture"), ("audio", "dialogue"), ("audio", "music"), ("audio", "ambience"), ("audio", "effects"),
        ("text", "subtitles"),
    }  # fmt: skip
    picture = tracks[("video", "picture")]
    assert [s.target_timerange.duration for s in picture.segments] == [round(s.duration * SEC) for s in cut.shots]
    assert [s.target_timerange.start for s in picture.segments] == [round(s.start * SEC) for s in cut.shots]
    dialogue = tracks[("audio", "dialogue")]
    assert [s.target_timerange.start for s in dialogue.segments] == [round(ln.start * SEC) for ln in cut.lines]
    # the first bed is 3 s long under a 4.4 s scene: repeated to fill it; the second is trimmed to the film
    starts = [s.target_timerange.start for s in tracks[("audio", "ambience")].segments]
    assert starts == [0, 3 * SEC, round(4.4 * SEC)]
    assert tracks[("audio", "ambience")].end_time == round(cut.duration * SEC)
    # the door still rings when the steps start: the steps go on a second effects track
    effects = [s.target_timerange.start for s in tracks[("audio", "effects")].segments]
    second = [s.target_timerange.start for s in tracks[("audio", "effects 2")].segments]
    assert effects == [round((cut.shots[1].start + 0.5) * SEC)] and second == [round((cut.shots[1].start + 1.0) * SEC)]
    assert len(tracks[("text", "subtitles")].segments) == len(cut.lines)
    content = json.loads((draft / "draft_content.json").read_text(encoding="utf-8"))
    texts = [json.loads(m["content"])["text"] for m in content["materials"]["texts"]]
    assert texts == [ln.text for ln in cut.lines]
    for kind in ("videos", "audios"):
        for m in content["materials"][kind]:
            assert Path(m["path"]).parent == (draft / "materials").resolve() and Path(m["path"]).exists()
    assert (draft / "draft_info.json").read_bytes() == (draft / "draft_content.json").read_bytes()


def test_two_drafts_have_their_own_ids(media: Media, tmp_path: Path) -> None:
    cut, music, beds = sound_film(media)
    ids = set()
    for name in ("one", "two"):
        draft = export_jianying(cut, tmp_path / "drafts", name=name, music=music, beds=beds)
        meta = json.loads((draft / "draft_meta_info.json").read_text(encoding="utf-8"))
        assert meta["draft_name"] == name and meta["tm_duration"] == reopen(draft).duration
        assert len(meta["draft_materials"][0]["value"]) >= len(cut.shots)
        ids.add(meta["draft_id"])
    assert len(ids) == 2


def test_a_clips_own_sound_goes_to_the_effects_as_a_wav(media: Media, tmp_path: Path) -> None:
    import subprocess

    from kaipai.post.assemble import ffmpeg

    cut, music, beds = sound_film(media)
    noisy = tmp_path / "noisy.mp4"
    subprocess.run(
        [ffmpeg(), "-v", "error", "-y", "-i", str(cut.shots[0].picture), "-f", "lavfi", "-i", "sine=f=300:d=2",
         "-shortest", "-c:v", "copy", "-c:a", "aac", str(noisy)],
        check=True,
    )  # fmt: skip
    cut.shots[0].picture = cut.shots[0].sound = noisy
    draft = export_jianying(cut, tmp_path / "drafts", name="sound", music=music, beds=beds)
    tracks = {t.name: t for t in reopen(draft).imported_tracks}
    starts = [s.target_timerange.start for n in ("effects", "effects 2") if n in tracks for s in tracks[n].segments]
    assert 0 in starts and (draft / "materials" / "S0-sound.wav").exists()
