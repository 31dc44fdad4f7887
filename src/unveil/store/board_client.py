"""A client of the board's HTTP API (spec §7): :class:`BoardClient`.

One typed method per endpoint; every answer is checked before it is returned (shapes, b64,
32-byte proof hashes, the SHA-256 of a fetched bundle), so callers get bytes and ints, never
raw JSON. Any failure raises :class:`~unveil.errors.BoardError` carrying the HTTP ``status``
(0 when the board could not be reached), the board's ``reason`` code (as the board sent it: a
plain string) and its message:

=================== ===========================================================================
reason              meaning
=================== ===========================================================================
*the board's code*  the board refused the request (``statement-conflict``, ``role-not-allowed``,
                    ``range-invalid``…: :mod:`unveil.board.protocol`), with its message
unreachable         no HTTP answer (connection refused, DNS, timeout)
response-invalid    the board answered something this client cannot accept (not JSON, a
                    missing field, a non-canonical b64 hash, a bundle whose bytes do not hash
                    to the name asked for, entries out of order)
http-error          an error status without the board's ``{"error", "reason"}`` body
=================== ===========================================================================

HTTP contract (spec §11): ``POST /entries``, ``PUT|GET /bundles/{sha256}``, ``GET /checkpoint``,
``POST /cosignatures``, ``GET /checkpoints/cosigned``, ``GET /entries/{index}``, ``GET /entries?start=&end=`` (end exclusive,
pages may be shorter than asked: :meth:`BoardClient.entries` loops), ``GET
/proofs/inclusion?index=&size=``, ``GET /proofs/consistency?from=&to=``, ``GET /healthz``.

An entry may come back as the JCS text of the envelope, as b64 of its bytes, or as the parsed
envelope (then re-encoded with JCS, which is what the log holds, spec §7): reading those forms,
and each entry's exact text out of a page, is :mod:`unveil.store.board_entries`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from unveil.core.encoding import b64decode, is_hex32
from unveil.core.jcs import canonicalize
from unveil.core.jsonparse import loads
from unveil.core.reasons import Reason
from unveil.errors import BoardError, CanonicalizationError, MalformedInputError
from unveil.store.board_entries import RawEntry, decode_entry, raw_entries
from unveil.store.board_entries import invalid as _invalid

__all__ = ["BoardClient", "CosignedCheckpoint", "Submitted"]

HASH_SIZE = 32
COSIGNED_MAX = 1000
"""Most witnesses accepted in one ``GET /checkpoints/cosigned`` answer (each is a registered
party: a board registers far fewer)."""


@dataclass(frozen=True)
class Submitted:
    """The board's receipt for an event: its ``index``, the checkpoint note (board-signed)
    that includes it, and whether this request added it (``False``: a byte-identical repeat)."""

    index: int
    checkpoint: str
    created: bool


@dataclass(frozen=True)
class CosignedCheckpoint:
    """One row of ``GET /checkpoints/cosigned`` (spec §11), as served and not yet verified:
    ``witness``'s largest cosigned checkpoint on the board, of ``size``, as ``note`` (the
    board-signed note followed by the witness's cosignature line). A reader verifies it
    (:func:`unveil.board.finality.credit`)."""

    witness: str
    size: int
    note: str


def _error_of(response: httpx.Response) -> BoardError:
    """The :class:`BoardError` of an error answer: the board's ``{"error": message, "reason":
    code}`` (plus ``problems`` when it checked a reveal file), else ``http-error``."""
    status = response.status_code
    try:
        doc = loads(response.content, source="board answer")
    except MalformedInputError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("reason"), str) and isinstance(doc.get("error"), str):
        problems = doc.get("problems")
        kept = tuple(p for p in problems if isinstance(p, dict)) if isinstance(problems, list) else ()
        return BoardError(status, doc["reason"], doc["error"], problems=kept)
    text = response.text.strip()[:300] or response.reason_phrase
    return BoardError(status, Reason.HTTP_ERROR, text)


def _b64_hashes(values: Any, status: int, what: str) -> list[bytes]:
    if type(values) is not list:
        raise _invalid(status, f"{what}: expected a list of b64 hashes")
    out = []
    for i, value in enumerate(values):
        try:
            raw = b64decode(value) if isinstance(value, str) else None
        except ValueError:
            raw = None
        if raw is None or len(raw) != HASH_SIZE:
            raise _invalid(status, f"{what}[{i}] is not the b64 of a 32-byte hash")
        out.append(raw)
    return out


def _integer(doc: dict[str, Any], name: str, status: int, what: str) -> int:
    value = doc.get(name)
    if type(value) is not int or value < 0:
        raise _invalid(status, f"{what}: {name!r} is not a non-negative integer")
    return value


class BoardClient:
    """The board at ``board``: a base URL (``http(s)://host[:port][/prefix]``), or an
    ``httpx.Client`` already pointed at it (e.g. a ``fastapi.testclient.TestClient``, whose
    transport runs the app in process). Close with :meth:`close` or use it as a context
    manager; a client passed in is left open."""

    def __init__(self, board: str | httpx.Client, *, timeout: float = 30.0, page: int = 1000):
        if isinstance(board, httpx.Client):
            self._http, self._owned = board, False
        else:
            if not isinstance(board, str) or not re.match(r"https?://[^/\s]+", board):
                raise MalformedInputError(f"{str(board)[:200]!r} is not an http(s) URL", where="--board")
            self._http, self._owned = httpx.Client(base_url=board, timeout=timeout, follow_redirects=False), True
        self.page = page

    def close(self) -> None:
        if self._owned:
            self._http.close()

    def __enter__(self) -> BoardClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        return str(self._http.base_url)

    # --- plumbing --------------------------------------------------------------------------

    def _send(self, method: str, path: str, *, ok: tuple[int, ...] = (200,), **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise BoardError(0, Reason.UNREACHABLE, f"{method} {self.url.rstrip('/')}{path}: {exc}") from None
        if response.status_code not in ok:
            raise _error_of(response)
        return response

    @staticmethod
    def _json(response: httpx.Response, what: str) -> dict[str, Any]:
        try:
            doc = loads(response.content, source=what)
        except MalformedInputError as exc:
            raise _invalid(response.status_code, str(exc)) from None
        if not isinstance(doc, dict):
            raise _invalid(response.status_code, f"{what}: expected a JSON object")
        return doc

    # --- endpoints -------------------------------------------------------------------------

    def healthz(self) -> dict[str, Any]:
        """``GET /healthz``: the board's health object (raises unless it answers 200)."""
        response = self._send("GET", "/healthz")
        try:
            doc = loads(response.content, source="/healthz")
        except MalformedInputError:
            return {"status": response.text.strip()}
        return doc if isinstance(doc, dict) else {"status": doc}

    def submit(self, envelope: dict[str, Any] | bytes) -> Submitted:
        """``POST /entries`` a signed event envelope (sent as its JCS bytes when given as JSON)."""
        if isinstance(envelope, (bytes, bytearray)):
            content = bytes(envelope)
        else:
            try:
                content = canonicalize(envelope)
            except CanonicalizationError as exc:
                raise MalformedInputError(f"the event has no canonical form: {exc}") from None
        response = self._send("POST", "/entries", ok=(200, 201), content=content, headers={"content-type": "application/json"})
        doc = self._json(response, "POST /entries")
        index = _integer(doc, "index", response.status_code, "POST /entries")
        note = doc.get("checkpoint")
        if not isinstance(note, str):
            raise _invalid(response.status_code, "POST /entries: 'checkpoint' is not a note")
        return Submitted(index, note, response.status_code == 201)

    def put_bundle(self, data: bytes) -> str:
        """``PUT /bundles/{sha256}`` the exact bytes of a reveal file; return the SHA-256 hex."""
        sha = hashlib.sha256(data).hexdigest()
        self._send("PUT", f"/bundles/{sha}", ok=(200, 201, 204), content=data, headers={"content-type": "application/octet-stream"})
        return sha

    def put_cells(self, data: bytes) -> tuple[str, bool]:
        """``PUT /cells/{sha256}`` a published escrow's ``cells.txt``; its SHA-256 hex and whether
        this call stored it (``False``: the board held it already)."""
        sha = hashlib.sha256(data).hexdigest()
        response = self._send("PUT", f"/cells/{sha}", ok=(200, 201), content=data, headers={"content-type": "text/plain"})
        return sha, response.status_code == 201

    def get_cells(self, sha256_hex: str) -> bytes | None:
        """``GET /cells/{sha256}``: the ``cells.txt``, checked against its name; ``None`` on 404."""
        if not is_hex32(sha256_hex):
            raise MalformedInputError(f"{sha256_hex[:80]!r} is not 64 lowercase hex digits", where="sha256")
        response = self._send("GET", f"/cells/{sha256_hex}", ok=(200, 404))
        if response.status_code == 404:
            return None
        data = response.content
        if hashlib.sha256(data).hexdigest() != sha256_hex:
            raise _invalid(200, f"GET /cells/{sha256_hex}: the bytes served hash to {hashlib.sha256(data).hexdigest()}")
        return data

    def get_bundle(self, sha256_hex: str) -> bytes | None:
        """``GET /bundles/{sha256}``: the file, checked against its name; ``None`` on 404."""
        if not is_hex32(sha256_hex):
            raise MalformedInputError(f"{sha256_hex[:80]!r} is not 64 lowercase hex digits", where="sha256")
        response = self._send("GET", f"/bundles/{sha256_hex}", ok=(200, 404))
        if response.status_code == 404:
            return None
        data = response.content
        if hashlib.sha256(data).hexdigest() != sha256_hex:
            raise _invalid(200, f"GET /bundles/{sha256_hex}: the bytes served hash to {hashlib.sha256(data).hexdigest()}")
        return data

    def checkpoint(self) -> str:
        """``GET /checkpoint``: the latest checkpoint note with its cosignature lines (unverified:
        check it with :func:`unveil.core.notes.verify_note`)."""
        response = self._send("GET", "/checkpoint")
        try:
            return response.content.decode("utf-8")
        except UnicodeDecodeError:
            raise _invalid(200, "GET /checkpoint: the note is not UTF-8") from None

    def cosigned(self) -> list[CosignedCheckpoint]:
        """``GET /checkpoints/cosigned``: each witness's largest cosigned checkpoint, checked for
        shape only (``{"cosigned": [{"witness": string, "size": integer ≥ 0, "note": string}]}``,
        exactly those fields, each witness once, at most :data:`COSIGNED_MAX`); the signatures
        are the reader's to verify."""
        response = self._send("GET", "/checkpoints/cosigned")
        doc = self._json(response, "GET /checkpoints/cosigned")
        rows = doc.get("cosigned")
        if set(doc) != {"cosigned"} or type(rows) is not list:
            raise _invalid(200, "GET /checkpoints/cosigned: expected {'cosigned': [...]}")
        if len(rows) > COSIGNED_MAX:
            raise _invalid(200, f"GET /checkpoints/cosigned: {len(rows)} rows, more than {COSIGNED_MAX}")
        found: list[CosignedCheckpoint] = []
        for i, row in enumerate(rows):
            what = f"GET /checkpoints/cosigned: cosigned[{i}]"
            if type(row) is not dict or set(row) != {"witness", "size", "note"}:
                raise _invalid(200, f"{what} is not {{'witness', 'size', 'note'}}")
            if type(row["witness"]) is not str or type(row["note"]) is not str:
                raise _invalid(200, f"{what}: 'witness' and 'note' must be strings")
            size = _integer(row, "size", 200, what)
            if any(c.witness == row["witness"] for c in found):
                raise _invalid(200, f"{what}: witness {row['witness'][:80]!r} is listed twice")
            found.append(CosignedCheckpoint(row["witness"], size, row["note"]))
        return found

    def add_cosignature(self, body: str, line: str) -> dict[str, Any]:
        """``POST /cosignatures`` ``{"checkpoint": body, "line": line}``; the board's answer."""
        response = self._send("POST", "/cosignatures", ok=(200, 201), json={"checkpoint": body, "line": line})
        try:
            doc = loads(response.content, source="POST /cosignatures") if response.content else {}
        except MalformedInputError:
            doc = {}
        return doc if isinstance(doc, dict) else {}

    def entry(self, index: int) -> bytes:
        """``GET /entries/{index}``: the entry bytes (``JCS(envelope)``)."""
        response = self._send("GET", f"/entries/{int(index)}")
        content_type = response.headers.get("content-type", "")
        if not content_type.startswith("application/json"):
            return response.content  # the raw entry bytes
        try:
            doc = loads(response.content, source=f"GET /entries/{index}")
        except MalformedInputError as exc:
            raise _invalid(200, str(exc)) from None
        if isinstance(doc, dict) and "entry" in doc:
            if "index" in doc and doc["index"] != index:
                raise _invalid(200, f"GET /entries/{index}: the board answered entry {doc['index']!r}")
            return decode_entry(doc["entry"], 200, f"entry {index}")
        if isinstance(doc, dict) and "statement" in doc:
            return response.content  # the envelope itself: its exact logged bytes
        raise _invalid(200, f"GET /entries/{index}: expected {{'index', 'entry'}}")

    def iter_entries(self, start: int, end: int) -> Iterator[tuple[int, bytes]]:
        """``GET /entries?start=&end=`` page after page: ``(index, entry)`` for ``start .. end-1``."""
        if not 0 <= start <= end:
            raise ValueError(f"bad range [{start}, {end})")
        at = start
        while at < end:
            stop = min(end, at + self.page)
            response = self._send("GET", "/entries", params={"start": at, "end": stop})
            doc = self._json(response, "GET /entries")
            rows = doc.get("entries")
            if type(rows) is not list:
                raise _invalid(200, "GET /entries: 'entries' is not a list")
            raws = raw_entries(response.content.decode("utf-8"))  # it parsed: it is UTF-8
            if raws is not None and len(raws) == len(rows):
                rows = [{"index": index, "entry": RawEntry(text)} for index, text in raws]
            if not rows:
                raise _invalid(200, f"GET /entries: no entry returned for [{at}, {stop})")
            if len(rows) > stop - at:
                raise _invalid(200, f"GET /entries: {len(rows)} entries returned for [{at}, {stop})")
            for row in rows:
                if not isinstance(row, dict) or "entry" not in row:
                    raise _invalid(200, "GET /entries: a row is not {'index', 'entry'}")
                if row.get("index") != at:
                    raise _invalid(200, f"GET /entries: entry {row.get('index')!r} where {at} was due")
                yield at, decode_entry(row["entry"], 200, f"entry {at}")
                at += 1

    def entries(self, start: int, end: int) -> list[bytes]:
        """Entries ``start .. end-1`` (every page fetched)."""
        return [entry for _, entry in self.iter_entries(start, end)]

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """``GET /proofs/inclusion?index=&size=``: the RFC 9162 audit path (32-byte hashes)."""
        response = self._send("GET", "/proofs/inclusion", params={"index": index, "size": size})
        doc = self._json(response, "GET /proofs/inclusion")
        return _b64_hashes(doc.get("proof"), 200, "inclusion proof")

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        """``GET /proofs/consistency?from=&to=``: the RFC 9162 consistency proof."""
        response = self._send("GET", "/proofs/consistency", params={"from": size1, "to": size2})
        doc = self._json(response, "GET /proofs/consistency")
        return _b64_hashes(doc.get("proof"), 200, "consistency proof")
