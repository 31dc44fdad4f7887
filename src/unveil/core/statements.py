"""Signed statements (spec §6).

A signed statement is ``{"statement": {…}, "signatures": [{"vkey": "…", "sig": "…b64…"}]}``
with ``sig = Ed25519(sk, TAG("unveil/v1/statement") ‖ JCS(statement))``.

It is valid for a reader only if at least one signature verifies under a key the reader trusts
for the host (a whole-vkey-string match, the key named ``host``), and no signature by such a
key fails. Signatures by other keys are ignored, but their objects must still have exactly the
string fields ``vkey`` and ``sig``.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from unveil.core.encoding import b64decode, b64encode, tag
from unveil.core.envelope import parse_signed, signature_objects
from unveil.core.jcs import canonicalize
from unveil.core.keys import SIGNATURE_SIZE, STATEMENT_KEY, SigningKey, VerifierKey
from unveil.core.reasons import Reason
from unveil.errors import CanonicalizationError, MalformedInputError, Problem

STATEMENT_TAG = tag("unveil/v1/statement")


def statement_message(statement: dict[str, Any]) -> bytes:
    """The signed bytes: ``TAG("unveil/v1/statement") ‖ JCS(statement)`` (spec §6)."""
    if not isinstance(statement, dict):
        raise MalformedInputError("a statement must be a JSON object")
    try:
        return STATEMENT_TAG + canonicalize(statement)
    except CanonicalizationError as exc:
        raise MalformedInputError(f"statement has no canonical form: {exc}") from None


def sign_statement(statement: dict[str, Any], keys: Sequence[SigningKey]) -> dict[str, Any]:
    """Sign ``statement`` with each of ``keys`` (statement keys, type 0x01), in that order."""
    if not keys:
        raise ValueError("a signed statement needs at least one signing key")
    for key in keys:
        if key.key_type != STATEMENT_KEY:
            raise ValueError(f"{key.vkey} is not a statement key (type 0x01)")
    message = statement_message(statement)
    signatures = [{"vkey": key.vkey, "sig": b64encode(key.sign(message))} for key in keys]
    return {"statement": copy.deepcopy(statement), "signatures": signatures}


def open_signed(signed: object) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Check the envelope shape and return ``(statement, signatures)`` (see
    :func:`unveil.core.envelope.parse_signed`); MalformedInputError if it is not one."""
    envelope = parse_signed(signed)
    return envelope.statement, list(envelope.signatures)


def _statement_key(vkey: str, host: str) -> VerifierKey | None:
    """The parsed key if ``vkey`` is a statement key named ``host``, else ``None``."""
    try:
        key = VerifierKey.parse(vkey)
    except MalformedInputError:
        return None
    if key.name != host or key.key_type != STATEMENT_KEY:
        return None
    return key


def signature_problem(key: VerifierKey, message: bytes, sig: str) -> str | None:
    """Why ``sig`` (base64) is not a valid signature by ``key`` on ``message``, or ``None`` (§6)."""
    try:
        raw = b64decode(sig)
    except ValueError:
        return "sig is not canonical base64"
    if len(raw) != SIGNATURE_SIZE:
        return f"sig is {len(raw)} bytes, not 64"
    if not key.verify(message, raw):
        return "signature does not verify"
    return None


@dataclass(frozen=True)
class SignatureCheck:
    """How a statement's signatures fared against the reader's trusted keys (spec §6).

    ``trusted_valid``: vkeys trusted for ``host`` whose signature verifies.
    ``trusted_failed``: vkeys trusted for ``host`` whose signature fails or is malformed,
    with the matching reason in ``failure_details``.
    ``ignored``: every other signature's vkey (unknown, or not a statement key for ``host``).
    """

    host: str
    trusted_valid: tuple[str, ...]
    trusted_failed: tuple[str, ...]
    ignored: tuple[str, ...]
    failure_details: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        """At least one trusted signature verifies and none fails."""
        return bool(self.trusted_valid) and not self.trusted_failed

    def problems(self, *, escrow: bool = False) -> list[Problem]:
        """Bundle-level problems: ``signature-invalid`` per failing trusted signature,
        ``signature-untrusted`` when no signature by a trusted key was found at all (with
        ``escrow``: ``escrow-signature-invalid``, ``escrow-signature-untrusted``)."""
        invalid, untrusted = (
            (Reason.ESCROW_SIGNATURE_INVALID, Reason.ESCROW_SIGNATURE_UNTRUSTED) if escrow
            else (Reason.SIGNATURE_INVALID, Reason.SIGNATURE_UNTRUSTED)
        )
        found: list[Problem] = []
        details = self.failure_details or ("signature does not verify",) * len(
            self.trusted_failed
        )
        for vkey, why in zip(self.trusted_failed, details, strict=True):
            found.append(
                Problem(
                    None,
                    invalid,
                    f"{why}: key {vkey} trusted for host {self.host}",
                )
            )
        if not self.trusted_valid and not self.trusted_failed:
            found.append(
                Problem(
                    None,
                    untrusted,
                    f"no valid signature by a key trusted for host {self.host}",
                )
            )
        return found


def check_signatures(
    statement: dict[str, Any], signatures: list[Any], trusted: Collection[str], host: str
) -> SignatureCheck:
    """Classify each signature on ``statement`` (spec §6).

    A signature is trusted-for-host when its ``vkey`` string is in ``trusted`` and names a
    statement key (type 0x01) called ``host``. Raises :class:`MalformedInputError` if
    ``signatures`` is not a list of objects with exactly the string fields ``vkey``, ``sig``.
    """
    objects = signature_objects(signatures)
    message = statement_message(statement)
    valid: list[str] = []
    failed: list[str] = []
    details: list[str] = []
    ignored: list[str] = []
    for item in objects:
        vkey, sig = item["vkey"], item["sig"]
        key = _statement_key(vkey, host) if vkey in trusted else None
        if key is None:
            ignored.append(vkey)
            continue
        why = signature_problem(key, message, sig)
        if why is None:
            valid.append(vkey)
        else:
            failed.append(vkey)
            details.append(why)
    return SignatureCheck(host, tuple(valid), tuple(failed), tuple(ignored), tuple(details))


def trusted_signers(signed: dict[str, Any], host: str) -> list[str]:
    """Vkeys of statement keys named ``host`` whose signature on this statement verifies.

    For a reader that trusts "the key that signed the escrow under the host's name": the
    result, in signature order without repeats, can be passed as ``trusted`` elsewhere.
    """
    statement, objects = open_signed(signed)
    message = statement_message(statement)
    found: list[str] = []
    for item in objects:
        key = _statement_key(item["vkey"], host)
        if key is None or item["vkey"] in found:
            continue
        if signature_problem(key, message, item["sig"]) is None:
            found.append(item["vkey"])
    return found
