"""The judges: an OpenAI-compatible vision model against a protocol double (structured reply, malformed
reply, refusal, content filter, timeout, 429; the official SDK drives the same double), and the CLIP
judge on tiny random weights built here."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from kaipai.backends.base import JobContext, JudgeRequest, NotConfigured, RefusedError, TransientError
from kaipai.backends.openai.judge import JudgeReply, OpenAIJudge
from kaipai.backends.openai.structured import InvalidReply, strict_schema
from kaipai.document.cast import Character
from kaipai.document.qc import DEFAULT, Continuity
from kaipai.document.shots import Placement, Shot
from kaipai.qc.inspect import Subject, inspect
from tests.backends.doubles.server import serve
from tests.backends.doubles.vision_double import KEY, MODEL, VisionDouble

SHOT = Shot(id="S1", scene="A", size="CU", composition=[Placement(character="maya")])
MAYA = Character(id="maya", name="Maya", description="30s, raincoat")


@pytest.fixture
def double(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[VisionDouble, str]]:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    d = VisionDouble()
    with serve(d.app()) as url:
        yield d, f"{url}/v1"


def _picture(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (320, 180)) -> Path:
    Image.new("RGB", size, colour).save(path)
    return path


def _request(tmp: Path, colour: tuple[int, int, int] = (200, 40, 40)) -> JudgeRequest:
    return JudgeRequest(
        images=[_picture(tmp / "take.png", colour)],
        prompt="close-up of Maya in the rain",
        references={"maya": _picture(tmp / "sheet.png", (90, 90, 90))},
        characters=[MAYA],
        continuity=[Continuity(character="maya", wardrobe="red raincoat", holds=["envelope"])],
        shot=SHOT,
    )


def _judge(url: str, **options: Any) -> OpenAIJudge:
    return OpenAIJudge(model=MODEL, base_url=url, timeout=5, backoff=0.01, **options)


def test_a_structured_reply_becomes_a_verdict(double, tmp_path: Path) -> None:
    d, url = double
    result = _judge(url).judge(_request(tmp_path), JobContext(out_dir=tmp_path))
    verdict = result.metadata["verdict"]
    assert verdict["scores"] == {"prompt": 0.8, "likeness": 0.7, "artifacts": 0.9, "continuity": 0.8}
    assert verdict["observed"]["maya"]["wardrobe"] == "red clothes"
    assert json.loads(result.files[0].read_text())["scores"]["artifacts"] == 0.9
    (sent,) = d.requests
    assert sent["model"] == MODEL and sent["temperature"] == 0.0
    assert sent["response_format"]["type"] == "json_schema" and sent["response_format"]["json_schema"]["strict"]
    parts = sent["messages"][1]["content"]
    images = [p for p in parts if p["type"] == "image_url"]
    assert len(images) == 2 and all(p["image_url"]["detail"] == "low" for p in images)
    assert images[0]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    labels = [p["text"] for p in parts if p["type"] == "text"]
    assert "Reference picture of character maya:" in labels
    assert "Continuity for maya: wears red raincoat; holds envelope." in labels[0]


def test_a_black_take_is_scored_down_with_the_judges_reason(double, tmp_path: Path) -> None:
    _, url = double
    verdict = _judge(url).judge(_request(tmp_path, (0, 0, 0)), JobContext(out_dir=tmp_path)).metadata["verdict"]
    assert verdict["scores"]["artifacts"] == 0.0 and verdict["reasons"] == ["the picture is black"]


def test_a_malformed_reply_gets_one_repair_round(double, tmp_path: Path) -> None:
    d, url = double
    d.script = ["malformed"]
    verdict = _judge(url).judge(_request(tmp_path), JobContext(out_dir=tmp_path)).metadata["verdict"]
    assert verdict["scores"]["prompt"] == 0.8 and len(d.requests) == 2
    repair = d.requests[1]["messages"][-1]["content"]
    assert "not valid JSON" in repair


def test_a_reply_malformed_twice_is_raised(double, tmp_path: Path) -> None:
    d, url = double
    d.script = ["malformed", "malformed"]
    with pytest.raises(InvalidReply, match="take review"):
        _judge(url).judge(_request(tmp_path), JobContext(out_dir=tmp_path))


@pytest.mark.parametrize("mode", ["refusal", "filter"])
def test_a_refusal_or_a_content_filter_is_a_refusal(double, tmp_path: Path, mode: str) -> None:
    d, url = double
    d.script = [mode]
    with pytest.raises(RefusedError):
        _judge(url).judge(_request(tmp_path), JobContext(out_dir=tmp_path))
    assert len(d.requests) == 1  # a refusal is never asked again


def test_a_judge_that_times_out_is_a_transient_error_after_its_retries(double, tmp_path: Path) -> None:
    d, url = double
    d.script, d.delay = ["slow", "slow"], 1.5
    judge = OpenAIJudge(model=MODEL, base_url=url, timeout=0.5, max_retries=1, backoff=0.01)
    with pytest.raises(TransientError, match=r"no reply from .* within 0\.5 s"):
        judge.judge(_request(tmp_path), JobContext(out_dir=tmp_path))


def test_a_429_is_waited_out(double, tmp_path: Path) -> None:
    d, url = double
    d.script = ["429"]
    verdict = _judge(url).judge(_request(tmp_path), JobContext(out_dir=tmp_path)).metadata["verdict"]
    assert verdict["scores"]["prompt"] == 0.8 and len(d.requests) == 2


def test_a_judge_that_cannot_answer_leaves_the_take_unjudged_not_failed(double, tmp_path: Path) -> None:
    d, url = double
    d.script = ["refusal"]
    judge = _judge(url)

    def ask(request: JudgeRequest) -> Any:
        result = judge.judge(request, JobContext(out_dir=tmp_path))
        raise AssertionError(f"expected a refusal, got {result}")

    take = _picture(tmp_path / "still.png", (120, 120, 120))
    report = inspect(Subject(stage="keyframe", media=take, prompt="a pier"), DEFAULT, ask)
    check = report.check("judge")
    assert report.passed and check is not None and not check.hard and check.reason.startswith("not judged:")


def test_the_official_sdk_reads_the_double(double, tmp_path: Path) -> None:
    openai = pytest.importorskip("openai")
    d, url = double
    client = openai.OpenAI(base_url=url, api_key=KEY, max_retries=0)
    data = base64.b64encode(_picture(tmp_path / "p.png", (30, 60, 200)).read_bytes()).decode()
    messages = [
        {"role": "system", "content": "Review the take."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Character maya: Maya."},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}", "detail": "low"}},
            ],
        },
    ]
    schema = {"name": "take_review", "strict": True, "schema": strict_schema(JudgeReply)}
    reply = client.chat.completions.create(
        model=MODEL, messages=messages, response_format={"type": "json_schema", "json_schema": schema}
    )
    review = JudgeReply.model_validate_json(reply.choices[0].message.content or "")
    assert review.characters[0].character == "maya" and review.characters[0].wardrobe == "blue clothes"
    d.script = ["refusal"]
    refused = client.chat.completions.create(model=MODEL, messages=messages)
    assert refused.choices[0].message.refusal and refused.choices[0].message.content is None
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=url, api_key="wrong", max_retries=0).chat.completions.create(
            model=MODEL, messages=messages
        )
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]
        )


def test_the_key_never_reaches_a_message(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(NotConfigured, match="OPENAI_API_KEY"):
        OpenAIJudge(model=MODEL, base_url="https://judge.example.com/v1").check()
    with pytest.raises(NotConfigured, match=r"keep API keys out of kaipai\.yaml"):
        OpenAIJudge(api_key="sk-secret")


# --------------------------------------------------------------------------- CLIP


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tests.support.tiny_diffusers import build_tiny_clip

    return build_tiny_clip(tmp_path_factory.mktemp("clip"))


def test_the_clip_judge_scores_likeness_prompt_and_continuity_on_tiny_weights(tiny_clip: Path, tmp_path: Path) -> None:
    from kaipai.backends.clip import ClipJudge

    judge = ClipJudge(model=str(tiny_clip), image_range=[0.99, 0.999])
    assert str(tiny_clip) in judge.check()
    take = _picture(tmp_path / "take.png", (200, 40, 40))
    stranger = _picture(tmp_path / "stranger.png", (20, 200, 220))
    base = {
        "images": [take],
        "prompt": "a woman in the rain",
        "shot": None,
        "continuity": [Continuity(character="maya", wardrobe="red coat")],
    }
    same = judge.judge(JudgeRequest(**base, references={"maya": take}), JobContext(out_dir=tmp_path)).metadata[
        "verdict"
    ]
    other = judge.judge(JudgeRequest(**base, references={"maya": stranger}), JobContext(out_dir=tmp_path)).metadata[
        "verdict"
    ]
    assert same["scores"]["likeness"] == 1.0 and same["measures"]["likeness:maya"] == pytest.approx(1.0, abs=1e-4)
    assert other["measures"]["likeness:maya"] < same["measures"]["likeness:maya"]
    assert other["scores"]["likeness"] < 1.0 and any("unlike their reference" in r for r in other["reasons"])
    assert set(same["scores"]) == {"prompt", "likeness", "continuity"}  # embeddings cannot see artifacts
    assert all(0.0 <= v <= 1.0 for v in same["scores"].values())
    again = judge.judge(JudgeRequest(**base, references={"maya": take}), JobContext(out_dir=tmp_path))
    assert again.metadata["verdict"] == same  # the same take is scored the same


def test_the_clip_judge_says_how_to_get_weights_it_does_not_have(monkeypatch) -> None:
    from kaipai.backends.clip import ClipJudge

    monkeypatch.setenv("HF_HUB_CACHE", "/nonexistent/kaipai-hf-cache")
    with pytest.raises(NotConfigured, match="not on this machine"):
        ClipJudge(model="someone/no-such-clip").check()
