"""An OpenAI-compatible chat-completions protocol double for vision models (the judge's endpoint).

Follows the Chat Completions API reference (https://platform.openai.com/docs/api-reference/chat/create)
and the vision guide (https://platform.openai.com/docs/guides/images-vision), as the official
``openai`` Python SDK 1.x/2.x sends and reads it: ``POST /v1/chat/completions`` with ``Authorization:
Bearer``; ``messages[].content`` is a string or a list of parts, ``{"type": "text", "text"}`` and
``{"type": "image_url", "image_url": {"url": "data:image/...;base64,...", "detail"}}``;
``response_format`` is ``{"type": "json_schema", "json_schema": {"name", "strict", "schema"}}`` or
``{"type": "json_object"}``. A reply is a ``chat.completion`` whose ``choices[0].message`` carries
``content`` or, for a structured-output refusal, ``refusal``; ``finish_reason`` is ``stop``,
``length`` or ``content_filter``. Errors are ``{"error": {"message", "type", "code"}}``: 401 for a
bad key, 400 ``invalid_request_error`` for a malformed request, 429 ``rate_limit_exceeded`` with
``retry-after``.

The "model" is a rule of thumb that really looks at the pictures: the take's brightness decides
its artifact score (a black picture scores 0), and the colour under the middle of the frame is
what it says the characters wear ("red clothes"). ``script`` queues what the next requests get
instead: ``"ok"``, ``"malformed"`` (not JSON), ``"refusal"``, ``"filter"``, ``"slow"`` (answers after
the client's timeout), ``"429"``.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

KEY = "sk-test-vision"
MODEL = "vision-judge-test"
_COLOURS = {
    "red": (200, 40, 40),
    "green": (40, 160, 60),
    "blue": (40, 70, 200),
    "yellow": (220, 200, 40),
    "white": (235, 235, 235),
    "black": (20, 20, 20),
    "grey": (128, 128, 128),
    "brown": (120, 80, 40),
    "purple": (130, 50, 150),
    "pink": (230, 140, 170),
    "orange": (230, 130, 30),
}


def _error(status: int, message: str, kind: str, code: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": kind, "param": None, "code": code}}, status_code=status, headers=headers
    )


def _decode(url: str) -> Any:
    from PIL import Image

    head, _, data = url.partition(",")
    if not head.startswith("data:image/") or ";base64" not in head:
        raise ValueError("image_url.url must be an https URL or a base64 data URL")
    return Image.open(io.BytesIO(base64.b64decode(data, validate=True))).convert("RGB")


def colour_name(rgb: tuple[float, float, float]) -> str:
    return min(_COLOURS, key=lambda n: sum((a - b) ** 2 for a, b in zip(rgb, _COLOURS[n])))


def look(image: Any) -> tuple[float, str]:
    """(mean brightness 0–255, the name of the colour worn under the middle of the frame)."""
    import numpy as np

    px = np.asarray(image, dtype=np.float32)
    h, w = px.shape[:2]
    patch = px[int(h * 0.8) :, int(w * 0.4) : int(w * 0.6)].reshape(-1, 3)
    worn = tuple(float(v) for v in np.median(patch, axis=0))
    return float(px.mean()), colour_name(worn)  # type: ignore[arg-type]


@dataclass
class VisionDouble:
    script: list[str] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    delay: float = 3.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def completions(request: Request) -> JSONResponse:
            if request.headers.get("authorization") != f"Bearer {KEY}":
                return _error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
            try:
                body = await request.json()
            except ValueError:
                return _error(400, "We could not parse the JSON body of your request.", "invalid_request_error", "")
            with self.lock:
                self.requests.append(body)
                mode = self.script.pop(0) if self.script else "ok"
            problem = _invalid(body)
            if problem:
                return _error(400, problem, "invalid_request_error", "invalid_value")
            if mode == "429":
                return _error(
                    429, "Rate limit reached for requests", "requests", "rate_limit_exceeded", {"retry-after": "0"}
                )
            if mode == "slow":
                time.sleep(self.delay)
            if mode == "refusal":
                return self._completion(None, "stop", refusal="I'm sorry, I can't help with reviewing this image.")
            if mode == "filter":
                return self._completion("", "content_filter")
            if mode == "malformed":
                return self._completion("Here is my review: the take looks fine", "stop")
            return self._completion(json.dumps(self._review(body), ensure_ascii=False), "stop")

        return app

    def _review(self, body: dict[str, Any]) -> dict[str, Any]:
        parts = [p for m in body["messages"] if isinstance(m["content"], list) for p in m["content"]]
        texts = [p["text"] for p in parts if p["type"] == "text"]
        take: list[Any] = []
        label = ""
        for part in parts:
            if part["type"] == "text":
                label = part["text"]
            elif "Reference" not in label:  # the take's pictures, not a character's reference
                take.append(_decode(part["image_url"]["url"]))
        brightness, worn = look(take[0]) if take else (128.0, "grey")
        ids = [t.split()[1].rstrip(":") for t in "\n".join(texts).splitlines() if t.startswith("Character ")]
        dark = brightness < 20
        return {
            "prompt": 1 if dark else 8,
            "likeness": 7,
            "artifacts": 0 if dark else 9,
            "continuity": 8,
            "characters": [{"character": cid, "wardrobe": f"{worn} clothes", "holds": []} for cid in ids],
            "problems": ["the picture is black"] if dark else [],
        }

    def _completion(self, content: str | None, finish: str, refusal: str | None = None) -> JSONResponse:
        return JSONResponse(
            {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": MODEL,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": refusal},
                        "logprobs": None,
                        "finish_reason": finish,
                    }
                ],
                "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
            }
        )


def _invalid(body: dict[str, Any]) -> str:
    """Why the request breaks the protocol, or ''."""
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "you must provide a model parameter"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages must be a non-empty array"
    for i, m in enumerate(messages):
        if m.get("role") not in ("system", "user", "assistant", "developer"):
            return f"messages[{i}].role is invalid"
        content = m.get("content")
        if isinstance(content, list):
            for j, part in enumerate(content):
                if part.get("type") == "text" and isinstance(part.get("text"), str):
                    continue
                if part.get("type") == "image_url" and isinstance(part.get("image_url"), dict):
                    try:
                        _decode(part["image_url"].get("url", ""))
                    except Exception as exc:
                        return f"messages[{i}].content[{j}].image_url: {exc}"
                    if part["image_url"].get("detail", "auto") not in ("auto", "low", "high"):
                        return f"messages[{i}].content[{j}].image_url.detail is invalid"
                    continue
                return f"messages[{i}].content[{j}] is not a text or image_url part"
        elif not isinstance(content, str):
            return f"messages[{i}].content must be a string or an array of parts"
    fmt = body.get("response_format")
    if fmt is not None:
        if fmt.get("type") == "json_schema":
            spec = fmt.get("json_schema") or {}
            if not spec.get("name") or not isinstance(spec.get("schema"), dict):
                return "response_format.json_schema needs a name and a schema"
        elif fmt.get("type") not in ("json_object", "text"):
            return "response_format.type is invalid"
    return ""
