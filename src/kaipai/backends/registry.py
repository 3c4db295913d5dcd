"""Finding backends by name: the one list of built-ins, then the ``kaipai.backends`` entry points.

Built-ins are listed here (not as entry points in pyproject) so that a checkout works without
reinstalling after a backend is added; a third-party package adds or overrides a backend with
an entry point in the ``kaipai.backends`` group.
"""

from __future__ import annotations

import importlib
import importlib.util
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from kaipai.backends.base import Backend, NotConfigured

ENTRY_POINT_GROUP = "kaipai.backends"

#: Backends that ship with kaipai: name -> "module:Class". Entry points may add or override.
BUILTIN: dict[str, str] = {
    "rules": "kaipai.backends.rules:RulesPlanner",
    "previz": "kaipai.backends.previz:PrevizBackend",
    "espeak": "kaipai.backends.espeak:EspeakBackend",
    "simulated": "kaipai.backends.simulated:SimulatedBackend",
    "openai": "kaipai.backends.openai.planner:OpenAIPlanner",
    "openai-judge": "kaipai.backends.openai.judge:OpenAIJudge",
    "clip": "kaipai.backends.clip:ClipJudge",
    "diffusers": "kaipai.backends.diffusers.backend:DiffusersBackend",
    "comfyui": "kaipai.backends.comfyui.backend:ComfyUIBackend",
    "dashscope": "kaipai.backends.dashscope:DashScopeBackend",
    "kling": "kaipai.backends.kling:KlingBackend",
    "ark": "kaipai.backends.ark:ArkBackend",
    "minimax": "kaipai.backends.minimax.backend:MiniMaxBackend",
    "vidu": "kaipai.backends.vidu:ViduBackend",
    "veo": "kaipai.backends.veo:VeoBackend",
    "runway": "kaipai.backends.runway:RunwayBackend",
    "openai-speech": "kaipai.backends.openai.speech:OpenAISpeechBackend",
    "openai-image": "kaipai.backends.openai.images:OpenAIImageBackend",
    "elevenlabs": "kaipai.backends.elevenlabs:ElevenLabsBackend",
}

#: Built-ins that need an optional extra: name -> (extra, a module the extra installs).
#: ``kaipai backends`` says which, and a backend whose module is missing says how to install it.
EXTRAS: dict[str, tuple[str, str]] = {
    "diffusers": ("diffusers", "diffusers"),
    "ark": ("ark", "volcenginesdkarkruntime"),
    "veo": ("veo", "google.genai"),
    "runway": ("runway", "runwayml"),
    "openai-speech": ("openai", "openai"),
    "openai-image": ("openai", "openai"),
    "clip": ("clip", "transformers"),
}


def extra_for(name: str) -> str | None:
    """The extra a built-in backend needs (``pip install 'kaipai[extra]'``), or None."""
    found = EXTRAS.get(name)
    return found[0] if found else None


def extra_installed(name: str) -> bool:
    """Whether the extra a backend needs is installed (True for backends that need none)."""
    found = EXTRAS.get(name)
    if found is None:
        return True
    try:
        return importlib.util.find_spec(found[1]) is not None
    except (ImportError, ValueError):
        return False


def register_builtin(name: str, target: str) -> None:
    BUILTIN[name] = target


class Registry:
    """Finds backend classes by name: built-ins first, then the ``kaipai.backends`` entry points."""

    def __init__(self) -> None:
        self._targets: dict[str, str] = dict(BUILTIN)
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            self._targets[ep.name] = ep.value

    def names(self) -> list[str]:
        return sorted(self._targets)

    def load(self, name: str) -> type[Backend]:
        target = self._targets.get(name)
        if target is None:
            known = ", ".join(self.names()) or "none"
            raise NotConfigured(f"no backend named {name!r}; installed backends: {known}")
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            extra = extra_for(name) or name
            raise NotConfigured(
                f"backend {name!r} cannot be loaded ({exc}); install its extra: pip install 'kaipai[{extra}]'"
            ) from None
        cls = getattr(module, attr)
        return cls

    def generative(self, name: str) -> bool:
        """Whether takes made by the backend ``name`` are AI-generated content (its ``generative``
        declaration). A backend that cannot be loaded here (uninstalled, renamed) counts as generative:
        when in doubt, the film is labelled."""
        try:
            return bool(self.load(name).generative)
        except NotConfigured:
            return True

    def create(
        self,
        name: str,
        model: str | None = None,
        options: dict[str, Any] | None = None,
        project_dir: Path | None = None,
    ) -> Backend:
        cls = self.load(name)
        options = dict(options or {})
        if project_dir is not None and cls.reads_project_files:
            options.setdefault("base_dir", str(project_dir))
        return cls(model=model, **options)
