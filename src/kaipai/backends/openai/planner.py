"""``openai``: the planner on any OpenAI-compatible chat endpoint (OpenAI, DeepSeek, Qwen/DashScope, vLLM, Ollama…).

It writes a screenplay from an idea (outline first, then scene by scene), breaks each
scene into shots with separate keyframe and video prompts, and rewrites one shot from a
director's note. Every reply is validated; one that stays invalid is raised as
:class:`~kaipai.backends.openai.structured.InvalidReply` with its text, for the caller to keep
as a draft.

Configuration (``backends: {planner: {use: openai, model: …, options: {…}}}``), each option
falling back to the environment:

- ``base_url`` (``KAIPAI_OPENAI_BASE_URL``, default ``https://api.openai.com/v1``)
- model (``KAIPAI_OPENAI_MODEL``, default ``gpt-4o-mini``)
- the key from ``OPENAI_API_KEY``, or from the variable named by ``api_key_env``; never from the document
- ``structured_output``: ``json_schema`` (default), ``json_object`` or ``prompt``, the first mode tried
- ``timeout`` (120 s), ``max_retries`` (4), ``backoff`` (2 s), ``max_tokens`` (4096), ``temperature`` (0.7)
- ``prompt_language``: language of image and video prompts (``en``), ``max_scenes`` for writing (8)
"""

from __future__ import annotations

from typing import Any

from kaipai.backends.base import (
    Backend,
    Capability,
    CapabilitySheet,
    UnsupportedRequest,
)
from kaipai.backends.openai.endpoint import DEFAULT_BASE_URL, DEFAULT_MODEL, Endpoint
from kaipai.backends.openai.prompts import (
    DIRECTOR,
    WRITER,
    outline_request,
    plan_request,
    revise_request,
    scene_request,
)
from kaipai.backends.openai.replies import Outline, RevisedShot, SceneBody, ScenePlan
from kaipai.backends.openai.screenplay import (
    body_problems,
    outline_problems,
    render,
    roundtrip_problems,
)
from kaipai.backends.openai.shots import (
    apply_revision,
    plan_problems,
    revision_problems,
    scene_lines,
    shots_from_plan,
)
from kaipai.backends.openai.structured import InvalidReply, StructuredChat
from kaipai.document.models import Document
from kaipai.document.scenes import Scene
from kaipai.document.shots import Shot

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_MODEL", "OpenAIPlanner"]


class OpenAIPlanner(Backend):
    name = "openai"
    capabilities = frozenset({Capability.planner})
    version = "1"

    def __init__(self, model: str | None = None, **options: Any) -> None:
        self.endpoint = Endpoint("openai planner", model, options, own=("prompt_language", "max_scenes"))
        super().__init__(model=self.endpoint.model, **options)
        self.base_url = self.endpoint.base_url
        self.key_variable = self.endpoint.key_variable
        self.prompt_language = str(options.get("prompt_language", "en"))
        self.max_scenes = int(options.get("max_scenes", 8))
        self._chat: StructuredChat | None = None
        #: What the last revision changed, in the model's words, for the director.
        self.last_summary = ""

    # ------------------------------------------------------------------ plumbing

    def check(self) -> str:
        return self.endpoint.check()

    @property
    def chat(self) -> StructuredChat:
        if self._chat is None:
            self._chat = self.endpoint.chat()
        return self._chat

    def reachable(self) -> str:
        """The server answers and takes the key (it lists its models; free), and whether it lists ours."""
        names = self.chat.client.models()
        listed = "listed" if self.model in names else "not in the server's list" if names else "reachable"
        return f"{self.model} at {self.base_url}: reachable, key accepted, model {listed}"

    def describe(self, capability: Capability) -> CapabilitySheet:
        return CapabilitySheet(
            capability=Capability.planner,
            model=str(self.model),
            cost_unit="token",
            max_concurrency=2,
            typical_seconds=20.0,
        )

    def close(self) -> None:
        if self._chat is not None:
            self._chat.client.close()
            self._chat = None

    # ------------------------------------------------------------------ the planner protocol

    def write_screenplay(self, idea: str, language: str) -> str:
        """A screenplay in Fountain (en) or the Chinese convention (zh), outline first, then each scene."""
        if not idea.strip():
            raise UnsupportedRequest("the idea is empty; describe the film in a sentence or two")
        system = WRITER
        outline = self.chat.ask(
            "outline",
            system,
            outline_request(idea, language, self.max_scenes),
            Outline,
            lambda o: outline_problems(o, self.max_scenes),
        )
        bodies = [
            self.chat.ask(
                f"scene {i + 1}",
                system,
                scene_request(outline, i, language),
                SceneBody,
                lambda b: body_problems(b, outline),
            )
            for i in range(len(outline.scenes))
        ]
        text = render(outline, bodies, language)
        problems = roundtrip_problems(text, outline, bodies, language)
        if problems:
            raise InvalidReply("screenplay", problems, text, self.chat.client.where)
        return text

    def plan_scene(self, document: Document, scene: Scene) -> list[Shot]:
        lines = scene_lines(document, scene)
        plan = self.chat.ask(
            f"shot plan for scene {scene.id}",
            DIRECTOR,
            plan_request(document, scene, lines, self.prompt_language),
            ScenePlan,
            lambda p: plan_problems(p, document, lines),
        )
        return shots_from_plan(plan, scene, lines)

    def revise_shot(self, document: Document, shot: Shot, note: str) -> Shot:
        if not note.strip():
            raise UnsupportedRequest("the note is empty; say what the shot should change")
        revised = self.chat.ask(
            f"revision of shot {shot.id}",
            DIRECTOR,
            revise_request(document, shot, note, self.prompt_language),
            RevisedShot,
            lambda r: revision_problems(r, document),
        )
        self.last_summary = revised.summary.strip()
        return apply_revision(shot, revised, note)
