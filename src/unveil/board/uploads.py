"""Which reveal files a board stores (spec §11): signed by a registered party, checked cheaply first.

A board stores an uploaded reveal file only if it is a signed reveal bundle (spec §5, §6) with a
valid signature by a registered party's statement key and no failing one; anything else is
refused before it takes any room (so anonymous uploads cannot fill a board).

- :func:`names_a_registered_key` is the cheap first test, a byte search: a file in which no
  registered statement key is written cannot carry that key's signature, unless the key's
  characters are written as JSON escapes, so a file holding a backslash always passes on to the
  full check. Refusing on it is sound: it refuses only files :func:`check_upload` refuses.
- :func:`check_upload` is the full check: strict parse (spec §0), the signed-statement shape,
  ``type`` ``unveil/reveal/v1``, the signatures. The costly part (parsing and canonicalizing up
  to the upload limit), so a server runs it away from its event loop and its log.

Both are pure functions of the bytes and the registered keys. Which escrow, phase and openings
the file reveals is checked when a ``reveal.published`` entry names it (spec §7).
"""

from __future__ import annotations

from collections.abc import Sequence

from unveil.core.envelope import parse_signed
from unveil.core.jsonparse import loads
from unveil.core.keys import VerifierKey
from unveil.core.reasons import Reason
from unveil.core.reveal import REVEAL_TYPE
from unveil.core.statements import signature_problem, statement_message
from unveil.errors import BoardRefused, MalformedInputError

__all__ = ["check_upload", "names_a_registered_key", "upload_refusal"]

SOURCE = "reveal file"


def names_a_registered_key(data: bytes, vkeys: Sequence[str]) -> bool:
    """False only if ``data`` cannot hold a signature by any of ``vkeys`` (see the module docstring)."""
    return b"\\" in data or any(vkey.encode() in data for vkey in vkeys)


def _unsigned(message: str) -> BoardRefused:
    return BoardRefused(Reason.UPLOAD_UNSIGNED, message)


def check_upload(data: bytes, vkeys: Sequence[str]) -> None:
    """Refuse ``data`` unless it is a reveal file a board stores (spec §11), signed by one of
    ``vkeys`` (the registered statement keys). Raises :class:`MalformedInputError` for a file that
    is not a signed reveal bundle, :class:`BoardRefused` (``upload-unsigned``) for one that no
    registered key validly signed, or that a registered key's signature fails on."""
    if not names_a_registered_key(data, vkeys):
        raise _unsigned("the file names no registered statement key: it carries no registered party's signature")
    signed = parse_signed(loads(data, source=SOURCE))
    if signed.statement.get("type") != REVEAL_TYPE:
        raise MalformedInputError(f"statement.type must be {REVEAL_TYPE!r}", source=SOURCE)
    registered = set(vkeys)
    message: bytes | None = None
    verified = False
    for i, signature in enumerate(signed.signatures):
        if signature["vkey"] not in registered:
            continue  # signatures by unknown keys are ignored (spec §6)
        message = message if message is not None else statement_message(signed.statement)
        why = signature_problem(VerifierKey.parse(signature["vkey"]), message, signature["sig"])
        if why is not None:
            raise _unsigned(f"signatures[{i}]: {why}: registered key {signature['vkey']}")
        verified = True
    if not verified:
        raise _unsigned("no signature by a registered party's statement key")


def upload_refusal(data: bytes, vkeys: Sequence[str]) -> tuple[str, str] | None:
    """:func:`check_upload` as plain data, for another process: ``None`` if ``data`` is
    storable, else ``(reason, message)`` (``malformed`` for a file that cannot be read)."""
    try:
        check_upload(data, vkeys)
    except BoardRefused as refused:
        return str(refused.reason), refused.message
    except MalformedInputError as exc:
        return str(Reason.MALFORMED), str(exc)
    return None
