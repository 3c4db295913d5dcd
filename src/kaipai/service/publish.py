"""Publishing: whether a film carries AIGC labels, and putting them on the master and the exports.

A film is labelled under ``publish: labels: auto`` when any circled take of a shot in the cut came
from a generative backend, which each backend declares (``Backend.generative``; the offline previz
defaults and the engine's own computed tracks are not generative). ``on`` and ``off`` force it.
A labelled film carries three labels, applied in this order because each later step would
destroy an earlier one otherwise: the visible notice on the opening frames, the AIGC metadata
of GB 45438-2025 Annex E, then (with ``kaipai[c2pa]`` and a certificate in the user's config)
a signed C2PA manifest.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kaipai import __version__
from kaipai.backends.base import NotConfigured
from kaipai.backends.registry import Registry
from kaipai.backends.remote.tasks import config_path, user_config
from kaipai.document.models import Document
from kaipai.document.publish import Publish
from kaipai.engine.db import Take, TakesDB
from kaipai.engine.engine import ENGINE_BACKEND
from kaipai.engine.stages import STAGES
from kaipai.engine.store import Store
from kaipai.post import credentials, label
from kaipai.post.aigc import AigcLabel, image_tags, media_tags, tag_image, tag_media
from kaipai.post.cut import Cut
from kaipai.project import ProjectPaths

__all__ = [
    "Labelling",
    "circled_takes",
    "generative",
    "labelling",
    "signing",
]


def generative(backend: str) -> bool:
    """Whether a take made by ``backend`` is AI-generated content: the one place that decides."""
    if backend == ENGINE_BACKEND:  # the engine's own mix of the voice lines
        return False
    return Registry().generative(backend)


def circled_takes(paths: ProjectPaths, cut: Cut) -> dict[str, list[Take]]:
    """The circled takes of every shot in the cut (its keyframe, clip, voices, music, reference
    sheets first shown there…), in film order and stage order."""
    if not paths.database.exists():
        return {s.shot: [] for s in cut.shots}
    with TakesDB(paths.database) as db:
        circled = [t for t in db.all_takes() if t.status == "circled"]
    order = {stage: i for i, stage in enumerate(STAGES)}
    out: dict[str, list[Take]] = {s.shot: [] for s in cut.shots}
    for t in sorted(circled, key=lambda t: (order.get(t.stage, 99), t.item, t.id)):
        if t.shot in out:
            out[t.shot].append(t)
    return out


@dataclass
class Labelling:
    """What the film's labels are, decided once per cut or export."""

    settings: Publish
    language: str
    fps: int
    size: tuple[int, int]
    takes: dict[str, list[Take]]
    generative_takes: list[Take] = field(default_factory=list)

    @property
    def labelled(self) -> bool:
        mode = self.settings.labels.value
        return mode == "on" or (mode == "auto" and bool(self.generative_takes))

    @property
    def text(self) -> str:
        return self.settings.label_text or label.default_text(self.language)

    @property
    def opening(self) -> int:
        """Frames the notice stays on (whole frames, never under the set seconds)."""
        return max(1, math.ceil(self.settings.label_seconds * self.fps - 1e-9))

    def notice(self, width: int | None = None, height: int | None = None) -> label.Notice:
        w, h = (width, height) if width and height else self.size
        try:
            return label.notice(self.text, w, h, self.settings.corner.value)
        except ValueError as exc:
            raise NotConfigured(f"publish.label_text: {exc}") from None

    def on_picture(self, folder: Path) -> label.OnPicture:
        n = self.notice()
        return label.OnPicture(n, label.write_images(n, folder), self.opening, self.settings.corner_mark)

    def aigc(self, produce_id: str) -> AigcLabel:
        return AigcLabel.first_write(self.settings.producer, produce_id, self.settings.reserved_code)

    def fingerprint(self) -> dict[str, Any]:
        """Everything about the labels that shows in the master (part of its cache key)."""
        if not self.labelled:
            return {"labelled": False, "opening": self.opening}
        n = self.notice()
        drawn = {"text": self.text, "font_size": n.font_size, "at": [n.x, n.y], "box": list(n.size)}
        return {"labelled": True, "opening": self.opening, **self.settings.model_dump(mode="json"), **drawn}

    def summary(self) -> dict[str, Any]:
        return {
            "mode": self.settings.labels.value,
            "labelled": self.labelled,
            "generative_takes": len(self.generative_takes),
            "backends": sorted({t.backend for t in self.generative_takes}),
        }


def labelling(paths: ProjectPaths, doc: Document, cut: Cut) -> Labelling:
    takes = circled_takes(paths, cut)
    verdict: dict[str, bool] = {}
    found = []
    for shot_takes in takes.values():
        for t in shot_takes:
            if t.backend not in verdict:
                verdict[t.backend] = generative(t.backend)
            if verdict[t.backend]:
                found.append(t)
    return Labelling(doc.publish, cut.language, cut.fps, (cut.width, cut.height), takes, found)


# --------------------------------------------------------------------------- signing


def signing() -> credentials.Signing | None:
    """The user's C2PA signing certificate and key, or None when signing is not set up.

    From ``KAIPAI_C2PA_CERT`` / ``KAIPAI_C2PA_KEY`` or ``[c2pa] certificate`` / ``key`` in the user's
    config (paths relative to that file); never from the project, so they are never committed."""
    section = user_config("c2pa")
    cert = os.environ.get("KAIPAI_C2PA_CERT") or section.get("certificate")
    key = os.environ.get("KAIPAI_C2PA_KEY") or section.get("key")
    if not cert and not key:
        return None
    where = f"[c2pa] in {config_path()} (or KAIPAI_C2PA_CERT / KAIPAI_C2PA_KEY)"
    if not cert or not key:
        raise NotConfigured(f"C2PA signing needs both a certificate chain and its private key: set {where}")

    def resolve(value: str, from_env: bool) -> Path:
        path = Path(value).expanduser()
        return path if from_env or path.is_absolute() else config_path().parent / path

    cert_path = resolve(str(cert), bool(os.environ.get("KAIPAI_C2PA_CERT")))
    key_path = resolve(str(key), bool(os.environ.get("KAIPAI_C2PA_KEY")))
    for p in (cert_path, key_path):
        if not p.is_file():
            raise NotConfigured(f"C2PA signing: {p} does not exist; fix {where}")
    if not credentials.available():
        raise NotConfigured(
            "C2PA signing is set up but c2pa-python is not installed: pip install 'kaipai[c2pa]' "
            f"(or remove {where} to publish without Content Credentials)"
        )
    tsa = os.environ.get("KAIPAI_C2PA_TSA") or section.get("tsa_url")
    return credentials.Signing(cert_path, key_path, str(tsa) if tsa else None)


def signer_fingerprint(s: credentials.Signing | None) -> str:
    return hashlib.sha256(s.certificate.read_bytes()).hexdigest()[:16] if s is not None else ""


def ingredients(plan: Labelling, store: Store) -> list[credentials.Ingredient]:
    return [
        credentials.Ingredient(
            path=store.path(t.media),
            label=f"{t.node}",
            stage=t.stage,
            shot=t.shot,
            backend=t.backend,
            model=t.model,
            seed=t.seed,
            sha256=Path(t.media).stem,
        )
        for t in plan.generative_takes
    ]


def sign_master(src: Path, dst: Path, plan: Labelling, title: str, store: Store, signer: credentials.Signing) -> None:
    parts = ingredients(plan, store)
    try:
        credentials.sign(src, dst, signer, credentials.manifest(title, __version__, parts), parts)
    except credentials.CredentialsError as exc:
        raise NotConfigured(f"{exc} (certificate and key from [c2pa] in {config_path()})") from None


# --------------------------------------------------------------------------- exports


def label_export_media(media: Path, plan: Labelling, store: Store) -> list[Path]:
    """Give the export's copies of generated takes (stills and clips) the AIGC metadata, where the
    format allows and the file carries no label of its own (a provider's label is kept as it is).
    The store's files are never touched: the export's link is replaced by a labelled copy."""
    if not media.is_dir():
        return []
    everything = plan.settings.labels.value == "on"
    takes = [t for ts in plan.takes.values() for t in ts] if everything else plan.generative_takes
    by_inode: dict[tuple[int, int], Take] = {}
    by_digest: dict[tuple[int, str], Take] = {}
    for t in takes:
        try:
            st = store.path(t.media).stat()
        except OSError:
            continue
        by_inode[(st.st_dev, st.st_ino)] = t
        by_digest[(st.st_size, Path(t.media).stem)] = t
    sizes = {size for size, _ in by_digest}
    done: list[Path] = []
    for path in sorted(media.iterdir()):
        st = path.stat()
        take = by_inode.get((st.st_dev, st.st_ino))
        if take is None and st.st_size in sizes:  # copied rather than linked (another filesystem)
            take = by_digest.get((st.st_size, _digest(path)))
        if take is None:
            continue
        suffix = path.suffix.lower()
        tmp = path.with_name(f".{path.stem}.labelled{path.suffix}")
        aigc = plan.aigc(take.key[:32])
        if suffix in {".png", ".jpg", ".jpeg", ".webp"}:
            if image_tags(path):
                continue
            tag_image(path, tmp, aigc)
        elif suffix in {".mp4", ".mov"}:
            if media_tags(path):
                continue
            tag_media(path, tmp, aigc)
        else:
            continue  # WAV cannot carry it (ffmpeg's RIFF writer drops unknown tags)
        tmp.replace(path)
        done.append(path)
    return done


def _digest(path: Path) -> str:
    from kaipai.engine.keys import file_digest

    return file_digest(path)


def label_image(path: Path, plan: Labelling, produce_id: str, visible: bool) -> Path:
    """Label an exported image (the contact sheet): the notice drawn in its corner, the metadata in its XMP."""
    from PIL import Image

    tmp = path.with_name(f".{path.stem}.labelled{path.suffix}")
    if visible:
        with Image.open(path) as img:
            n = plan.notice(*img.size)
            sheet = img.convert("RGBA")
            sheet.alpha_composite(n.image, (n.x, n.y))
            sheet.convert("RGB").save(tmp)
        tag_image(tmp, tmp, plan.aigc(produce_id))
    else:
        tag_image(path, tmp, plan.aigc(produce_id))
    tmp.replace(path)
    return path


def timeline_decorator(plan: Labelling, dest: Path, produce_id: str) -> Callable[[Any, str], None]:
    """What labels an NLE timeline: the notice as a still on a video track above the picture for the
    opening, and the AIGC metadata where each format keeps it."""
    from kaipai.post.nle_labels import label_timeline

    n = plan.notice()
    still = dest / "media" / "aigc-notice.png"

    def decorate(timeline: Any, fmt: str) -> None:
        if not still.exists():
            still.parent.mkdir(parents=True, exist_ok=True)
            n.full_frame().save(still)
        label_timeline(timeline, f"{still.parent.name}/{still.name}", plan.opening, plan.fps, plan.aigc(produce_id))

    return decorate
