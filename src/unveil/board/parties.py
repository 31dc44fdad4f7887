"""The registered parties of a board (``PARTIES.json``) and who wrote an event (spec §6, §7).

``PARTIES.json`` is a JSON array of ``{"name", "role", "vkey", "witness_vkey"}`` objects
(exactly those fields):

- ``role`` is ``host``, ``inspector``, ``observer`` or ``board``; exactly one party is the
  board, whose statement key signs checkpoints (its name is the log's origin);
- ``name`` is a key name (spec §6), unique in the file;
- ``vkey`` is the party's statement key (type 0x01) named ``name``;
- ``witness_vkey`` is ``null`` or its witness key (type 0x04) named ``name`` (spec §7);
- no public key appears twice (spec §6: a key is never shared between names or types).

The parties of every coin draw (spec §8) are, by this project's agreement, every registered
host and inspector (:meth:`Parties.draw_parties`).

Removing a party (or changing its key) after it wrote events makes those events unverifiable
on replay: treat the file as append-only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from unveil.board.protocol import Refused
from unveil.core import shape
from unveil.core.jsonparse import loads
from unveil.core.keys import STATEMENT_KEY, WITNESS_KEY, VerifierKey
from unveil.core.statements import STATEMENT_TAG, signature_problem, statement_message
from unveil.errors import MalformedInputError

if TYPE_CHECKING:
    from unveil.board.events import Event

__all__ = ["HOST", "INSPECTOR", "OBSERVER", "BOARD", "ROLES", "Party", "Parties", "read_parties"]

HOST, INSPECTOR, OBSERVER, BOARD = "host", "inspector", "observer", "board"
ROLES = (HOST, INSPECTOR, OBSERVER, BOARD)


@dataclass(frozen=True)
class Party:
    """One registered party; ``vkey`` and ``witness_vkey`` are whole vkey strings (spec §6)."""

    name: str
    role: str
    vkey: str
    witness_vkey: str | None

    @property
    def statement_key(self) -> VerifierKey:
        return VerifierKey.parse(self.vkey)

    @property
    def witness_key(self) -> VerifierKey | None:
        return VerifierKey.parse(self.witness_vkey) if self.witness_vkey is not None else None

    def to_json(self) -> dict[str, str | None]:
        return {"name": self.name, "role": self.role, "vkey": self.vkey, "witness_vkey": self.witness_vkey}


class Parties:
    """The registered parties, looked up by name and by statement vkey."""

    def __init__(self, parties: list[Party]):
        self._list = list(parties)
        self._by_name = {p.name: p for p in self._list}
        self._by_vkey = {p.vkey: p for p in self._list}
        self._keys = {p.vkey: p.statement_key for p in self._list}
        boards = [p for p in self._list if p.role == BOARD]
        if len(boards) != 1 or len(self._by_name) != len(self._list):
            raise ValueError("parties need unique names and exactly one board")
        self.board: Party = boards[0]

    def __iter__(self) -> Iterator[Party]:
        return iter(self._list)

    def __len__(self) -> int:
        return len(self._list)

    def by_name(self, name: str) -> Party | None:
        return self._by_name.get(name)

    def by_vkey(self, vkey: str) -> Party | None:
        return self._by_vkey.get(vkey)

    def witnesses(self) -> list[Party]:
        """Parties with a witness key, in file order."""
        return [p for p in self._list if p.witness_vkey is not None]

    def draw_parties(self) -> list[Party]:
        """The parties of every draw (spec §8): every registered host and inspector."""
        return [p for p in self._list if p.role in (HOST, INSPECTOR)]

    def author_of(self, event: Event) -> Party | None:
        """The registered party whose statement key validly signed ``event``.

        ``None`` if no signature is by a registered statement key (unknown keys are ignored,
        spec §6). Raises :class:`Refused`: ``signature-invalid`` (403) if a signature by a
        registered key fails, ``author-ambiguous`` (422) if several registered parties signed
        (an event has one author).
        """
        signers: list[Party] = []
        message = STATEMENT_TAG + event.statement_jcs if event.statement_jcs else statement_message(event.statement)
        for signature in event.signatures:
            party = self._by_vkey.get(signature["vkey"])
            if party is None or party in signers:
                continue
            why = signature_problem(self._keys[party.vkey], message, signature["sig"])
            if why is not None:
                raise Refused("signature-invalid", f"{why}: registered key of {party.name}")
            signers.append(party)
        if len(signers) > 1:
            names = ", ".join(p.name for p in signers)
            raise Refused("author-ambiguous", f"signed by several registered parties ({names}): an event has one author")
        return signers[0] if signers else None


def _key(entry: dict[str, object], field: str, where: str, name: str, key_type: int) -> str:
    vkey = shape.string(entry, field, where)  # type: ignore[arg-type]
    try:
        key = VerifierKey.parse(vkey)
    except MalformedInputError as exc:
        raise MalformedInputError(exc.message, where=f"{where}.{field}") from None
    if key.key_type != key_type:
        raise MalformedInputError(f"expected a type 0x{key_type:02x} key, found 0x{key.key_type:02x}", where=f"{where}.{field}")
    if key.name != name:
        raise MalformedInputError(f"the key is named {key.name!r}, not {name!r}", where=f"{where}.{field}")
    return vkey


def read_parties(data: bytes, source: str = "PARTIES.json") -> Parties:
    """Read ``PARTIES.json``; :class:`MalformedInputError` naming ``source``, the array index
    and the field (e.g. ``PARTIES.json: [2].witness_vkey: the key is named 'X', not 'Y'``)."""
    doc = loads(data, source=source)
    if type(doc) is not list:
        raise MalformedInputError(f"expected an array, found {shape.json_type(doc)}", source=source)
    parties: list[Party] = []
    names: set[str] = set()
    publics: set[bytes] = set()
    try:
        for i, entry in enumerate(doc):
            where = f"[{i}]"
            shape.fields(entry, where, ("name", "role", "vkey", "witness_vkey"))
            name = shape.string(entry, "name", where)
            role = shape.string(entry, "role", where)
            if role not in ROLES:
                raise MalformedInputError(f"role {role[:40]!r} is not one of {', '.join(ROLES)}", where=f"{where}.role")
            if name in names:
                raise MalformedInputError(f"name {name[:80]!r} is used twice", where=f"{where}.name")
            vkey = _key(entry, "vkey", where, name, STATEMENT_KEY)
            witness = None if entry["witness_vkey"] is None else _key(entry, "witness_vkey", where, name, WITNESS_KEY)
            for field, value in (("vkey", vkey), ("witness_vkey", witness)):
                if value is None:
                    continue
                public = VerifierKey.parse(value).public
                if public in publics:
                    raise MalformedInputError("this public key is already registered (spec §6: keys are never shared)", where=f"{where}.{field}")
                publics.add(public)
            names.add(name)
            parties.append(Party(name, role, vkey, witness))
        boards = [i for i, p in enumerate(parties) if p.role == BOARD]
        if len(boards) != 1:
            raise MalformedInputError(f"exactly one party has role board, found {len(boards)}")
    except MalformedInputError as exc:
        raise exc.within(source) from None
    return Parties(parties)
