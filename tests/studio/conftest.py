"""A rendered copy of the demo film (its first scene, at a small size) for every studio test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kaipai.document.io import update
from kaipai.document.models import Document
from kaipai.project import ProjectPaths
from kaipai.service.demo import create_demo
from kaipai.service.render import render
from kaipai.studio.app import create_app

TOKEN = "test-token-for-the-studio"


def first_scene_small(doc: Document) -> None:
    """The demo's first scene at 320×180: the whole loop in seconds."""
    first = doc.scenes[0].id
    doc.shots = [s for s in doc.shots if s.scene == first]
    doc.project.resolution = (320, 180)


@pytest.fixture(scope="session")
def rendered_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("studio-template") / "film"
    paths = create_demo(folder, "en")
    update(paths.document, first_scene_small)
    summary = render(paths)
    assert summary.ok, summary.failures
    return folder


@pytest.fixture
def project(rendered_demo: Path, tmp_path: Path) -> ProjectPaths:
    """A private copy, so each test may edit and render freely."""
    folder = tmp_path / "film"
    shutil.copytree(rendered_demo, folder, ignore=shutil.ignore_patterns("*.lock"))
    return ProjectPaths(folder)


@pytest.fixture
def client(project: ProjectPaths) -> Iterator[TestClient]:
    with TestClient(create_app(project, TOKEN), headers={"X-Kaipai-Token": TOKEN}) as c:
        yield c


@pytest.fixture
def anonymous(project: ProjectPaths) -> Iterator[TestClient]:
    with TestClient(create_app(project, TOKEN), follow_redirects=False) as c:
        yield c
