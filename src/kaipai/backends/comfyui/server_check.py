"""Does a ComfyUI server have what a workflow needs? Asked of ``/object_info`` before any render.

``/object_info`` lists every node class the server can run, and for inputs that choose among files
(checkpoints, VAEs, LoRAs…) the files it has. A workflow naming a class the server lacks would be
refused at queue time ("Cannot execute because node X does not exist"); naming a model it lacks,
refused as "Value not in list". ``kaipai backends check comfyui`` says so up front, node by node.
"""

from __future__ import annotations

from typing import Any

from kaipai.backends.comfyui.workflow import Workflow

#: Inputs that name files kaipai uploads for each job (they are not expected on the server beforehand).
UPLOADED_INPUTS = {"image", "audio", "video", "upload"}


def _choices(spec: Any) -> list[str] | None:
    """The options of a combo input: ``[[…]]`` (classic) or ``["COMBO", {"options": […]}]`` (newer servers)."""
    if not isinstance(spec, list) or not spec:
        return None
    head = spec[0]
    if isinstance(head, list):
        return [str(o) for o in head]
    if head == "COMBO" and len(spec) > 1 and isinstance(spec[1], dict):
        return [str(o) for o in spec[1].get("options") or []]
    return None


def missing_on_server(workflow: Workflow, info: dict[str, Any]) -> list[str]:
    """One line per node the server cannot run as written: an unknown class, or a file it does not have."""
    bound = {t.node + "." + t.input for name in workflow.bind for t in workflow.targets(name)}
    problems: list[str] = []
    for nid, node in workflow.graph.items():
        cls = str(node.get("class_type"))
        where = f"node {nid} '{workflow.title(nid)}' ({cls})"
        if cls not in info:
            problems.append(f"{where}: the server has no such node; install the custom node that provides it")
            continue
        declared = (info[cls].get("input") or {}) if isinstance(info[cls], dict) else {}
        specs = {**(declared.get("required") or {}), **(declared.get("optional") or {})}
        for name, value in (node.get("inputs") or {}).items():
            if name in UPLOADED_INPUTS or f"{nid}.{name}" in bound or not isinstance(value, str):
                continue
            options = _choices(specs.get(name))
            if options is not None and value not in options:
                problems.append(f"{where}: {name} '{value}' is not on the server")
    return problems
