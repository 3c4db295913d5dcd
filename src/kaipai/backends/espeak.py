"""The default speech backend: eSpeak NG from the ``espeakng-loader`` wheel, driven through ctypes.

No system package, no network, Chinese and English (and every language eSpeak NG knows). The
voices are robotic, but they are real speech with real durations: shot lengths, lip sync, the
mix and the subtitles are all timed from them, so a film's rhythm is right before any money is
spent on a voice model.
"""

from __future__ import annotations

import ctypes
import hashlib
import re
import threading
import wave
from pathlib import Path
from typing import Any

import numpy as np

from kaipai.backends.base import (
    Backend,
    Capability,
    CapabilitySheet,
    JobContext,
    NotConfigured,
    Result,
    SpeechRequest,
)
from kaipai.document.cast import Character

# espeak_AUDIO_OUTPUT, espeak_PARAMETER, espeak_POSITION_TYPE and flags from speak_lib.h
_SYNCHRONOUS = 2
_RATE, _VOLUME, _PITCH, _RANGE = 1, 2, 3, 4
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

LANGUAGE_VOICES = {"zh": "cmn", "en": "en-us"}
MIN_SECONDS = 0.5  # the shortest line: a held beat, so a "……" still gets its moment on screen
FEMALE_VARIANTS = ["f1", "f2", "f3", "f4", "f5"]
MALE_VARIANTS = ["m1", "m2", "m3", "m4", "m5", "m6", "m7"]
_FEMALE = re.compile(
    r"女|妈|母|姐|妹|婆|奶|姑|姨|娘|嫂|she\b|her\b|woman|girl|female|mother|mom|sister|wife|lady|grandma|aunt",
    re.IGNORECASE,
)

#: Parenthetical → (variant override, rate ×, pitch Δ, volume ×, range Δ)
PROSODY: list[tuple[re.Pattern[str], tuple[str | None, float, int, float, int]]] = [
    (re.compile(r"whisper|低声|轻声|小声|耳语|悄悄", re.I), ("whisper", 0.9, -5, 0.55, -20)),
    (re.compile(r"shout|yell|scream|大喊|喊|吼|怒|大声|尖叫", re.I), (None, 1.15, 15, 1.6, 25)),
    (re.compile(r"cry|crying|sob|tear|哭|哽咽|抽泣|颤抖", re.I), (None, 0.8, 8, 0.9, 30)),
    (re.compile(r"laugh|smil|笑", re.I), (None, 1.1, 10, 1.05, 20)),
    (re.compile(r"excit|激动|兴奋|惊", re.I), (None, 1.15, 12, 1.2, 25)),
    (re.compile(r"sad|tired|quiet|slow|难过|疲惫|沉默|缓缓|慢", re.I), (None, 0.85, -6, 0.85, -10)),
]


class _Engine:
    """The one eSpeak NG instance of the process: its state is global, so every call holds the lock."""

    lock = threading.RLock()
    _lib: ctypes.CDLL | None = None
    rate: int = 22050
    _chunks: list[np.ndarray] = []

    @classmethod
    def lib(cls) -> ctypes.CDLL:
        with cls.lock:
            return cls._load()

    @classmethod
    def _load(cls) -> ctypes.CDLL:
        if cls._lib is None:
            try:
                import espeakng_loader
            except ImportError as exc:  # pragma: no cover - a dependency of kaipai
                raise NotConfigured("eSpeak NG is missing: pip install espeakng-loader") from exc
            lib = ctypes.CDLL(str(espeakng_loader.get_library_path()))
            lib.espeak_Initialize.restype = ctypes.c_int
            lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
            lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
            lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
            lib.espeak_Synth.argtypes = [
                ctypes.c_void_p,
                ctypes.c_size_t,
                ctypes.c_uint,
                ctypes.c_int,
                ctypes.c_uint,
                ctypes.c_uint,
                ctypes.c_void_p,
                ctypes.c_void_p,
            ]
            rate = lib.espeak_Initialize(_SYNCHRONOUS, 500, str(espeakng_loader.get_data_path()).encode(), 0)
            if rate <= 0:
                raise NotConfigured("eSpeak NG could not start (its data folder is missing); reinstall espeakng-loader")
            cls.rate = rate
            cls._callback = _CALLBACK(cls._collect)  # kept referenced: the library calls it later
            lib.espeak_SetSynthCallback(cls._callback)
            cls._lib = lib
        return cls._lib

    @classmethod
    def _collect(cls, wav: Any, count: int, _events: Any) -> int:
        if count > 0 and wav:
            cls._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0

    @classmethod
    def speak(
        cls, text: str, voice: str, rate: int, pitch: int, volume: int, pitch_range: int
    ) -> tuple[np.ndarray, int]:
        with cls.lock:
            lib = cls.lib()
            if lib.espeak_SetVoiceByName(voice.encode()) != 0:
                base = voice.split("+")[0]
                if lib.espeak_SetVoiceByName(base.encode()) != 0:
                    raise NotConfigured(
                        f"eSpeak NG has no voice {voice!r}; "
                        "set the character's voice.voice to one it has (e.g. cmn, en-us)"
                    )
            for param, value in ((_RATE, rate), (_PITCH, pitch), (_VOLUME, volume), (_RANGE, pitch_range)):
                lib.espeak_SetParameter(param, int(value), 0)
            cls._chunks = []
            data = text.encode("utf-8") + b"\0"
            lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            lib.espeak_Synchronize()
            pcm = np.concatenate(cls._chunks) if cls._chunks else np.zeros(0, dtype=np.int16)
            return pcm.astype(np.int16), cls.rate


def _stable(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


_AGE = re.compile(r"(\d{1,2})\s*(?:岁|歲|years?\b|yrs?\b|y/o|s\b)|\baged?\s*(\d{1,2})", re.IGNORECASE)
_OLD = re.compile(r"老|爷|奶|婆|翁|elderly|\bold\b|grand", re.IGNORECASE)
_CHILD = re.compile(r"孩|童|小男孩|小女孩|娃|child|kid\b|boy\b|girl\b", re.IGNORECASE)


def age_of(character: Character) -> int | None:
    """The character's age as the document suggests it ("26岁", "(30s)", "aged 60", "老周", "a boy"), if it does."""
    text = " ".join([character.description, character.wardrobe])
    match = _AGE.search(text)
    if match:
        return int(match.group(1) or match.group(2))
    names = " ".join([character.name, *character.aliases, character.description])
    if _CHILD.search(names):
        return 9
    if _OLD.search(names):
        return 65
    return None


def voice_for(character: Character | None, speaker: str, language: str) -> tuple[str, int, int]:
    """(eSpeak voice name, pitch, words per minute) for a character: distinct and stable across the film.

    The document's voice settings win; otherwise the variant, pitch and pace come from the
    character's id (stable), their sex and their age as the description suggests them.
    """
    base = LANGUAGE_VOICES.get(language, language)
    if character is None:  # the narrator: a calm, low, steady voice
        return f"{base}+m3", 35, 150 if language == "zh" else 160
    voice = character.voice
    text = " ".join([character.name, character.description, character.wardrobe, *character.aliases])
    female = bool(_FEMALE.search(text))
    age = age_of(character)
    child = age is not None and age < 14
    pool = FEMALE_VARIANTS if female or child else MALE_VARIANTS  # a child's voice sits where a woman's does
    h = _stable(character.id)
    pitch_shift, pace = 0, 0
    if child:
        pitch_shift, pace = 20, 10
    elif age is not None and age >= 55:
        pitch_shift, pace = -8, -18
    name = voice.voice or f"{base}+{pool[h % len(pool)]}"
    pitch = (
        voice.pitch
        if voice.pitch is not None
        else max(0, min(99, (55 + h % 30 if female or child else 25 + h % 25) + pitch_shift))
    )
    rate = voice.rate if voice.rate is not None else (165 if language == "zh" else 170) + (h >> 8) % 25 - 12 + pace
    return name, pitch, rate


def _resample(pcm: np.ndarray, src: int, dst: int) -> np.ndarray:
    if src == dst or len(pcm) == 0:
        return pcm
    n = round(len(pcm) * dst / src)
    x = np.linspace(0, len(pcm) - 1, n)
    return np.interp(x, np.arange(len(pcm)), pcm.astype(np.float64)).astype(np.int16)


def write_wav(path: Path, pcm: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.astype("<i2").tobytes())


class EspeakBackend(Backend):
    """Speech by eSpeak NG: one distinct voice per character, parentheticals as prosody, exact durations."""

    name = "espeak"
    generative = False  # drawn or synthesised by rules, offline: nothing to label
    capabilities = frozenset({Capability.speech})
    version = "1"

    def describe(self, capability: Capability) -> CapabilitySheet:
        return CapabilitySheet(
            capability=capability, model="espeak-ng", languages=None, max_concurrency=2, typical_seconds=0.05
        )  # not deterministic: eSpeak NG's pitch flutter carries over from one line to the next in a process

    def check(self) -> str:
        _Engine.lib()
        return f"eSpeak NG ready ({_Engine.rate} Hz)"

    def synthesize(self, request: SpeechRequest, ctx: JobContext) -> Result:
        name, pitch, rate = voice_for(request.character, request.speaker, request.language)
        volume, pitch_range = 100, 50
        for pattern, (variant, rate_x, pitch_d, volume_x, range_d) in PROSODY:
            if request.parenthetical and pattern.search(request.parenthetical):
                if variant:
                    name = f"{name.split('+')[0]}+{variant}"
                rate, pitch = int(rate * rate_x), max(0, min(99, pitch + pitch_d))
                volume, pitch_range = int(volume * volume_x), max(0, min(99, pitch_range + range_d))
                break
        text = request.text.strip() or "…"
        pcm, src_rate = _Engine.speak(text, name, rate, pitch, volume, pitch_range)
        pcm = _resample(pcm, src_rate, request.sample_rate)
        if len(pcm) < MIN_SECONDS * request.sample_rate:  # a beat of silence for a line with nothing to say ("……")
            pcm = np.concatenate([pcm, np.zeros(int(MIN_SECONDS * request.sample_rate) - len(pcm), dtype=np.int16)])
        out = ctx.out_dir / "line.wav"
        write_wav(out, pcm, request.sample_rate)
        return Result(
            files=[out],
            duration=len(pcm) / request.sample_rate,
            model="espeak-ng",
            metadata={"voice": name, "pitch": pitch, "rate": rate, "volume": volume},
        )
