"""The director's loop in a real browser: edit a line, retake, circle, render, cut, watch to the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kaipai.document.io import load
from kaipai.engine.db import TakesDB
from kaipai.project import ProjectPaths
from kaipai.studio.server import Studio

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "studio"  # screenshots, for a person to look at

NEW_LINE = "He swore the light would still be burning."


@pytest.fixture
def studio(project: ProjectPaths) -> Iterator[Studio]:
    server = Studio(project)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def page(studio: Studio):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--autoplay-policy=no-user-gesture-required"]
        )
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(studio.url)
        yield page
        browser.close()
        assert not errors, errors


def wait_ready(page, name: str) -> None:
    page.wait_for_selector(f'body[data-ready="{name}"]', timeout=20_000)


def shot(page, name: str) -> None:
    page.wait_for_timeout(300)  # let pictures decode before the screenshot
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def test_edit_retake_circle_render_cut_and_watch(page, studio: Studio, project: ProjectPaths) -> None:
    assert page.url.endswith("/") and "token=" not in page.url  # the token left the address bar
    wait_ready(page, "storyboard")
    assert page.locator("article.card").count() == len(load(project.document).doc.shots)
    shot(page, "1-storyboard")

    # edit a line of dialogue inline
    line = page.locator('article.card[data-shot="S01-002"] input.line-text')
    with page.expect_response(lambda r: "/lines/S01-L1" in r.url and r.request.method == "PATCH") as saved:
        line.fill(NEW_LINE)
        line.press("Tab")
    assert saved.value.ok
    page.wait_for_selector('article.card[data-shot="S01-002"] .badge.status-stale')

    # the shot page: takes side by side; retake the clip, circle the new take
    page.click('article.card[data-shot="S01-002"] a.shot-id')
    wait_ready(page, "shot")
    clips = page.locator('section.stage[data-stage="clip"] figure.take')
    first = clips.count()
    old_take = int(page.locator('section.stage[data-stage="clip"] figure.take.take-circled').get_attribute("data-take"))
    with page.expect_response(lambda r: r.url.endswith("/retake"), timeout=60_000) as made:
        page.click('section.stage[data-stage="clip"] button.retake')
    assert made.value.ok, made.value.text()
    new_take = made.value.json()["takes"][0]
    page.wait_for_function(
        f"document.querySelectorAll('section.stage[data-stage=\"clip\"] figure.take').length === {first + 1}"
    )
    shot(page, "2-shot-takes")
    page.click(f'figure.take[data-take="{new_take}"] button.circle')
    page.wait_for_selector(f'figure.take.take-circled[data-take="{new_take}"]')
    shot(page, "3-shot-circled")

    # cast and style
    page.click('nav a[data-page="cast"]')
    wait_ready(page, "cast")
    assert page.locator(".character audio").count() >= 1
    shot(page, "4-cast-style")

    # the render queue: render what is stale, then cut
    page.click('nav a[data-page="render"]')
    wait_ready(page, "render")
    page.click("button.start")
    page.wait_for_selector('.job-status[data-done="render"]', timeout=120_000)
    assert "failed 0" in page.inner_text(".job-status") or "0 failed" in page.inner_text(".job-status")
    shot(page, "5-render-done")
    page.click("button.cut")
    page.wait_for_selector('.job-status[data-done="cut"]', timeout=120_000)
    shot(page, "6-cut-done")

    # the screening room: subtitles, jump to a shot, play to the end
    page.click('nav a[data-page="screen"]')
    wait_ready(page, "screen")
    page.wait_for_function(
        "document.getElementById('film').readyState >= 1"
        " && document.getElementById('film').textTracks[0].cues"
        " && document.getElementById('film').textTracks[0].cues.length > 0",
        timeout=20_000,
    )
    cue = page.evaluate("document.getElementById('film').textTracks[0].cues[0].text")
    assert cue.replace("\n", " ") == NEW_LINE
    page.click('button.segment[data-shot="S01-002"]')
    page.wait_for_function("document.querySelector('a.current-shot').dataset.shot === 'S01-002'")
    page.evaluate(
        "() => { const v = document.getElementById('film'); v.pause();"
        " v.currentTime = v.textTracks[0].cues[0].startTime + 0.3; }"
    )
    page.wait_for_function("document.getElementById('film').textTracks[0].activeCues.length > 0")
    shot(page, "7-screening-room")
    result = page.evaluate(
        """() => new Promise(resolve => {
            const v = document.getElementById('film');
            setTimeout(() => resolve('timeout at ' + v.currentTime + ' of ' + v.duration), 60000);
            v.addEventListener('ended', () => resolve('ended at ' + v.currentTime.toFixed(2)));
            v.addEventListener('error', () => resolve('error ' + (v.error && v.error.code)));
            v.muted = true; v.currentTime = 0; v.playbackRate = 8;
            v.play().catch(e => resolve('play failed: ' + e));
        })"""
    )
    assert result.startswith("ended"), result
    duration = page.evaluate("document.getElementById('film').duration")
    screened = page.evaluate(
        "(() => { const s = [...document.querySelectorAll('button.segment')]; return s.length; })()"
    )
    assert screened == len(load(project.document).doc.shots)
    page.click("a.current-shot")
    wait_ready(page, "shot")

    # the same studio in Chinese; the shot page it reloads answers only once the director is on the storyboard,
    # as a slow answer on a busy machine does, and must not replace the storyboard then
    held = []
    page.route("**/api/shots/*", lambda request: held.append(request))
    page.click("#lang")
    page.click('nav a[data-page="storyboard"]')
    wait_ready(page, "storyboard")
    with page.expect_response(lambda r: "/api/shots/" in r.url):
        for request in held:
            request.continue_()
    page.unroute("**/api/shots/*")
    page.evaluate("() => new Promise(done => setTimeout(done, 100))")  # the late answer has been read
    assert page.get_attribute("body", "data-ready") == "storyboard" and page.locator("article.card").count()
    assert page.inner_text('nav a[data-page="storyboard"]') == "分镜"
    shot(page, "8-storyboard-zh")

    # on disk: the document holds the edit (comments kept), the takes database the circled retake
    doc = load(project.document).doc
    text = project.document.read_text(encoding="utf-8")
    assert doc.shot("S01-002").dialogue[0].text == NEW_LINE and doc.shot("S01-002").locked
    assert text.startswith("# kaipai production document")
    with TakesDB(project.database) as db:
        assert db.take(new_take).status == "circled" and db.take(old_take).status == "pending"
        voices = [t for t in db.takes_for_shot("S01-002") if t.stage == "voice" and t.status == "circled"]
        assert [t.params["text"] for t in voices] == [NEW_LINE]
        lipsync = [t for t in db.takes_for_shot("S01-002") if t.stage == "lipsync" and t.status == "circled"]
        assert len(lipsync) == 1
    assert abs(duration - sum(s.duration for s in doc.shots)) < 0.2


def test_quality_control_badges_show_why_a_shot_is_flagged(page, studio: Studio, project: ProjectPaths) -> None:
    with TakesDB(project.database) as db:
        clip = next(t for t in db.all_takes() if t.shot == "S01-002" and t.stage == "clip" and t.status == "circled")
        failing = {"name": "faces", "passed": False, "score": 0.0, "hard": True, "details": {},
                   "reason": "no face where a medium shot of Maya is planned"}  # fmt: skip
        db.set_qc(clip.id, {**clip.qc, "passed": False, "score": 0.5, "checks": [*clip.qc["checks"], failing]})
    page.reload()
    wait_ready(page, "storyboard")
    flagged = page.locator('article.card[data-shot="S01-002"] .badge.qc-flagged')
    assert flagged.inner_text().startswith("QC ⚑")
    assert "no face where a medium shot of Maya" in flagged.get_attribute("title")
    assert "no face" in page.inner_text('article.card[data-shot="S01-002"] .qc-reasons')
    assert page.locator('article.card[data-shot="S01-001"] .badge.qc-passed').count() == 1
    shot(page, "8-qc-storyboard")
    page.click('article.card[data-shot="S01-002"] a.shot-id')
    wait_ready(page, "shot")
    take = page.locator(f'figure.take[data-take="{clip.id}"]')
    assert take.locator(".badge.qc-failed").inner_text() == "QC ✗ 0.50"
    assert "faces: no face" in take.locator(".qc-reasons").inner_text()
    shot(page, "9-qc-shot")
