"""The ComfyUI server protocol: upload inputs, queue a prompt, follow it, fetch its outputs.

Endpoints (ComfyUI's own server): ``POST /upload/image`` (multipart, also used for audio and
video inputs), ``POST /prompt`` with a ``client_id``, ``GET /queue``, ``GET /history/{id}``,
``GET /view``, ``POST /interrupt``, and the ``/ws?clientId=`` websocket that streams
``executing``, ``progress``, ``executed``, ``execution_success`` and ``execution_error``
messages to the client that queued the prompt. ``GET /object_info`` lists the node classes (and the
model files their inputs offer) that ``kaipai backends check`` compares a workflow with.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import mimetypes
import re
from pathlib import Path
from typing import Any, Literal

import httpx
from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

from kaipai.backends.base import BackendError, NotConfigured, TransientError
from kaipai.backends.comfyui.workflow import Workflow
from kaipai.backends.remote import tasks

PROVIDER = "ComfyUI"
PromptState = Literal["queued", "running", "done", "failed", "unknown"]


def describe_node_errors(workflow: Workflow, body: dict[str, Any]) -> str:
    """ComfyUI's validation reply as one line per failing node: id, title, class and reason."""
    lines: list[str] = []
    error = body.get("error") or {}
    for nid, info in (body.get("node_errors") or {}).items():
        reasons = (
            "; ".join(f"{e.get('message', '')}: {e.get('details', '')}".strip(": ") for e in info.get("errors") or [])
            or "invalid"
        )
        lines.append(f"node {nid} '{workflow.title(nid)}' ({info.get('class_type', '?')}): {reasons}")
    if not lines and error:
        extra = error.get("extra_info") or {}
        found = re.search(r"#([\w.:-]+)", str(error.get("details") or ""))  # "Node ID '#9'" (unknown node class)
        nid = str(extra.get("node_id") or (found.group(1) if found else ""))
        cls = extra.get("class_type") or (workflow.graph.get(nid) or {}).get("class_type", "?")
        where = f"node {nid} '{workflow.title(nid)}' ({cls}): " if nid else ""
        lines.append(f"{where}{error.get('message', '')}".strip())
    return " | ".join(lines) or json.dumps(body)[:300]


class ComfyClient:
    """One ComfyUI server, addressed by its HTTP URL."""

    def __init__(self, url: str, settings: tasks.PollSettings) -> None:
        self.url = url.rstrip("/")
        self.settings = settings
        self.http = httpx.Client(base_url=self.url, timeout=settings.timeout)

    def close(self) -> None:
        self.http.close()

    def _json(self, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        response = tasks.send(self.http, method, path, PROVIDER, **kwargs)
        return response.status_code, tasks.json_body(response, PROVIDER)

    # ------------------------------------------------------------------ requests

    def system_stats(self) -> dict[str, Any]:
        status, body = self._json("GET", "/system_stats")
        if status != 200:
            raise NotConfigured(f"{self.url} answered HTTP {status} to /system_stats; is it a ComfyUI server?")
        return body

    def upload(self, path: Path) -> str:
        """Upload an input file; returns the value a loader node's input takes (``subfolder/name``)."""
        raw = path.read_bytes()
        name = hashlib.sha256(raw).hexdigest()[:20] + path.suffix.lower()
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        status, body = self._json(
            "POST",
            "/upload/image",
            files={"image": (name, raw, kind)},
            data={"type": "input", "subfolder": "kaipai", "overwrite": "true"},
        )
        if status != 200 or "name" not in body:
            raise BackendError(f"ComfyUI did not accept the upload of {path.name} (HTTP {status}): {str(body)[:200]}")
        return f"{body['subfolder']}/{body['name']}" if body.get("subfolder") else str(body["name"])

    def queue(self, graph: dict[str, Any], client_id: str, workflow: Workflow, prompt_id: str) -> dict[str, Any]:
        """Queue the prompt under our own id; returns the node errors of outputs ComfyUI left out.

        ComfyUI answers 200 and runs the valid outputs when at least one output validates, listing the
        broken ones in ``node_errors``: the prompt is queued all the same (so it is recorded and
        followed, never queued again). Only a 400 — no output can run — is a refusal.
        """
        status, body = self._json(
            "POST", "/prompt", json={"prompt": graph, "client_id": client_id, "prompt_id": prompt_id}
        )
        if status == 400 or (status >= 400 and body.get("error")):
            raise NotConfigured(
                f"ComfyUI refused workflow {workflow.name}: {describe_node_errors(workflow, body)} — "
                "install the missing custom nodes or models on the server, or fix the workflow or its bindings"
            )
        if status != 200 or "prompt_id" not in body:
            raise BackendError(f"ComfyUI did not queue the prompt (HTTP {status}): {str(body)[:200]}")
        if str(body["prompt_id"]) != prompt_id:
            raise BackendError(f"ComfyUI queued the prompt as {body['prompt_id']}, not {prompt_id}; is it ComfyUI?")
        return dict(body.get("node_errors") or {})

    def object_info(self) -> dict[str, Any]:
        """Every node class the server has, with its inputs (``GET /object_info``)."""
        status, body = self._json("GET", "/object_info")
        if status != 200:
            raise NotConfigured(f"{self.url} answered HTTP {status} to /object_info; is it a ComfyUI server?")
        return body

    def history(self, prompt_id: str) -> dict[str, Any] | None:
        status, body = self._json("GET", f"/history/{prompt_id}")
        if status != 200:
            raise TransientError(f"ComfyUI answered HTTP {status} to /history")
        return body.get(prompt_id)

    def state(self, prompt_id: str) -> tuple[PromptState, dict[str, Any] | None]:
        """Where a prompt is: finished (with its history entry), still queued or running, or unknown."""
        finished = self._finished(prompt_id)
        if finished is not None:
            return finished
        _, queue = self._json("GET", "/queue")
        if any(len(item) > 1 and item[1] == prompt_id for item in queue.get("queue_running") or []):
            return "running", None
        if any(len(item) > 1 and item[1] == prompt_id for item in queue.get("queue_pending") or []):
            return "queued", None
        # it may have finished between the two requests: look once more before calling it lost
        return self._finished(prompt_id) or ("unknown", None)

    def _finished(self, prompt_id: str) -> tuple[PromptState, dict[str, Any] | None] | None:
        entry = self.history(prompt_id)
        if entry is None:
            return None
        status = entry.get("status") or {}
        if status.get("status_str") == "error":
            return "failed", entry
        return ("done", entry) if status.get("completed", True) else ("running", None)

    def interrupt(self, prompt_id: str) -> None:
        """Stop a prompt: a queued one is deleted from the queue; ``/interrupt`` only for the running one."""
        try:
            state, _ = self.state(prompt_id)
            if state == "queued":
                self.http.post("/queue", json={"delete": [prompt_id]})
            elif state == "running":
                self.http.post("/interrupt", json={"prompt_id": prompt_id})
        except (httpx.HTTPError, BackendError):
            pass

    def download(self, item: dict[str, Any], dest_dir: Path) -> Path:
        """Fetch one output file (``{filename, subfolder, type}``) through ``/view``."""
        filename = str(item["filename"])
        params = {"filename": filename, "subfolder": item.get("subfolder", ""), "type": item.get("type", "output")}
        url = str(self.http.build_request("GET", "/view", params=params).url)
        return tasks.download(self.http, url, dest_dir / Path(filename).name, PROVIDER, self.settings)

    # ------------------------------------------------------------------ websocket

    def open_socket(self, client_id: str, stack: contextlib.ExitStack) -> ClientConnection | None:
        """The progress socket (closed with ``stack``), or None when it cannot be opened: then progress is polled."""
        ws_url = "ws" + self.url[len("http") :] + f"/ws?clientId={client_id}"
        try:
            return stack.enter_context(
                connect(ws_url, open_timeout=self.settings.timeout, max_size=None, close_timeout=1)
            )
        except (OSError, WebSocketException, TimeoutError):
            return None
