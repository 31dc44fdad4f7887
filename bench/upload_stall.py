"""Does a bundle uploader stall the board? p99 of registered ``POST /entries`` while another
client uploads 16 MiB reveal files back to back, printed as JSON.

Starts `unveil serve` over SQLite on loopback, publishes one escrow, then for --seconds runs
--clients processes posting registered entries (each an ``escrow.published`` of a fresh escrow
id by the registered host: an event valid at any point of any log) one after another, and
records each answer's latency. Four phases in the same run, on the same server:

- ``quiet``: entries only (the baseline: the same clients with nobody uploading);
- ``anonymous``: one more process PUTs 16 MiB files that parse as signed reveal bundles but
  carry no registered party's signature, each a few bytes different (so each is new);
- ``forged``: the same, but each file's signature names the registered host's key over a
  signature that fails (an anonymous uploader that defeats any cheap test: the board parses
  and canonicalizes 16 MiB before it can refuse);
- ``registered``: the uploader PUTs real 16 MiB reveal bundles of that escrow, signed by the
  registered host (the heaviest legitimate upload);
- ``publishing``: the registered host uploads and logs one 16 MiB reveal after another
  (``reveal.published`` of phase after phase, reopening every cell: a host may), so the board
  verifies each file before it logs the event.

Target (security hardening): p99 ≤ 250 ms for the entries in every upload phase. Each phase
also reports its ratio to the quiet p99, and what the uploads got back (status counts); the
run reports the database's size at the end (refused files take no room).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from board_append import free_port, start  # noqa: E402  # bench scripts share their server helpers

TARGET_P99_MS = 250
BUNDLE_MIB = 16


PUBLISHED_PHASES = 6
"""How many 16 MiB reveals the ``publishing`` phase has ready (more than it can log in --seconds)."""


def prepare(tmp: Path, clients: int, per_client: int) -> tuple[list[list[bytes]], bytes, bytes, bytes, bytes, list[tuple[bytes, bytes]]]:
    """Workspaces and PARTIES.json; per client a list of signed entries; the escrow event; one
    registered 16 MiB bundle, one anonymous one and one with a forged signature (as bytes)."""
    from unveil.board.events import make_event
    from unveil.core import cells as cell_file
    from unveil.core.build import escrow_statement, reveal_statement
    from unveil.core.commitments import Salter
    from unveil.core.escrow import Grid, parse_escrow
    from unveil.core.statements import sign_statement
    from unveil.escrowing import commit_cells, open_cells
    from unveil.workspace.workspace import create

    board = create(tmp / "board", "board", "bench-board")
    host = create(tmp / "host", "host", "Host")
    inspector = create(tmp / "inspector", "inspector", "Inspector")
    (tmp / "parties.json").write_text(json.dumps([w.to_json() for w in (board, host, inspector)]))
    hkey = host.statement_key()
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    # The escrow whose phases the registered uploader reveals: a list grid big enough that one
    # phase opening every cell is about 16 MiB.
    n = 96_000  # about 15.4 MiB: under the 16 MiB body limit
    secret = hashlib.sha256(b"upload-stall bench secret").digest()
    cells = [f"cell-{i:07d}" for i in range(n)]
    contents = {c: {"cell": c, "sites": []} for c in cells}
    commitment = commit_cells(secret, "stall", cells, contents)
    cells_txt = cell_file.render(cells)
    statement = escrow_statement(escrow_id="stall", host="Host", created=now,
                                 grid=Grid("list", n, hashlib.sha256(cells_txt).hexdigest()),
                                 root=commitment.root, salter=Salter(secret, "stall"))
    escrow_event = make_event("escrow.published", "stall", now, {"escrow": sign_statement(statement, [hkey])}, [hkey])
    opened, proof = open_cells(secret, "stall", cells, contents, commitment.leaves, list(range(n)))
    bundle = reveal_statement(escrow=parse_escrow(statement), phase="phase-1", openings=opened, proof=proof)
    registered = json.dumps(sign_statement(bundle, [hkey])).encode()
    anonymous = json.dumps({"statement": bundle, "signatures": []}).encode()
    forged = json.dumps({"statement": bundle, "signatures": [{"vkey": hkey.vkey, "sig": "A" * 86 + "=="}]}).encode()
    published = []
    for k in range(PUBLISHED_PHASES):
        phase_k = dict(bundle, phase=f"published-{k}")
        data = json.dumps(sign_statement(phase_k, [hkey])).encode()
        body = {"phase": f"published-{k}", "sha256": hashlib.sha256(data).hexdigest(), "openings": n}
        published.append((data, json.dumps(make_event("reveal.published", "stall", now, body, [hkey])).encode()))

    entries = []
    for c in range(clients):
        mine = []
        for i in range(per_client):
            escrow_id = f"e{c}-{i}"
            small = escrow_statement(escrow_id=escrow_id, host="Host", created=now, grid=Grid("list", 1, "00" * 32), root=b"\x11" * 32)
            mine.append(json.dumps(make_event("escrow.published", escrow_id, now, {"escrow": sign_statement(small, [hkey])}, [hkey])).encode())
        entries.append(mine)
    return entries, json.dumps(escrow_event).encode(), registered, anonymous, forged, published


def poster(port: int, entries: list[bytes], deadline: float, out: "multiprocessing.Queue[list[tuple[float, int]]]") -> None:
    import http.client

    done = []
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for body in entries:
        if time.time() > deadline:
            break
        started = time.perf_counter()
        connection.request("POST", "/entries", body=body, headers={"content-type": "application/json"})
        response = connection.getresponse()
        response.read()
        done.append((time.perf_counter() - started, response.status))
    connection.close()
    out.put(done)


def uploader(port: int, data: bytes, deadline: float, out: "multiprocessing.Queue[dict[str, int]]") -> None:
    """PUT ``data`` again and again, each time with more trailing spaces: a new file (a new
    SHA-256) that parses to the same statement."""
    import http.client

    statuses: dict[str, int] = {}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    k = 0
    while time.time() < deadline:
        k += 1
        body = data + b" " * k
        connection.request("PUT", f"/bundles/{hashlib.sha256(body).hexdigest()}", body=body,
                           headers={"content-type": "application/octet-stream"})
        response = connection.getresponse()
        response.read()
        statuses[str(response.status)] = statuses.get(str(response.status), 0) + 1
        if response.will_close:
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.close()
    out.put(statuses)


def publisher(port: int, files: list[tuple[bytes, bytes]], deadline: float, out: "multiprocessing.Queue[dict[str, int]]") -> None:
    """Upload each reveal file and log its ``reveal.published``, one after another."""
    import http.client

    statuses: dict[str, int] = {}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for data, event in files:
        if time.time() >= deadline:
            break
        for method, path, body in (("PUT", f"/bundles/{hashlib.sha256(data).hexdigest()}", data), ("POST", "/entries", event)):
            connection.request(method, path, body=body, headers={"content-type": "application/octet-stream"})
            response = connection.getresponse()
            response.read()
            key = f"{method} {response.status}"
            statuses[key] = statuses.get(key, 0) + 1
    connection.close()
    out.put(statuses)


def phase(port: int, entries: list[list[bytes]], seconds: float, upload: bytes | list[tuple[bytes, bytes]] | None) -> dict[str, object]:
    queue: multiprocessing.Queue = multiprocessing.Queue()
    deadline = time.time() + seconds
    procs = [multiprocessing.Process(target=poster, args=(port, share, deadline, queue)) for share in entries]
    up_queue: multiprocessing.Queue = multiprocessing.Queue()
    worker = publisher if isinstance(upload, list) else uploader
    up = multiprocessing.Process(target=worker, args=(port, upload, deadline, up_queue)) if upload is not None else None
    if up is not None:
        up.start()
        time.sleep(0.5)  # the first upload is under way before the entries start
    for p in procs:
        p.start()
    results = [r for _ in procs for r in queue.get()]
    for p in procs:
        p.join()
    uploads = None
    if up is not None:
        uploads = up_queue.get()
        up.join()
    latencies = sorted(t for t, status in results if status in (200, 201))
    return {
        "entries": len(latencies),
        "refused": sum(1 for _, status in results if status not in (200, 201)),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))] * 1000, 1) if latencies else None,
        "max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
        **({"uploads_by_status": uploads} if uploads is not None else {}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    out: dict[str, object] = {"bench": "upload_stall", "clients": args.clients, "bundle_mib": BUNDLE_MIB, "target_p99_ms": TARGET_P99_MS}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        per_client = int(args.seconds * 5 * 400)  # more than a client can post in the five phases
        entries, escrow, registered, anonymous, forged, published = prepare(tmp, args.clients, per_client)
        out["bundle_bytes"] = len(registered)
        port = free_port()
        server = start(f"sqlite:///{tmp / 'board.db'}", tmp, port)
        try:
            httpx.post(f"http://127.0.0.1:{port}/entries", content=escrow, headers={"content-type": "application/json"}).raise_for_status()
            share = len(entries[0]) // 5
            uploads = {"quiet": None, "anonymous": anonymous, "forged": forged, "registered": registered, "publishing": published}
            for k, (name, upload) in enumerate(uploads.items()):
                out[name] = phase(port, [e[k * share : (k + 1) * share] for e in entries], args.seconds, upload)
        finally:
            server.terminate()
            server.wait()
        out["database_bytes"] = (tmp / "board.db").stat().st_size
    quiet = out["quiet"]["p99_ms"]  # type: ignore[index]
    for name in ("anonymous", "forged", "registered", "publishing"):
        figures = out[name]
        if quiet and figures["p99_ms"] is not None:  # type: ignore[index]
            figures["ratio_to_quiet_p99"] = round(figures["p99_ms"] / quiet, 1)  # type: ignore[index]
        figures["meets_target"] = figures["p99_ms"] is not None and figures["p99_ms"] <= TARGET_P99_MS  # type: ignore[index]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
