"""Which MiniMax voice speaks a line, and a character's own voice cloned from its ``voice.sample``.

A cloned voice gets an id made from the character and a digest of the sample, so the same sample
is cloned once — ever: before uploading, the account's cloned voices are listed, and a voice that
is already there (from an earlier render, or one killed half-way) is used as it is. A changed
sample is a new voice. MiniMax bills a clone on its first use in speech and deletes clones that
are not used within seven days.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import threading
from pathlib import Path
from typing import Any

from kaipai.backends.base import BackendError, NotConfigured, SpeechRequest
from kaipai.backends.minimax.api import Api

DEFAULT_VOICES = {"zh": "female-shaonv", "en": "English_Graceful_Lady"}
BACKEND = "minimax"


def clone_id(character_id: str, sample: bytes) -> str:
    """A voice id MiniMax accepts (a letter first, 8–256 letters, digits, - and _), stable per sample."""
    safe = re.sub(r"[^A-Za-z0-9]", "", character_id)[:24]
    return f"kaipai{safe}{hashlib.sha256(sample).hexdigest()[:12]}"


class Voices:
    def __init__(self, api: Api, options: dict[str, Any], base_dir: Path | None) -> None:
        self.api = api
        self.options = options
        self.base_dir = base_dir
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def voice_for(self, request: SpeechRequest) -> tuple[str, bool]:
        """(voice id, whether it is a clone): per-character option, the character's voice, its sample, defaults."""
        voices = self.options.get("voices") or {}
        if request.speaker in voices:
            return str(voices[request.speaker]), False
        character = request.character
        own = character.voice if character is not None else None
        if own is not None and own.backend in (None, BACKEND):
            if own.voice:
                return own.voice, False
            if own.sample and self.options.get("clone", True) and character is not None:
                return self.cloned(character.id, self._sample(own.sample)), True
        return str(self.options.get("voice") or DEFAULT_VOICES.get(request.language, "female-shaonv")), False

    def _sample(self, relative: str) -> Path:
        path = (self.base_dir / relative) if self.base_dir is not None else Path(relative)
        if not path.is_file():
            raise NotConfigured(
                f"the voice sample {relative} does not exist; add it to the project or remove voice.sample"
            )
        return path

    def cloned(self, character_id: str, sample: Path) -> str:
        """The clone of ``sample`` for this character, made now if the account does not have it yet."""
        data = sample.read_bytes()
        voice_id = clone_id(character_id, data)
        with self._lock:
            if voice_id in self._known:
                return voice_id
            listed = self.api.call("POST", "/v1/get_voice", "listing voices", json={"voice_type": "voice_cloning"})
            if voice_id not in {str(v.get("voice_id")) for v in listed.get("voice_cloning") or []}:
                self._clone(voice_id, sample, data)
            self._known.add(voice_id)
        return voice_id

    def _clone(self, voice_id: str, sample: Path, data: bytes) -> None:
        kind = mimetypes.guess_type(sample.name)[0] or "audio/wav"
        doing = f"the voice sample {sample.name}"
        try:
            uploaded = self.api.call(
                "POST",
                "/v1/files/upload",
                doing,
                data={"purpose": "voice_clone"},
                files={"file": (sample.name, data, kind)},
            )
            file_id = (uploaded.get("file") or {}).get("file_id")
            body = {
                "file_id": file_id,
                "voice_id": voice_id,
                "need_noise_reduction": bool(self.options.get("clone_noise_reduction", False)),
                "need_volume_normalization": bool(self.options.get("clone_volume_normalization", False)),
                "aigc_watermark": False,
            }
            self.api.call("POST", "/v1/voice_clone", doing, json=body)
        except BackendError as exc:
            if "(2039:" in str(exc):  # cloned meanwhile (another job, an earlier render): it is there
                return
            if type(exc) is not BackendError:  # busy, a key, an account, a refusal: as they are
                raise
            raise BackendError(
                f"{exc}; a voice sample must be mp3, m4a or wav, 10 s to 5 minutes, under 20 MB",
                provider_reason=exc.provider_reason,
            ) from None
