"""Signed notes, checkpoints and witness cosignatures (spec §7).

Formats: C2SP signed-note v1.0.0, tlog-checkpoint v1.0.0 (no extension lines), and
tlog-cosignature v1.0.1 (Ed25519, key type 0x04).

A signed note is its text (ending in ``\\n``), a blank line, and one signature line per
signature: ``— <key name> <b64(keyid ‖ signature)>\\n`` (U+2014 EM DASH, space). Signature
lines returned here include their final ``\\n``, so a note is
``text + "\\n" + "".join(lines)`` (see :func:`assemble_note`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from unveil.core.encoding import b64decode, b64encode, uint64be
from unveil.core.keys import (
    SIGNATURE_SIZE,
    STATEMENT_KEY,
    WITNESS_KEY,
    SigningKey,
    VerifierKey,
    key_name_problem,
)
from unveil.core.reasons import Reason
from unveil.errors import MalformedInputError, VerificationError

SIGNATURE_PREFIX = "\u2014 "
"""``— `` : em dash U+2014 and a space start every signature line."""
MAX_SIGNATURES = 100
"""Most signature lines accepted in one note (C2SP requires at least 16)."""
MAX_TREE_SIZE = 2**63 - 1
MAX_TIMESTAMP = 2**63 - 1
"""tlog-cosignature: a timestamp MUST NOT exceed 2^63 − 1."""
COSIGNATURE_HEADER = "cosignature/v1\n"

_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_note_chars(text: str, what: str) -> None:
    """Signed notes are valid UTF-8 with no ASCII control character but newline (C2SP)."""
    if _SURROGATE.search(text):
        raise MalformedInputError(f"{what} is not valid UTF-8 (lone surrogate)")
    match = _CONTROL.search(text)
    if match:
        raise MalformedInputError(
            f"{what} contains control character U+{ord(match.group()):04X} (only newline allowed)"
        )


def _check_text(text: str) -> None:
    if not isinstance(text, str):
        raise MalformedInputError("note text must be a string")
    _check_note_chars(text, "note text")
    if not text.endswith("\n"):
        raise MalformedInputError("note text must end in a newline")


def _signature_line(name: str, payload: bytes) -> str:
    return f"{SIGNATURE_PREFIX}{name} {b64encode(payload)}\n"


def parse_signature_line(line: str) -> tuple[str, bytes]:
    """Split ``— <name> <b64>`` (with or without its final ``\\n``) into name and payload.

    The payload (key id and signature) is at least 5 bytes of canonical base64.
    """
    if not isinstance(line, str):
        raise MalformedInputError("a signature line must be a string")
    body = line[:-1] if line.endswith("\n") else line
    shown = body[:120]
    _check_note_chars(body, "signature line")
    if "\n" in body:
        raise MalformedInputError(f"signature line {shown!r} spans several lines")
    if not body.startswith(SIGNATURE_PREFIX):
        raise MalformedInputError(f"signature line {shown!r} does not start with '— '")
    rest = body[len(SIGNATURE_PREFIX) :]
    name, space, encoded = rest.partition(" ")
    if not space:
        raise MalformedInputError(f"signature line {shown!r} is not '— <name> <signature>'")
    problem = key_name_problem(name)
    if problem is not None:
        raise MalformedInputError(f"signature line {shown!r}: {problem}")
    try:
        payload = b64decode(encoded)
    except ValueError as exc:
        raise MalformedInputError(f"signature line {shown!r}: {exc}") from None
    if len(payload) < 5:
        raise MalformedInputError(f"signature line {shown!r}: signature shorter than 5 bytes")
    return name, payload


def assemble_note(text: str, lines: Sequence[str]) -> str:
    """A full signed note: ``text``, a blank line, then the signature lines."""
    _check_text(text)
    if not lines:
        raise ValueError("a signed note has at least one signature line")
    return text + "\n" + "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def sign_note(text: str, key: SigningKey) -> str:
    """The signature line of a 0x01 ``key`` over the note ``text`` (which ends in ``\\n``)."""
    _check_text(text)
    if key.key_type != STATEMENT_KEY:
        raise ValueError(
            f"{key.vkey} is not a type 0x01 key; witnesses cosign with cosign() instead"
        )
    signature = key.sign(text.encode("utf-8"))
    return _signature_line(key.name, key.verifier.key_id + signature)


def open_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """Split a signed note into its text and its ``(key name, payload)`` signatures.

    The text ends at the last blank line; it includes its final newline. At least one and at
    most :data:`MAX_SIGNATURES` signature lines, each well formed, and the note ends in ``\\n``.
    """
    if not isinstance(note, str):
        raise MalformedInputError("a signed note must be a string")
    _check_note_chars(note, "signed note")
    if not note.endswith("\n"):
        raise MalformedInputError("a signed note must end in a newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise MalformedInputError("a signed note needs a blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block:
        raise MalformedInputError("a signed note needs at least one signature line")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedInputError(f"a signed note has more than {MAX_SIGNATURES} signatures")
    return text, [parse_signature_line(line) for line in lines]


def _cosignature_message(body: str, time: int) -> bytes:
    return f"{COSIGNATURE_HEADER}time {time}\n{body}".encode()


def _check_line(verifier: VerifierKey, text: str, payload: bytes) -> int | None:
    """Verify one payload known to be from ``verifier``; the cosignature time, 0, or None."""
    if verifier.key_type == WITNESS_KEY:
        if len(payload) != 4 + 8 + SIGNATURE_SIZE:
            return None
        time = int.from_bytes(payload[4:12], "big")
        if time > MAX_TIMESTAMP:
            return None
        ok = verifier.verify(_cosignature_message(text, time), payload[12:])
        return time if ok else None
    if len(payload) != 4 + SIGNATURE_SIZE:
        return None
    return 0 if verifier.verify(text.encode("utf-8"), payload[4:]) else None


def verify_note(note: str, verifiers: Sequence[VerifierKey]) -> list[VerifierKey]:
    """The ``verifiers`` whose signatures on ``note`` verify, in the order given.

    A signature line belongs to a verifier when both its name and key id match; lines from
    unknown keys are ignored (C2SP signed-note). 0x04 verifiers are checked as tlog
    cosignatures over the note text. Raises :class:`VerificationError` if any known key's
    signature fails (``note-signature-invalid``) or none verifies
    (``note-signature-untrusted``); :class:`MalformedInputError` if the note is malformed.
    """
    text, signatures = open_note(note)
    good: list[VerifierKey] = []
    bad: list[VerifierKey] = []
    for name, payload in signatures:
        for verifier in verifiers:
            if verifier.name != name or verifier.key_id != payload[:4]:
                continue
            target = good if _check_line(verifier, text, payload) is not None else bad
            if verifier not in target:
                target.append(verifier)
    if bad:
        raise VerificationError.because(
            Reason.NOTE_SIGNATURE_INVALID,
            "signature by " + ", ".join(str(v) for v in bad) + " does not verify",
        )
    if not good:
        raise VerificationError.because(
            Reason.NOTE_SIGNATURE_UNTRUSTED, "no signature by a known key on this note"
        )
    return [v for v in verifiers if v in good]


@dataclass(frozen=True)
class Checkpoint:
    """A C2SP tlog-checkpoint v1.0.0 body without extension lines (spec §7).

    ``origin`` must be a valid key name: the board's key name equals the origin.
    """

    origin: str
    size: int
    root: bytes

    def __post_init__(self) -> None:
        problem = key_name_problem(self.origin)
        if problem is not None:
            raise ValueError(f"checkpoint origin: {problem}")
        if type(self.size) is not int or not 0 <= self.size <= MAX_TREE_SIZE:
            raise ValueError(
                f"checkpoint size must be an integer in [0, 2^63−1], got {self.size!r}"
            )
        if not isinstance(self.root, bytes) or len(self.root) != 32:
            raise ValueError("checkpoint root must be 32 bytes")

    def body(self) -> str:
        """``origin\\n<size>\\n<b64 root>\\n``: the note text that is signed."""
        return f"{self.origin}\n{self.size}\n{b64encode(self.root)}\n"

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        """Parse a checkpoint body strictly: exactly three lines, each ending in ``\\n``."""
        if not isinstance(body, str):
            raise MalformedInputError("a checkpoint body must be a string")
        _check_note_chars(body, "checkpoint")
        if not body.endswith("\n"):
            raise MalformedInputError("a checkpoint body must end in a newline")
        lines = body[:-1].split("\n")
        if len(lines) != 3:
            raise MalformedInputError(
                f"a checkpoint has exactly 3 lines (origin, size, root), got {len(lines)};"
                " extension lines are not allowed"
            )
        origin, size_text, root_text = lines
        problem = key_name_problem(origin)
        if problem is not None:
            raise MalformedInputError(f"checkpoint origin: {problem}")
        if _DECIMAL.fullmatch(size_text) is None:
            raise MalformedInputError(
                f"checkpoint size {size_text[:40]!r} is not a decimal without leading zeros"
            )
        size = int(size_text) if len(size_text) <= 19 else MAX_TREE_SIZE + 1  # int() refuses 4300+ digits
        if size > MAX_TREE_SIZE:
            raise MalformedInputError(f"checkpoint size {size_text[:40]} exceeds 2^63−1")
        try:
            root = b64decode(root_text)
        except ValueError as exc:
            raise MalformedInputError(f"checkpoint root: {exc}") from None
        if len(root) != 32:
            raise MalformedInputError(f"checkpoint root is {len(root)} bytes, not 32")
        return cls(origin, size, root)


def cosign(body: str, key: SigningKey, time: int) -> str:
    """A witness cosignature line on checkpoint ``body`` at unix ``time`` (spec §7).

    ``key`` is a witness key (0x04). Signed message:
    ``"cosignature/v1\\ntime <time>\\n" ‖ body``; payload ``keyid ‖ uint64be(time) ‖ sig``.
    """
    if key.key_type != WITNESS_KEY:
        raise ValueError(f"{key.vkey} is not a witness key (type 0x04)")
    if type(time) is not int or not 0 <= time <= MAX_TIMESTAMP:
        raise ValueError(f"cosignature time must be an integer in [0, 2^63−1], got {time!r}")
    Checkpoint.parse(body)
    signature = key.sign(_cosignature_message(body, time))
    return _signature_line(key.name, key.verifier.key_id + uint64be(time) + signature)


def verify_cosignature(body: str, line: str, vkey: VerifierKey) -> int:
    """Verify witness ``vkey``'s cosignature ``line`` on checkpoint ``body``; return its time.

    :class:`MalformedInputError` if ``body`` or ``line`` is malformed;
    :class:`VerificationError` (``cosignature-invalid``) if the line is not a valid
    cosignature by ``vkey`` — including when ``vkey`` is not a witness key (0x04).
    """
    Checkpoint.parse(body)
    name, payload = parse_signature_line(line)

    def fail(detail: str) -> VerificationError:
        return VerificationError.because(Reason.COSIGNATURE_INVALID, f"{detail} (witness {vkey})")

    if vkey.key_type != WITNESS_KEY:
        raise fail("key is not a witness key (type 0x04)")
    if name != vkey.name:
        raise fail(f"line is signed by {name!r}, not {vkey.name!r}")
    if payload[:4] != vkey.key_id:
        raise fail("key id does not match")
    if len(payload) != 4 + 8 + SIGNATURE_SIZE:
        raise fail(f"payload is {len(payload)} bytes, not 76")
    time = _check_line(vkey, body, payload)
    if time is None:
        raise fail("signature does not verify")
    return time
