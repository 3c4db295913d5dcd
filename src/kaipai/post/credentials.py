"""C2PA Content Credentials on the master: signed provenance that platforms and the EU's code of
practice read (the optional extra ``kaipai[c2pa]``, with c2pa-python 0.38).

The manifest says the film was created with trained algorithmic media (IPTC digital source type)
by kaipai, and lists each generative take as an ingredient naming its provider and model (no
prompts: the manifest travels with the published film). Signing is the last step: any remux
after it, even a stream copy, drops the manifest. The signer's certificate must carry the
emailProtection extended key usage, the one c2pa-rs accepts without a trust configuration.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
MIME = {
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".m4a": "audio/mp4",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".flac": "audio/flac",
}
_OFFLINE = {"remote_manifest_fetch": False, "ocsp_fetch": False}


class CredentialsError(ValueError):
    """Signing or reading failed in a way the user can fix; the message says how."""


def available() -> bool:
    """Whether c2pa-python is installed (``pip install 'kaipai[c2pa]'``)."""
    return importlib.util.find_spec("c2pa") is not None


@dataclass(frozen=True)
class Ingredient:
    """One generative take the film is made from."""

    path: Path
    label: str  # unique within the manifest, e.g. "S01-003/clip"
    stage: str
    shot: str
    backend: str
    model: str
    seed: int
    sha256: str

    def definition(self) -> dict[str, Any]:
        provider = f"{self.backend}/{self.model}" if self.model else self.backend
        return {
            "title": f"{self.label} ({provider})",
            "format": MIME.get(self.path.suffix.lower(), "application/octet-stream"),
            "relationship": "componentOf",
            "label": self.label,
            "description": f"{self.stage} of shot {self.shot} by {provider}, seed {self.seed}",
            "metadata": {
                "kaipai:stage": self.stage,
                "kaipai:shot": self.shot,
                "kaipai:provider": self.backend,
                "kaipai:model": self.model,
                "kaipai:seed": self.seed,
                "kaipai:sha256": self.sha256,
            },
        }


@dataclass(frozen=True)
class Signing:
    """The user's signing certificate chain (PEM, signer first) and key; from their config, never the project."""

    certificate: Path
    key: Path
    tsa_url: str | None = None


def manifest(title: str, version: str, ingredients: list[Ingredient]) -> dict[str, Any]:
    """The manifest definition: created from trained algorithmic media, each ingredient placed."""
    agent = {"name": "kaipai", "version": version}
    actions: list[dict[str, Any]] = [
        {
            "action": "c2pa.created",
            "digitalSourceType": TRAINED,
            "softwareAgent": agent,
            "description": "Film assembled by kaipai from AI-generated takes",
        }
    ]
    actions += [
        {
            "action": "c2pa.placed",
            "digitalSourceType": TRAINED,
            "softwareAgent": {"name": f"{i.backend}/{i.model}" if i.model else i.backend},
            "parameters": {"ingredientIds": [i.label]},
        }
        for i in ingredients
    ]
    return {
        "claim_generator_info": [agent],
        "title": title,
        "format": "video/mp4",
        "assertions": [{"label": "c2pa.actions", "data": {"actions": actions}}],
    }


def _algorithm(key_pem: bytes) -> Any:
    """The signing algorithm the key calls for."""
    import c2pa
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    key = serialization.load_pem_private_key(key_pem, password=None)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        by_curve = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
        name = by_curve.get(key.curve.name)
        if name is None:
            raise CredentialsError(f"the key's curve {key.curve.name} cannot sign C2PA; use P-256, P-384 or P-521")
        return getattr(c2pa.C2paSigningAlg, name)
    if isinstance(key, rsa.RSAPrivateKey):
        return c2pa.C2paSigningAlg.PS256
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return c2pa.C2paSigningAlg.ED25519
    raise CredentialsError("the key must be an EC (P-256/384/521), RSA or Ed25519 private key in PEM")


def sign(src: Path, dst: Path, signing: Signing, definition: dict[str, Any], ingredients: list[Ingredient]) -> None:
    """Write ``src`` to ``dst`` with a signed manifest. CredentialsError names what is wrong."""
    import c2pa

    try:
        chain = signing.certificate.read_bytes()
        key = signing.key.read_bytes()
    except OSError as exc:
        raise CredentialsError(f"cannot read the signing certificate or key: {exc}") from None
    try:
        alg = _algorithm(key)
    except (ValueError, TypeError) as exc:
        if isinstance(exc, CredentialsError):
            raise
        raise CredentialsError(f"{signing.key}: not an unencrypted PEM private key ({exc})") from None
    streamed = [i for i in ingredients if i.path.suffix.lower() in MIME and i.path.is_file()]
    # a take in a format C2PA cannot open is declared by its description alone
    declared = [i.definition() for i in ingredients if i not in streamed]
    definition = {**definition, "ingredients": [*definition.get("ingredients", []), *declared]}
    context = c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}}, "verify": _OFFLINE})
    info = c2pa.C2paSignerInfo(alg=alg, sign_cert=chain, private_key=key, ta_url=signing.tsa_url)
    try:
        with context, c2pa.Signer.from_info(info) as signer, c2pa.Builder(definition, context) as builder:
            for ing in streamed:
                with open(ing.path, "rb") as f:
                    builder.add_ingredient(ing.definition(), MIME[ing.path.suffix.lower()], f)
            with open(src, "rb") as source, open(dst, "w+b") as out:
                builder.sign(signer, "video/mp4", source, out)
    except c2pa.C2paError as exc:
        dst.unlink(missing_ok=True)
        raise CredentialsError(
            f"C2PA signing failed: {exc}. The certificate must be an X.509 v3 chain (signer first) whose "
            "signer has digitalSignature key usage and the emailProtection extended key usage, issued by a CA"
        ) from None


@dataclass
class Credentials:
    """What a file's C2PA manifest says and whether it holds."""

    state: str  # Trusted, Valid or Invalid
    failures: list[str] = field(default_factory=list)
    signer: str = ""
    issuer: str = ""
    actions: list[dict[str, Any]] = field(default_factory=list)
    ingredients: list[dict[str, Any]] = field(default_factory=list)
    generator: str = ""


def read(path: Path, anchors: str | None = None) -> Credentials | None:
    """The manifest of ``path`` validated offline (``anchors``: PEM roots to trust), or None when unsigned."""
    import c2pa

    mime = MIME.get(path.suffix.lower())
    if mime is None:
        return None
    settings: dict[str, Any] = {"verify": dict(_OFFLINE)}
    if anchors:
        settings["trust"] = {"user_anchors": anchors}
    try:
        with c2pa.Context.from_dict(settings) as context, open(path, "rb") as f:
            reader = c2pa.Reader.try_create(mime, f, context=context)
            if reader is None:
                return None
            with reader:
                store = json.loads(reader.json())
                state = reader.get_validation_state() or "Invalid"
                results = reader.get_validation_results() or {}
    except c2pa.C2paError as exc:
        return Credentials(state="Invalid", failures=[f"unreadable manifest: {exc}"])
    active = store.get("manifests", {}).get(store.get("active_manifest", ""), {})
    actions = [
        a
        for assertion in active.get("assertions", [])
        if str(assertion.get("label", "")).startswith("c2pa.actions")
        for a in assertion.get("data", {}).get("actions", [])
    ]
    sig = active.get("signature_info", {}) or {}
    failures = [
        f"{x.get('code')}: {x.get('explanation', '')}".strip()
        for x in (results.get("activeManifest", {}) or {}).get("failure", [])
    ]
    generator = ", ".join(
        f"{g.get('name')} {g.get('version', '')}".strip() for g in active.get("claim_generator_info", []) or []
    )
    return Credentials(
        state=state,
        failures=failures,
        signer=str(sig.get("common_name", "")),
        issuer=str(sig.get("issuer", "")),
        actions=actions,
        ingredients=list(active.get("ingredients", []) or []),
        generator=generator,
    )
