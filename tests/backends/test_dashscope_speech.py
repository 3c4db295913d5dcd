"""CosyVoice through the dashscope backend: WebSocket by default, HTTP in Beijing, default voices, cloning, regions."""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kaipai.backends.base import (
    BackendError,
    Capability,
    NotConfigured,
    RefusedError,
    SpeechRequest,
    TransientError,
)
from kaipai.backends.dashscope import DashScopeBackend
from kaipai.backends.dashscope.voices import default_voice, kind_of
from kaipai.document.cast import Character, Voice
from tests.backends.doubles.dashscope_double import KEY, DashScopeDouble
from tests.backends.doubles.jobs import job_context
from tests.backends.doubles.server import wav_bytes
from tests.backends.task_checks import serving

FAST = {"poll_interval": 0.01, "poll_max_interval": 0.02, "deadline": 5, "timeout": 2}
LIN = Character(id="林夏", name="林夏", description="女，26岁，刚下夜班的护士")
ZHOU = Character(id="老周", name="老周", description="男，60岁，末班车司机")


@pytest.fixture
def double(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[DashScopeDouble]:
    yield from serving(
        DashScopeDouble(), monkeypatch, tmp_path, {"DASHSCOPE_API_KEY": KEY}, ("DASHSCOPE_REGION", "DASHSCOPE_BASE_URL")
    )


def backend(double: DashScopeDouble, **options: Any) -> DashScopeBackend:
    return DashScopeBackend(**{"base_url": double.base_url, **FAST, **options})


def line(
    character: Character | None, text: str = "爸，你还没睡？", cast: list[Character] | None = None
) -> SpeechRequest:
    return SpeechRequest(
        text=text, character=character, speaker=character.id if character else "narrator", cast=cast or [LIN, ZHOU]
    )


def test_the_default_model_speaks_over_the_websocket_as_the_sdk_does(double: DashScopeDouble, tmp_path: Path) -> None:
    result = backend(double).synthesize(line(LIN), job_context(tmp_path)[0])
    ((run, cont, finish),) = double.speech_sessions
    assert [f["header"]["action"] for f in (run, cont, finish)] == ["run-task", "continue-task", "finish-task"]
    assert run["header"]["task_id"] == cont["header"]["task_id"] and run["header"]["streaming"] == "duplex"
    payload = run["payload"]
    assert (payload["model"], payload["task_group"], payload["task"], payload["function"]) == (
        "cosyvoice-v3-flash",
        "audio",
        "tts",
        "SpeechSynthesizer",
    )
    assert payload["parameters"]["format"] == "pcm" and payload["parameters"]["sample_rate"] == 24000
    assert cont["payload"]["input"]["text"] == "爸，你还没睡？"
    with wave.open(str(result.files[0])) as fh:
        assert (fh.getframerate(), fh.getnchannels(), fh.getsampwidth()) == (24000, 1, 2)
    assert result.duration == pytest.approx(7 * 0.18, abs=0.01)
    assert result.cost_units == 12 and result.cost == pytest.approx(12 * 0.0001)  # 5 Chinese characters count twice
    assert result.metadata["protocol"] == "websocket" and result.model == "cosyvoice-v3-flash"
    assert double.requests == []  # no HTTP speech


def test_characters_get_their_own_default_voices_that_suit_them(double: DashScopeDouble, tmp_path: Path) -> None:
    first = backend(double).synthesize(line(LIN), job_context(tmp_path)[0]).metadata["voice"]
    second = backend(double).synthesize(line(ZHOU), job_context(tmp_path)[0]).metadata["voice"]
    again = backend(double).synthesize(line(LIN, "走吧"), job_context(tmp_path)[0]).metadata["voice"]
    assert first != second and first == again
    assert (kind_of(LIN), kind_of(ZHOU)) == ("female", "older_male")
    assert first in ("longanhuan", "longanya_v3", "longanqin_v3", "longfeifei_v3", "longwanjun_v3", "longyumi_v3")
    assert second in ("longsanshu_v3", "longtian_v3", "longfei_v3")
    sisters = [Character(id=f"sister{i}", name=f"妹妹{i}", description="女，二十岁") for i in range(4)]
    voices = {default_voice("cosyvoice-v3-flash", c, sisters) for c in sisters}
    assert len(voices) == 4  # four women, four voices
    assert default_voice("cosyvoice-v2", LIN, [LIN, ZHOU]).endswith("_v2")
    child = Character(id="kid", name="小宝", description="a seven-year-old boy")
    assert kind_of(child) == "boy" and default_voice("cosyvoice-v3-flash", child, [child]) == "longniuniu_v3"


def test_a_named_voice_or_the_projects_choice_wins(double: DashScopeDouble, tmp_path: Path) -> None:
    own = LIN.model_copy(update={"voice": Voice(voice="longanwen_v3")})
    assert backend(double).synthesize(line(own), job_context(tmp_path)[0]).metadata["voice"] == "longanwen_v3"
    chosen = backend(double, voices={"林夏": "longyumi_v3"}).synthesize(line(own), job_context(tmp_path)[0])
    assert chosen.metadata["voice"] == "longyumi_v3"


def test_http_speech_in_beijing_and_not_elsewhere(double: DashScopeDouble, tmp_path: Path) -> None:
    result = backend(double, speech_protocol="http").synthesize(line(LIN), job_context(tmp_path)[0])
    ((path, body, _),) = double.requests
    assert path == "tts-http" and body["model"] == "cosyvoice-v3-flash" and body["input"]["format"] == "wav"
    assert result.metadata["protocol"] == "http" and result.cost_units == 12 and double.speech_sessions == []
    with pytest.raises(NotConfigured, match="Beijing only"):
        backend(double, speech_protocol="http", region="singapore").synthesize(line(LIN), job_context(tmp_path)[0])


@pytest.mark.parametrize(
    ("fault", "error", "says"),
    [
        ("fail", TransientError, "InternalError"),
        ("throttle", TransientError, "Throttling.RateQuota"),
        ("drop", TransientError, "broke off"),
        ("silent", TransientError, "no task-started"),
    ],
)
def test_speech_socket_trouble_is_retried(
    double: DashScopeDouble, tmp_path: Path, fault: str, error: type[BackendError], says: str
) -> None:
    double.ws_faults = [fault]
    with pytest.raises(error, match=says):
        backend(double, timeout=0.5).synthesize(line(LIN), job_context(tmp_path)[0])
    assert backend(double).synthesize(line(LIN), job_context(tmp_path)[0]).files  # the retry speaks


def test_speech_refusals_and_wrong_voices_and_keys_are_clear(
    double: DashScopeDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(RefusedError, match="DataInspectionFailed"):
        backend(double).synthesize(line(LIN, "FORBIDDEN"), job_context(tmp_path)[0])
    wrong = LIN.model_copy(update={"voice": Voice(voice="longxiaochun_v2")})
    with pytest.raises(BackendError, match=r"418.*belongs to one model") as info:
        backend(double).synthesize(line(wrong), job_context(tmp_path)[0])
    assert not info.value.transient
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-wrong")
    with pytest.raises(NotConfigured, match="API key") as refused:
        backend(double).synthesize(line(LIN), job_context(tmp_path)[0])
    assert "sk-wrong" not in str(refused.value)
    with pytest.raises(TransientError, match=r"broke off|could not"):
        DashScopeBackend(base_url="http://127.0.0.1:9", **FAST).synthesize(line(LIN), job_context(tmp_path)[0])


# --------------------------------------------------------------------------- cloning


def cloned(tmp_path: Path) -> Character:
    (tmp_path / "voices").mkdir(exist_ok=True)
    (tmp_path / "voices" / "lin.wav").write_bytes(wav_bytes(12.0, 24000))
    return LIN.model_copy(update={"voice": Voice(sample="voices/lin.wav")})


def test_a_voice_sample_is_uploaded_cloned_once_and_spoken(double: DashScopeDouble, tmp_path: Path) -> None:
    double.deploy_polls = 2
    lin = cloned(tmp_path)
    result = backend(double, base_dir=str(tmp_path)).synthesize(line(lin), job_context(tmp_path)[0])
    create = next(body for path, body, _ in double.requests if body.get("input", {}).get("action") == "create_voice")
    assert create["model"] == "voice-enrollment" and create["input"]["target_model"] == "cosyvoice-v3-flash"
    assert create["input"]["url"].startswith("oss://") and len(create["input"]["prefix"]) < 10
    headers = next(h for p, b, h in double.requests if b.get("input", {}).get("action") == "create_voice")
    assert headers["x-dashscope-ossresourceresolve"] == "enable"
    ((model, name, raw),) = double.uploads.values()
    assert (model, name, raw) == ("voice-enrollment", "lin.wav", (tmp_path / "voices/lin.wav").read_bytes())
    (voice_id,) = double.voices
    assert result.metadata["voice"] == voice_id
    assert double.speech_sessions[-1][0]["payload"]["parameters"]["voice"] == voice_id
    # the next render (a new process) finds the clone instead of making another
    backend(double, base_dir=str(tmp_path)).synthesize(line(lin, "走吧"), job_context(tmp_path)[0])
    assert len(double.voices) == 1 and len(double.uploads) == 1


def test_a_sample_that_cannot_be_cloned_says_what_a_sample_needs(double: DashScopeDouble, tmp_path: Path) -> None:
    double.clone_fails = True
    with pytest.raises(BackendError, match="10-20 s of clean speech"):
        backend(double, base_dir=str(tmp_path)).synthesize(line(cloned(tmp_path)), job_context(tmp_path)[0])
    double.clone_fails = False  # a failed clone is cleared and made again
    assert backend(double, base_dir=str(tmp_path)).synthesize(line(cloned(tmp_path)), job_context(tmp_path)[0]).files
    assert [v["status"] for v in double.voices.values()] == ["OK"]
    with pytest.raises(NotConfigured, match="Beijing region only"):
        backend(double, base_dir=str(tmp_path), region="singapore").synthesize(
            line(cloned(tmp_path)), job_context(tmp_path)[0]
        )


# --------------------------------------------------------------------------- regions


def test_the_region_picks_hosts_model_names_and_prices(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KAIPAI_CONFIG", str(tmp_path / "none.toml"))
    for name in ("DASHSCOPE_REGION", "DASHSCOPE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    beijing, singapore = DashScopeBackend(), DashScopeBackend(region="intl")
    assert (beijing.base_url, beijing.ws_url) == (
        "https://dashscope.aliyuncs.com",
        "wss://dashscope.aliyuncs.com/api-ws/v1/inference",
    )
    assert (singapore.region, singapore.base_url) == ("singapore", "https://dashscope-intl.aliyuncs.com")
    assert singapore.ws_url == "wss://dashscope-intl.aliyuncs.com/api-ws/v1/inference"
    turbo = DashScopeBackend(model="wanx2.1-i2v-turbo", region="singapore").sheet(Capability.video)
    assert (turbo.model, turbo.currency) == ("wan2.1-i2v-turbo", "USD")  # Singapore's own name
    assert DashScopeBackend(model="wan2.1-i2v-turbo", region="singapore").sheet(Capability.video).model == (
        "wan2.1-i2v-turbo"
    )
    assert DashScopeBackend(model="wanx2.1-i2v-turbo").sheet(Capability.video).currency == "CNY"
    speech = singapore.sheet(Capability.speech)
    assert (speech.model, speech.currency, speech.cost_per_unit) == ("cosyvoice-v3-flash", "USD", 0.000014335)
    with pytest.raises(
        NotConfigured, match=r"does not sell 'cosyvoice-v2' in region 'singapore' \(it is sold in beijing\)"
    ):
        DashScopeBackend(model="cosyvoice-v2", region="singapore").sheet(Capability.speech)
    with pytest.raises(NotConfigured, match="does not sell 'videoretalk' in region 'singapore'"):
        singapore.sheet(Capability.lipsync)  # VideoRetalk is a Beijing model
    virginia = DashScopeBackend(region="us")
    assert virginia.base_url == "https://dashscope-us.aliyuncs.com"
    assert virginia.sheet(Capability.video).model == "wan2.6-i2v"
    monkeypatch.setenv("DASHSCOPE_REGION", "singapore")
    assert DashScopeBackend().region == "singapore"
    monkeypatch.delenv("DASHSCOPE_REGION")
    (tmp_path / "config.toml").write_text('[dashscope]\nregion = "virginia"\n')
    monkeypatch.setenv("KAIPAI_CONFIG", str(tmp_path / "config.toml"))
    assert DashScopeBackend().region == "virginia"
    monkeypatch.setenv("KAIPAI_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("DASHSCOPE_BASE_URL", "https://dashscope-intl.aliyuncs.com")  # an older setting: its region
    assert DashScopeBackend().region == "singapore"
    with pytest.raises(NotConfigured, match="no region 'hangzhou'"):
        DashScopeBackend(region="hangzhou")


def test_a_key_of_another_region_names_the_region(
    double: DashScopeDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-a-beijing-key")
    with pytest.raises(NotConfigured, match=r"InvalidApiKey.*region singapore.*do not mix"):
        backend(double, region="singapore").reachable()
