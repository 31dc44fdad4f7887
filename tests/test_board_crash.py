"""Crash safety of the board database: a child process runs the board Log and prints every
index it acknowledged; the parent kills it with SIGKILL mid-stream, reopens the storage and
checks that every acknowledged entry is there and the log audits clean."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time

import pytest

from tests.board_fixtures import REPO, open_log, storage_url  # noqa: F401  (the fixture)
from unveil.store.board_db import open_storage

CHILD = r"""
import json, sys
from tests.board_fixtures import open_log, publish_with_phase, verification
from unveil.store.board_db import open_storage

url, first = sys.argv[1], int(sys.argv[2])
log = open_log(open_storage(url))
if log.size == 0:
    publish_with_phase(log)
print(json.dumps({"ready": log.size}), flush=True)
i = first
while True:
    if i % 3:  # single submissions and batches, one storage transaction each
        docs = [verification(i)]
    else:
        docs = [verification(j) for j in range(i, i + 5)]
    for n, result in enumerate(log.submit_many(docs)):
        print(json.dumps({"index": result.index, "mark": i + n}), flush=True)
    i += len(docs)
"""

DEADLINE = 20.0  # seconds per round, a generous bound; a round takes about one
ACKS = 40  # acknowledgements to read before the kill


def _run_and_kill(url: str, first: int) -> tuple[int, dict[int, int]]:
    """Start the writer, read ACKS acknowledgements, SIGKILL it; return (size when it
    started, {index: mark} acknowledged; entry ``index`` is ``verification(mark)``)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "src")])}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(first)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    acked: dict[int, int] = {}
    ready: int | None = None
    buffer = b""
    selector = selectors.DefaultSelector()
    selector.register(child.stdout, selectors.EVENT_READ)  # type: ignore[arg-type]
    deadline = time.monotonic() + DEADLINE
    try:
        while len(acked) < ACKS:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or child.poll() is not None:
                break
            if not selector.select(timeout=min(remaining, 0.5)):
                continue
            chunk = os.read(child.stdout.fileno(), 65536)  # type: ignore[union-attr]
            if not chunk:
                break
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                message = json.loads(line)
                if "ready" in message:
                    ready = message["ready"]
                else:
                    acked[message["index"]] = message["mark"]
        # Kill without warning, most likely in the middle of a submission.
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        # Whatever it printed before dying was acknowledged too.
        rest = buffer + child.stdout.read()  # type: ignore[union-attr]
        for line in rest.split(b"\n"):
            if line.strip():
                try:
                    message = json.loads(line)
                except ValueError:
                    continue  # a line cut short by the kill was never acknowledged
                if "index" in message:
                    acked[message["index"]] = message["mark"]
        stderr = child.stderr.read().decode(errors="replace")  # type: ignore[union-attr]
    finally:
        selector.close()
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL, f"the writer died on its own:\n{stderr}"
    assert ready is not None and len(acked) >= ACKS, f"only {len(acked)} acknowledgements in {DEADLINE} s:\n{stderr}"
    return ready, acked


def test_every_acknowledged_entry_survives_kill_9(storage_url: str) -> None:  # noqa: F811
    first, size = 1, 2  # the first round publishes the escrow and its phase: entries 0 and 1
    all_acked: dict[int, int] = {}
    for _ in range(2):  # the second round starts from a log that was killed mid-write
        ready, acked = _run_and_kill(storage_url, first)
        assert ready == size
        assert sorted(acked) == list(range(size, max(acked) + 1))  # acknowledged in order, no gap
        all_acked.update(acked)
        with open_storage(storage_url, create=False) as store:
            log = open_log(store)  # replays every entry and checks the latest checkpoint
            report = log.audit()
            assert report.ok, report.problems
            assert max(all_acked) < log.size
            entries = store.read_entries(0, log.size)
            for index, mark in all_acked.items():
                body = json.loads(entries[index])["statement"]["body"]
                assert body["problems"] == [{"index": mark, "reason": "cell-mismatch"}], index
            size, first = log.size, log.size + 1000  # fresh marks for the next round
    assert len(all_acked) >= 2 * ACKS


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-q"])
