"""Masking of secrets in everything the lab shows or logs.

Tests grep the request log, ``/_lab/state`` and the server log for the
credentials generated at ``lab up``; whatever leaves the process goes
through :func:`mask` first.
"""

from __future__ import annotations

import hashlib
from typing import Any

MASK = "********"

# Lower-cased names whose values are secrets wherever they appear.
_SECRET_NAMES = {
    "client_secret",
    "clientsecret",
    "password",
    "authpassword",
    "access_token",
    "refresh_token",
    "auth_token",
    "authtoken",
    "api_secret",
    "apisecret",
    "secret",
    "token",
    "authorization",
    "id_token",
    "securitycode",
    "sippassword",
    "apikeysecret",
}


def is_secret_name(name: str) -> bool:
    low = name.lower().replace("-", "_")
    if low in _SECRET_NAMES:
        return True
    # Catches Password, AuthPassword, VMPassword, WebPassword, *_secret, *Secret...
    return "password" in low or low.endswith("secret") or low.endswith("_token")


def fingerprint(secret: str) -> str:
    """Short non-reversible label that lets people tell two secrets apart."""
    return "sha256:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()[:8]


def _mask_all(value: Any) -> Any:
    if isinstance(value, dict):
        # Keep booleans such as AuthPassword.Concealed: they are not secret.
        return {k: _mask_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_all(v) for v in value]
    if value is None or isinstance(value, bool) or value == "":
        return value
    return MASK


def mask(value: Any) -> Any:
    """Return a deep copy of *value* with the values of secret keys masked."""
    if isinstance(value, dict):
        return {k: (_mask_all(v) if isinstance(k, str) and is_secret_name(k) else mask(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


def scrub_text(text: str, secrets: list[str]) -> str:
    """Replace known secret values inside free text (log lines, messages)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text
