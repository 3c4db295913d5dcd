"""Only the director who started the studio can use it, and it serves nothing outside the project."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kaipai.project import ProjectPaths
from kaipai.studio.security import cookie_name
from kaipai.studio.server import Studio, exposure_warning

TOKEN = "test-token-for-the-studio"  # the token the conftest's studio was made with


@pytest.mark.parametrize(
    "path", ["/", "/api/storyboard", "/api/shots/S01-002", "/static/app.js", "/media/kaipai.yaml", "/api/events"]
)
def test_requests_without_the_token_are_refused(anonymous: TestClient, path: str) -> None:
    response = anonymous.get(path)
    assert response.status_code == 401
    assert "token" in response.text
    assert anonymous.get(path, headers={"X-Kaipai-Token": "a-guess"}).status_code == 401


def test_the_url_token_becomes_a_cookie_and_leaves_the_address_bar(anonymous: TestClient) -> None:
    first = anonymous.get(f"/?token={TOKEN}")
    assert first.status_code == 303 and first.headers["location"] == "/"
    cookie = first.headers["set-cookie"]
    assert cookie.startswith(cookie_name(TOKEN)) and "HttpOnly" in cookie and "SameSite=strict" in cookie
    page = anonymous.get("/")
    assert page.status_code == 200 and "kaipai studio" in page.text
    assert anonymous.get("/api/storyboard").json()["shots"]


def test_a_plain_form_post_cannot_change_the_project(anonymous: TestClient, project: ProjectPaths) -> None:
    """A hostile page can make the browser post a form (with the cookie) but cannot add the header."""
    anonymous.get(f"/?token={TOKEN}")  # the director's browser holds the cookie
    before = project.document.read_bytes()
    for method, path, body in [
        ("PATCH", "/api/shots/S01-002", {"description": "hijacked"}),
        ("POST", "/api/shots/S01-002/lock", {"locked": True}),
        ("DELETE", "/api/shots/S01-003", None),
        ("POST", "/api/render", {}),
    ]:
        response = anonymous.request(method, path, json=body)
        assert response.status_code == 403, (method, path)
        assert "X-Kaipai-Token" in response.text
    form = anonymous.post(
        "/api/shots", data={"after": "S01-001"}, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert form.status_code == 403
    assert project.document.read_bytes() == before
    assert (
        anonymous.patch("/api/shots/S01-002", json={"notes": "mine"}, headers={"X-Kaipai-Token": TOKEN}).status_code
        == 200
    )


@pytest.mark.parametrize(
    "path",
    [
        "/media/../../../../etc/passwd",
        "/media/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/media/..%2f..%2f..%2fetc%2fpasswd",
        "/media//etc/passwd",
    ],
)
def test_media_cannot_reach_outside_the_project(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (403, 404)
    assert "root:" not in response.text


def test_a_link_out_of_the_project_is_refused(client: TestClient, project: ProjectPaths, tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"not for the browser")
    os.symlink(secret, project.root / "escape.png")
    assert client.get("/media/escape.png").status_code == 403


def test_media_serves_pictures_but_not_the_database_or_document(client: TestClient, project: ProjectPaths) -> None:
    board = client.get("/api/storyboard").json()
    clip = next(s["clip"] for s in board["shots"] if s["clip"])
    response = client.get(clip, headers={"Range": "bytes=0-99"})
    assert response.status_code == 206 and len(response.content) == 100  # browsers seek with ranges
    assert client.get("/media/.kaipai/kaipai.db").status_code == 403
    assert client.get("/media/kaipai.yaml").status_code == 403


def test_the_studio_listens_on_loopback_unless_told_otherwise(project: ProjectPaths) -> None:
    studio = Studio(project)
    try:
        assert studio.socket.getsockname()[0] == "127.0.0.1"
        assert studio.url.startswith(f"http://127.0.0.1:{studio.port}/?token=") and len(studio.token) >= 32
        assert Studio(project).token != studio.token  # a fresh token every start
    finally:
        studio.socket.close()
    assert (
        exposure_warning("127.0.0.1") is None
        and exposure_warning("::1") is None
        and exposure_warning("localhost") is None
    )
    assert "other machines" in (exposure_warning("0.0.0.0") or "")


def test_kaipai_studio_prints_the_url_and_warns_when_exposed(
    project: ProjectPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kaipai.cli import app

    served: list[Studio] = []
    opened: list[str] = []
    monkeypatch.setattr(Studio, "serve", lambda self: served.append(self))
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url))
    result = CliRunner().invoke(app, ["studio", str(project.root)])
    assert result.exit_code == 0, result.output
    assert served[0].host == "127.0.0.1" and "warning" not in result.output
    assert f"?token={served[0].token}" in result.output.replace("\n", "") and opened == [served[0].url]

    result = CliRunner().invoke(app, ["studio", str(project.root), "--host", "0.0.0.0", "--no-browser"])
    assert result.exit_code == 0, result.output
    assert "warning" in result.output and "other machines" in result.output
    assert len(opened) == 1
    assert served[1].socket.getsockname()[0] == "0.0.0.0"
    for s in served:
        s.socket.close()


def test_no_project_is_one_clear_error(tmp_path: Path) -> None:
    from kaipai.cli import app

    result = CliRunner().invoke(app, ["studio", str(tmp_path), "--no-browser"])
    assert result.exit_code == 1 and "kaipai.yaml" in result.output and "Traceback" not in result.output


def test_each_studio_gets_its_own_free_port(project: ProjectPaths) -> None:
    a, b = Studio(project), Studio(project)
    try:
        assert a.port != b.port and a.port > 0 and b.port > 0
    finally:
        a.socket.close()
        b.socket.close()
