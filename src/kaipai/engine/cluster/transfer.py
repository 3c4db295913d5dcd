"""What travels between the driver and a cluster worker for one job, and how its files go.

The driver owns the content store and the takes database; a worker only sees a job: the
request, the recorded id of a paid job already submitted, and its input files. When the
worker sees the project at the same path (shared storage), files go by path: the worker
reads the store and writes into the driver's scratch folder. Otherwise they go through
Ray's object store: the driver puts each input file once (a reference sheet serves many
keyframes), the worker writes them to a private folder, and returns its output files'
bytes with the result. Either way the driver commits the result exactly as it commits a
local one.

Failures come back as data (:class:`Failure`), not as Ray's wrapped exceptions, so the run
loop sees the backend's own error class (transient, refused, account…) and its message,
never a remote traceback.
"""

from __future__ import annotations

import importlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kaipai.backends.base import BackendError, Request, Result, TransientError


@dataclass(frozen=True)
class Failure:
    """An exception raised on a worker, as plain data."""

    module: str
    name: str
    message: str
    transient: bool = False
    retry_after: float | None = None
    provider_reason: str = ""

    @classmethod
    def of(cls, exc: BaseException) -> Failure:
        return cls(
            module=type(exc).__module__,
            name=type(exc).__qualname__,
            message=str(exc),
            transient=bool(getattr(exc, "transient", False)),
            retry_after=getattr(exc, "retry_after", None),
            provider_reason=str(getattr(exc, "provider_reason", "") or ""),
        )

    def error(self) -> Exception:
        """The exception again, as its own class where this process has it."""
        try:
            cls = getattr(importlib.import_module(self.module), self.name)
        except (ImportError, AttributeError):
            cls = None
        if isinstance(cls, type) and issubclass(cls, BackendError):
            try:
                return cls(self.message, retry_after=self.retry_after, provider_reason=self.provider_reason)
            except TypeError:  # a subclass with its own constructor: keep what matters to the run loop
                pass
        if self.transient:
            return TransientError(self.message, retry_after=self.retry_after, provider_reason=self.provider_reason)
        if isinstance(cls, type) and issubclass(cls, BackendError):
            return BackendError(self.message, retry_after=self.retry_after, provider_reason=self.provider_reason)
        if isinstance(cls, type) and issubclass(cls, Exception):
            try:
                return cls(self.message)
            except TypeError:
                pass
        return type(self.name.rsplit(".", 1)[-1], (RuntimeError,), {})(self.message)


@dataclass
class Job:
    """One backend call sent to a worker."""

    token: str
    key: str
    request: Request
    job_id: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)  # driver path → object ref of its bytes
    out_dir: str | None = None  # shared storage: the driver's scratch folder, written in place


@dataclass
class Reply:
    """What a worker sends back: the result (file names, or paths on shared storage) or a failure."""

    result: Result | None = None
    blobs: list[bytes] | None = None  # through the object store: each result file's bytes, in order
    failure: Failure | None = None
    seconds: float = 0.0  # the backend call itself, without transfers


# --------------------------------------------------------------------------- request files


def _is_paths(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Path) for v in value)


def request_paths(request: Request) -> list[Path]:
    """The files a request names (first frame, audio, reference images…), each once."""
    found: list[Path] = []
    for name in type(request).model_fields:
        value = getattr(request, name)
        for path in [value] if isinstance(value, Path) else value if _is_paths(value) else []:
            if path not in found:
                found.append(path)
    return found


def with_paths(request: Request, mapping: Callable[[Path], Path]) -> Request:
    """The request with every file it names replaced by ``mapping(path)``."""
    update: dict[str, Any] = {}
    for name in type(request).model_fields:
        value = getattr(request, name)
        if isinstance(value, Path):
            update[name] = mapping(value)
        elif _is_paths(value):
            update[name] = [mapping(v) for v in value]
    return request.model_copy(update=update) if update else request


def write_inputs(request: Request, inputs: dict[str, bytes], folder: Path) -> Request:
    """On a worker: write the input files under ``folder`` and point the request at them."""
    folder.mkdir(parents=True, exist_ok=True)
    local: dict[str, Path] = {}
    for i, (original, data) in enumerate(inputs.items()):
        path = folder / f"{i}-{Path(original).name}"
        path.write_bytes(data)
        local[original] = path
    return with_paths(request, lambda p: local.get(str(p), p))


class InputCache:
    """On the driver: one object-store copy per input file, the most recently used kept within a byte budget."""

    def __init__(self, put: Callable[[bytes], Any], budget: int = 2 << 30) -> None:
        self._put = put
        self._budget = budget
        self._held = 0
        self._refs: OrderedDict[tuple[str, int, int], tuple[Any, int]] = OrderedDict()

    def ref(self, path: Path) -> Any:
        stat = path.stat()
        ident = (str(path), stat.st_mtime_ns, stat.st_size)
        if ident in self._refs:
            self._refs.move_to_end(ident)
            return self._refs[ident][0]
        ref = self._put(path.read_bytes())
        self._refs[ident] = (ref, stat.st_size)
        self._held += stat.st_size
        while self._held > self._budget and len(self._refs) > 1:
            _, (_, size) = self._refs.popitem(last=False)
            self._held -= size
        return ref

    def clear(self) -> None:
        self._refs.clear()
        self._held = 0


# --------------------------------------------------------------------------- result files


def pack_outputs(result: Result) -> tuple[Result, list[bytes]]:
    """On a worker: the result with bare file names, and each file's bytes."""
    names: list[Path] = []
    blobs: list[bytes] = []
    for i, f in enumerate(result.files):
        path = Path(f)
        name = path.name if path.name not in {n.name for n in names} else f"{i}-{path.name}"
        names.append(Path(name))
        blobs.append(path.read_bytes())
    return result.model_copy(update={"files": names}), blobs


def unpack_outputs(result: Result, blobs: list[bytes], scratch: Path) -> Result:
    """On the driver: write a worker's files into the job's scratch folder, as a local backend would have."""
    files = []
    for name, data in zip(result.files, blobs):
        path = scratch / Path(name).name
        path.write_bytes(data)  # the store syncs it when the commit moves it in
        files.append(path)
    return result.model_copy(update={"files": files})
