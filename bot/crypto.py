"""The encryption key ring for text and tokens stored at rest (Fernet / MultiFernet).

Keys come from PEERCOACH_ENCRYPTION_KEYS: comma-separated Fernet keys, newest first. The newest
key encrypts; every key in the ring decrypts, so a new key can be put in front of the old ones
and `peercoach keys rotate` then re-encrypts every stored value with it (docs/privacy.md).

The ring is process-wide because the database column type (db.types.EncryptedText) needs it
wherever a row is read or written; the process configures it once at start (bot.runtime,
the sandbox harness) before any session is opened.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

logger = logging.getLogger(__name__)

__all__ = [
    "InvalidToken",
    "KeyRingMissing",
    "configure",
    "decrypt",
    "encrypt",
    "generate_key",
    "is_configured",
    "parse_keys",
    "rotate",
    "sqlite_key_file",
    "under_newest_key",
]


class KeyRingMissing(RuntimeError):
    """An encrypted value was read or written before any key was configured."""


_ring: MultiFernet | None = None
_newest: Fernet | None = None


def generate_key() -> str:
    """A new random Fernet key (url-safe base64 of 32 bytes), as PEERCOACH_ENCRYPTION_KEYS takes."""
    return Fernet.generate_key().decode("ascii")


def parse_keys(value: str) -> list[str]:
    """Split a comma-separated key list, newest first; raise ValueError naming a bad entry's
    position (never its value, which is a secret)."""
    keys = [k.strip() for k in value.split(",") if k.strip()]
    if not keys:
        raise ValueError("holds no key")
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise ValueError(
                f"key {position} is not a Fernet key (32 url-safe base64-encoded bytes)"
            ) from None
    return keys


def configure(keys: Sequence[str] | None) -> None:
    """Install the key ring (newest key first); None or empty removes it."""
    global _ring, _newest
    if not keys:
        _ring = _newest = None
        return
    fernets = [Fernet(k.encode("ascii")) for k in keys]
    _ring, _newest = MultiFernet(fernets), fernets[0]


def is_configured() -> bool:
    """Answer whether a key ring is installed."""
    return _ring is not None


def _require() -> MultiFernet:
    if _ring is None:
        raise KeyRingMissing(
            "no encryption key is configured: set PEERCOACH_ENCRYPTION_KEYS (docs/privacy.md)"
        )
    return _ring


def encrypt(plaintext: str) -> str:
    """Encrypt text with the newest key; the token is ASCII, about 4/3 the UTF-8 size + 76."""
    return _require().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """Decrypt a token made with any key of the ring; raises InvalidToken otherwise."""
    return _require().decrypt(token.encode("ascii")).decode("utf-8")


def rotate(token: str) -> str:
    """Re-encrypt a token under the newest key (raises InvalidToken if no key opens it)."""
    return _require().rotate(token.encode("ascii")).decode("ascii")


def under_newest_key(token: str) -> bool:
    """Answer whether the newest key alone opens a token (so rotating it again is needless)."""
    _require()
    assert _newest is not None
    try:
        _newest.decrypt(token.encode("ascii"))
    except InvalidToken:
        return False
    return True


def sqlite_key_file(database_path: str, *, create: bool) -> list[str]:
    """The keys kept beside a SQLite database file; with `create`, a missing file is made
    (mode 0600) with a new key, otherwise a missing file gives no keys.

    Only for the SQLite self-host and demo: the key then lives next to the data, which
    protects copies of the database file but not the disk both are on. Production sets
    PEERCOACH_ENCRYPTION_KEYS instead (docs/privacy.md).
    """
    path = Path(f"{database_path}.key")
    if path.exists():
        return parse_keys(path.read_text(encoding="ascii"))
    if not create:
        return []
    key = generate_key()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    logger.warning("generated an encryption key for the SQLite database in %s", path.name)
    return [key]
