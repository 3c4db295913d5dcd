"""The studio's pages as data: storyboard, takes, cast, render stream, screening room."""

from __future__ import annotations

import json
import time

import pysubs2
from fastapi.testclient import TestClient

from kaipai.document.io import load
from kaipai.engine.db import TakesDB
from kaipai.project import ProjectPaths


def events_of(client: TestClient) -> list[dict]:
    """Read the server-sent event stream of the current job to its end."""
    out = []
    with client.stream("GET", "/api/events") as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                out.append(json.loads(line[6:]))
    return out


def test_storyboard_shows_shots_in_film_order_with_pictures_and_status(
    client: TestClient, project: ProjectPaths
) -> None:
    board = client.get("/api/storyboard").json()
    doc = load(project.document).doc
    assert [s["id"] for s in board["shots"]] == [s.id for s in doc.ordered_shots()]
    assert all(s["status"] == "current" and s["keyframe"] and s["clip"] for s in board["shots"])
    speaking = next(s for s in board["shots"] if s["dialogue"])
    assert speaking["speakers"][speaking["dialogue"][0]["speaker"]] in {"Maya", "Eli"}
    assert "CU" in board["enums"]["size"] and board["project"]["language"] == "en"

    client.patch(
        f"/api/shots/{speaking['id']}/lines/{speaking['dialogue'][0]['id']}", json={"text": "A different line."}
    )
    after = {s["id"]: s for s in client.get("/api/storyboard").json()["shots"]}
    assert after[speaking["id"]]["status"] == "stale" and after[speaking["id"]]["stages"]["voice"] == "stale"
    assert after[speaking["id"]]["locked"]


def test_mistakes_come_back_as_one_named_problem(client: TestClient) -> None:
    response = client.patch("/api/shots/S01-002", json={"size": "huge"})
    assert response.status_code == 400
    assert response.json()["problems"][0]["field"] == "shots[S01-002].size"
    assert client.get("/api/shots/NOPE").status_code == 400
    assert "no shot 'NOPE'" in client.get("/api/shots/NOPE").json()["error"]
    character = client.get("/api/shots/maya")  # a character id names a reference sheet, not a shot page
    assert character.status_code == 400 and "cast page" in character.json()["error"]


def test_shot_page_lists_takes_then_retake_and_circle(client: TestClient, project: ProjectPaths) -> None:
    page = client.get("/api/shots/S01-002").json()
    stages = {g["stage"]: g for g in page["stages"]}
    assert set(stages) == {"voice", "shot_audio", "keyframe", "clip", "lipsync"}
    clip = stages["clip"]["takes"][0]
    assert (
        clip["status"] == "circled" and clip["media_kind"] == "video" and clip["backend"] == "previz" and "seed" in clip
    )
    assert client.get(clip["url"]).headers["content-type"] == "video/mp4"

    made = client.post("/api/shots/S01-002/retake", json={"stage": "clip"}).json()["takes"]
    takes = {t["id"]: t for t in client.get("/api/shots/S01-002").json()["stages"][3]["takes"]}
    assert takes[made[0]]["status"] == "pending" and takes[clip["id"]]["status"] == "circled"
    assert client.post(f"/api/shots/S01-002/takes/{made[0]}/circle").json()["status"] == "circled"
    with TakesDB(project.database) as db:
        assert db.take(made[0]).status == "circled" and db.take(clip["id"]).status == "pending"
    assert client.post(f"/api/shots/S01-002/takes/{clip['id']}/reject").json()["status"] == "rejected"


def test_a_note_without_a_language_model_says_what_to_do(client: TestClient) -> None:
    response = client.post("/api/shots/S01-002/retake", json={"stage": "clip", "note": "warmer light"})
    assert response.status_code in (400, 409) and "planner" in response.json()["error"]


def test_cast_page_has_voice_previews_and_the_style_bible(client: TestClient) -> None:
    cast = client.get("/api/cast").json()
    maya = next(c for c in cast["characters"] if c["id"] == "maya")
    assert maya["voices"] and client.get(maya["voices"][0]["url"]).headers["content-type"] in (
        "audio/x-wav",
        "audio/wav",
    )
    client.patch("/api/style", json={"visual_style": "35mm, rain", "palette": ["#0B1D2A"]})
    assert client.get("/api/cast").json()["style"]["palette"] == ["#0B1D2A"]


def test_render_streams_progress_and_can_be_cancelled(client: TestClient, project: ProjectPaths) -> None:
    client.patch("/api/shots/S01-002/lines/S01-L1", json={"text": "The light. Still on."})
    client.patch("/api/shots/S01-004", json={"move": "push_in"})
    assert client.post("/api/render", json={"budget": 5}).status_code == 200
    events = events_of(client)
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "job_started" and "plan" in kinds and kinds[-1] == "job_done"
    done_nodes = {e["node"] for e in events if e["kind"] == "done"}
    assert "S01-002/voice/S01-L1" in done_nodes and "S01-004/clip" in done_nodes
    assert events[-1]["ok"] and events[-1]["result"]["generated"] == len(done_nodes)
    board = client.get("/api/storyboard").json()
    assert all(s["status"] == "current" for s in board["shots"])

    # a reconnecting browser resumes after the last event it saw
    assert events_of_after(client, len(events) - 1) == [events[-1]]

    client.patch("/api/shots/S01-001", json={"move": "push_in"})
    client.patch("/api/shots/S01-003", json={"move": "push_in"})
    client.post("/api/render", json={})
    assert client.post("/api/render", json={}).status_code == 409  # one job at a time
    client.post("/api/jobs/cancel")
    last = events_of(client)[-1]
    assert last["ok"] and (last["result"]["cancelled"] or last["result"]["generated"] > 0)


def events_of_after(client: TestClient, after: int) -> list[dict]:
    with client.stream("GET", f"/api/events?after={after}") as stream:
        return [json.loads(line[6:]) for line in stream.iter_lines() if line.startswith("data: ")]


def test_screening_room_plays_the_cut_with_webvtt_subtitles(client: TestClient, project: ProjectPaths) -> None:
    assert client.get("/api/screening").json()["film"] is None
    client.post("/api/cut", json={})
    events = events_of(client)
    assert events[-1]["ok"], events[-1]
    assert any(e["kind"] == "cut_progress" for e in events)
    screening = client.get("/api/screening").json()
    assert screening["film"].startswith("/media/output/film.mp4")
    assert [s["shot"] for s in screening["shots"]] == [s.id for s in load(project.document).doc.ordered_shots()]
    assert screening["shots"][-1]["end"] == pytest_approx(events[-1]["result"]["duration"])
    vtt = client.get(screening["subtitles"])
    assert vtt.headers["content-type"].startswith("text/vtt") and vtt.text.startswith("WEBVTT")
    srt = pysubs2.load(str(project.output / "film.srt"))
    assert [e.plaintext for e in pysubs2.SSAFile.from_string(vtt.text)] == [e.plaintext for e in srt]
    started = time.time()
    assert client.get(screening["film"], headers={"Range": "bytes=0-1023"}).status_code == 206
    assert time.time() - started < 5


def pytest_approx(value: float) -> object:
    import pytest

    return pytest.approx(value, abs=0.05)


def test_a_long_storyboard_comes_a_page_at_a_time_with_search_and_a_scene_index(
    client: TestClient, project: ProjectPaths
) -> None:
    doc = load(project.document).doc
    order = [s.id for s in doc.ordered_shots()]
    page = client.get("/api/storyboard?offset=1&limit=2").json()
    assert [s["id"] for s in page["shots"]] == order[1:3]
    assert page["total"] == len(order) and page["offset"] == 1 and "spent" not in page
    assert page["index"][0]["id"] == doc.ordered_shots()[0].scene and page["index"][0]["first"] == 0
    assert sum(entry["shots"] for entry in page["index"]) == len(order)
    word = doc.ordered_shots()[-1].description.split()[-1].strip(".,").lower()
    found = client.get(f"/api/storyboard?limit=10&q={word.upper()}").json()
    assert found["shots"] and all(
        word in (s["description"] + " ".join(d["text"] for d in s["dialogue"]) + s["id"]).lower()
        or word in s["scene_heading"].lower()
        for s in found["shots"]
    )
    totals = client.get("/api/storyboard?limit=0&totals=true").json()
    whole = client.get("/api/storyboard").json()
    assert totals["shots"] == [] and (totals["spent"], totals["estimate"]) == (whole["spent"], whole["estimate"])


def test_quality_control_badges_and_reasons_on_the_storyboard_and_the_shot_page(
    client: TestClient, project: ProjectPaths
) -> None:
    board = client.get("/api/storyboard").json()
    assert {s["qc"]["verdict"] for s in board["shots"]} == {"passed"}  # every previz take was checked on render
    target = next(s["id"] for s in board["shots"] if s["dialogue"])
    with TakesDB(project.database) as db:
        clip = next(t for t in db.all_takes() if t.shot == target and t.stage == "clip" and t.status == "circled")
        report = {**clip.qc, "passed": False, "score": 0.4}
        report["checks"] = [
            *clip.qc["checks"],
            {
                "name": "black",
                "passed": False,
                "score": 0.1,
                "hard": True,
                "reason": "black for 90% of the clip",
                "details": {},
            },
        ]
        db.set_qc(clip.id, report)
    shots = {s["id"]: s for s in client.get("/api/storyboard").json()["shots"]}
    assert shots[target]["qc"]["verdict"] == "flagged"
    assert shots[target]["qc"]["reasons"] == [f"{target}/clip: black: black for 90% of the clip"]
    page = client.get(f"/api/shots/{target}").json()
    assert page["shot"]["qc"]["verdict"] == "flagged"
    takes = {t["id"]: t for group in page["stages"] for t in group["takes"]}
    assert takes[clip.id]["qc"] == {
        "verdict": "failed",
        "score": 0.4,
        "reasons": ["black: black for 90% of the clip"],
        "scores": {**{c["name"]: c["score"] for c in clip.qc["checks"]}, "black": 0.1},
    }
