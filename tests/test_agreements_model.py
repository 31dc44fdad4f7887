"""The agreement document (spec §12): every rule of its tables, durations, files, the hash."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from unveil.agreements import DEFAULT_STEPS, AccessDeadlines, agreement_sha256, check_categories, parse_agreement, parse_duration
from unveil.agreements.files import read_agreement
from unveil.core.vocabulary import V1
from unveil.errors import MalformedInputError

DOC: dict[str, Any] = {
    "id": "freeze-1",
    "escrow": "exampleland-2026",
    "start": "2026-01-01T00:00:00Z",
    "parties": ["Host", "Inspector"],
    "access": {"delayed": "PT36H", "refused": "P7D"},
    "obligations": [
        {"id": "reveal-1", "party": "Host", "action": "reveal-phase", "phase": "phase-1", "due": "P30D"},
        {"id": "close-yongbyon", "party": "Host", "action": "close-site", "site": "S-1", "due": "P30D", "after": ["reveal-1"]},
        {"id": "relief-1", "party": "Inspector", "action": "other", "description": "sanctions relief, tranche 1",
         "due": "P10D", "after": ["close-yongbyon"]},
        {"id": "separate", "party": "Host", "action": "move-items", "serials": ["W-0001", "W-0002"], "step": "separated", "due": "P1DT2H"},
        {"id": "dismantle", "party": "Host", "action": "move-items", "category": "warhead", "count": 2, "step": "dismantled", "due": "P60D"},
        {"id": "visit", "party": "Host", "action": "grant-access", "due": "PT12H"},
    ],
}


def doc(**changes: Any) -> dict[str, Any]:
    found = copy.deepcopy(DOC)
    found.update(changes)
    return found


def with_obligation(i: int, **changes: Any) -> dict[str, Any]:
    found = copy.deepcopy(DOC)
    for name, value in changes.items():
        if value is None:
            found["obligations"][i].pop(name, None)
        else:
            found["obligations"][i][name] = value
    return found


def refused(value: Any, where: str | None, *words: str) -> MalformedInputError:
    with pytest.raises(MalformedInputError) as caught:
        parse_agreement(value)
    assert caught.value.where == where, str(caught.value)
    assert caught.value.source == "agreement"
    for word in words:
        assert word in caught.value.message, caught.value.message
    return caught.value


# --- the document ---------------------------------------------------------------------------


def test_a_valid_agreement_reads_every_field() -> None:
    a = parse_agreement(DOC)
    assert (a.id, a.escrow, a.start_text, a.parties) == ("freeze-1", "exampleland-2026", "2026-01-01T00:00:00Z", ("Host", "Inspector"))
    assert a.start == 1767225600
    assert a.steps == DEFAULT_STEPS
    assert a.access == AccessDeadlines(36 * 3600, 7 * 86400)
    reveal, close, relief, separate, dismantle, visit = a.obligations
    assert (reveal.action, reveal.phase, reveal.due, reveal.after) == ("reveal-phase", "phase-1", 30 * 86400, ())
    assert (close.site, close.after) == ("S-1", ("reveal-1",))
    assert (relief.party, relief.description) == ("Inspector", "sanctions relief, tranche 1")
    assert (separate.serials, separate.step, separate.due) == (("W-0001", "W-0002"), "separated", 86400 + 7200)
    assert (dismantle.category, dismantle.count, dismantle.serials) == ("warhead", 2, None)
    assert (visit.site, visit.due) == (None, 12 * 3600)
    assert a.obligation("visit") is visit and a.obligation("nothing") is None


def test_steps_may_be_named() -> None:
    a = parse_agreement(doc(steps=["declared", "separated", "dismantled"]))
    assert a.steps == ("declared", "separated", "dismantled")


@pytest.mark.parametrize(
    ("value", "where", "word"),
    [
        ([], None, "expected an object"),
        ({k: v for k, v in DOC.items() if k != "access"}, None, "'access'"),
        (doc(extra=1), None, "unknown field 'extra'"),
        (doc(id="has space"), "id", "not an id"),
        (doc(id=7), "id", "expected a string"),
        (doc(escrow="x" * 65), "escrow", "not an id"),
        (doc(start="2026-01-01 00:00:00"), "start", "not a time"),
        (doc(start="2026-02-30T00:00:00Z"), "start", "not a time"),
        (doc(parties=["Host"]), "parties", "at least two"),
        (doc(parties="Host"), "parties", "expected an array"),
        (doc(parties=["Host", "Host"]), "parties[1]", "repeats"),
        (doc(parties=["Host", "In spector"]), "parties[1]", "white space"),
        (doc(parties=["Host", "a+b"]), "parties[1]", "'+'"),
        (doc(parties=["Host", ""]), "parties[1]", "empty"),
        (doc(steps=["declared"]), "steps", "at least 2"),
        (doc(steps=["declared", "stored", "declared"]), "steps[2]", "repeats"),
        (doc(steps=["declared", "no good"]), "steps[1]", "not an id"),
        (doc(access={"delayed": "P1D"}), "access", "'refused'"),
        (doc(access={"delayed": "P1D", "refused": "P1D"}), "access.refused", "not longer"),
        (doc(access={"delayed": "P2D", "refused": "PT47H"}), "access.refused", "not longer"),
        (doc(access={"delayed": "P1D", "refused": "P2D", "granted": "P1D"}), "access", "unknown field"),
        (doc(access={"delayed": "1 day", "refused": "P2D"}), "access.delayed", "duration"),
        (doc(obligations={}), "obligations", "expected an array"),
        (doc(obligations=[DOC["obligations"][0]] * 1001), "obligations", "at most 1000"),
        (doc(obligations=[DOC["obligations"][0], DOC["obligations"][0]]), "obligations[1].id", "already"),
    ],
)
def test_document_rules(value: Any, where: str | None, word: str) -> None:
    refused(value, where, word)


@pytest.mark.parametrize(
    ("i", "changes", "where", "word"),
    [
        (0, {"id": None}, "obligations[0]", "'id'"),
        (0, {"due": None}, "obligations[0]", "'due'"),
        (0, {"party": "Observer"}, "obligations[0].party", "not one of the agreement's parties"),
        (0, {"action": "bribe"}, "obligations[0].action", "not one of"),
        (0, {"due": "P0D"}, "obligations[0].due", "duration"),
        (0, {"phase": None}, "obligations[0]", "'phase'"),
        (0, {"phase": "phase 1"}, "obligations[0].phase", "not an id"),
        (0, {"site": "S-1"}, "obligations[0].site", "has no 'site'"),
        (0, {"unknown": 1}, "obligations[0]", "unknown field 'unknown'"),
        (0, {"ext": {}}, "obligations[0]", "unknown field 'ext'"),
        (0, {"description": ""}, "obligations[0].description", "non-empty"),
        (0, {"description": "x" * 1001}, "obligations[0].description", "at most 1000"),
        (1, {"site": None}, "obligations[1]", "'site'"),
        (1, {"phase": "phase-1"}, "obligations[1].phase", "has no 'phase'"),
        (1, {"step": "stored"}, "obligations[1].step", "has no 'step'"),
        (1, {"after": ["nowhere"]}, "obligations[1].after[0]", "not an obligation"),
        (1, {"after": ["reveal-1", "reveal-1"]}, "obligations[1].after[1]", "repeats"),
        (1, {"after": ["close-yongbyon"]}, "obligations[1].after[0]", "itself"),
        (1, {"after": "reveal-1"}, "obligations[1].after", "expected an array"),
        (2, {"description": None}, "obligations[2]", "'description'"),
        (2, {"serials": ["W-1"]}, "obligations[2].serials", "has no 'serials'"),
        (3, {"step": None}, "obligations[3]", "'step'"),
        (3, {"step": "declared"}, "obligations[3].step", "first step"),
        (3, {"step": "melted"}, "obligations[3].step", "not one of the agreement's steps"),
        (3, {"serials": []}, "obligations[3].serials", "at least 1"),
        (3, {"serials": ["W-2", "W-1"]}, "obligations[3].serials[1]", "strictly ascending"),
        (3, {"serials": ["W-1", "W-1"]}, "obligations[3].serials[1]", "repeats"),
        (3, {"serials": ["W 1"]}, "obligations[3].serials[0]", "not an id"),
        (3, {"category": "warhead"}, "obligations[3]", "either"),
        (3, {"serials": None}, "obligations[3]", "either"),
        (4, {"count": None}, "obligations[4]", "'count'"),
        (4, {"category": None}, "obligations[4]", "'category'"),
        (4, {"count": 0}, "obligations[4].count", "at least 1"),
        (4, {"count": 2.0}, "obligations[4].count", "integer"),
        (4, {"count": True}, "obligations[4].count", "integer"),
        (4, {"count": "2"}, "obligations[4].count", "integer"),
        (5, {"phase": "phase-1"}, "obligations[5].phase", "has no 'phase'"),
        (5, {"site": "S 1"}, "obligations[5].site", "not an id"),
    ],
)
def test_obligation_rules(i: int, changes: dict[str, Any], where: str, word: str) -> None:
    refused(with_obligation(i, **changes), where, word)


def test_a_cycle_through_after_is_refused_naming_it() -> None:
    value = with_obligation(0, after=["relief-1"])  # reveal-1 → relief-1 → close-yongbyon → reveal-1
    error = refused(value, "obligations[1].after[0]", "would come after itself")
    assert "reveal-1" in error.message and "close-yongbyon" in error.message


def test_a_long_chain_is_read_without_recursion() -> None:
    chain = [{"id": f"o{i}", "party": "Host", "action": "other", "description": "x", "due": "P1D",
              **({"after": [f"o{i - 1}"]} if i else {})} for i in range(1000)]
    assert len(parse_agreement(doc(obligations=chain)).obligations) == 1000
    chain[0]["after"] = ["o999"]
    error = refused(doc(obligations=chain), "obligations[1].after[0]", "would come after itself")
    assert len(error.message) < 200


def test_an_agreement_may_have_no_obligations() -> None:
    assert parse_agreement(doc(obligations=[])).obligations == ()


def test_the_prefix_names_the_field_inside_an_event() -> None:
    with pytest.raises(MalformedInputError) as caught:
        parse_agreement(with_obligation(1, after=["x"]), None, at="statement.body.agreement")
    assert caught.value.where == "statement.body.agreement.obligations[1].after[0]"
    assert caught.value.source is None


def test_categories_are_checked_against_the_escrows_vocabulary() -> None:
    a = parse_agreement(DOC)
    check_categories(a, V1)
    check_categories(parse_agreement(with_obligation(4, category="nonsense")), None)  # unknown vocabulary: skipped
    for category, word in (("nonsense", "not a category"), ("plutonium", "not counted")):
        with pytest.raises(MalformedInputError) as caught:
            check_categories(parse_agreement(with_obligation(4, category=category)), V1)
        assert caught.value.where == "obligations[4].category" and word in caught.value.message


# --- durations ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "seconds"), [("P30D", 30 * 86400), ("PT36H", 36 * 3600), ("P1DT2H", 93600),
                                               ("P36500D", 36500 * 86400), ("PT876000H", 36500 * 86400), ("P1D", 86400)])
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["P", "PT", "P1DT", "P0D", "PT0H", "P0DT1H", "P01D", "PT1M", "P1W", "P1Y", "p1d", "P1.5D",
                                  "P-1D", "P+1D", "P36501D", "PT876001H", "P36500DT1H", "P1D ", " P1D", "P١D", "P9999999D",
                                  "PT1H1D", ""])
def test_durations_refused(text: str) -> None:
    with pytest.raises(MalformedInputError) as caught:
        parse_duration(text, "due")
    assert caught.value.where == "due"


@pytest.mark.parametrize("value", [30, None, ["P1D"], 1.5])
def test_durations_are_strings(value: Any) -> None:
    with pytest.raises(MalformedInputError):
        parse_duration(value)


# --- the hash and files ---------------------------------------------------------------------


def test_yaml_and_json_copies_have_one_hash(tmp_path: Path) -> None:
    as_json = tmp_path / "agreement.json"
    as_json.write_text(json.dumps(DOC, indent=2))
    as_yaml = tmp_path / "agreement.yaml"
    as_yaml.write_text(yaml.safe_dump(DOC, sort_keys=False))
    reordered = tmp_path / "other.json"
    reordered.write_text(json.dumps(dict(reversed(list(DOC.items())))))
    (a1, d1), (a2, d2), (a3, d3) = read_agreement(as_json), read_agreement(as_yaml), read_agreement(reordered)
    assert a1 == a2 == a3
    assert d1 == d2 == DOC
    assert agreement_sha256(d1) == agreement_sha256(d2) == agreement_sha256(d3)
    assert agreement_sha256(doc(id="freeze-2")) != agreement_sha256(d1)
    assert len(agreement_sha256(d1)) == 64


def test_the_format_is_told_by_content_without_a_known_suffix(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(json.dumps(DOC))
    (tmp_path / "b.txt").write_text(yaml.safe_dump(DOC))
    assert read_agreement(tmp_path / "a.txt")[0] == read_agreement(tmp_path / "b.txt")[0]


def test_a_yaml_error_names_the_line_and_the_field(tmp_path: Path) -> None:
    path = tmp_path / "agreement.yaml"
    text = yaml.safe_dump(with_obligation(1, after=["nowhere"]), sort_keys=False)
    path.write_text(text)
    with pytest.raises(MalformedInputError) as caught:
        read_agreement(path)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "nowhere" in t)
    assert caught.value.source == str(path)
    assert caught.value.where is not None and caught.value.where.startswith(f"line {line} ")
    assert "obligations[1].after[0]" in caught.value.where


def test_an_unquoted_yaml_time_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "agreement.yaml"
    path.write_text(yaml.safe_dump(DOC, sort_keys=False))  # start: 2026-01-01T00:00:00Z, a YAML timestamp
    path.write_text(path.read_text().replace("'2026-01-01T00:00:00Z'", "2026-01-01T00:00:00Z"))
    with pytest.raises(MalformedInputError, match="quote it"):
        read_agreement(path)


@pytest.mark.parametrize(
    ("name", "data", "word"),
    [
        ("a.json", b"", "empty"),
        ("a.json", b"  \n", "empty"),
        ("a.json", b'{"id": "x", "id": "y"}', "duplicate"),
        ("a.json", b"\xef\xbb\xbf{}", "byte order mark"),
        ("a.json", b'{"id": "\xff"}', "not UTF-8"),
        ("a.json", b"[" * 65 + b"]" * 65, "nest"),
        ("a.yaml", b"a:\n" + b"".join(b"  " * i + b"- \n" for i in range(1, 70)), "nest"),
        ("a.yaml", b"[" * 65 + b"]" * 65, "nest"),
        ("a.json", b'{"count": 1e400}', "finite"),
        ("a.yaml", b"a: &x 1\nb: *x\n", "alias"),
        ("a.yaml", b"a: yes\n", "boolean"),
        ("a.json", b'{"id": 9007199254740993}', "2^53"),
        ("a.yaml", b"a: 1\n---\nb: 2\n", "single document"),
        ("a.json", json.dumps({**DOC, "id": 7}).encode(), "expected a string"),
    ],
)
def test_bad_files_are_refused_naming_the_file(tmp_path: Path, name: str, data: bytes, word: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(MalformedInputError) as caught:
        read_agreement(path)
    assert caught.value.source == str(path)
    assert word in str(caught.value), str(caught.value)


def test_an_oversized_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(b'{"id": "' + b"x" * (1 << 20) + b'"}')
    with pytest.raises(MalformedInputError, match="over the limit"):
        read_agreement(path)
    small = tmp_path / "b.json"
    small.write_text(json.dumps(DOC))
    with pytest.raises(MalformedInputError, match="over the limit"):
        read_agreement(small, max_bytes=100)


def test_a_missing_file_is_a_malformed_input(tmp_path: Path) -> None:
    with pytest.raises(MalformedInputError, match="cannot read"):
        read_agreement(tmp_path / "nothing.json")


def test_the_guides_example_is_a_valid_agreement(tmp_path: Path) -> None:
    import re

    guide = (Path(__file__).resolve().parent.parent / "docs" / "guide.md").read_text()
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", guide, flags=re.S) if "obligations:" in b]
    path = tmp_path / "agreement.yaml"
    path.write_text(block)
    agreement, _ = read_agreement(path)
    assert [o.action for o in agreement.obligations] == ["close-site", "other", "reveal-phase", "move-items"]
