"""``openai-speech``: voices from any OpenAI-compatible ``/v1/audio/speech`` endpoint.

OpenAI's TTS models, or a local Kokoro, CosyVoice or openedai-speech server: ``base_url`` (ending
in ``/v1``), the ``model`` the server knows, and voice names as options — ``voice`` for everyone,
``voices: {character id: voice}`` per character, else a character's own ``voice.voice`` when
the character's voice backend is this one. WAV is always asked for, and the reply is checked:
some servers answer another format (CosyVoice wrappers send WAV for every format, some send MP3),
so the file is named after what its bytes are, and its length read from the file. Servers that
take more fields (Kokoro's ``lang_code``) get them through ``extra_body``; ``instructions`` (a
performance note for gpt-4o-mini-tts) is sent only when asked for, because some servers switch
mode on it. One request per line, answered at once: there is no task to resume.

Key: ``OPENAI_API_KEY`` (or the variable named by ``api_key_env``); a server on this machine needs
none. Options: ``base_url``, ``voice``, ``voices``, ``speed``, ``instructions`` (true: the line's
parenthetical; or a text), ``extra_body``, ``timeout``, ``sheet``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kaipai.backends.base import BackendError, Capability, JobContext, Result, SpeechRequest, TransientError
from kaipai.backends.openai.media import COMMON_OPTIONS, OpenAIMediaBackend
from kaipai.backends.remote import tasks

DEFAULT_VOICE = "alloy"
#: What the first bytes of an audio file say it is.
SIGNATURES = (
    (b"RIFF", ".wav"),
    (b"ID3", ".mp3"),
    (b"\xff\xf3", ".mp3"),
    (b"\xff\xfb", ".mp3"),
    (b"OggS", ".ogg"),
    (b"fLaC", ".flac"),
)


def audio_suffix(data: bytes) -> str | None:
    return next((suffix for magic, suffix in SIGNATURES if data.startswith(magic)), None)


class OpenAISpeechBackend(OpenAIMediaBackend):
    name = "openai-speech"
    capabilities = frozenset({Capability.speech})
    capability = Capability.speech
    known_options = COMMON_OPTIONS | {"voice", "voices", "speed", "instructions"}
    version = "1"

    def voice_for(self, request: SpeechRequest) -> str:
        voices = self.options.get("voices") or {}
        if request.speaker in voices:
            return str(voices[request.speaker])
        own = request.character.voice if request.character is not None else None
        if own is not None and own.voice and own.backend in (None, self.name):
            return own.voice
        return str(self.options.get("voice") or DEFAULT_VOICE)

    def _instructions(self, request: SpeechRequest) -> str | None:
        wanted = self.options.get("instructions")
        if isinstance(wanted, str) and wanted:
            return " ".join(p for p in (wanted, request.parenthetical) if p)
        if wanted is True and request.parenthetical:
            return request.parenthetical
        return None

    def synthesize(self, request: SpeechRequest, ctx: JobContext) -> Result:
        sheet = self.sheet(Capability.speech)
        fields: dict[str, Any] = {
            "model": str(self.model),
            "input": request.text,
            "voice": self.voice_for(request),
            "response_format": "wav",
        }
        if "speed" in self.options:
            fields["speed"] = float(self.options["speed"])
        if (instructions := self._instructions(request)) is not None:
            fields["instructions"] = instructions
        if self.options.get("extra_body"):
            fields["extra_body"] = dict(self.options["extra_body"])
        reply = self.call(lambda: self.client().audio.speech.create(**fields))
        data = reply.read() if hasattr(reply, "read") else bytes(reply.content)
        suffix = audio_suffix(data)
        if suffix is None:
            raise TransientError(f"{self.where} sent something that is not audio ({len(data)} bytes: {data[:16]!r})")
        path = ctx.out_dir / f"voice{suffix}"
        path.write_bytes(data)
        media = self._probe(path)
        units = float(len(request.text))
        return media.result(
            [path],
            cost_units=units,
            cost=units * sheet.cost_per_unit,
            model=str(self.model),
            metadata={
                "provider": "openai-compatible",
                "base_url": self.base_url,
                "voice": fields["voice"],
                "format": suffix.lstrip("."),
                "cost_unit": "character",
                "currency": sheet.currency,
            },
        )

    def _probe(self, path: Path) -> tasks.Media:
        media = tasks.probe(path)
        if not media.duration:
            raise BackendError(f"{self.where} sent an empty recording ({path.name}); check the voice and the model")
        return media
