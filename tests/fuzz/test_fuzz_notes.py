"""Fuzzing signed notes, checkpoints, cosignatures and verifier keys (spec §6, §7; C2SP
signed-note, tlog-checkpoint, tlog-cosignature).

Robustness: any text gives a value, a MalformedInputError or (verification) a
VerificationError. Semantics: sign → open → verify round trips, and a changed note, line or
key never verifies.
"""

from __future__ import annotations

import hashlib

from hypothesis import assume, given
from hypothesis import strategies as st

from tests.fuzz.support import fuzz, mutated_numbers, mutated_str, outcome
from unveil.board.witness import read_checkpoint
from unveil.core.keys import STATEMENT_KEY, WITNESS_KEY, SigningKey, VerifierKey, key_name_problem
from unveil.core.notes import (
    MAX_TREE_SIZE,
    Checkpoint,
    assemble_note,
    cosign,
    open_note,
    parse_signature_line,
    sign_note,
    verify_cosignature,
    verify_note,
)
from unveil.errors import MalformedInputError, VerificationError


def _key(name: str, key_type: int = STATEMENT_KEY) -> SigningKey:
    return SigningKey.generate(name, key_type, hashlib.sha256(f"fuzz notes {name} {key_type}".encode()).digest())


BOARD = _key("board.example")
WITNESS = _key("Inspector", WITNESS_KEY)
OTHER = _key("Observer", WITNESS_KEY)
VERIFIERS = [BOARD.verifier, WITNESS.verifier, OTHER.verifier]
BODY = Checkpoint("board.example", 42, hashlib.sha256(b"root").digest()).body()
TIME = 1_547_823_600
NOTE = assemble_note(BODY, [sign_note(BODY, BOARD), cosign(BODY, WITNESS, TIME)])
COSIGNATURE = cosign(BODY, WITNESS, TIME)

any_text = st.text(st.characters(codec=None), max_size=80)
note_like = st.lists(st.sampled_from(["board.example", "42", "9" * 5000, "9223372036854775808", "\n", "\n\n", "\u2014 ", " ", "+", "=", "AAAA", "0", "-1", "\x01", "\ud800", NOTE, BODY]), max_size=12).map("".join)
key_names = st.text(st.characters(codec="utf-8"), min_size=1, max_size=20).filter(lambda n: key_name_problem(n) is None)
note_texts = st.text(st.characters(codec="utf-8", exclude_categories=["Cc"]) | st.just("\n"), max_size=60).map(lambda t: t + "\n")


@fuzz(50)
@given(any_text | note_like)
def test_any_text_as_a_note_a_checkpoint_or_a_signature_line(text: str) -> None:
    outcome(open_note, text)
    outcome(Checkpoint.parse, text)
    outcome(parse_signature_line, text)
    outcome(verify_note, text, VERIFIERS, allowed=(MalformedInputError, VerificationError))
    outcome(verify_cosignature, text, text, WITNESS.verifier, allowed=(MalformedInputError, VerificationError))
    assert read_checkpoint(text) is None or isinstance(read_checkpoint(text), Checkpoint)


@fuzz(50)
@given(mutated_str(NOTE) | mutated_numbers(NOTE.encode()).map(bytes.decode))
def test_a_changed_note_never_verifies_for_another_text(note: str) -> None:
    """A signature binds the note text (spec §7): whatever is changed, either the note is
    malformed, or its text is the signed one, or verification fails."""
    opened = outcome(open_note, note)
    verified = outcome(verify_note, note, VERIFIERS, allowed=(MalformedInputError, VerificationError))
    if isinstance(opened, MalformedInputError):
        assert isinstance(verified, MalformedInputError)
        return
    text, _ = opened
    if text != BODY:
        assert isinstance(verified, VerificationError)
    if not isinstance(verified, (MalformedInputError, VerificationError)):
        assert text == BODY and set(verified) <= set(VERIFIERS)
    checkpoint = read_checkpoint(note)
    assert checkpoint is None or checkpoint.body() == text


@fuzz(30)
@given(mutated_str(COSIGNATURE), st.sampled_from([BODY, BODY.replace("42", "43")]))
def test_a_changed_cosignature_never_verifies(line: str, body: str) -> None:
    result = outcome(verify_cosignature, body, line, WITNESS.verifier, allowed=(MalformedInputError, VerificationError))
    if isinstance(result, int):
        assert body == BODY and line.removesuffix("\n") == COSIGNATURE.removesuffix("\n") and result == TIME


@fuzz(30)
@given(key_names, note_texts, st.sampled_from([STATEMENT_KEY, WITNESS_KEY]), st.binary(min_size=32, max_size=32))
def test_sign_open_verify_round_trip(name: str, text: str, key_type: int, seed: bytes) -> None:
    key = SigningKey.generate(name, key_type, seed)
    if key_type == STATEMENT_KEY:
        note = assemble_note(text, [sign_note(text, key)])
        assert open_note(note)[0] == text
        assert verify_note(note, [key.verifier]) == [key.verifier]
        assert isinstance(outcome(verify_note, note, [_key(name).verifier], allowed=(VerificationError,)), VerificationError)
    assert VerifierKey.parse(key.vkey) == key.verifier and str(key.verifier) == key.vkey


@fuzz(30)
@given(key_names, st.integers(0, MAX_TREE_SIZE), st.binary(min_size=32, max_size=32), st.integers(0, 2**63 - 1))
def test_checkpoint_and_cosignature_round_trip(origin: str, size: int, root: bytes, time: int) -> None:
    checkpoint = Checkpoint(origin, size, root)
    body = checkpoint.body()
    assert Checkpoint.parse(body) == checkpoint
    assert verify_cosignature(body, cosign(body, WITNESS, time), WITNESS.verifier) == time
    note = assemble_note(body, [sign_note(body, BOARD), cosign(body, OTHER, time)])
    assert read_checkpoint(note) == checkpoint
    assert verify_note(note, VERIFIERS) == [BOARD.verifier, OTHER.verifier]


@fuzz(50)
@given(st.sampled_from([k.vkey for k in (BOARD, WITNESS, OTHER)]).flatmap(mutated_str) | any_text)
def test_a_changed_verifier_key_never_parses(text: str) -> None:
    """The key id binds name, type and public key (spec §6): a changed vkey string is refused
    (a random change matching the 4-byte id is a 2^-32 chance)."""
    key = outcome(VerifierKey.parse, text)
    if isinstance(key, VerifierKey):
        assert text in {k.vkey for k in (BOARD, WITNESS, OTHER)} and str(key) == text


@fuzz(15)
@given(st.lists(mutated_str(sign_note(BODY, BOARD).removesuffix("\n")) | st.sampled_from([sign_note(BODY, BOARD).removesuffix("\n")]), min_size=1, max_size=120))
def test_many_signature_lines(lines: list[str]) -> None:
    assume(all("\n" not in line for line in lines))
    note = BODY + "\n" + "".join(line + "\n" for line in lines)
    result = outcome(verify_note, note, VERIFIERS, allowed=(MalformedInputError, VerificationError))
    if len(lines) > 100:
        assert isinstance(result, MalformedInputError)
