"""Salts, leaves and sealed totals (spec §3, §4).

    salt(c)       = HMAC(K, TAG("unveil/v1/salt") ‖ escrow_id ‖ 0x00 ‖ c)
    leaf(c)       = SHA256(TAG("unveil/v1/cell") ‖ salt(c) ‖ JCS(content(c)))
    sealed_totals = SHA256(TAG("unveil/v1/totals") ‖ salt("#totals") ‖ JCS(totals))

:class:`Salter` computes HMAC-SHA256 with the key pads and the constant message prefix
absorbed once, so each salt costs two short hash updates; it is tested against
``hmac.new``. The master secret ``K`` is the dangerous part: it never leaves the host's
workspace (see docs/security.md).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Iterable, Mapping, Sequence

from unveil.core.encoding import tag
from unveil.core.jcs import canonicalize

SALT_TAG = tag("unveil/v1/salt")
CELL_TAG = tag("unveil/v1/cell")
TOTALS_TAG = tag("unveil/v1/totals")
TOTALS_NAME = "#totals"
MASTER_SECRET_BYTES = 32

_sha256 = hashlib.sha256
_CELL_PREFIX = _sha256(CELL_TAG)


class Salter:
    """Per-escrow salt derivation from the host's master secret (spec §3)."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, master_secret: bytes, escrow_id: str):
        if len(master_secret) != MASTER_SECRET_BYTES:
            raise ValueError("the master secret must be 32 bytes")
        block = master_secret.ljust(64, b"\x00")
        self._inner = _sha256(bytes(b ^ 0x36 for b in block) + SALT_TAG + escrow_id.encode("utf-8") + b"\x00")
        self._outer = _sha256(bytes(b ^ 0x5C for b in block))

    def __repr__(self) -> str:
        return "Salter(<secret>)"

    def salt(self, name: str) -> bytes:
        """``salt(name)`` for a cell id, or :data:`TOTALS_NAME` for the sealed totals."""
        inner = self._inner.copy()
        inner.update(name.encode("utf-8"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


def empty_content_jcs(cell: str) -> bytes:
    """``JCS({"cell": c, "sites": []})`` for an id-shaped cell (no characters to escape)."""
    return b'{"cell":"' + cell.encode("ascii") + b'","sites":[]}'


def content_jcs(content: Mapping[str, Any]) -> bytes:
    if content.get("sites") == [] and len(content) == 2:
        cell = content["cell"]
        if isinstance(cell, str) and cell.isascii() and '"' not in cell and "\\" not in cell and cell.isprintable():
            return empty_content_jcs(cell)
    return canonicalize(content)


def leaf(salt: bytes, content: Mapping[str, Any]) -> bytes:
    """``leaf(c)`` (spec §3)."""
    h = _CELL_PREFIX.copy()
    h.update(salt)
    h.update(content_jcs(content))
    return h.digest()


_NOT_PLAIN = re.compile(r'[^ -~]|["\\]')  # anything JSON would escape, or non-ASCII


def contents_jcs(contents: Sequence[Mapping[str, Any]]) -> list[bytes]:
    """``JCS(content)`` for many contents: empty cells of plain ids are written directly
    (checked all at once), everything else through :func:`content_jcs`."""
    bodies: list[bytes | None] = [
        b'{"cell":"' + c["cell"].encode() + b'","sites":[]}' if len(c) == 2 and c.get("sites") == [] and type(c["cell"]) is str else None
        for c in contents
    ]
    plain = "".join([c["cell"] for c, b in zip(contents, bodies, strict=True) if b is not None])
    if _NOT_PLAIN.search(plain):
        return [content_jcs(c) for c in contents]
    return [content_jcs(c) if b is None else b for c, b in zip(contents, bodies, strict=True)]


def leaves_of(salts: Sequence[bytes], contents: Sequence[Mapping[str, Any]]) -> list[bytes]:
    """``leaf(c)`` for many opened cells at once: the same formula as :func:`leaf`."""
    return [_sha256(CELL_TAG + salt + body).digest() for salt, body in zip(salts, contents_jcs(contents), strict=True)]


def leaves_for(
    salter: Salter, cells: Iterable[str], contents: Mapping[str, Mapping[str, Any]], *, intel: bool = False
) -> bytes:
    """The concatenated leaves of ``cells`` in order; cells absent from ``contents`` are empty
    (``{"cell": c, "sites": []}``, or ``"suspects"`` for an intel escrow, spec §9)."""
    out = bytearray()
    prefix = _CELL_PREFIX
    salt_of = salter.salt
    get = contents.get
    for cell in cells:
        h = prefix.copy()
        h.update(salt_of(cell))
        content = get(cell)
        if content is None:
            content = {"cell": cell, "suspects": []} if intel else None
        h.update(empty_content_jcs(cell) if content is None else content_jcs(content))
        out += h.digest()
    return bytes(out)


def leaves_and_hashes(
    salter: Salter, cells: Iterable[str], contents: Mapping[str, Mapping[str, Any]], *, intel: bool = False
) -> tuple[bytes, bytes]:
    """:func:`leaves_for` and the RFC 9162 leaf hash ``SHA256(0x00 ‖ leaf)`` of each, in one
    pass with the salt's HMAC inlined: the commit's inner loop, about five hash calls a cell
    and little else (tested equal to :func:`leaves_for` and :func:`Salter.salt`)."""
    inner0, outer0, prefix, sha = salter._inner, salter._outer, _CELL_PREFIX, _sha256
    leaves: list[bytes] = []
    hashes: list[bytes] = []
    add_leaf, add_hash = leaves.append, hashes.append
    get = contents.get if contents else None
    for cell in cells:
        name = cell.encode("utf-8")
        inner = inner0.copy()
        inner.update(name)
        outer = outer0.copy()
        outer.update(inner.digest())
        h = prefix.copy()
        h.update(outer.digest())
        content = get(cell) if get is not None else None
        if content is None and intel:
            content = {"cell": cell, "suspects": []}
        h.update(b'{"cell":"' + cell.encode("ascii") + b'","sites":[]}' if content is None else content_jcs(content))
        leaf_value = h.digest()
        add_leaf(leaf_value)
        add_hash(sha(b"\x00" + leaf_value).digest())
    return b"".join(leaves), b"".join(hashes)


def sealed_totals(totals_salt: bytes, totals: Mapping[str, Any]) -> bytes:
    """``sealed_totals`` (spec §4) from the ``#totals`` salt and the totals object."""
    return _sha256(TOTALS_TAG + totals_salt + canonicalize(totals)).digest()
