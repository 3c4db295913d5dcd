"""One film made with five cloud backends, chosen per shot: Seedream keyframes, voices from a local
OpenAI-compatible (Kokoro-style) server, and each shot's clip from another service — Seedance with its own
sound, Hailuo, Veo with its own sound — all against their protocol doubles, rendered by the engine and cut
to the end."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from kaipai.document.backend_choice import BackendChoice
from kaipai.document.models import Document
from kaipai.engine.db import TakesDB
from kaipai.project import ProjectPaths
from kaipai.service.cut import current_cut, make_cut
from kaipai.service.render import render
from tests.backends.doubles import ark_double, minimax_double, openai_media_double, veo_double
from tests.backends.doubles.server import serve
from tests.support.films import FAST, Film, small_film

pytest.importorskip("volcenginesdkarkruntime")
pytest.importorskip("google.genai")
pytest.importorskip("openai")

POLL = {"poll_interval": 0.01, "poll_max_interval": 0.05, "deadline": 20, "timeout": 5}


@contextlib.contextmanager
def providers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Four provider doubles on local ports, with the keys they expect in the environment."""
    monkeypatch.setenv("KAIPAI_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("ARK_API_KEY", ark_double.KEY)
    monkeypatch.setenv("MINIMAX_API_KEY", minimax_double.KEY)
    monkeypatch.setenv("GEMINI_API_KEY", veo_double.KEY)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    doubles = {  # each service's clips in a colour of their own, to see whose clip is on screen
        "ark": ark_double.ArkDouble(colour=(230, 40, 40)),
        "minimax": minimax_double.MiniMaxDouble(colour=(40, 200, 40)),
        "veo": veo_double.VeoDouble(colour=(40, 60, 230)),
        "speech": openai_media_double.MediaDouble(flavour="kokoro"),
    }
    with contextlib.ExitStack() as stack:
        for double in doubles.values():
            double.base_url = stack.enter_context(serve(double.app()))
        yield doubles


def cloud_film(doubles: dict[str, Any]) -> Document:
    """The small film (three shots, two speakers), its stages and each shot's clip on another service."""
    doc = small_film({})
    ark = {"base_url": doubles["ark"].base_url + "/api/v3", "resolution": "480p", **POLL}
    doc.backends["image"] = BackendChoice(use="ark", options=ark)
    doc.backends["speech"] = BackendChoice(
        use="openai-speech",
        model="kokoro",
        options={
            "base_url": doubles["speech"].base_url + "/v1",
            "voices": {"lin": "zf_xiaobei", "father": "zm_yunjian"},
        },
    )
    for cap in ("video", "lipsync", "music"):
        doc.backends[cap] = BackendChoice(use="previz")
    clips = {
        "S1": BackendChoice(use="ark", model="doubao-seedance-1-5-pro-251215", options=ark),
        "S2": BackendChoice(use="minimax", options={"base_url": doubles["minimax"].base_url, **POLL}),
        "S3": BackendChoice(use="veo", options={"base_url": doubles["veo"].base_url, **POLL}),
    }
    for shot in doc.shots:
        shot.generation.backends["video"] = clips[shot.id]
    return doc


def circled(paths: ProjectPaths) -> dict[str, Any]:
    with TakesDB(paths.database) as db:
        return {t.node: t for t in db.all_takes() if t.status == "circled"}


def frame_at(path: Path, seconds: float) -> np.ndarray:
    with av.open(str(path)) as container:
        frames = [f for f in container.decode(video=0) if f.time is not None and f.time <= seconds]
    return frames[-1].to_ndarray(format="rgb24")


def streams(path: Path) -> list[str]:
    with av.open(str(path)) as container:
        return sorted(s.type for s in container.streams)


def test_a_film_mixes_services_per_shot_and_renders_to_the_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with providers(monkeypatch, tmp_path) as doubles:
        film = Film(tmp_path / "film", {})
        film.paths.root.mkdir()
        film.write(cloud_film(doubles))
        summary = render(film.paths, settings=FAST)
        assert summary.ok, summary
        takes = circled(film.paths)
        clips = {shot: takes[f"{shot}/clip"] for shot in ("S1", "S2", "S3")}
        assert {s: t.backend for s, t in clips.items()} == {"S1": "ark", "S2": "minimax", "S3": "veo"}
        # each service was paid once per clip; the keyframes and both characters' sheets came from Seedream
        assert (doubles["ark"].submissions, doubles["minimax"].submissions, doubles["veo"].submissions) == (1, 1, 1)
        assert len(doubles["ark"].images) == 5 and len(doubles["speech"].log) == 3
        assert any(len(body.get("image") or []) for body in doubles["ark"].images)  # keyframes see the sheets
        # the clips that came with their own sound keep it, and say so
        store = film.paths.store
        for shot, sound in (("S1", True), ("S2", False), ("S3", True)):
            assert clips[shot].metadata["audio"] is sound
            assert ("audio" in streams(store / clips[shot].media)) is sound
        cut = make_cut(film.paths)
        assert cut.missing == [] and cut.shots == 3
        assert streams(cut.film) == ["audio", "video"]
        with av.open(str(cut.film)) as container:
            assert float(container.duration) / 1e6 == pytest.approx(cut.duration, abs=0.25)
        # each shot shows the clip of the service chosen for it: red Seedance, green Hailuo, blue Veo
        for shot, channel in zip(current_cut(film.paths).shots, (0, 1, 2), strict=True):
            middle = frame_at(cut.film, shot.start + shot.duration / 2)
            centre = middle[middle.shape[0] // 3 : -middle.shape[0] // 3, middle.shape[1] // 3 : -middle.shape[1] // 3]
            assert int(np.argmax(centre.reshape(-1, 3).mean(axis=0))) == channel, shot.shot
        again = render(film.paths, settings=FAST)  # nothing is generated, or paid for, twice
        assert again.ok and not again.generated
        assert (doubles["ark"].submissions, doubles["minimax"].submissions, doubles["veo"].submissions) == (1, 1, 1)
