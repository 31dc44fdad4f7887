"""Private key files: PKCS#8 PEM, mode 0600, optionally passphrase-encrypted (a workspace's
``keys/``, a board's statement key). The keys themselves are :class:`unveil.core.keys.SigningKey`."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from unveil.core.keys import SigningKey
from unveil.errors import MalformedInputError

PASSPHRASE_ENV = "UNVEIL_PASSPHRASE"


def write_private(path: Path, key: SigningKey, passphrase: bytes | None) -> None:
    """Write ``key`` to a new file readable by its owner only (0600); never overwrite."""
    private = Ed25519PrivateKey.from_private_bytes(key.private_bytes())
    encryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())


def read_private(path: Path, name: str, key_type: int) -> SigningKey:
    """Load a key file; an encrypted one takes its passphrase from ``$UNVEIL_PASSPHRASE``."""
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise MalformedInputError(f"cannot read the key file: {exc.strerror}", source=str(path)) from None
    passphrase = os.environ.get(PASSPHRASE_ENV)
    encrypted = b"ENCRYPTED" in pem.split(b"\n", 1)[0]
    if encrypted and not passphrase:
        raise MalformedInputError(f"the key is passphrase-protected: set {PASSPHRASE_ENV}", source=str(path))
    try:
        private = serialization.load_pem_private_key(pem, password=passphrase.encode() if encrypted and passphrase else None)
    except (ValueError, TypeError):
        raise MalformedInputError("cannot load the key (wrong passphrase, or not a PKCS#8 PEM key)", source=str(path)) from None
    if not isinstance(private, Ed25519PrivateKey):
        raise MalformedInputError("not an Ed25519 key", source=str(path))
    seed = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return SigningKey.from_private_bytes(name, key_type, seed)
