"""The openai planner against a local protocol double of the OpenAI chat-completions API.

``ChatCompletionsDouble`` is a threaded HTTP server speaking ``POST /v1/chat/completions``
as documented (choices[].message.content, finish_reason, error objects, Retry-After), with
a small deterministic "model" behind it and scripted failures in front of it.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from kaipai.backends.base import NotConfigured, TransientError
from kaipai.backends.openai.planner import OpenAIPlanner
from kaipai.backends.openai.structured import InvalidReply, parse_json
from kaipai.cli import app
from kaipai.document.backend_choice import BackendChoice
from kaipai.document.io import load, update
from kaipai.document.models import Document
from kaipai.planning.importer import document_from_screenplay
from kaipai.planning.rules import plan_scene as rules_plan_scene
from kaipai.project import ProjectPaths
from kaipai.screenplay import parse_file, parse_text
from kaipai.screenplay.examples import example_path
from kaipai.service.document import new_project

KEY = "sk-test-secret-123"


# --------------------------------------------------------------------------- the protocol double


def _model_reply(messages: list[dict[str, str]]) -> dict[str, Any]:
    """What a cooperative model answers to each kaipai task."""
    task = messages[1]["content"]
    if "Write the outline" in task:
        zh = "Simplified Chinese" in task
        names = ("林夏", "老周") if zh else ("Maya", "Eli")
        return {
            "title": "末班车" if zh else "The Last Light",
            "logline": "一封信" if zh else "A letter reaches its keeper.",
            "characters": [{"name": n, "description": "30s, raincoat"} for n in names],
            "scenes": [
                {
                    "int_ext": "EXT",
                    "location": "公交站台" if zh else "Harbour Pier",
                    "time_of_day": "night",
                    "synopsis": "They meet.",
                    "characters": list(names),
                },
                {
                    "int_ext": "INT",
                    "location": "车厢" if zh else "Lighthouse",
                    "time_of_day": "dawn",
                    "synopsis": "The letter.",
                    "characters": list(names),
                },
            ],
        }
    if re.search(r"Write scene \d+ in full", task):
        zh = "Simplified Chinese" in task
        a, b = ("林夏", "老周") if zh else ("Maya", "Eli")
        return {
            "beats": [
                {
                    "type": "action",
                    "character": "",
                    "parenthetical": "",
                    "text": "雨夜，站台空无一人。" if zh else "Rain on the planks.",
                },
                {
                    "type": "dialogue",
                    "character": a,
                    "parenthetical": "低声" if zh else "whispering",
                    "text": "你还在这里。" if zh else "You are still here.",
                },
                {"type": "dialogue", "character": b, "parenthetical": "", "text": "一直都在。" if zh else "Always."},
                {"type": "caption", "character": "", "parenthetical": "", "text": "第二天" if zh else "The next day"},
            ]
        }
    if "Break this scene into shots" in task:
        n = int(re.search(r"The scene has (\d+) dialogue lines", task).group(1))
        cast = re.findall(r"^- id ([\w\-]+):", task.split("Locations:")[0], flags=re.M)
        who = cast[0] if cast else None
        shot = lambda lines, size: {  # noqa: E731
            "kind": "establishing" if not lines else "single",
            "size": size,
            "angle": "eye",
            "move": "push_in" if not lines else "static",
            "lens": "35mm",
            "composition": [{"character": who, "third": "left", "depth": "midground", "facing": "right"}]
            if who
            else [],
            "description": "The pier at night.",
            "action": "Rain falls; she walks to the lantern.",
            "lighting": "cool moonlight",
            "image_prompt": "wide shot of a wooden pier at night, lantern glow, rain, cinematic still",
            "video_prompt": "slow push in as she walks toward the lantern, rain falling",
            "sfx": ["rain"],
            "music": "",
            "caption": "",
            "transition": "cut",
            "duration": 4.0,
            "lines": lines,
        }
        return {"shots": [shot([], "WS")] + [shot([i], "MCU") for i in range(1, n + 1)]}
    if "The director's note:" in task:
        current = json.loads(re.search(r"now:\n(\{.*?\n\})\n", task, flags=re.S).group(1))
        current.update(
            size="CU",
            move="push_in",
            image_prompt="close-up of her eyes, lantern light",
            video_prompt="very slow push in on her eyes",
            summary="Tighter: a close-up with a slow push in.",
        )
        current.setdefault("caption", "")
        return current
    raise AssertionError(f"unexpected task: {task[:200]}")


class ChatCompletionsDouble:
    """A local server speaking the OpenAI chat-completions protocol, with scripted failures.

    It follows the API reference's ``POST /v1/chat/completions`` and ``GET /v1/models``
    (platform.openai.com/docs/api-reference/chat and /models): a list object of model objects.

    ``script`` holds actions consumed one per request before the model answers:
    ``("status", code, headers)``, ``("sleep", seconds)``, ``("content", text)``,
    ``("transform", fn)`` (edit the model's JSON). ``rejects`` lists response_format types
    answered with 400, like a server without structured output.
    """

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.script: list[tuple[Any, ...]] = []
        self.rejects: set[str] = set()
        self.always: tuple[Any, ...] | None = None
        self.models = ["double-1", "double-2"]
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                """``GET /v1/models``: the models the server serves (a list object), behind the key."""
                if self.path != "/v1/models":
                    return self._send(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
                if self.headers.get("Authorization") != f"Bearer {KEY}":
                    return self._send(
                        401,
                        {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}},
                    )
                created = int(time.time())
                models = [{"id": m, "object": "model", "created": created, "owned_by": "double"} for m in double.models]
                self._send(200, {"object": "list", "data": models})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                double.requests.append(body)
                double.headers.append(dict(self.headers))
                if self.path != "/v1/chat/completions":
                    return self._send(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
                if self.headers.get("Authorization") != f"Bearer {KEY}":
                    return self._send(
                        401,
                        {
                            "error": {
                                "message": "Incorrect API key provided",
                                "type": "invalid_request_error",
                                "code": "invalid_api_key",
                            }
                        },
                    )
                fmt = (body.get("response_format") or {}).get("type")
                if fmt in double.rejects:
                    return self._send(
                        400,
                        {
                            "error": {
                                "message": f"response_format type {fmt} is not supported by this model",
                                "type": "invalid_request_error",
                                "param": "response_format",
                            }
                        },
                    )
                action = double.script.pop(0) if double.script else double.always
                content: str | None = None
                if action is not None:
                    if action[0] == "status":
                        return self._send(
                            action[1],
                            {"error": {"message": "overloaded", "type": "server_error"}},
                            action[2] if len(action) > 2 else {},
                        )
                    if action[0] == "sleep":
                        time.sleep(action[1])
                    if action[0] == "content":
                        content = action[1]
                    if action[0] == "transform":
                        content = json.dumps(action[1](_model_reply(body["messages"])), ensure_ascii=False)
                if content is None:
                    content = json.dumps(_model_reply(body["messages"]), ensure_ascii=False)
                self._send(
                    200,
                    {
                        "id": "chatcmpl-1",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body["model"],
                        "choices": [
                            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
                        ],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
                    },
                )

            def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def formats(self) -> list[str | None]:
        return [(r.get("response_format") or {}).get("type") for r in self.requests]


@pytest.fixture
def double(monkeypatch: pytest.MonkeyPatch) -> Iterator[ChatCompletionsDouble]:
    d = ChatCompletionsDouble()
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("KAIPAI_OPENAI_BASE_URL", d.base_url)
    monkeypatch.setenv("KAIPAI_OPENAI_MODEL", "double-1")
    yield d
    d.server.shutdown()
    d.server.server_close()


def planner(double: ChatCompletionsDouble, **options: Any) -> tuple[OpenAIPlanner, list[float]]:
    p = OpenAIPlanner(base_url=double.base_url, backoff=0.01, **options)
    waits: list[float] = []
    p.chat.client.sleep = waits.append
    return p, waits


def example_doc(lang: str = "en") -> Document:
    return document_from_screenplay(parse_file(example_path(lang)))


# --------------------------------------------------------------------------- structured replies


def test_a_valid_structured_reply_becomes_shots_with_every_line_once(double: ChatCompletionsDouble) -> None:
    doc = example_doc()
    scene = doc.scenes[0]
    p, _ = planner(double)
    shots = p.plan_scene(doc, scene)
    rules_lines = [d.id for s in rules_plan_scene(doc, scene) for d in s.dialogue]
    assert [d.id for s in shots for d in s.dialogue] == rules_lines and rules_lines
    assert [s.id for s in shots][:2] == ["S01-001", "S01-002"]
    assert all(s.image_prompt and s.video_prompt and s.image_prompt != s.video_prompt for s in shots)
    assert shots[0].move.value == "push_in" and shots[1].size.value == "MCU"
    fmt = double.requests[0]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    schema = fmt["json_schema"]["schema"]
    assert schema["additionalProperties"] is False and schema["required"] == ["shots"]
    assert double.headers[0]["Authorization"] == f"Bearer {KEY}" and double.requests[0]["model"] == "double-1"
    assert "[line 1]" in double.requests[0]["messages"][1]["content"]


def test_a_model_without_json_schema_falls_back_to_json_mode_and_then_to_the_prompt(
    double: ChatCompletionsDouble,
) -> None:
    doc = example_doc()
    double.rejects = {"json_schema"}
    p, _ = planner(double)
    p.plan_scene(doc, doc.scenes[0])
    p.plan_scene(doc, doc.scenes[1])
    assert double.formats() == ["json_schema", "json_object", "json_object"]  # the working mode is remembered
    assert "JSON Schema" in double.requests[1]["messages"][0]["content"]

    double.requests.clear()
    double.rejects = {"json_schema", "json_object"}
    p2, _ = planner(double)
    shots = p2.plan_scene(doc, doc.scenes[0])
    assert double.formats() == ["json_schema", "json_object", None] and shots


def test_malformed_json_gets_one_repair_round_quoting_the_problem(double: ChatCompletionsDouble) -> None:
    doc = example_doc()
    double.script = [("content", 'Sure! Here is the plan: {"shots": [ {"kind": ')]
    p, _ = planner(double)
    shots = p.plan_scene(doc, doc.scenes[0])
    assert shots and len(double.requests) == 2
    repair = double.requests[1]["messages"]
    assert repair[2]["role"] == "assistant" and repair[2]["content"].startswith("Sure!")
    assert "not valid JSON" in repair[3]["content"]


def test_a_fenced_reply_with_reasoning_is_read(double: ChatCompletionsDouble) -> None:
    doc = example_doc()
    reply = json.dumps(
        _model_reply([{}, {"content": "Break this scene into shots. The scene has 3 dialogue lines\n- id maya: Maya"}])
    )
    double.script = [("content", f"<think>let me plan</think>\n```json\n{reply}\n```")]
    p, _ = planner(double)
    assert len(p.plan_scene(doc, doc.scenes[0])) == 4 and len(double.requests) == 1


def _drop_last_line(reply: dict[str, Any]) -> dict[str, Any]:
    reply["shots"] = reply["shots"][:-1]
    reply["shots"][0]["composition"][0]["character"] = "ghost"
    return reply


def test_a_reply_failing_validation_twice_is_raised_with_its_violations(double: ChatCompletionsDouble) -> None:
    doc = example_doc()
    double.always = ("transform", _drop_last_line)
    p, _ = planner(double)
    with pytest.raises(InvalidReply) as caught:
        p.plan_scene(doc, doc.scenes[0])
    err = caught.value
    assert len(double.requests) == 2  # the first reply and one repair round
    assert any("'ghost' is not a cast id" in v for v in err.violations)
    assert any("in no shot" in v for v in err.violations)
    assert '"ghost"' in err.draft
    assert "in no shot" in double.requests[1]["messages"][3]["content"]


def test_plan_keeps_an_invalid_reply_as_a_draft_and_fails_without_touching_the_document(
    double: ChatCompletionsDouble, tmp_path: Path
) -> None:
    paths = new_project(tmp_path / "film", script=example_path("en"))
    update(
        paths.document,
        lambda d: setattr(d, "backends", {"planner": BackendChoice(use="openai", options={"backoff": 0.01})}),
    )
    before = paths.document.read_text()
    double.always = ("transform", _drop_last_line)
    result = CliRunner().invoke(app, ["plan", "--project", str(paths.root)])
    assert result.exit_code == 1, result.output
    drafts = list((paths.state / "drafts").glob("*.md"))
    assert len(drafts) == 1
    text = drafts[0].read_text()
    assert "'ghost' is not a cast id" in text and '"ghost"' in text
    assert str(drafts[0].name) in result.output.replace("\n", "") and "violations" in result.output
    assert paths.document.read_text() == before


def test_plan_with_the_openai_planner_writes_the_shot_script(double: ChatCompletionsDouble, tmp_path: Path) -> None:
    paths = new_project(tmp_path / "film", script=example_path("zh"))
    update(paths.document, lambda d: setattr(d, "backends", {"planner": BackendChoice(use="openai")}))
    result = CliRunner().invoke(app, ["plan", "--project", str(paths.root)])
    assert result.exit_code == 0, result.output
    doc = load(paths.document).doc
    scenes = len(doc.scenes)
    assert len(double.requests) == scenes  # one request per scene, so no reply has to hold the film
    lines = [d.text for s in doc.ordered_shots() for d in s.dialogue]
    assert len(lines) == parse_file(example_path("zh")).dialogue_count()
    assert all(
        s.image_prompt.startswith("wide shot of a wooden pier") and s.video_prompt.startswith("slow push in")
        for s in doc.shots
    )


# --------------------------------------------------------------------------- transport failures


def test_a_timeout_is_retried(double: ChatCompletionsDouble) -> None:
    doc = example_doc()
    double.script = [("sleep", 1.0)]
    p, waits = planner(double, timeout=0.3)
    t0 = time.monotonic()
    assert p.plan_scene(doc, doc.scenes[0])
    assert len(double.requests) == 2 and len(waits) == 1 and time.monotonic() - t0 < 3


def test_429_waits_for_retry_after_and_5xx_backs_off(double: ChatCompletionsDouble) -> None:
    doc = example_doc()
    double.script = [("status", 429, {"Retry-After": "7"}), ("status", 503), ("status", 502)]
    p, waits = planner(double)
    assert p.plan_scene(doc, doc.scenes[0])
    assert len(double.requests) == 4
    assert waits[0] == 7.0 and 0.01 < waits[1] <= 0.02 < waits[2] <= 0.04  # Retry-After, then doubling


def test_persistent_5xx_ends_in_a_clear_transient_error_without_the_key(double: ChatCompletionsDouble) -> None:
    doc = example_doc()
    double.always = ("status", 500)
    p, waits = planner(double, max_retries=2)
    with pytest.raises(TransientError) as caught:
        p.plan_scene(doc, doc.scenes[0])
    assert len(double.requests) == 3 and len(waits) == 2
    assert "3 attempts" in str(caught.value) and "500" in str(caught.value) and KEY not in str(caught.value)


def test_a_wrong_key_names_the_variable_and_never_the_key(
    double: ChatCompletionsDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-456")
    doc = example_doc()
    p, _ = planner(double)
    with pytest.raises(NotConfigured) as caught:
        p.plan_scene(doc, doc.scenes[0])
    assert "OPENAI_API_KEY" in str(caught.value) and "sk-wrong" not in str(caught.value) and len(double.requests) == 1


def test_a_remote_endpoint_without_a_key_is_not_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(NotConfigured, match="OPENAI_API_KEY"):
        OpenAIPlanner(base_url="https://api.deepseek.com/v1").check()
    with pytest.raises(NotConfigured, match="DEEPSEEK_API_KEY"):
        OpenAIPlanner(base_url="https://api.deepseek.com/v1", api_key_env="DEEPSEEK_API_KEY").check()
    with pytest.raises(NotConfigured, match="keep API keys out"):
        OpenAIPlanner(api_key="sk-in-the-yaml")


# --------------------------------------------------------------------------- writing and revising


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_write_turns_an_idea_into_a_screenplay_that_imports(
    double: ChatCompletionsDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / ("film.txt" if lang == "zh" else "film.fountain")
    result = CliRunner().invoke(
        app,
        [
            "write",
            "末班车司机的最后一天" if lang == "zh" else "A keeper's last night",  # the idea, as the README types it
            "--lang",
            lang,
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert len(double.requests) == 3  # the outline, then one request per scene
    sp = parse_text(out.read_text(), format="zh" if lang == "zh" else "fountain")
    assert len(sp.scenes) == 2 and sp.dialogue_count() == 4
    assert set(sp.characters()) == ({"林夏", "老周"} if lang == "zh" else {"MAYA", "ELI"})
    assert sp.scenes[0].time_of_day == "night" and sp.scenes[1].int_ext == "INT"
    paths = new_project(tmp_path / "film", script=out)
    doc = load(paths.document).doc
    assert len(doc.scenes) == 2 and len(doc.cast.characters) == 2
    again = CliRunner().invoke(app, ["write", "--idea", "x", "--lang", lang, "--out", str(out)])
    assert again.exit_code == 1 and "already exists" in again.output


def test_write_keeps_an_invalid_outline_as_a_draft(
    double: ChatCompletionsDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    double.always = ("transform", lambda r: {**r, "scenes": []})
    result = CliRunner().invoke(app, ["write", "--idea", "A keeper's last night", "--out", "film.fountain"])
    assert result.exit_code == 1
    assert not (tmp_path / "film.fountain").exists()
    drafts = list((tmp_path / ".kaipai" / "drafts").glob("*outline.md"))
    assert drafts and "write at least one scene" in drafts[0].read_text()


def test_backends_check_asks_the_server_for_its_models_without_spending(
    double: ChatCompletionsDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KAIPAI_CONFIG", str(tmp_path / "no-config.toml"))
    listed = {b["name"]: b for b in json.loads(CliRunner().invoke(app, ["backends", "--json"]).output)}
    assert listed["openai"]["state"] == "not checked"  # a key is set, but nobody asked the server yet
    done = CliRunner().invoke(app, ["backends", "check", "openai", "--json"])
    assert done.exit_code == 0, done.output
    assert "double-1 at" in done.output and "reachable, key accepted, model listed" in done.output
    assert double.requests == []  # listing models is free: no completion was asked for
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    done = CliRunner().invoke(app, ["backends", "check", "openai"])
    assert done.exit_code == 1 and "refused the API key" in done.output and "sk-wrong" not in done.output


def _project_with_openai(tmp_path: Path) -> ProjectPaths:
    paths = new_project(tmp_path / "film", script=example_path("en"))
    CliRunner().invoke(app, ["plan", "--project", str(paths.root)])
    update(paths.document, lambda d: setattr(d, "backends", {"planner": BackendChoice(use="openai")}))
    return paths


def test_a_directors_note_rewrites_the_shot_and_keeps_its_dialogue(
    double: ChatCompletionsDouble, tmp_path: Path
) -> None:
    from kaipai.service.revise import revise_shot

    paths = _project_with_openai(tmp_path)
    before = next(s for s in load(paths.document).doc.shots if s.dialogue)
    result = revise_shot(paths, before.id, "tighter on her eyes")
    after = load(paths.document).doc.shot(before.id)
    assert after is not None and after.size.value == "CU" and after.move.value == "push_in"
    assert after.dialogue == before.dialogue and after.order == before.order
    assert "tighter on her eyes" in after.notes and "size" in result.changed and result.summary.startswith("Tighter")
    assert "tighter on her eyes" in double.requests[0]["messages"][1]["content"]


def test_a_note_without_a_language_model_says_how_to_set_one(tmp_path: Path) -> None:
    from kaipai.service.revise import revise_shot

    paths = new_project(tmp_path / "film", script=example_path("en"))
    CliRunner().invoke(app, ["plan", "--project", str(paths.root)])
    shot = load(paths.document).doc.shots[0]
    with pytest.raises(NotConfigured, match="language-model planner"):
        revise_shot(paths, shot.id, "warmer light")


# --------------------------------------------------------------------------- the reply parser


_text = st.text(alphabet=st.characters(blacklist_characters="`<>", blacklist_categories=("Cs",)), max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | _text,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(_text, c, max_size=3),
    max_leaves=10,
)
WRAPS = ["{}", "```json\n{}\n```", "<think>plan {{ first</think>\n{}", "Here it is:\n{}\nHope this helps."]


@given(obj=st.dictionaries(_text, json_values, max_size=4), wrap=st.sampled_from(WRAPS))
def test_parse_json_recovers_the_object_however_it_is_wrapped(obj: dict[str, Any], wrap: str) -> None:
    head, _, tail = wrap.partition("{}")
    assert parse_json(head.replace("{{", "{") + json.dumps(obj, ensure_ascii=False) + tail) == obj


@given(st.text(max_size=60))
def test_parse_json_never_fails_other_than_with_a_clear_message(text: str) -> None:
    try:
        parse_json(text)
    except ValueError as exc:
        message = str(exc)
    else:
        return  # it parsed
    assert "not valid JSON" in message
