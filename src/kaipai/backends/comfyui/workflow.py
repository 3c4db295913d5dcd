"""A director's ComfyUI workflow and how shot fields bind to its nodes.

A workflow is ComfyUI's API-format JSON (``{node id: {class_type, inputs, _meta}}``). A
binding names where a field goes: ``"Positive"`` (a node title, default input), ``"Positive.text"``
(title and input), ``"6"`` or ``"6.text"`` (node id), or a list of these. A workflow file may have a
sidecar ``<name>.kaipai.json`` holding its default ``bind``, ``output`` and ``sheet`` so it works
with no options at all; the project's options override the sidecar.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from kaipai.backends.base import NotConfigured

#: Inputs a field goes to when a binding names only the node; the first the node has is used.
DEFAULT_INPUTS: dict[str, tuple[str, ...]] = {
    "prompt": ("text", "prompt", "positive", "text_g"),
    "negative": ("text", "negative", "negative_prompt"),
    "seed": ("seed", "noise_seed"),
    "width": ("width",),
    "height": ("height",),
    "frames": ("length", "frames", "num_frames", "frame_count", "video_frames", "batch_size"),
    "fps": ("fps", "frame_rate"),
    "duration": ("duration", "seconds"),
    "image": ("image",),
    "last_image": ("image",),
    "reference_images": ("image",),
    "audio": ("audio", "audio_file"),
    "video": ("video",),
    "text": ("text", "tts_text"),
    "speaker": ("speaker", "voice"),
}
#: Fields a capability cannot do without: an unbound one is a configuration error, not a silent default.
REQUIRED: dict[str, tuple[str, ...]] = {
    "image": ("prompt",),
    "video": ("prompt", "image"),
    "lipsync": ("video", "audio"),
    "speech": ("text",),
    "sound": ("prompt",),
}
SIDECAR_SUFFIX = ".kaipai.json"


@dataclass
class Target:
    node: str
    input: str


@dataclass
class Workflow:
    """A loaded workflow, its bindings and the sheet fields it declares."""

    name: str
    graph: dict[str, Any]
    bind: dict[str, Any] = field(default_factory=dict)
    output: list[str] = field(default_factory=list)
    sheet: dict[str, Any] = field(default_factory=dict)

    def title(self, node_id: str) -> str:
        node = self.graph.get(node_id) or {}
        return str((node.get("_meta") or {}).get("title") or node.get("class_type") or node_id)

    def nodes_named(self, name: str) -> list[str]:
        if name in self.graph:
            return [name]
        return [nid for nid, node in self.graph.items() if (node.get("_meta") or {}).get("title") == name]

    def targets(self, field_name: str) -> list[Target]:
        """Where ``field_name`` goes (empty when unbound or bound to null)."""
        spec = self.bind.get(field_name)
        if spec is None:
            return []
        out: list[Target] = []
        for one in spec if isinstance(spec, list) else [spec]:
            out.extend(self._resolve(field_name, str(one)))
        return out

    def _resolve(self, field_name: str, spec: str) -> list[Target]:
        nodes = self.nodes_named(spec)
        explicit = None
        if not nodes and "." in spec:
            name, explicit = spec.rsplit(".", 1)
            nodes = self.nodes_named(name)
        if not nodes:
            titles = ", ".join(sorted({self.title(n) for n in self.graph})) or "none"
            raise NotConfigured(
                f"workflow {self.name}: '{field_name}' is bound to {spec!r}, "
                f"but no node has that title or id (nodes: {titles})"
            )
        found = []
        for nid in nodes:
            inputs = self.graph[nid].get("inputs") or {}
            if explicit is not None:
                found.append(Target(nid, explicit))
                continue
            candidates = DEFAULT_INPUTS.get(field_name, (field_name,))
            name = next((c for c in candidates if c in inputs), None)
            if name is None:
                raise NotConfigured(
                    f"workflow {self.name}: node {nid} '{self.title(nid)}' has no input for '{field_name}' "
                    f"(it has {', '.join(inputs) or 'none'}); bind it as '{spec}.<input name>'"
                )
            found.append(Target(nid, name))
        return found

    def check_required(self, capability: str) -> None:
        for name in REQUIRED.get(capability, ()):
            if name not in self.bind:
                raise NotConfigured(
                    f"workflow {self.name}: bind '{name}' to the node that takes it "
                    f'(options.bind.{name}: "Node title"), '
                    f"or to null if this workflow ignores it"
                )
            self.targets(name)

    def apply(self, values: dict[str, Any]) -> dict[str, Any]:
        """A copy of the graph with every bound field set; list fields fill their targets in order."""
        graph = copy.deepcopy(self.graph)
        for name, value in values.items():
            targets = self.targets(name)
            if not targets:
                continue
            if isinstance(value, list):
                for target, item in zip(targets, value, strict=False):
                    graph[target.node].setdefault("inputs", {})[target.input] = item
                continue
            for target in targets:
                graph[target.node].setdefault("inputs", {})[target.input] = value
        return graph

    def output_nodes(self) -> list[str] | None:
        if not self.output:
            return None
        nodes: list[str] = []
        for spec in self.output:
            found = self.nodes_named(spec)
            if not found:
                raise NotConfigured(f"workflow {self.name}: output {spec!r} names no node")
            nodes.extend(found)
        return nodes


def builtin_dir() -> Any:
    return resources.files("kaipai").joinpath("workflows")


def builtin_names() -> list[str]:
    if not builtin_dir().is_dir():
        return []
    return sorted(
        p.name[: -len(".json")]
        for p in builtin_dir().iterdir()
        if p.name.endswith(".json") and not p.name.endswith(SIDECAR_SUFFIX)
    )


def _read_json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotConfigured(f"{where}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None


def load_workflow(spec: Any, base_dir: Path | None = None) -> Workflow:
    """A workflow from an inline mapping, a shipped name (``builtin:wan_i2v`` or ``wan_i2v``) or a file."""
    if isinstance(spec, dict):
        return _checked(Workflow(name="(inline workflow)", graph=spec))
    if not spec:
        raise NotConfigured(
            "the comfyui backend needs a workflow: options.workflow: a path to an API-format JSON, "
            f"or one of {', '.join(builtin_names())}"
        )
    text = str(spec)
    name = text.removeprefix("builtin:")
    shipped = builtin_dir().joinpath(name + ".json")
    path = Path(text).expanduser()
    if not path.is_absolute():
        path = (base_dir or Path.cwd()) / path
    if text.startswith("builtin:") or (not path.is_file() and shipped.is_file()):
        if not shipped.is_file():
            raise NotConfigured(f"no shipped workflow {name!r}; shipped: {', '.join(builtin_names())}")
        graph = _read_json(shipped.read_text(encoding="utf-8"), f"workflows/{name}.json")
        sidecar_file = builtin_dir().joinpath(name + SIDECAR_SUFFIX)
        sidecar = (
            _read_json(sidecar_file.read_text(encoding="utf-8"), sidecar_file.name) if sidecar_file.is_file() else {}
        )
        return _checked(_with_sidecar(Workflow(name=name, graph=graph), sidecar))
    if not path.is_file():
        raise NotConfigured(f"workflow file {path} does not exist; export it from ComfyUI with 'Save (API Format)'")
    graph = _read_json(path.read_text(encoding="utf-8"), str(path))
    sidecar_path = path.with_name(path.name.removesuffix(".json") + SIDECAR_SUFFIX)
    sidecar = _read_json(sidecar_path.read_text(encoding="utf-8"), str(sidecar_path)) if sidecar_path.is_file() else {}
    return _checked(_with_sidecar(Workflow(name=str(path), graph=graph), sidecar))


def _with_sidecar(workflow: Workflow, sidecar: dict[str, Any]) -> Workflow:
    workflow.bind = dict(sidecar.get("bind") or {})
    out = sidecar.get("output") or []
    workflow.output = list(out) if isinstance(out, list) else [str(out)]
    workflow.sheet = dict(sidecar.get("sheet") or {})
    return workflow


def _checked(workflow: Workflow) -> Workflow:
    graph = workflow.graph
    if not isinstance(graph, dict) or not graph:
        raise NotConfigured(f"workflow {workflow.name} is empty")
    if "nodes" in graph and "links" in graph:
        raise NotConfigured(
            f"workflow {workflow.name} is in ComfyUI's UI format; "
            "export it with 'Save (API Format)' (enable dev mode options)"
        )
    for nid, node in graph.items():
        if not isinstance(node, dict) or "class_type" not in node:
            raise NotConfigured(
                f"workflow {workflow.name}: node {nid!r} has no class_type; is this an API-format workflow?"
            )
    return workflow


def configure(workflow: Workflow, bind: dict[str, Any] | None, output: Any, sheet: dict[str, Any] | None) -> Workflow:
    """Apply the project's options on top of the workflow's sidecar defaults."""
    if bind:
        workflow.bind = {**workflow.bind, **bind}
    if output:
        workflow.output = list(output) if isinstance(output, list) else [str(output)]
    if sheet:
        workflow.sheet = {**workflow.sheet, **sheet}
    return workflow
