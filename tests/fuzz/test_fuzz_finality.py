"""Fuzzing what a reader is shown about finality and another party's view (spec §7): a witness's
cosigned checkpoint (:func:`unveil.board.finality.credit`) and a checkpoint file's bytes.

Robustness: any note text is credited or voided with one problem (a VerificationError), never
another exception; any file bytes are read as a checkpoint or refused naming the file.
Semantics: a changed character of a valid cosigned checkpoint never credits more than it did.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.support import fuzz, outcome
from tests.test_finality import ENTRIES, HOST_W, PARTIES, TREE, cosigned
from unveil.board.finality import Claim, credit
from unveil.core.notes import Checkpoint
from unveil.errors import MalformedInputError, VerificationError
from unveil.workspace.checkpoints import MAX_FILE, read_checkpoint_file

GOOD = cosigned(HOST_W, 5).note
pieces = st.sampled_from(["finality.example", "5", "6", "9" * 30, "\n", "\n\n", "\u2014 ", "\u2014 Host ", " ", "AAAA", "=", "\x00", GOOD, GOOD[:60]])
notes = st.lists(pieces, max_size=10).map("".join) | st.text(max_size=120)


@fuzz(60)
@given(notes, st.sampled_from(["Host", "Inspector", "finality.example", "Mallory", ""]), st.none() | st.integers(-1, 12))
def test_any_note_is_credited_or_voided_with_a_reason(note: str, witness: str, size: int | None) -> None:
    got = outcome(credit, Claim(witness, note, size), PARTIES, TREE, allowed=(VerificationError,))
    assert isinstance(got, VerificationError) or 0 <= got <= TREE.size


@fuzz(60)
@given(st.integers(0, len(GOOD) - 1), st.characters(codec="utf-8"))
def test_a_changed_character_never_credits_more(at: int, char: str) -> None:
    changed = GOOD[:at] + char + GOOD[at + 1 :]
    got = outcome(credit, Claim("Host", changed, None), PARTIES, TREE, allowed=(VerificationError,))
    assert changed == GOOD or isinstance(got, VerificationError) or got <= 5
    assert credit(Claim("Host", GOOD, 5), PARTIES, TREE) == 5 == len(ENTRIES[:5])


@fuzz(60)
@given(st.binary(max_size=300) | notes.map(str.encode) | st.just(b"x" * (MAX_FILE + 1)))
def test_any_bytes_as_a_checkpoint_file(data: bytes) -> None:
    got = outcome(read_checkpoint_file, data, "their.checkpoint", names="their.checkpoint")
    if not isinstance(got, MalformedInputError):
        note, checkpoint = got
        assert isinstance(checkpoint, Checkpoint) and note.encode() == data and len(data) <= MAX_FILE
