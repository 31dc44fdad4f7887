"""Keys (spec §6), signed statements (§6), signed notes, checkpoints, cosignatures (§7)."""

from __future__ import annotations

import base64
import hashlib
import pickle

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from unveil.core.encoding import b64decode, b64encode, tag, uint64be
from unveil.core.jcs import canonicalize
from unveil.core.keys import (
    STATEMENT_KEY,
    WITNESS_KEY,
    L,
    P,
    SigningKey,
    VerifierKey,
    is_canonical_point,
    key_id,
)
from unveil.core.notes import (
    Checkpoint,
    assemble_note,
    cosign,
    open_note,
    sign_note,
    verify_cosignature,
    verify_note,
)
from unveil.core.statements import (
    check_signatures,
    open_signed,
    sign_statement,
    statement_message,
    trusted_signers,
)
from unveil.errors import MalformedInputError, VerificationError

# Go's golang.org/x/mod/sumdb/note test vector (public).
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY_B64 = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"  # PRIVATE+KEY+PeterNeumann+c74f20a3+…
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_LINE = (
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6R"
    "yyBwJnAM="
)
GO_NOTE = GO_TEXT + "\n" + GO_LINE + "\n"


def seed(n: int) -> bytes:
    return hashlib.sha256(b"test seed %d" % n).digest()


def vkey_string(name: str, key_type: int, public: bytes) -> str:
    """A vkey built by hand, with a correct key id, for any public bytes."""
    kid = hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public).digest()[:4]
    return f"{name}+{kid.hex()}+{base64.b64encode(bytes([key_type]) + public).decode()}"


HOST = SigningKey.generate("Host", STATEMENT_KEY, seed(1))
HOST2 = SigningKey.generate("Host", STATEMENT_KEY, seed(2))
INSPECTOR = SigningKey.generate("Inspector", STATEMENT_KEY, seed(3))
WITNESS = SigningKey.generate("witness.example/w1", WITNESS_KEY, seed(4))
BOARD = SigningKey.generate("board.example/log", STATEMENT_KEY, seed(5))

# ---------------------------------------------------------------- keys


def test_go_vector_vkey_round_trip_and_key_id() -> None:
    key = VerifierKey.parse(GO_VKEY)
    assert key.name == "PeterNeumann"
    assert key.key_type == STATEMENT_KEY
    assert key.key_id.hex() == "c74f20a3"
    assert str(key) == GO_VKEY
    assert key.key_id == key_id("PeterNeumann", 1, key.public)


def test_go_vector_private_key_reproduces_signature_line() -> None:
    raw = b64decode(GO_SKEY_B64)
    assert raw[0] == STATEMENT_KEY
    key = SigningKey.from_private_bytes("PeterNeumann", STATEMENT_KEY, raw[1:])
    assert key.vkey == GO_VKEY
    assert sign_note(GO_TEXT, key) == GO_LINE + "\n"


def test_go_vector_note_verifies() -> None:
    key = VerifierKey.parse(GO_VKEY)
    assert verify_note(GO_NOTE, [key]) == [key]
    text, sigs = open_note(GO_NOTE)
    assert text == GO_TEXT
    assert [name for name, _ in sigs] == ["PeterNeumann"]
    assert key.verify(GO_TEXT.encode(), sigs[0][1][4:])


def test_go_vector_tampered_text_fails() -> None:
    key = VerifierKey.parse(GO_VKEY)
    tampered = GO_NOTE.replace("don't", "do")
    with pytest.raises(VerificationError) as info:
        verify_note(tampered, [key])
    assert info.value.reasons == {"note-signature-invalid"}


def test_go_vector_wrong_key_id_is_unknown_key() -> None:
    key = VerifierKey.parse(GO_VKEY)
    _, sigs = open_note(GO_NOTE)
    payload = bytearray(sigs[0][1])
    payload[0] ^= 0x01
    note = GO_TEXT + "\n\u2014 PeterNeumann " + b64encode(bytes(payload)) + "\n"
    with pytest.raises(VerificationError) as info:
        verify_note(note, [key])
    assert info.value.reasons == {"note-signature-untrusted"}


def test_note_unknown_signer_ignored_but_needs_a_known_one() -> None:
    other = SigningKey.generate("PeterNeumann", STATEMENT_KEY, seed(9))
    note = assemble_note(GO_TEXT, [sign_note(GO_TEXT, other), GO_LINE])
    key = VerifierKey.parse(GO_VKEY)
    assert verify_note(note, [key]) == [key]
    with pytest.raises(VerificationError):
        verify_note(note, [HOST.verifier])


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match"),
        ("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "lowercase hex"),
        ("PeterNeumann+c74f20a3", r"name\+keyid\+key"),
        ("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "empty"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "white space"),
        ("Peter\u3000Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "white space"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T", "base64"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TX", "does not match"),
        ("PeterNeumann+c74f20a3+AB==", "non-canonical"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW=", "base64"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy1A==", "bytes"),
    ],
)
def test_vkey_parse_errors(text: str, fragment: str) -> None:
    with pytest.raises(MalformedInputError, match=fragment):
        VerifierKey.parse(text)


def test_vkey_plus_in_name_splits_at_first_plus() -> None:
    public = HOST.verifier.public
    # A name with '+' cannot be written: the first '+' ends the name, so the rest fails.
    with pytest.raises(MalformedInputError):
        VerifierKey.parse(vkey_string("a+b", 1, public))
    with pytest.raises(ValueError, match=r"'\+'"):
        VerifierKey("a+b", 1, public)


def test_vkey_key_b64_may_contain_plus() -> None:
    # Split at the first two '+' only: base64 of the key may itself contain '+'.
    for i in range(200):
        key = SigningKey.generate("n", STATEMENT_KEY, seed(100 + i)).verifier
        if "+" in str(key).split("+", 2)[2]:
            assert VerifierKey.parse(str(key)) == key
            return
    pytest.fail("no key with '+' in its base64 among 200")


def test_vkey_unknown_type_rejected() -> None:
    public = HOST.verifier.public
    for key_type in (0x00, 0x02, 0x05, 0xFF):
        with pytest.raises(MalformedInputError, match="unknown key type"):
            VerifierKey.parse(vkey_string("Host", key_type, public))
    assert VerifierKey.parse(vkey_string("Host", WITNESS_KEY, public)).key_type == WITNESS_KEY


def test_vkey_round_trip_both_types() -> None:
    for key in (HOST, WITNESS):
        assert VerifierKey.parse(key.vkey) == key.verifier
        assert str(VerifierKey.parse(key.vkey)) == key.vkey


def test_signing_key_round_trip_and_secret_hidden() -> None:
    again = SigningKey.from_private_bytes("Host", STATEMENT_KEY, HOST.private_bytes())
    assert again.vkey == HOST.vkey
    assert again.sign(b"m") == HOST.sign(b"m")
    assert HOST.private_bytes() == seed(1)
    shown = repr(HOST) + str(HOST)
    assert seed(1).hex() not in shown and b64encode(seed(1)) not in shown
    assert HOST.vkey in repr(HOST)
    with pytest.raises(TypeError):
        pickle.dumps(HOST)
    with pytest.raises(ValueError):
        SigningKey.generate("Host", STATEMENT_KEY, b"short")
    with pytest.raises(ValueError):
        SigningKey.generate("Host", 0x02, seed(1))


def test_sign_verify_and_wrong_message() -> None:
    sig = HOST.sign(b"hello")
    assert HOST.verifier.verify(b"hello", sig)
    assert not HOST.verifier.verify(b"hellO", sig)
    assert not HOST2.verifier.verify(b"hello", sig)
    assert not HOST.verifier.verify(b"hello", sig[:63])


IDENTITY = (1).to_bytes(32, "little")  # the neutral point, y = 1, x = 0
# R = identity, S = 0: valid for any message under A = identity (cofactorless RFC 8032).
SMALL_ORDER_SIG = IDENTITY + bytes(32)


def test_non_canonical_public_key_rejected_where_openssl_accepts() -> None:
    non_canonical = [(P + 1).to_bytes(32, "little"), (1 | 1 << 255).to_bytes(32, "little")]
    for public in non_canonical:
        # OpenSSL alone accepts these: the reason for the explicit check (spec §6).
        Ed25519PublicKey.from_public_bytes(public).verify(SMALL_ORDER_SIG, b"any")
        assert not is_canonical_point(public)
        assert not VerifierKey("x", STATEMENT_KEY, public).verify(b"any", SMALL_ORDER_SIG)
        with pytest.raises(MalformedInputError, match="canonical"):
            VerifierKey.parse(vkey_string("x", STATEMENT_KEY, public))
    # The canonical encoding of the same point is accepted by cofactorless RFC 8032 §5.1.7.
    assert VerifierKey("x", STATEMENT_KEY, IDENTITY).verify(b"any", SMALL_ORDER_SIG)


def test_canonical_point_boundaries() -> None:
    assert is_canonical_point((P - 1).to_bytes(32, "little"))
    assert not is_canonical_point(P.to_bytes(32, "little"))
    assert not is_canonical_point((2**255 - 1).to_bytes(32, "little"))
    assert not is_canonical_point(((P - 1) | 1 << 255).to_bytes(32, "little"))
    assert is_canonical_point((2 | 1 << 255).to_bytes(32, "little"))
    assert not is_canonical_point(bytes(31))


def test_s_not_below_l_rejected() -> None:
    sig = HOST.sign(b"msg")
    s = int.from_bytes(sig[32:], "little")
    assert s + L < 2**256
    malleated = sig[:32] + (s + L).to_bytes(32, "little")
    assert HOST.verifier.verify(b"msg", sig)
    assert not HOST.verifier.verify(b"msg", malleated)
    assert not HOST.verifier.verify(b"msg", sig[:32] + L.to_bytes(32, "little"))


def test_non_canonical_r_rejected() -> None:
    # R = identity written as y = p + 1; with A = identity and S = 0 the equation holds.
    r_non_canonical = (P + 1).to_bytes(32, "little")
    assert not is_canonical_point(r_non_canonical)
    key = VerifierKey("x", STATEMENT_KEY, IDENTITY)
    assert key.verify(b"m", SMALL_ORDER_SIG)
    assert not key.verify(b"m", r_non_canonical + bytes(32))
    assert not key.verify(b"m", (1 | 1 << 255).to_bytes(32, "little") + bytes(32))


# ---------------------------------------------------------------- signed statements

STATEMENT = {"type": "unveil/escrow/v1", "escrow_id": "exercise-2019", "host": "Host", "n": 1.5}


def test_statement_message_is_tag_and_jcs() -> None:
    expected = b"unveil/v1/statement\x00" + canonicalize(STATEMENT)
    assert statement_message(STATEMENT) == expected
    assert statement_message(STATEMENT).startswith(tag("unveil/v1/statement"))


def test_signed_statement_round_trip() -> None:
    signed = sign_statement(STATEMENT, [HOST, HOST2])
    statement, sigs = open_signed(signed)
    assert statement == STATEMENT
    assert [s["vkey"] for s in sigs] == [HOST.vkey, HOST2.vkey]
    message = statement_message(STATEMENT)
    assert HOST.verifier.verify(message, b64decode(sigs[0]["sig"]))
    check = check_signatures(statement, sigs, {HOST.vkey, HOST2.vkey}, "Host")
    assert check.trusted_valid == (HOST.vkey, HOST2.vkey)
    assert check.valid and check.problems(escrow=True) == []
    with pytest.raises(ValueError):
        sign_statement(STATEMENT, [WITNESS])


def test_check_signatures_classification() -> None:
    signed = sign_statement(STATEMENT, [HOST, INSPECTOR])
    statement, sigs = signed["statement"], signed["signatures"]
    # Trusted for the host: valid.
    check = check_signatures(statement, sigs, {HOST.vkey}, "Host")
    assert (check.trusted_valid, check.trusted_failed) == ((HOST.vkey,), ())
    assert check.ignored == (INSPECTOR.vkey,)
    # Inspector is trusted but not named after the host: ignored, so untrusted.
    check = check_signatures(statement, sigs, {INSPECTOR.vkey}, "Host")
    assert check.trusted_valid == () and not check.valid
    assert [p.reason for p in check.problems(escrow=True)] == ["escrow-signature-untrusted"]
    assert "host Host" in check.problems()[0].detail
    assert check.problems()[0].index is None
    # No trusted key at all: invalid.
    assert not check_signatures(statement, sigs, set(), "Host").valid


def test_check_signatures_trusted_failure() -> None:
    signed = sign_statement(STATEMENT, [HOST, HOST2])
    sigs = [dict(s) for s in signed["signatures"]]
    sigs[1]["sig"] = b64encode(HOST2.sign(b"something else"))
    check = check_signatures(STATEMENT, sigs, {HOST.vkey, HOST2.vkey}, "Host")
    assert check.trusted_valid == (HOST.vkey,)
    assert check.trusted_failed == (HOST2.vkey,)
    assert not check.valid
    assert [p.reason for p in check.problems()] == ["signature-invalid"]
    # The same bad signature from an untrusted key is ignored.
    check = check_signatures(STATEMENT, sigs, {HOST.vkey}, "Host")
    assert check.valid and check.ignored == (HOST2.vkey,)


@pytest.mark.parametrize("bad_sig", ["not base64!", "", b64encode(bytes(63)), "QQ"])
def test_check_signatures_malformed_sig_by_trusted_key_fails(bad_sig: str) -> None:
    sigs = [{"vkey": HOST.vkey, "sig": bad_sig}]
    check = check_signatures(STATEMENT, sigs, {HOST.vkey}, "Host")
    assert check.trusted_failed == (HOST.vkey,)
    reasons = [p.reason for p in check.problems()]
    assert reasons == ["signature-invalid"]  # a failed trusted signature is reported once


def test_check_signatures_non_canonical_b64_fails() -> None:
    good = sign_statement(STATEMENT, [HOST])["signatures"][0]["sig"]
    raw = b64decode(good)
    # 64 bytes encode to 88 chars ending in "=="; the last data char carries 4 spare bits.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet.index(good[-3])
    mutated = good[:-3] + alphabet[last ^ 1] + "=="
    assert base64.b64decode(mutated) == raw and mutated != good
    check = check_signatures(STATEMENT, [{"vkey": HOST.vkey, "sig": mutated}], {HOST.vkey}, "Host")
    assert check.trusted_failed == (HOST.vkey,)


@pytest.mark.parametrize(
    "sigs",
    [
        "not a list",
        [{"vkey": "x", "sig": "y", "extra": 1}],
        [{"vkey": "x"}],
        [{"vkey": 1, "sig": "y"}],
        [["x", "y"]],
    ],
)
def test_signature_objects_strict(sigs: object) -> None:
    with pytest.raises(MalformedInputError):
        check_signatures(STATEMENT, sigs, {HOST.vkey}, "Host")  # type: ignore[arg-type]


def test_signed_envelope_strict() -> None:
    signed = sign_statement(STATEMENT, [HOST])
    with pytest.raises(MalformedInputError):
        open_signed({**signed, "extra": 1})
    with pytest.raises(MalformedInputError):
        open_signed({"statement": [], "signatures": []})


def test_trusted_signers() -> None:
    signed = sign_statement(STATEMENT, [INSPECTOR, HOST, HOST2])
    signed["signatures"][2]["sig"] = b64encode(HOST2.sign(b"other"))
    signed["signatures"].append({"vkey": "garbage", "sig": "AAAA"})
    assert trusted_signers(signed, "Host") == [HOST.vkey]
    assert trusted_signers(signed, "Inspector") == [INSPECTOR.vkey]
    assert trusted_signers(signed, "Nobody") == []


# ---------------------------------------------------------------- checkpoints

ROOT = hashlib.sha256(b"root").digest()


def test_checkpoint_round_trip() -> None:
    for size in (0, 1, 20852163, 2**63 - 1):
        cp = Checkpoint("board.example/log", size, ROOT)
        body = cp.body()
        assert body == f"board.example/log\n{size}\n{base64.b64encode(ROOT).decode()}\n"
        assert Checkpoint.parse(body) == cp


GOOD_BODY = Checkpoint("board.example/log", 12, ROOT).body()
B64_ROOT = base64.b64encode(ROOT).decode()
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
# Same 32 bytes, a spare bit of the last data character set: non-canonical base64.
B64_ROOT_LOOSE = B64_ROOT[:-2] + _ALPHABET[_ALPHABET.index(B64_ROOT[-2]) ^ 1] + "="
assert base64.b64decode(B64_ROOT_LOOSE) == ROOT and B64_ROOT_LOOSE != B64_ROOT


@pytest.mark.parametrize(
    "body",
    [
        f"board.example/log\n012\n{B64_ROOT}\n",  # leading zero
        f"board.example/log\n00\n{B64_ROOT}\n",
        f"board.example/log\n+12\n{B64_ROOT}\n",
        f"board.example/log\n1_2\n{B64_ROOT}\n",
        f"board.example/log\n\uff11\n{B64_ROOT}\n",  # fullwidth digit
        f"board.example/log\n{2**63}\n{B64_ROOT}\n",
        GOOD_BODY + "extension\n",  # extension line
        GOOD_BODY[:-1],  # missing final newline
        GOOD_BODY + "\n",
        f"board.example/log\n12\n{B64_ROOT[:-1]}\n",  # bad b64
        f"board.example/log\n12\n{base64.b64encode(ROOT[:31]).decode()}\n",  # 31 bytes
        f"board.example/log\n12\n{B64_ROOT_LOOSE}\n",  # non-canonical b64
        f"\n12\n{B64_ROOT}\n",
        f"board example\n12\n{B64_ROOT}\n",
        f"board.example/log\r\n12\n{B64_ROOT}\n",
        "board.example/log\n12\n",
    ],
)
def test_checkpoint_parse_strict(body: str) -> None:
    with pytest.raises(MalformedInputError):
        Checkpoint.parse(body)


def test_checkpoint_note_signed_by_board() -> None:
    note = assemble_note(GOOD_BODY, [sign_note(GOOD_BODY, BOARD)])
    assert note == GOOD_BODY + "\n\u2014 board.example/log " + note.split(" ")[-1]
    text, sigs = open_note(note)
    assert Checkpoint.parse(text).size == 12
    assert verify_note(note, [BOARD.verifier]) == [BOARD.verifier]
    with pytest.raises(VerificationError):
        verify_note(note.replace("\n12\n", "\n13\n"), [BOARD.verifier])


@pytest.mark.parametrize(
    "note",
    [
        GO_TEXT + GO_LINE + "\n",  # no blank line
        GO_TEXT + "\n",  # no signature
        GO_TEXT + "\n" + GO_LINE,  # no final newline
        GO_TEXT + "\n" + GO_LINE.replace("\u2014", "-") + "\n",
        GO_TEXT + "\n" + GO_LINE.replace("PeterNeumann ", "PeterNeumann  ") + "\n",
        GO_TEXT + "\n" + GO_LINE + "\n\n",
        GO_TEXT + "\n" + GO_LINE + "\n" + "\u2014 x AAAA\n",  # payload < 5 bytes
        GO_TEXT.replace("\n", "\t", 1) + "\n" + GO_LINE + "\n",  # control char
        GO_TEXT + "\n" + (GO_LINE + "\n") * 101,
    ],
)
def test_open_note_rejects_malformed(note: str) -> None:
    with pytest.raises(MalformedInputError):
        open_note(note)


def test_sign_note_requirements() -> None:
    with pytest.raises(MalformedInputError):
        sign_note("no newline", BOARD)
    with pytest.raises(ValueError):
        sign_note(GOOD_BODY, WITNESS)


# ---------------------------------------------------------------- cosignatures

TIME = 1679315147


def test_cosignature_round_trip_and_message() -> None:
    line = cosign(GOOD_BODY, WITNESS, TIME)
    assert line.startswith("\u2014 witness.example/w1 ") and line.endswith("\n")
    payload = b64decode(line.split(" ")[-1].strip())
    assert payload[:4] == WITNESS.verifier.key_id
    assert payload[4:12] == uint64be(TIME)
    message = f"cosignature/v1\ntime {TIME}\n".encode() + GOOD_BODY.encode()
    Ed25519PublicKey.from_public_bytes(WITNESS.verifier.public).verify(payload[12:], message)
    assert verify_cosignature(GOOD_BODY, line, WITNESS.verifier) == TIME
    assert verify_cosignature(GOOD_BODY, line.rstrip("\n"), WITNESS.verifier) == TIME
    # In a note, alongside the board's signature.
    note = assemble_note(GOOD_BODY, [sign_note(GOOD_BODY, BOARD), line])
    assert verify_note(note, [BOARD.verifier, WITNESS.verifier]) == [
        BOARD.verifier,
        WITNESS.verifier,
    ]


def test_cosignature_time_changed_fails() -> None:
    line = cosign(GOOD_BODY, WITNESS, TIME)
    payload = bytearray(b64decode(line.split(" ")[-1].strip()))
    payload[4:12] = uint64be(TIME + 1)
    forged = f"\u2014 witness.example/w1 {b64encode(bytes(payload))}\n"
    with pytest.raises(VerificationError) as info:
        verify_cosignature(GOOD_BODY, forged, WITNESS.verifier)
    assert info.value.reasons == {"cosignature-invalid"}


def test_cosignature_body_changed_fails() -> None:
    line = cosign(GOOD_BODY, WITNESS, TIME)
    other = Checkpoint("board.example/log", 13, ROOT).body()
    with pytest.raises(VerificationError):
        verify_cosignature(other, line, WITNESS.verifier)


def test_cosignature_wrong_key_type() -> None:
    with pytest.raises(ValueError, match="witness key"):
        cosign(GOOD_BODY, BOARD, TIME)
    # A 0x01 key with the same public bytes cannot verify a cosignature.
    same_public = VerifierKey("witness.example/w1", STATEMENT_KEY, WITNESS.verifier.public)
    with pytest.raises(VerificationError):
        verify_cosignature(GOOD_BODY, cosign(GOOD_BODY, WITNESS, TIME), same_public)
    # A plain note signature is not a cosignature.
    plain = SigningKey.from_private_bytes("witness.example/w1", STATEMENT_KEY, seed(4))
    with pytest.raises(VerificationError):
        verify_cosignature(GOOD_BODY, sign_note(GOOD_BODY, plain), WITNESS.verifier)


def test_cosignature_other_witness_and_bad_inputs() -> None:
    other = SigningKey.generate("witness.example/w2", WITNESS_KEY, seed(7))
    line = cosign(GOOD_BODY, WITNESS, TIME)
    with pytest.raises(VerificationError):
        verify_cosignature(GOOD_BODY, line, other.verifier)
    with pytest.raises(ValueError):
        cosign(GOOD_BODY, WITNESS, -1)
    with pytest.raises(ValueError):
        cosign(GOOD_BODY, WITNESS, 2**63)
    with pytest.raises(MalformedInputError):
        cosign(GOOD_BODY + "ext\n", WITNESS, TIME)
    with pytest.raises(MalformedInputError):
        verify_cosignature(GOOD_BODY, "- witness.example/w1 AAAAAAAA", WITNESS.verifier)


def test_cosignature_time_above_2_63_rejected() -> None:
    # Even a correctly signed message is refused when the timestamp exceeds 2^63 − 1.
    time = 2**63
    message = f"cosignature/v1\ntime {time}\n".encode() + GOOD_BODY.encode()
    payload = WITNESS.verifier.key_id + uint64be(time) + WITNESS.sign(message)
    line = f"\u2014 witness.example/w1 {b64encode(payload)}\n"
    with pytest.raises(VerificationError):
        verify_cosignature(GOOD_BODY, line, WITNESS.verifier)


def test_canonical_checks_do_not_rely_on_openssl(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a backend that accepts everything, our own checks must still reject."""
    import unveil.core.keys as keys_module

    class AcceptAll:
        @classmethod
        def from_public_bytes(cls, data: bytes) -> AcceptAll:
            return cls()

        def verify(self, signature: bytes, message: bytes) -> None:
            return None

    monkeypatch.setattr(keys_module, "Ed25519PublicKey", AcceptAll)
    key = HOST.verifier
    sig = HOST.sign(b"m")
    assert key.verify(b"m", sig)  # the stub is in place
    s = int.from_bytes(sig[32:], "little")
    assert not key.verify(b"m", sig[:32] + (s + L).to_bytes(32, "little"))
    assert not key.verify(b"m", (P + 1).to_bytes(32, "little") + sig[32:])
    assert not key.verify(b"m", sig + b"\x00")
    bad_key = VerifierKey("x", STATEMENT_KEY, (P + 1).to_bytes(32, "little"))
    assert not bad_key.verify(b"m", sig)


def test_canonical_scalar_boundary() -> None:
    from unveil.core.keys import is_canonical_scalar

    assert is_canonical_scalar((L - 1).to_bytes(32, "little"))
    assert not is_canonical_scalar(L.to_bytes(32, "little"))
    assert not is_canonical_scalar(bytes(31))
