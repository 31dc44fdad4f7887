"""Ed25519 keys written as C2SP signed-note v1.0.0 verifier keys (spec §6).

A verifier key ("vkey") is ``name+hex8(keyid)+b64(type ‖ pubkey)`` with
``keyid = SHA256(name ‖ 0x0a ‖ type ‖ pubkey)[0:4]``. ``type`` is :data:`STATEMENT_KEY`
(0x01: statements and notes) or :data:`WITNESS_KEY` (0x04: witness cosignatures, §7).

Verification follows RFC 8032 §5.1.7 (cofactorless) through ``cryptography``, after checks
made here first: the signature is 64 bytes, ``S < L``, and both ``R`` and the public key are
canonical point encodings. OpenSSL, which ``cryptography`` calls, accepts some non-canonical
public keys (``y ≥ p``, or ``x = 0`` written with the sign bit set): with those, one key has
several encodings, so two implementations could disagree on whether a vkey verifies a
signature. The spec requires rejecting them, so they are rejected explicitly.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import NoReturn

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from unveil.core.encoding import b64decode, b64encode
from unveil.errors import MalformedInputError

STATEMENT_KEY = 0x01
"""Key type for signed statements and signed notes (spec §6)."""
WITNESS_KEY = 0x04
"""Key type for timestamped witness cosignatures (spec §7, C2SP tlog-cosignature)."""
KEY_TYPES = (STATEMENT_KEY, WITNESS_KEY)

PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64
SEED_SIZE = 32

P = 2**255 - 19
"""The field prime of edwards25519."""
L = 2**252 + 27742317777372353535851937790883648493
"""The order of the edwards25519 base point (RFC 8032 §5.1)."""

# Unicode White_Space (what Go's unicode.IsSpace tests) plus what Python's str.isspace adds
# (U+001C..U+001F); control characters are refused too, as signed notes may not carry them.
_WHITE_SPACE = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | frozenset(
    chr(c) for c in range(0x2000, 0x200B)
)
_HEX8 = re.compile(r"[0-9a-f]{8}")


def key_name_problem(name: object) -> str | None:
    """Why ``name`` is not a valid key name (spec §6, C2SP signed-note), or ``None`` if it is.

    Names are non-empty, contain no Unicode white space, no ``+``, no control character and
    no lone surrogate (they must be valid UTF-8).
    """
    if not isinstance(name, str):
        return "key name must be a string"
    if not name:
        return "key name is empty"
    for ch in name:
        if ch == "+":
            return f"key name {name!r} contains '+'"
        if ch in _WHITE_SPACE or ch.isspace():
            return f"key name {name!r} contains white space"
        if ord(ch) < 0x20 or ord(ch) == 0x7F or 0x80 <= ord(ch) < 0xA0:
            return f"key name {name!r} contains a control character"
        if 0xD800 <= ord(ch) <= 0xDFFF:
            return f"key name {name!r} contains a lone surrogate"
    return None


def is_key_name(name: object) -> bool:
    """True if ``name`` is a valid key name (see :func:`key_name_problem`)."""
    return key_name_problem(name) is None


def key_id(name: str, key_type: int, public: bytes) -> bytes:
    """``SHA256(name ‖ 0x0a ‖ type ‖ pubkey)[0:4]`` (spec §6)."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([key_type]) + public).digest()[:4]


def is_canonical_point(encoding: bytes) -> bool:
    """True if ``encoding`` is a canonical RFC 8032 §5.1.3 point encoding.

    Checks only what decoding leaves ambiguous: 32 bytes, ``y < p``, and not ``x = 0`` with
    the sign bit set (``x = 0`` exactly when ``y² = 1``, i.e. ``y ∈ {1, p−1}``). Whether the
    point is on the curve is left to the Ed25519 implementation, which rejects it if not.
    """
    if len(encoding) != 32:
        return False
    value = int.from_bytes(encoding, "little")
    sign = value >> 255
    y = value & ((1 << 255) - 1)
    if y >= P:
        return False
    return not (sign == 1 and y in (1, P - 1))


def is_canonical_scalar(encoding: bytes) -> bool:
    """True if ``encoding`` is 32 bytes holding a little-endian integer ``S < L``."""
    return len(encoding) == 32 and int.from_bytes(encoding, "little") < L


@dataclass(frozen=True)
class VerifierKey:
    """A public key with its name and type; ``str(key)`` is its vkey string (spec §6)."""

    name: str
    key_type: int
    public: bytes

    def __post_init__(self) -> None:
        problem = key_name_problem(self.name)
        if problem is not None:
            raise ValueError(problem)
        if self.key_type not in KEY_TYPES:
            raise ValueError(f"unknown key type {self.key_type!r} (expected 0x01 or 0x04)")
        if not isinstance(self.public, bytes) or len(self.public) != PUBLIC_KEY_SIZE:
            raise ValueError("an Ed25519 public key is 32 bytes")

    @property
    def key_id(self) -> bytes:
        """The 4-byte key id, ``SHA256(name ‖ 0x0a ‖ type ‖ pubkey)[0:4]``."""
        return key_id(self.name, self.key_type, self.public)

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """Parse a vkey string strictly; :class:`MalformedInputError` on any deviation.

        Splits at the first two ``+`` only (base64 may contain ``+``), requires a lowercase
        8-hex-digit key id equal to the recomputed one, canonical base64 of 33 bytes, a known
        type, and a canonical public key encoding.
        """
        if not isinstance(text, str):
            raise MalformedInputError("a verifier key must be a string")
        shown = text[:120]
        parts = text.split("+", 2)
        if len(parts) != 3:
            raise MalformedInputError(f"verifier key {shown!r} is not name+keyid+key")
        name, hex_id, key64 = parts
        problem = key_name_problem(name)
        if problem is not None:
            raise MalformedInputError(f"verifier key {shown!r}: {problem}")
        if _HEX8.fullmatch(hex_id) is None:
            raise MalformedInputError(
                f"verifier key {shown!r}: key id must be 8 lowercase hex digits"
            )
        try:
            raw = b64decode(key64)
        except ValueError as exc:
            raise MalformedInputError(f"verifier key {shown!r}: {exc}") from None
        if len(raw) != 1 + PUBLIC_KEY_SIZE:
            raise MalformedInputError(
                f"verifier key {shown!r}: key is {len(raw)} bytes, expected type and 32 bytes"
            )
        key_type, public = raw[0], raw[1:]
        if key_type not in KEY_TYPES:
            raise MalformedInputError(
                f"verifier key {shown!r}: unknown key type 0x{key_type:02x} (expected 0x01 or 0x04)"
            )
        if not is_canonical_point(public):
            raise MalformedInputError(
                f"verifier key {shown!r}: public key is not a canonical Ed25519 point encoding"
            )
        key = cls(name, key_type, public)
        if key.key_id.hex() != hex_id:
            raise MalformedInputError(
                f"verifier key {shown!r}: key id {hex_id} does not match the key "
                f"(computed {key.key_id.hex()})"
            )
        return key

    def __str__(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{b64encode(bytes([self.key_type]) + self.public)}"

    @property
    def vkey(self) -> str:
        """The vkey string, same as ``str(self)``."""
        return str(self)

    def verify(self, message: bytes, signature: bytes) -> bool:
        """RFC 8032 §5.1.7 Ed25519 verification with explicit canonicity checks (spec §6)."""
        return verify_ed25519(self.public, message, signature)


def verify_ed25519(public: bytes, message: bytes, signature: bytes) -> bool:
    """Verify an Ed25519 signature, rejecting every non-canonical encoding first.

    ``cryptography``/OpenSSL accepts non-canonical public keys (e.g. ``y = p + 1``), so the
    public key, ``R`` and ``S`` are checked here before it is called.
    """
    if len(signature) != SIGNATURE_SIZE:
        return False
    if not is_canonical_point(public) or not is_canonical_point(signature[:32]):
        return False
    if not is_canonical_scalar(signature[32:]):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


class SigningKey:
    """SECRET key material: an Ed25519 private key (its 32-byte seed) with name and type.

    ``repr`` shows the public vkey only, never the secret bytes. Core draws no randomness:
    callers pass the 32 seed bytes in (from a CSPRNG, e.g. ``os.urandom(32)``).
    """

    __slots__ = ("_secret_seed", "_private", "_verifier")

    def __init__(self, name: str, key_type: int, secret_seed: bytes):
        if not isinstance(secret_seed, bytes) or len(secret_seed) != SEED_SIZE:
            raise ValueError("an Ed25519 private key is a 32-byte seed")
        self._secret_seed = secret_seed
        self._private = Ed25519PrivateKey.from_private_bytes(secret_seed)
        public = self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self._verifier = VerifierKey(name, key_type, public)

    @classmethod
    def generate(cls, name: str, key_type: int, seed: bytes) -> SigningKey:
        """A new key from 32 fresh random bytes supplied by the caller."""
        return cls(name, key_type, seed)

    @classmethod
    def from_private_bytes(cls, name: str, key_type: int, private: bytes) -> SigningKey:
        """Rebuild a key from the 32 bytes :meth:`private_bytes` returned."""
        return cls(name, key_type, private)

    def private_bytes(self) -> bytes:
        """The SECRET 32-byte seed. Handle with care: whoever holds it can sign."""
        return self._secret_seed

    @property
    def name(self) -> str:
        return self._verifier.name

    @property
    def key_type(self) -> int:
        return self._verifier.key_type

    @property
    def verifier(self) -> VerifierKey:
        """The public half."""
        return self._verifier

    @property
    def vkey(self) -> str:
        """The public vkey string."""
        return str(self._verifier)

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message`` (RFC 8032, deterministic)."""
        return self._private.sign(message)

    def __repr__(self) -> str:
        return f"SigningKey(<secret>, vkey={self.vkey!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("SigningKey holds secret material and is not picklable")
