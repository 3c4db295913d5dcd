"""eSpeak NG voices: real speech in Chinese and English, one voice per character, parentheticals heard."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from kaipai.backends.base import JobContext, SpeechRequest
from kaipai.backends.espeak import EspeakBackend, voice_for
from kaipai.document.models import Character

LIN = Character(id="lin", name="林夏", description="女，26岁")
ZHOU = Character(id="zhou", name="老周", description="男，60岁，司机")


def speak(tmp: Path, text: str, lang: str, who: Character | None, parenthetical: str = "") -> tuple[np.ndarray, float]:
    out = tmp / f"j{len(list(tmp.iterdir()))}"
    out.mkdir()
    r = EspeakBackend().synthesize(SpeechRequest(text=text, language=lang, character=who, speaker=who.id if who else "narrator", parenthetical=parenthetical), JobContext(out_dir=out))
    with wave.open(str(r.files[0])) as w:
        assert w.getframerate() == 24000 and w.getnchannels() == 1
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(float)
    assert abs(len(pcm) / 24000 - r.duration) < 1e-6  # the engine times shots from this
    return pcm, r.duration


def test_chinese_and_english_are_spoken_with_plausible_durations(tmp_path: Path) -> None:
    zh, zh_s = speak(tmp_path, "十一点四十，末班车应该还没走吧。", "zh", LIN)
    en, en_s = speak(tmp_path, "He said the light would still be on.", "en", ZHOU)
    assert 1.5 < zh_s < 8 and 1.0 < en_s < 6
    assert np.sqrt(np.mean(zh**2)) > 500 and np.sqrt(np.mean(en**2)) > 500


def test_each_character_has_a_distinct_stable_voice() -> None:
    assert voice_for(LIN, "lin", "zh") != voice_for(ZHOU, "zhou", "zh")
    assert voice_for(LIN, "lin", "zh") == voice_for(LIN, "lin", "zh")
    assert "+f" in voice_for(LIN, "lin", "zh")[0] and "+m" in voice_for(ZHOU, "zhou", "zh")[0]


def test_a_whisper_is_quieter_than_a_shout(tmp_path: Path) -> None:
    soft, _ = speak(tmp_path, "别出声，他们来了。", "zh", LIN, "低声")
    loud, _ = speak(tmp_path, "别出声，他们来了。", "zh", LIN, "大喊")
    assert np.sqrt(np.mean(soft**2)) < 0.7 * np.sqrt(np.mean(loud**2))


def test_mixed_language_text_does_not_fail(tmp_path: Path) -> None:
    pcm, seconds = speak(tmp_path, "我们用 kaipai 拍 film。", "zh", None)
    assert seconds > 0.5 and len(pcm) > 0
