"""The ``cast:`` of the document: characters (and their voices), locations and props."""

from __future__ import annotations

from pydantic import Field, field_validator

from kaipai.document.strict import RelPath, Strict, check_relative_path


class Voice(Strict):
    """A character's voice: which backend voice, and how it sounds."""

    backend: str | None = Field(
        default=None, description="Speech backend for this voice; the project's default when empty."
    )
    voice: str | None = Field(default=None, description="Backend voice id (e.g. an eSpeak voice, a CosyVoice speaker).")
    pitch: int | None = Field(default=None, ge=0, le=99, description="eSpeak-style pitch 0-99.")
    rate: int | None = Field(default=None, ge=80, le=450, description="Words per minute.")
    sample: RelPath | None = Field(default=None, description="A reference recording for voice cloning backends.")

    _check_sample = field_validator("sample")(lambda cls, v: check_relative_path(v) if v else v)


class Pictured(Strict):
    """A cast entry with reference pictures: each must stay inside the project folder."""

    @field_validator("reference_images", check_fields=False)
    @classmethod
    def _inside(cls, v: list[str]) -> list[str]:
        return [check_relative_path(p) for p in v]


class Character(Pictured):
    id: str = Field(pattern=r"^[\w\-]+$", description="Stable id used by shots and dialogue.")
    name: str
    aliases: list[str] = Field(default_factory=list, description="Other names the screenplay uses.")
    description: str = ""
    wardrobe: str = ""
    color: str | None = Field(default=None, pattern=r"^#[0-9A-Fa-f]{6}$", description="Previz figure colour.")
    reference_images: list[RelPath] = Field(default_factory=list)
    voice: Voice = Field(default_factory=Voice)


class Location(Pictured):
    id: str = Field(pattern=r"^[\w\-]+$")
    name: str
    description: str = ""
    reference_images: list[RelPath] = Field(default_factory=list)


class Prop(Pictured):
    id: str = Field(pattern=r"^[\w\-]+$")
    name: str
    description: str = ""
    reference_images: list[RelPath] = Field(default_factory=list)


class Cast(Strict):
    characters: list[Character] = Field(default_factory=list)
    locations: list[Location] = Field(default_factory=list)
    props: list[Prop] = Field(default_factory=list)
