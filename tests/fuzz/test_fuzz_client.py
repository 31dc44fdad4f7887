"""Fuzzing what the board client reads from a board (spec §7): whatever a board answers (any
status, content type and body, changed as JSON or as bytes), each call returns its value or
raises the project's own error (``BoardError``, MalformedInputError), never another."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.support import fuzz, mutated_text, outcome
from tests.test_board_core import DECL, ESCROW_ID, HOST, T
from unveil.board.events import make_event
from unveil.core.jcs import canonicalize
from unveil.errors import BoardError, MalformedInputError
from unveil.store.board_client import BoardClient

EVENT = make_event("escrow.published", ESCROW_ID, T, {"escrow": DECL.signed}, [HOST])
ENTRY = canonicalize(EVENT)
HASHES = [base64.b64encode(hashlib.sha256(bytes([i])).digest()).decode() for i in range(3)]
ANSWERS: dict[str, Any] = {
    "entries": {"entries": [{"index": 0, "entry": ENTRY.decode()}, {"index": 1, "entry": base64.b64encode(ENTRY).decode()}, {"index": 2, "entry": EVENT}]},
    "entry": {"index": 0, "entry": ENTRY.decode()},
    "submit": {"index": 0, "checkpoint": "board.example\n1\n" + HASHES[0] + "\n\n\u2014 board.example AAAAAAA=\n"},
    "proof": {"proof": HASHES},
    "error": {"error": "refused", "reason": "role-not-allowed", "problems": [{"index": None, "reason": "x"}]},
    "healthz": {"status": "ok", "size": 3},
}
ALLOWED = (BoardError, MalformedInputError)


@st.composite
def answers(draw: st.DrawFn) -> tuple[int, str, bytes]:
    """A board's answer: a status, a content type and a body changed from a real one."""
    status = draw(st.sampled_from([200, 200, 200, 201, 204, 400, 404, 409, 422, 500]))
    content_type = draw(st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", "application/octet-stream", ""]))
    body = draw(st.sampled_from(sorted(ANSWERS)).flatmap(lambda name: mutated_text(ANSWERS[name])) | st.binary(max_size=40) | st.just(ENTRY))
    return status, content_type, body


def client(answer: tuple[int, str, bytes]) -> BoardClient:
    status, content_type, body = answer

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"content-type": content_type} if content_type else {})

    return BoardClient(httpx.Client(transport=httpx.MockTransport(handler), base_url="http://board.test"), page=2)


@fuzz(30)
@given(answers(), st.sampled_from(["healthz", "submit", "checkpoint", "cosign", "entry", "entries", "inclusion", "consistency", "bundle"]))
def test_every_call_on_any_answer(answer: tuple[int, str, bytes], call: str) -> None:
    board = client(answer)
    calls = {
        "healthz": lambda: board.healthz(),
        "submit": lambda: board.submit(EVENT),
        "checkpoint": lambda: board.checkpoint(),
        "cosign": lambda: board.add_cosignature("board.example\n1\n" + HASHES[0] + "\n", "\u2014 w AAAA"),
        "entry": lambda: board.entry(0),
        "entries": lambda: board.entries(0, 3),
        "inclusion": lambda: board.inclusion_proof(0, 3),
        "consistency": lambda: board.consistency_proof(1, 3),
        "bundle": lambda: board.get_bundle(hashlib.sha256(answer[2]).hexdigest()),
    }
    result = outcome(calls[call], allowed=ALLOWED)
    if isinstance(result, BoardError):
        assert result.reason and isinstance(result.status, int)
    elif call == "entries":
        assert len(result) == 3 and all(isinstance(e, bytes) for e in result)
    elif call in ("inclusion", "consistency"):
        assert all(len(h) == 32 for h in result)
    board.close()
