"""The lab certificate authority.

Clients keep certificate verification on and trust ``<home>/ca.pem``; the
server certificate names 127.0.0.1, ::1 and localhost. Extensions follow
what strict verifiers (Python 3.13's VERIFY_X509_STRICT) insist on.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVER_NAMES = ("localhost",)
SERVER_IPS = ("127.0.0.1", "::1")
# Re-issue the server certificate when it has less than this left.
RENEW_BEFORE = dt.timedelta(days=30)


@dataclass
class CAFiles:
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path


def ca_files(home: Path) -> CAFiles:
    return CAFiles(
        home / "ca.pem", home / "ca" / "ca-key.pem", home / "ca" / "server.pem", home / "ca" / "server-key.pem"
    )


def _write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def make_ca(common_name: str = "threecx-twilio lab CA") -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(minutes=5))
        .not_valid_after(_now() + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_server_cert(
    ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, days: int = 397
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.DNSName(n) for n in SERVER_NAMES] + [x509.IPAddress(ipaddress.ip_address(i)) for i in SERVER_IPS]
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(minutes=5))
        .not_valid_after(_now() + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def _server_cert_usable(files: CAFiles, ca_cert: x509.Certificate) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
        serialization.load_pem_private_key(files.server_key.read_bytes(), None)
        cert.verify_directly_issued_by(ca_cert)
    except (OSError, ValueError, TypeError, Exception):  # noqa: BLE001 - any doubt means re-issue
        return False
    return cert.not_valid_after_utc - _now() > RENEW_BEFORE


def ensure_ca(home: Path) -> CAFiles:
    """Create the CA and server certificate if missing; reuse them otherwise.

    Reusing the CA keeps ``ca.pem`` stable across ``lab up`` runs, so a CA
    bundle configured once (e.g. in an inventory) stays valid.
    """
    files = ca_files(home)
    ca_key = ca_cert = None
    if files.ca_cert.is_file() and files.ca_key.is_file():
        try:
            ca_cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
            ca_key = serialization.load_pem_private_key(files.ca_key.read_bytes(), None)
            if ca_cert.not_valid_after_utc - _now() < RENEW_BEFORE:
                ca_key = ca_cert = None
        except (OSError, ValueError, TypeError):
            ca_key = ca_cert = None
    if ca_key is None or ca_cert is None:
        ca_key, ca_cert = make_ca()
        _write(files.ca_key, _key_pem(ca_key), 0o600)
        _write(files.ca_cert, ca_cert.public_bytes(serialization.Encoding.PEM), 0o644)
        files.server_cert.unlink(missing_ok=True)
    if not _server_cert_usable(files, ca_cert):
        key, cert = make_server_cert(ca_key, ca_cert)
        _write(files.server_key, _key_pem(key), 0o600)
        _write(files.server_cert, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return files
