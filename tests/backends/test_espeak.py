"""eSpeak NG voices: real speech in Chinese and English, one voice per character, parentheticals heard."""

from __future__ import annotations

import uuid
import wave
from pathlib import Path

import numpy as np

from kaipai.backends.base import JobContext, SpeechRequest
from kaipai.backends.espeak import EspeakBackend, voice_for
from kaipai.document.cast import Character

LIN = Character(id="lin", name="林夏", description="女，26岁")
ZHOU = Character(id="zhou", name="老周", description="男，60岁，司机")


def speak(tmp: Path, text: str, lang: str, who: Character | None, parenthetical: str = "") -> tuple[np.ndarray, float]:
    out = tmp / f"j{uuid.uuid4().hex}"  # unique even when lines are spoken from several threads
    out.mkdir()
    r = EspeakBackend().synthesize(
        SpeechRequest(
            text=text, language=lang, character=who, speaker=who.id if who else "narrator", parenthetical=parenthetical
        ),
        JobContext(out_dir=out),
    )
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


def pitch_hz(pcm: np.ndarray, rate: int = 24000) -> float:
    """Median fundamental frequency of the voiced 30 ms frames (autocorrelation peak)."""
    hop, found = int(0.03 * rate), []
    loud = np.sqrt(np.mean(pcm**2))
    for i in range(0, len(pcm) - hop, hop):
        seg = pcm[i : i + hop] - pcm[i : i + hop].mean()
        if np.sqrt(np.mean(seg**2)) < 0.3 * loud:
            continue
        ac = np.correlate(seg, seg, "full")[hop - 1 :]
        lag = rate // 400 + int(np.argmax(ac[rate // 400 : rate // 60]))
        if ac[lag] > 0.3 * ac[0]:
            found.append(rate / lag)
    return float(np.median(found))


def test_the_voices_are_heard_apart_a_woman_higher_an_old_man_slower(tmp_path: Path) -> None:
    line = "十一点四十，末班车应该还没走吧。"
    lin, lin_s = speak(tmp_path, line, "zh", LIN)
    zhou, zhou_s = speak(tmp_path, line, "zh", ZHOU)
    kid, _ = speak(tmp_path, line, "zh", Character(id="ming", name="小明", description="男孩，8岁"))
    assert pitch_hz(lin) > 1.6 * pitch_hz(zhou) and pitch_hz(kid) > 1.6 * pitch_hz(zhou)
    assert zhou_s > 1.05 * lin_s  # sixty years old: he takes his time
    again, again_s = speak(tmp_path, line, "zh", LIN)
    assert (
        abs(again_s - lin_s) < 0.02 and abs(pitch_hz(again) / pitch_hz(lin) - 1) < 0.03
    )  # the same voice all film long


def test_a_documents_voice_settings_win(tmp_path: Path) -> None:
    low = Character(id="lin", name="林夏", description="女，26岁", voice={"pitch": 10, "rate": 120})
    _, slow_s = speak(tmp_path, "别出声，他们来了。", "zh", low)
    _, usual_s = speak(tmp_path, "别出声，他们来了。", "zh", LIN)
    assert voice_for(low, "lin", "zh")[1:] == (10, 120) and slow_s > 1.2 * usual_s


def voiced_share(pcm: np.ndarray, rate: int = 24000) -> float:
    """Share of the loud 30 ms frames that carry a clear pitch (vocal folds vibrating)."""
    hop, voiced, loud_frames = int(0.03 * rate), 0, 0
    loud = np.sqrt(np.mean(pcm**2))
    for i in range(0, len(pcm) - hop, hop):
        seg = pcm[i : i + hop] - pcm[i : i + hop].mean()
        if np.sqrt(np.mean(seg**2)) < 0.3 * loud:
            continue
        loud_frames += 1
        ac = np.correlate(seg, seg, "full")[hop - 1 :]
        voiced += bool(ac[rate // 400 + int(np.argmax(ac[rate // 400 : rate // 60]))] > 0.5 * ac[0])
    return voiced / max(1, loud_frames)


def test_a_whisper_is_breath_without_voice_and_crying_is_slower(tmp_path: Path) -> None:
    line = "别出声，他们来了。"
    plain, plain_s = speak(tmp_path, line, "zh", LIN)
    whisper, _ = speak(tmp_path, line, "zh", LIN, "(whispering)")
    _, crying_s = speak(tmp_path, line, "zh", LIN, "哭着")
    assert voiced_share(plain) > 0.8 and voiced_share(whisper) < 0.2
    assert crying_s > 1.15 * plain_s


def test_lines_spoken_at_once_from_several_threads_all_come_out_whole(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    lines = [("十一点四十，末班车应该还没走吧。", "zh", LIN), ("He said the light would still be on.", "en", ZHOU)] * 3
    alone = [speak(tmp_path, *line)[1] for line in lines[:2]]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda line: speak(tmp_path, *line)[1], lines))
    for i, seconds in enumerate(together):
        assert abs(seconds - alone[i % 2]) < 0.05  # no line cut short or mixed into another


def test_a_line_of_only_dots_is_a_held_beat_not_an_empty_file(tmp_path: Path) -> None:
    pcm, seconds = speak(tmp_path, "……", "zh", LIN)
    assert seconds == 0.5 and len(pcm) == 12000
