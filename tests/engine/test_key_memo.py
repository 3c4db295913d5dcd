"""A no-op render reuses the keys the previous run computed, and never misses a change for it.

The keys a render remembers (``.kaipai/cache/keys.json``) stand in for building every request again.
Whatever changed since — the document, a backend's option, a file a key hashes, a take deleted from
the store or rejected — status with the remembered keys must say exactly what it says without them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kaipai.document.io import update
from kaipai.engine import engine as engine_module
from kaipai.engine.db import TakesDB
from kaipai.service.render import render, status
from tests.support.films import Film


def _status(f: Film) -> list[tuple[str, str, str | None, str]]:
    return [(s.node, s.state, s.key, s.reason) for s in status(f.paths)]


def _memo(f: Film) -> Path:
    return f.paths.state / "cache" / "keys.json"


def _rendered(film: Callable[..., Film]) -> Film:
    f = film()
    f.paths.root.joinpath("refs").mkdir()
    f.paths.root.joinpath("refs", "lin.png").write_bytes(b"a picture of Lin")
    update(f.paths.document, lambda doc: setattr(doc.character("lin"), "reference_images", ["refs/lin.png"]))
    render(f.paths, settings=f.settings)
    render(f.paths, settings=f.settings)  # the voices' lengths were written back; now nothing changes
    assert render(f.paths, settings=f.settings).generated == 0
    return f


def test_a_no_op_status_builds_no_request_and_says_what_a_full_one_says(film, monkeypatch) -> None:
    f = _rendered(film)
    assert _memo(f).exists()
    built: list[str] = []
    real = engine_module.build
    monkeypatch.setattr(engine_module, "build", lambda src, node, *a: built.append(node.id) or real(src, node, *a))
    remembered = _status(f)
    assert built == [] and {s for _, s, _, _ in remembered} == {"current"}
    _memo(f).unlink()
    assert _status(f) == remembered and built  # every key computed in full is the one remembered


def _edit_shot(f: Film) -> None:
    update(f.paths.document, lambda doc: setattr(doc.shot("S2"), "description", "林晓站在门口，手里拿着信"))


def _backend_option(f: Film) -> None:
    update(f.paths.document, lambda doc: doc.backends["image"].options.update(references=2))


def _replace_reference(f: Film) -> None:
    f.paths.root.joinpath("refs", "lin.png").write_bytes(b"another picture of Lin")  # the document is unchanged


def _delete_reference(f: Film) -> None:
    f.paths.root.joinpath("refs", "lin.png").unlink()


def _delete_stored_take(f: Film) -> None:
    """The file of a take another node's key hashes (the father's reference sheet) is gone from the store."""
    with TakesDB(f.paths.database) as db:
        sheet = next(t for t in db.all_takes() if t.stage == "sheet" and t.status == "circled")
    (f.paths.store / sheet.media).unlink()


def _reject_take(f: Film) -> None:
    with TakesDB(f.paths.database) as db:
        keyframe = next(t for t in db.all_takes() if t.node == "S3/keyframe" and t.status == "circled")
        db.set_status(keyframe.id, "rejected")


@pytest.mark.parametrize(
    "change",
    [_edit_shot, _backend_option, _replace_reference, _delete_reference, _delete_stored_take, _reject_take],
    ids=lambda c: c.__name__.strip("_"),
)
def test_every_change_is_seen_with_the_remembered_keys(film, change: Callable[[Film], Any]) -> None:
    f = _rendered(film)
    before = _status(f)
    change(f)
    kept = f.paths.root / "keys.json"
    shutil.copy(_memo(f), kept)
    remembered = _status(f)
    assert remembered != before  # the change is seen
    _memo(f).unlink()
    assert _status(f) == remembered  # and seen as building every request sees it
    shutil.copy(kept, _memo(f))
    assert _status(f) == remembered


def test_a_render_after_a_change_makes_what_changed_and_reuses_the_rest(film) -> None:
    f = _rendered(film)
    _replace_reference(f)
    summary = render(f.paths, settings=f.settings)
    assert summary.failed == 0
    assert {"S2/keyframe"} <= set(summary.takes)  # Lin's pictures follow her reference
    assert "S3/keyframe" not in summary.takes and "S1/keyframe" not in summary.takes
    assert render(f.paths, settings=f.settings).generated == 0
