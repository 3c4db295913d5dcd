"""Content hashes: artifact keys and file digests.

A key is the SHA-256 of a canonical JSON rendering of everything that decides an
artifact. Canonical means sorted keys, no whitespace and floats rounded, so the same
inputs give the same key on every machine and in every run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: Bumped when the engine's own computations (key layout, shot_audio placement) change.
ENGINE_VERSION = "1"


_LEAVES = frozenset({str, int, bool, type(None)})


def _canonical(value: Any) -> Any:
    """Plain JSON values, floats rounded to microseconds so 0.1+0.2 and 0.3 hash alike."""
    kind = type(value)  # the common exact types first, leaves inline: a no-op render hashes every node
    if kind in _LEAVES:
        return value
    if kind is dict:
        return {k if type(k) is str else str(k): v if type(v) in _LEAVES else _canonical(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _LEAVES else _canonical(v) for v in value]
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def canonical_json(value: Any) -> str:
    return json.dumps(_canonical(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(value: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of ``value``."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def inputs_key(
    stage: str, node: str, inputs: Mapping[str, str], backend: str, version: str, model: str, params: Mapping[str, Any]
) -> str:
    """Hash of everything that decides an artifact except its seed.

    Two takes of one node with equal ``inputs_key`` differ only by seed: neither is stale.
    """
    return digest(
        {
            "engine": ENGINE_VERSION,
            "stage": stage,
            "node": node,
            "inputs": dict(inputs),
            "backend": backend,
            "version": version,
            "model": model,
            "params": dict(params),
        }
    )


def artifact_key(inputs_key_: str, seed: int) -> str:
    """The artifact key: its inputs' hash plus the seed. A take is looked up by this key.

    The canonical JSON of ``{"inputs": …, "seed": …}`` written out directly (a render asks for one per
    node); the same bytes as :func:`digest` gives, which a test checks.
    """
    text = f'{{"inputs":{json.dumps(inputs_key_, ensure_ascii=False)},"seed":{int(seed)}}}'
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_digest(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 (hex) of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def default_seed(node: str, salt: int = 0) -> int:
    """A stable 32-bit seed for a node, so an untouched shot renders the same every time."""
    raw = hashlib.sha256(f"{node}#{salt}".encode()).digest()
    return int.from_bytes(raw[:4], "big")
