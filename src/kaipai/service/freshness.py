"""Whether ``output/film.mp4`` was cut from exactly what the project holds now, answered cheaply.

A render that generated nothing cuts the film again only when something it is cut from
changed, and the check must not load the edit's libraries (timelines, subtitles, labels):
they take longer than a no-op render itself. The fingerprint covers the document's bytes,
the circled takes, kaipai's version and the user's signing setup (its environment variables
and config file); :func:`kaipai.service.cut.make_cut` records it beside the film.
``kaipai cut`` always checks everything itself.
"""

from __future__ import annotations

import hashlib
import json
import os

from kaipai import __version__
from kaipai.engine.db import TakesDB
from kaipai.project import ProjectPaths, config_path

RECORD = ".film.json"


def fingerprint(paths: ProjectPaths) -> str:
    """What the film is cut from, as one hash (document, circled takes, version, signing setup)."""
    h = hashlib.sha256(__version__.encode())
    h.update(paths.document.read_bytes() if paths.document.exists() else b"")
    if paths.database.exists():
        with TakesDB(paths.database) as db:
            circled = sorted((t.node, t.key, t.id) for t in db.all_takes() if t.status == "circled")
        h.update(json.dumps(circled).encode())
    config = config_path()
    stat = config.stat() if config.exists() else None
    signer = [os.environ.get(k, "") for k in ("KAIPAI_C2PA_CERT", "KAIPAI_C2PA_KEY")]
    h.update(json.dumps([signer, str(config), stat and [stat.st_mtime_ns, stat.st_size]]).encode())
    return h.hexdigest()


def film_is_current(paths: ProjectPaths) -> bool:
    """True when the film exists and was cut from what :func:`fingerprint` describes now."""
    film = paths.output / "film.mp4"
    try:
        saved = json.loads((paths.output / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return film.exists() and isinstance(saved, dict) and saved.get("inputs") == fingerprint(paths)
