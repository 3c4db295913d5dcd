"""A ComfyUI server protocol double: uploads, the prompt queue, history, /view and the /ws socket.

It speaks ComfyUI's own server protocol (server.py and execution.py of ComfyUI, and what a real
server answered): ``POST /upload/image`` (multipart) answers ``{name, subfolder, type}``;
``POST /prompt`` validates the graph as ``validate_prompt`` does — an unknown node class is
``400 invalid_prompt`` "Cannot execute because node X does not exist." with details "Node ID '#9'";
otherwise each output is checked with what it depends on, a prompt with at least one valid output is
queued (**200**, the broken outputs in ``node_errors``, only the valid branch runs) and one with none is
``400 prompt_outputs_failed_validation`` — and answers ``{prompt_id, number, node_errors}``, taking a
client's own ``prompt_id`` as it is (sent twice, it is queued twice); ``/object_info`` lists the node
classes and the model files loaders can choose; ``/interrupt {prompt_id}`` acts only on the running
prompt (a queued one is removed with ``POST /queue {"delete": [...]}``). A worker executes prompts one at
a time, sending
``execution_start``, ``execution_cached``, ``executing``, ``progress``, ``executed``,
``execution_success`` / ``execution_error`` to the queuing client's websocket; finished prompts
appear in ``/history/{id}`` with their outputs, served by ``/view``. Load → scale → save really
scales the uploaded image; other save nodes write small real media.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import io
import itertools
import json
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response

from tests.backends.doubles.server import mp4_bytes, png_bytes, wav_bytes

KNOWN_NODES = {
    "LoadImage", "ImageScale", "SaveImage", "CheckpointLoaderSimple", "EmptyLatentImage", "CLIPTextEncode", "KSampler",
    "VAEDecode", "UNETLoader", "CLIPLoader", "VAELoader", "CLIPVisionLoader", "CLIPVisionEncode", "WanImageToVideo",
    "ModelSamplingSD3", "CreateVideo", "SaveVideo", "LoadAudio", "SaveAudio", "LoadVideo", "GetVideoComponents",
    "MMAudioModelLoader", "MMAudioFeatureUtilsLoader", "MMAudioSampler",
}  # fmt: skip
MODEL_INPUTS = {
    "CheckpointLoaderSimple": "ckpt_name",
    "UNETLoader": "unet_name",
    "CLIPLoader": "clip_name",
    "VAELoader": "vae_name",
    "CLIPVisionLoader": "clip_name",
    "MMAudioModelLoader": "mmaudio_model",
}
SAMPLERS = {"KSampler", "MMAudioSampler"}
OUTPUT_NODES = {"SaveImage", "SaveVideo", "SaveAudio"}


@dataclass
class ComfyDouble:
    models: set[str] = field(default_factory=set)
    uploads: dict[str, bytes] = field(default_factory=dict)
    history: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending: list[tuple[int, str, dict[str, Any], str]] = field(default_factory=list)
    running: tuple[int, str, dict[str, Any], str] | None = None
    outputs: dict[tuple[str, str], bytes] = field(default_factory=dict)
    prompts_received: int = 0
    fail_node: str | None = None
    #: (path prefix, fault) pairs served once each, in order, before the real answer: "429" (with
    #: Retry-After, as a proxy in front of ComfyUI sends it), "500", "garbage" (not JSON), "slow"
    faults: list[tuple[str, str]] = field(default_factory=list)
    retry_after: str = "1"
    slow_seconds: float = 1.0
    step_delay: float = 0.0
    #: Seconds each message takes to reach the socket: ComfyUI writes /history before its websocket
    #: has sent the messages queued ahead of it, so a client may see a prompt done before its progress.
    socket_lag: float = 0.0
    hold: threading.Event = field(default_factory=threading.Event)  # set: prompts wait for `release`
    release: threading.Event = field(default_factory=threading.Event)
    interrupted: threading.Event = field(default_factory=threading.Event)
    sockets_opened: list[str] = field(default_factory=list)
    interrupts: list[str | None] = field(default_factory=list)
    clients: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Queue[tuple[float, str]]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _jobs: queue.Queue[str] = field(default_factory=queue.Queue)
    _numbers: Any = field(default_factory=lambda: itertools.count())

    # ------------------------------------------------------------------ execution

    def send(self, client_id: str, kind: str, data: dict[str, Any]) -> None:
        target = self.clients.get(client_id)
        if target is not None:
            loop, q = target
            loop.call_soon_threadsafe(q.put_nowait, (time.monotonic(), json.dumps({"type": kind, "data": data})))

    def worker(self) -> None:
        while True:
            prompt_id = self._jobs.get()
            with self.lock:
                item = next((p for p in self.pending if p[1] == prompt_id), None)
                if item is None:
                    continue  # deleted from the queue
                self.pending.remove(item)
                self.running = item
            try:
                self._execute(*item)
            finally:
                with self.lock:
                    self.running = None

    def _execute(self, number: int, prompt_id: str, graph: dict[str, Any], client_id: str) -> None:
        messages: list[list[Any]] = []

        def emit(kind: str, data: dict[str, Any], keep: bool = False) -> None:
            data = {**data, "prompt_id": prompt_id}
            self.send(client_id, kind, data)
            if keep:
                messages.append([kind, data])

        emit("execution_start", {"timestamp": time.time()}, keep=True)
        emit("execution_cached", {"nodes": [], "timestamp": time.time()}, keep=True)
        outputs: dict[str, Any] = {}
        for nid, node in graph.items():
            if self.hold.is_set():
                self.release.wait(timeout=10)
            if self.interrupted.is_set():
                self.interrupted.clear()
                emit(
                    "execution_interrupted",
                    {"node_id": nid, "node_type": node["class_type"], "executed": []},
                    keep=True,
                )
                self._finish(prompt_id, graph, outputs, messages, "error")
                return
            emit("executing", {"node": nid, "display_node": nid})
            time.sleep(self.step_delay)
            if nid == self.fail_node:
                emit("execution_error", {
                    "node_id": nid, "node_type": node["class_type"], "executed": [], "exception_type": "RuntimeError",
                    "exception_message": "mat1 and mat2 shapes cannot be multiplied (77x768 and 2048x320)",
                    "traceback": ["..."], "current_inputs": {}, "current_outputs": {},
                }, keep=True)  # fmt: skip
                self._finish(prompt_id, graph, outputs, messages, "error")
                emit("executing", {"node": None})
                return
            if node["class_type"] in SAMPLERS:
                for step in (1, 2, 3):
                    emit("progress", {"value": step, "max": 3, "node": nid})
            produced = self._output(nid, node, graph)
            if produced is not None:
                outputs[nid] = produced
                emit("executed", {"node": nid, "display_node": nid, "output": produced})
        emit("execution_success", {"timestamp": time.time()}, keep=True)
        self._finish(prompt_id, graph, outputs, messages, "success")
        emit("executing", {"node": None})

    def _finish(
        self, prompt_id: str, graph: dict[str, Any], outputs: dict[str, Any], messages: list[Any], status: str
    ) -> None:
        with self.lock:
            self.history[prompt_id] = {
                "prompt": [0, prompt_id, graph, {}, []],
                "outputs": outputs,
                "status": {"status_str": status, "completed": status == "success", "messages": messages},
                "meta": {},
            }

    def _output(self, nid: str, node: dict[str, Any], graph: dict[str, Any]) -> dict[str, Any] | None:
        kind = node["class_type"]
        prefix = str(node["inputs"].get("filename_prefix", "ComfyUI"))
        sub, _, base = prefix.rpartition("/")
        if kind == "SaveImage":
            name, data = f"{base}_{nid}_00001_.png", self._image_for(node, graph)
            key = "images"
        elif kind == "SaveVideo":
            wan = next((n for n in graph.values() if n["class_type"] == "WanImageToVideo"), None)
            fps = next((n["inputs"]["fps"] for n in graph.values() if n["class_type"] == "CreateVideo"), 16)
            frames = int(wan["inputs"]["length"]) if wan else 10
            name, data, key = f"{base}_00001_.mp4", mp4_bytes(64, 48, frames, int(fps)), "images"
        elif kind == "SaveAudio":
            name, data, key = f"{base}_00001_.wav", wav_bytes(), "audio"
        else:
            return None
        self.outputs[(sub, name)] = data
        out: dict[str, Any] = {key: [{"filename": name, "subfolder": sub, "type": "output"}]}
        if kind == "SaveVideo":
            out["animated"] = [True]
        return out

    def _image_for(self, node: dict[str, Any], graph: dict[str, Any]) -> bytes:
        source = graph.get(str(node["inputs"]["images"][0])) or {}
        if source.get("class_type") == "ImageScale":
            from PIL import Image

            loader = graph[str(source["inputs"]["image"][0])]
            with Image.open(io.BytesIO(self.uploads[loader["inputs"]["image"]])) as img:
                scaled = img.convert("RGB").resize((int(source["inputs"]["width"]), int(source["inputs"]["height"])))
            buf = io.BytesIO()
            scaled.save(buf, format="PNG")
            return buf.getvalue()
        latent = next((n for n in graph.values() if n["class_type"] == "EmptyLatentImage"), None)
        size = (int(latent["inputs"]["width"]) // 16, int(latent["inputs"]["height"]) // 16) if latent else (64, 48)
        return png_bytes(*size)

    # ------------------------------------------------------------------ validation

    def validate(self, graph: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any], set[str]]:
        """(a 400 body or None, node errors of the outputs left out, the nodes that will run) as ComfyUI's
        ``validate_prompt`` decides: an unknown class refuses the prompt; otherwise each output node is
        checked with everything it depends on, the prompt runs if at least one output is valid, and the
        broken outputs come back in ``node_errors`` of a 200."""
        for nid, node in graph.items():
            if node.get("class_type") not in KNOWN_NODES:
                cls = node.get("class_type")
                return (
                    {
                        "error": {
                            "type": "invalid_prompt",
                            "message": f"Cannot execute because node {cls} does not exist.",
                            "details": f"Node ID '#{nid}'",
                            "extra_info": {},
                        },
                        "node_errors": {},
                    },
                    {},
                    set(),
                )
        outputs = [nid for nid, node in graph.items() if node["class_type"] in OUTPUT_NODES]
        if not outputs:
            return (
                {
                    "error": {
                        "type": "prompt_no_outputs",
                        "message": "Prompt has no outputs",
                        "details": "",
                        "extra_info": {},
                    },
                    "node_errors": [],
                },
                {},
                set(),
            )
        bad_nodes = {nid: why for nid, node in graph.items() if (why := self._node_error(node)) is not None}
        node_errors: dict[str, Any] = {}
        runs: set[str] = set()
        for out in outputs:
            needed = self._ancestors(graph, out)
            broken = [n for n in needed if n in bad_nodes]
            for n in broken:
                entry = node_errors.setdefault(
                    n, {"errors": [bad_nodes[n]], "dependent_outputs": [], "class_type": graph[n]["class_type"]}
                )
                entry["dependent_outputs"].append(out)
            if not broken:
                runs |= needed
        if not runs:
            return (
                {
                    "error": {
                        "type": "prompt_outputs_failed_validation",
                        "message": "Prompt outputs failed validation",
                        "details": "",
                        "extra_info": {},
                    },
                    "node_errors": node_errors,
                },
                {},
                set(),
            )
        return None, node_errors, runs

    def _node_error(self, node: dict[str, Any]) -> dict[str, Any] | None:
        cls, inputs = node["class_type"], node.get("inputs", {})
        if cls in MODEL_INPUTS and inputs.get(MODEL_INPUTS[cls]) not in self.models:
            name = MODEL_INPUTS[cls]
            return {
                "type": "value_not_in_list",
                "message": "Value not in list",
                "details": f"{name}: '{inputs.get(name)}' not in {sorted(self.models)}",
                "extra_info": {"input_name": name},
            }
        if cls == "LoadImage" and inputs.get("image") not in self.uploads:
            return {
                "type": "custom_validation_failed",
                "message": "Custom validation failed for node",
                "details": f"image - Invalid image file: {inputs.get('image')}",
                "extra_info": {"input_name": "image"},
            }
        if cls in OUTPUT_NODES and not any(isinstance(v, list) for v in inputs.values()):
            return {
                "type": "required_input_missing",
                "message": "Required input is missing",
                "details": "images" if cls == "SaveImage" else "input",
                "extra_info": {"input_name": "images"},
            }
        return None

    @staticmethod
    def _ancestors(graph: dict[str, Any], nid: str) -> set[str]:
        seen, todo = set(), [nid]
        while todo:
            n = todo.pop()
            if n in seen or n not in graph:
                continue
            seen.add(n)
            todo += [str(v[0]) for v in (graph[n].get("inputs") or {}).values() if isinstance(v, list) and v]
        return seen

    def object_info(self) -> dict[str, Any]:
        """What ``GET /object_info`` lists: every class, and the files a loader can choose from."""
        info: dict[str, Any] = {}
        for cls in sorted(KNOWN_NODES):
            required: dict[str, Any] = {}
            if cls in MODEL_INPUTS:
                required[MODEL_INPUTS[cls]] = [sorted(self.models)]
            if cls == "LoadImage":
                required["image"] = [sorted(self.uploads), {"image_upload": True}]
            info[cls] = {"input": {"required": required}, "output": [], "name": cls, "output_node": cls in OUTPUT_NODES}
        return info

    # ------------------------------------------------------------------ HTTP and websocket

    def fault_for(self, path: str) -> str | None:
        with self.lock:
            for i, (prefix, kind) in enumerate(self.faults):
                if path.startswith(prefix):
                    del self.faults[i]
                    return kind
        return None

    def app(self) -> FastAPI:
        app = FastAPI()
        threading.Thread(target=self.worker, daemon=True).start()

        @app.middleware("http")
        async def inject(request: Request, call_next: Any) -> Response:
            kind = self.fault_for(request.url.path)
            if kind == "429":
                return Response("Too Many Requests", status_code=429, headers={"Retry-After": self.retry_after})
            if kind == "500":
                return Response(
                    "500 Internal Server Error\n\nServer got itself in trouble",
                    status_code=500,
                    media_type="text/plain",
                )
            if kind == "garbage":
                return Response(
                    "<html><body>502 Bad Gateway</body></html>", status_code=200, media_type="application/json"
                )
            if kind == "slow":
                await asyncio.sleep(self.slow_seconds)
            return await call_next(request)

        @app.get("/system_stats")
        def stats() -> dict[str, Any]:
            return {
                "system": {"os": "posix", "comfyui_version": "0.3.99-double", "python_version": "3.11"},
                "devices": [{"name": "cpu", "type": "cpu"}],
            }

        @app.post("/upload/image")
        async def upload(request: Request) -> Response:
            raw = await request.body()
            head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
            fields: dict[str, Any] = {}
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                fields[name] = (part.get_filename(), part.get_payload(decode=True))
            if "image" not in fields:
                return Response("no image", status_code=400)
            filename, data = fields["image"]
            subfolder = fields.get("subfolder", (None, b""))[1].decode()
            self.uploads[f"{subfolder}/{filename}" if subfolder else filename] = data
            return JSONResponse({"name": filename, "subfolder": subfolder, "type": "input"})

        @app.post("/prompt")
        async def prompt(request: Request) -> Response:
            body = await request.json()
            graph = body.get("prompt") or {}
            problem, node_errors, runs = self.validate(graph)
            if problem is not None:
                return JSONResponse(problem, status_code=400)
            prompt_id = str(body.get("prompt_id") or uuid.uuid4())  # a client's own id is taken as it is
            partial = {nid: node for nid, node in graph.items() if nid in runs}
            with self.lock:
                self.prompts_received += 1
                number = next(self._numbers)
                self.pending.append((number, prompt_id, partial, str(body.get("client_id", ""))))
            self._jobs.put(prompt_id)
            return JSONResponse({"prompt_id": prompt_id, "number": number, "node_errors": node_errors})

        @app.get("/object_info")
        def object_info() -> dict[str, Any]:
            return self.object_info()

        @app.get("/queue")
        def get_queue() -> dict[str, Any]:
            with self.lock:
                running = [
                    [r[0], r[1], r[2], {"client_id": r[3]}, []] for r in ([self.running] if self.running else [])
                ]
                pending = [[p[0], p[1], p[2], {"client_id": p[3]}, []] for p in self.pending]
            return {"queue_running": running, "queue_pending": pending}

        @app.post("/queue")
        async def edit_queue(request: Request) -> dict[str, Any]:
            body = await request.json()
            with self.lock:
                self.pending = [p for p in self.pending if p[1] not in set(body.get("delete", []))]
            return {}

        @app.post("/interrupt")
        async def interrupt(request: Request) -> dict[str, Any]:
            raw = await request.body()
            wanted = (json.loads(raw) if raw else {}).get("prompt_id")
            with self.lock:
                running = self.running[1] if self.running else None
            if wanted is None or wanted == running:  # a queued prompt is not touched: delete it from /queue
                self.interrupted.set()
                self.release.set()
            self.interrupts.append(wanted)
            return {}

        @app.get("/history/{prompt_id}")
        def history(prompt_id: str) -> dict[str, Any]:
            with self.lock:
                return {prompt_id: self.history[prompt_id]} if prompt_id in self.history else {}

        @app.get("/view")
        def view(filename: str, subfolder: str = "", type: str = "output") -> Response:
            data = self.outputs.get((subfolder, filename))
            if data is None:
                return Response(status_code=404)
            return Response(data, media_type="application/octet-stream")

        @app.websocket("/ws")
        async def ws(websocket: WebSocket) -> None:
            client_id = websocket.query_params.get("clientId") or uuid.uuid4().hex
            await websocket.accept()
            q: asyncio.Queue[tuple[float, str]] = asyncio.Queue()
            self.clients[client_id] = (asyncio.get_running_loop(), q)
            self.sockets_opened.append(client_id)
            await websocket.send_text(
                json.dumps(
                    {
                        "type": "status",
                        "data": {"status": {"exec_info": {"queue_remaining": len(self.pending)}}, "sid": client_id},
                    }
                )
            )
            closed = asyncio.ensure_future(websocket.receive())  # completes when the client goes away
            try:
                while True:
                    getter = asyncio.ensure_future(q.get())
                    done, _ = await asyncio.wait({getter, closed}, return_when=asyncio.FIRST_COMPLETED)
                    if closed in done:
                        getter.cancel()
                        break
                    sent, text = getter.result()
                    await asyncio.sleep(max(0.0, sent + self.socket_lag - time.monotonic()))
                    await websocket.send_bytes(
                        b"\x00\x00\x00\x01preview"
                    )  # binary preview frames are ignored by clients
                    await websocket.send_text(text)
            except (WebSocketDisconnect, RuntimeError):
                pass
            finally:
                closed.cancel()
                if self.clients.get(client_id, (None, None))[1] is q:
                    del self.clients[client_id]

        return app

    def forget(self) -> None:
        """What a server restart does: the queue and the history are gone."""
        with self.lock:
            self.pending.clear()
            self.history.clear()
