"""A render killed with SIGKILL at random moments, again and again, still finishes the film:
nothing lost, nothing generated twice, nothing corrupt."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from kaipai.document.io import load
from kaipai.document.models import Document
from kaipai.document.shots import DialogueLine
from kaipai.engine.db import TakesDB
from kaipai.engine.store import Store
from kaipai.service.render import render
from tests.support.films import small_film

RENDER = """
import sys
from pathlib import Path
from kaipai.engine.engine import EngineSettings
from kaipai.engine.scheduling import RetryPolicy
from kaipai.project import ProjectPaths
from kaipai.service.render import render
summary = render(ProjectPaths(Path(sys.argv[1])), settings=EngineSettings(retry=RetryPolicy(10, 0.01, 0.05)))
sys.exit(0 if summary.ok else 3)
"""


def nine_shot_film(options: dict) -> Document:
    """The small film three times over (new ids and slightly different lines), with two music cues."""
    doc = small_film(options)
    originals = list(doc.shots)
    for copy, prefix in ((1, "T"), (2, "U")):
        for shot in originals:
            twin = shot.model_copy(deep=True)
            twin.id, twin.order = shot.id.replace("S", prefix), shot.order + 3 * copy
            twin.dialogue = [
                DialogueLine(id=prefix + d.id, speaker=d.speaker, text=d.text + "嗯。" * copy, delivery=d.delivery)
                for d in shot.dialogue
            ]
            doc.shots.append(twin)
    doc.shots[0].music = "低沉的大提琴"
    doc.shots[4].music = "温柔的钢琴"
    return doc


def circled(root: Path) -> dict[str, str]:
    with TakesDB(root / ".kaipai" / "kaipai.db") as db:
        return {t.node: t.media for t in db.all_takes() if t.status == "circled"}


def test_sigkill_at_random_moments_then_restart_finishes_the_same_film(film, tmp_path: Path) -> None:
    options = {
        "asynchronous": True,
        "latency": 0.3,
        "jitter": 0.5,
        "failure_rate": 0.1,
        "retry_after": 0.01,
        "concurrency": 2,
        "media": "bytes",
    }
    killed = film({**options, "server": str(tmp_path / "provider-a")}, name="killed")
    killed.write(nine_shot_film(killed.options))
    # An uninterrupted render of the same film by a provider without delays or failures: the
    # files depend only on the requests, so they must come out byte for byte the same.
    reference = film({"asynchronous": True, "media": "bytes", "server": str(tmp_path / "provider-b")}, name="reference")
    reference.write(nine_shot_film(reference.options))
    assert render(reference.paths, settings=reference.settings).ok
    expected = circled(reference.paths.root)

    script = tmp_path / "render_once.py"
    script.write_text(RENDER)
    rng = random.Random(int(os.environ.get("KAIPAI_CRASH_SEED", "20240607")))
    kills_mid_render = 0
    finished = False
    deadline = time.monotonic() + 300  # a bound for a loaded machine, not a measure: restarts import kaipai
    while not finished and time.monotonic() < deadline:
        before = len(circled(killed.paths.root)) if killed.paths.database.exists() else 0
        proc = subprocess.Popen(
            [sys.executable, str(script), str(killed.paths.root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        if kills_mid_render < 12:
            # Wait until this run has made progress, then kill it a random moment later: mid-job,
            # mid-commit or between jobs, never only during start-up.
            while (
                proc.poll() is None
                and (len(circled(killed.paths.root)) if killed.paths.database.exists() else 0) == before
            ):
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.15))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                kills_mid_render += len(circled(killed.paths.root)) < len(expected)
                continue
        proc.wait(timeout=60)
        assert proc.returncode == 0, proc.stderr.read().decode()
        finished = True

    assert finished, "the render never finished within five minutes of restarts"
    assert kills_mid_render >= 7, f"only {kills_mid_render} kills landed mid-render"
    # The same film: every circled take has the same bytes as an uninterrupted render's.
    assert circled(killed.paths.root) == expected
    assert [s.duration for s in load(killed.paths.document).doc.shots] == [
        s.duration for s in load(reference.paths.document).doc.shots
    ]
    # No generation was ever requested twice, and every node has exactly one take.
    assert not killed.repeated()
    with TakesDB(killed.paths.database) as db:
        takes = db.all_takes()
        assert len(takes) == len({t.node for t in takes}) == len(expected)
        assert db.integrity_check() == "ok"
        assert db.jobs() == {}
    assert Store(killed.paths.store).verify() == []
