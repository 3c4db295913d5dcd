"""What the CLI and the studio show about backends: what is installed, what it can do, whether it is ready.

Listing never touches the network, so it never calls a service ready: a service (a backend with
``reachable``) whose key and address are set is *configured, not checked*; ``check`` asks it, and
only with requests that cost nothing (a status page, a lookup of a task that does not exist).
Secrets are never shown: a backend's status says whether its key was found, not the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kaipai.backends.base import Backend, BackendError, Capability, CapabilitySheet
from kaipai.backends.registry import Registry, extra_for, extra_installed
from kaipai.backends.remote.sheets import prices, sheet_ids, sheets_for
from kaipai.document.backend_choice import DEFAULT_BACKENDS
from kaipai.document.io import DocumentError
from kaipai.project import find_project, load_document

#: Backends whose models are described by shipped sheet files (every model, not only the chosen one):
#: backend name -> the catalog file it reads.
SHEET_FILES = {
    "dashscope": "dashscope",
    "kling": "kling",
    "ark": "ark",
    "minimax": "minimax",
    "vidu": "vidu",
    "veo": "veo",
    "runway": "runway",
    "openai-speech": "openai",
    "openai-image": "openai",
}
#: The cloud and server backends `kaipai backends check` looks at when no project names any.
REMOTE = ("comfyui", "dashscope", "kling", "ark", "minimax", "vidu", "veo", "runway")


@dataclass
class BackendInfo:
    name: str
    capabilities: list[str] = field(default_factory=list)
    installed: bool = True
    configured: bool = False
    status: str = ""
    sheets: dict[str, CapabilitySheet] = field(default_factory=dict)
    uses: list[str] = field(default_factory=list)
    extra: str | None = None  # pip install 'kaipai[extra]' brings what the backend needs
    #: sheet id -> {region: (price per unit, currency)} where a provider sells in several regions
    prices: dict[str, dict[str, tuple[float, str]]] = field(default_factory=dict)
    #: a client of a server or cloud service: ready only once ``check`` has reached it
    service: bool = False

    @property
    def state(self) -> str:
        """``ready`` (local and usable), ``not checked`` (a configured service), ``not configured``
        or ``not installed``."""
        if not self.installed:
            return "not installed"
        if not self.configured:
            return "not configured"
        return "not checked" if self.service else "ready"


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str


def project_choices(
    project: Path | None,
) -> tuple[dict[str, tuple[str | None, dict[str, Any]]], list[str], Path | None]:
    """Backend name → (model, options) as the project chooses it, and which capabilities use it."""
    try:
        paths = find_project(project)
        doc = load_document(paths)
    except (DocumentError, FileNotFoundError):
        if project is not None:
            raise
        return {}, [], None
    choices: dict[str, tuple[str | None, dict[str, Any]]] = {}
    uses: list[str] = []
    for cap in Capability:
        if cap.value not in doc.backends and cap.value not in DEFAULT_BACKENDS:
            continue  # a capability the project does not use and that has no built-in default
        choice = doc.backend_for(cap.value)
        choices.setdefault(choice.use, (choice.model, dict(choice.options)))
        uses.append(f"{cap.value}:{choice.use}")
    return choices, uses, paths.root


def _create(
    registry: Registry, name: str, choice: tuple[str | None, dict[str, Any]] | None, root: Path | None
) -> Backend:
    model, options = choice if choice is not None else (None, {})
    return registry.create(name, model, options, project_dir=root)


def list_backends(project: Path | None = None) -> list[BackendInfo]:
    """Every installed backend, its sheets and whether it is configured (no network)."""
    registry = Registry()
    choices, uses, root = project_choices(project)
    out: list[BackendInfo] = []
    for name in registry.names():
        info = BackendInfo(
            name=name, uses=[u.split(":")[0] for u in uses if u.endswith(":" + name)], extra=extra_for(name)
        )
        try:
            cls = registry.load(name)
        except BackendError as exc:
            info.installed, info.status = False, str(exc)
            out.append(info)
            continue
        info.capabilities = sorted(c.value for c in cls.capabilities)
        try:
            instance = _create(registry, name, choices.get(name), root)
        except (BackendError, TypeError, ValueError) as exc:
            info.status = str(exc)
            out.append(info)
            continue
        if not extra_installed(name):
            info.installed = False
        info.service = callable(getattr(instance, "reachable", None))
        try:
            info.status = instance.check()
            info.configured = True
        except BackendError as exc:
            info.status = str(exc)
        info.sheets = _sheets(name, instance)
        catalog = SHEET_FILES.get(name)
        if catalog:
            info.prices = {sid: table for sid in info.sheets if (table := prices(catalog, sid))}
        instance.close()
        out.append(info)
    return out


def _sheets(name: str, instance: Backend) -> dict[str, CapabilitySheet]:
    catalog = SHEET_FILES.get(name)
    if catalog and sheet_ids(catalog):
        found: dict[str, CapabilitySheet] = {}
        region = getattr(instance, "region", None)
        for cap in sorted(type(instance).capabilities, key=lambda c: c.value):
            found.update(sheets_for(catalog, cap, region))
        return found
    found = {}
    for cap in sorted(type(instance).capabilities, key=lambda c: c.value):
        try:
            found[cap.value] = instance.sheet(cap)
        except (BackendError, NotImplementedError):
            continue
    return found


def check_backends(names: list[str] | None = None, project: Path | None = None) -> list[CheckResult]:
    """Configuration and reachability of the named backends (default: those the project uses, or the remote ones)."""
    registry = Registry()
    choices, _, root = project_choices(project)
    if not names:
        names = sorted(choices) if choices else [n for n in REMOTE if n in registry.names()]
    results: list[CheckResult] = []
    for name in names:
        try:
            instance = _create(registry, name, choices.get(name), root)
        except (BackendError, TypeError, ValueError) as exc:
            results.append(CheckResult(name, False, str(exc)))
            continue
        try:
            detail = instance.check()
            reach = getattr(instance, "reachable", None)
            if callable(reach):
                detail = reach()
            results.append(CheckResult(name, True, detail))
        except BackendError as exc:
            results.append(CheckResult(name, False, str(exc)))
        finally:
            instance.close()
    return results
