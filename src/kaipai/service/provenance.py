"""``output/provenance.json``: what made every shot of the film, beside the master.

For every shot in the cut, each circled take: its stage, backend, model, seed, prompt, the
reference images and other inputs it was given (by SHA-256, so the record holds no private
paths and still identifies them), cost and time, and whether it counts as AI-generated. It is
written on every cut, labelled or not: it is the studio's own record, not a published label.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kaipai import __version__
from kaipai.document.io import atomic_write_text
from kaipai.engine.db import Take
from kaipai.engine.keys import file_digest
from kaipai.engine.store import Store
from kaipai.post.cut import Cut
from kaipai.service.publish import Labelling

#: request fields that name input files
INPUTS = ("reference_images", "image", "last_image", "video", "audio")
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def _input_digest(value: str, store: Store) -> str | None:
    path = Path(value)
    if _DIGEST.match(path.stem) and path.parent.parent == store.root:
        return path.stem  # the store names files by their SHA-256
    try:
        return file_digest(path)
    except OSError:
        return path.stem if _DIGEST.match(path.stem) else None


def _inputs(request: dict[str, Any], store: Store) -> list[dict[str, str]]:
    out = []
    for role in INPUTS:
        value = request.get(role)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item:
                digest = _input_digest(item, store)
                out.append({"role": role, "sha256": digest or "missing"})
    return out


def take_record(t: Take, store: Store, generative: bool) -> dict[str, Any]:
    request = t.request or {}
    record: dict[str, Any] = {
        "take": t.id,
        "stage": t.stage,
        "item": t.item or None,
        "backend": t.backend,
        "model": t.model,
        "generative": generative,
        "seed": t.seed,
        "prompt": request.get("prompt") or request.get("text") or "",
        "negative_prompt": request.get("negative_prompt") or "",
        "references": _inputs(request, store),
        "media_sha256": Path(t.media).stem,
        "cost": t.cost,
        "seconds": round(t.seconds, 3),
        "created": t.created,
    }
    return {k: v for k, v in record.items() if v is not None}


def write_provenance(out: Path, cut: Cut, plan: Labelling, store: Store, film: Path, labels: dict[str, Any]) -> Path:
    """Write the record of ``film`` to ``out`` (atomically)."""
    made = {t.id for t in plan.generative_takes}
    shots = [
        {
            "shot": s.shot,
            "start": round(s.start, 3),
            "duration": round(s.duration, 3),
            "takes": [take_record(t, store, t.id in made) for t in plan.takes.get(s.shot, [])],
        }
        for s in cut.shots
    ]
    doc = {
        "film": film.name,
        "sha256": file_digest(film) if film.exists() else None,
        "title": cut.title,
        "kaipai": __version__,
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
        "labels": labels,
        "cost": round(sum(t.cost for ts in plan.takes.values() for t in ts), 6),
        "shots": shots,
    }
    atomic_write_text(out, json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    return out
