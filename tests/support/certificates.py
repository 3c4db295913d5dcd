"""A C2PA signing chain made on the spot with ``cryptography``: root CA → intermediate CA → signer.

The signer follows the C2PA certificate profile as c2pa-rs 0.91 (c2pa-python 0.38) checks it: X.509 v3,
ECDSA P-256 with SHA-256, KeyUsage digitalSignature (critical), ExtendedKeyUsage emailProtection
(the one accepted without a trust configuration), not a CA, with subject and authority key ids.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass
class Chain:
    root: str  # PEM of the trust anchor
    chain: str  # signer then intermediate, PEM
    key: str  # the signer's private key, PKCS#8 PEM

    def write(self, folder: Path) -> tuple[Path, Path, Path]:
        folder.mkdir(parents=True, exist_ok=True)
        paths = folder / "root.pem", folder / "chain.pem", folder / "signer.key"
        for path, text in zip(paths, (self.root, self.chain, self.key), strict=True):
            path.write_text(text)
        return paths


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kaipai tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def _usage(ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def make_chain(signer: str = "kaipai Test Signer", email_protection: bool = True) -> Chain:
    """A fresh chain; ``email_protection=False`` makes a signer C2PA refuses (serverAuth only)."""
    now = dt.datetime.now(dt.UTC)
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(3)]
    root_key, mid_key, leaf_key = keys

    def build(subject: str, issuer: x509.Name, key: ec.EllipticCurvePrivateKey, days: int) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(_name(subject))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )

    root = (
        build("kaipai Test Root CA", _name("kaipai Test Root CA"), root_key, 3650)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_usage(ca=True), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    mid = (
        build("kaipai Test Intermediate CA", root.subject, mid_key, 1825)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(ca=True), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    purposes = [ExtendedKeyUsageOID.EMAIL_PROTECTION] if email_protection else [ExtendedKeyUsageOID.SERVER_AUTH]
    leaf = (
        build(signer, mid.subject, leaf_key, 365)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(purposes), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(mid_key.public_key()), critical=False)
        .sign(mid_key, hashes.SHA256())
    )
    key = leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return Chain(root=_pem(root), chain=_pem(leaf) + _pem(mid), key=key)
