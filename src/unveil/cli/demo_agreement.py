"""The demo's agreement (spec §12): action for action on Exampleland, on the demo's board.

Once every cell is open, host and inspectorate sign an agreement (written to
``OUT/agreement.yaml``) and play the seed's sequence through the real services:

- **freeze**: the host closes the enrichment site (claimed, verified by the inspectorate) ↔
  "sanctions relief, tranche 1" (claimed by the inspectorate, verified by the host);
- **elimination**: three warheads go through every step to ``disposed``, each step witnessed
  by the inspectorate but one (W-003 leaves ``stored`` unwitnessed: ``unwitnessed-transition``);
  the obligation is verified by the log itself; tranche 2 is claimed and disputed;
- **access**: one request is answered a day late (the board is restarted with its clock a day
  ahead, ``unveil serve --unsafe-clock-offset``: an exercise lets a day pass without waiting),
  one is never answered;
- the test site is never disabled: viewed 45 days on (``--at``), that obligation is
  ``overdue`` and its reward ``withheld``, and the unanswered request counts as refused.

Nothing is backdated: every event is dated by the board's clock (a second apart, so that two
parties' identical statements never collide), and what lies ahead is shown with ``--at``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from unveil.core.encoding import format_time
from unveil.core.reasons import Reason

DAY = 86400
WARHEADS = ("W-001", "W-002", "W-003")
LATER_DAYS = 45

EXPECTED_NOW = {
    "close-enrichment": "verified", "sanctions-relief-1": "verified", "eliminate-warheads": "verified",
    "sanctions-relief-2": "disputed", "disable-test-site": "due", "lift-embargo": "pending",
}
EXPECTED_LATER = {**EXPECTED_NOW, "disable-test-site": "overdue", "lift-embargo": "withheld"}
EXPECTED_ACCESS = {"access-1": "granted-late", "access-2": "refused"}


def agreement_yaml(escrow_id: str, start: str, host: str, inspector: str) -> str:
    """The exercise's agreement file (spec §12)."""
    return f"""# The Exampleland agreement (fictional): action for action.
id: exampleland-freeze-and-eliminate
escrow: {escrow_id}
start: "{start}"
parties: [{host}, {inspector}]
access: {{delayed: PT24H, refused: P3D}}
obligations:
  # freeze
  - {{id: close-enrichment, party: {host}, action: close-site, site: S-05, due: P30D}}
  - {{id: sanctions-relief-1, party: {inspector}, action: other, description: "sanctions relief, tranche 1",
     after: [close-enrichment], due: P14D}}
  # elimination
  - {{id: eliminate-warheads, party: {host}, action: move-items, serials: [{", ".join(WARHEADS)}], step: disposed,
     after: [sanctions-relief-1], due: P180D}}
  - {{id: sanctions-relief-2, party: {inspector}, action: other, description: "sanctions relief, tranche 2",
     after: [eliminate-warheads], due: P30D}}
  # the test site, never disabled: its reward is withheld
  - {{id: disable-test-site, party: {host}, action: disable-site, site: S-15, due: P30D}}
  - {{id: lift-embargo, party: {inspector}, action: other, description: "lift the technology embargo",
     after: [disable-test-site], due: P30D}}
"""


class _Clock:
    """The board's time as the demo dates its events: now, plus the board's offset, a second on
    per event (within the 300 s a board allows, spec §7)."""

    def __init__(self) -> None:
        self.offset = 0
        self.ticks = 0

    def __call__(self) -> datetime:
        self.ticks += 1
        return datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=self.offset + self.ticks)


def run(session: Any, out: Path, escrow_id: str) -> dict[str, Any]:
    """Play the agreement on ``session``'s board; the statuses now and later, and the steps."""
    from unveil.agreements.files import read_agreement
    from unveil.workspace import agreements, custody
    from unveil.workspace.evidence import evidence as read_evidence

    host_ws, inspector_ws = session.host_ws, session.inspector_ws
    clock = _Clock()
    start = format_time(clock())
    path = out / "agreement.yaml"
    path.write_text(agreement_yaml(escrow_id, start, host_ws.name, inspector_ws.name))
    agreement, doc = read_agreement(path)
    client = session.client()

    def step(label: str, call: Any, *args: Any) -> Any:
        result = call(*args, now=clock())
        session.record(label, result)
        return result

    def text(value: str) -> list[dict[str, Any]]:
        return read_evidence([f"text:{value}"])

    for ws in (host_ws, inspector_ws):
        step(f"agreement.signed ({ws.name})", agreements.sign, ws, client, agreement, doc)
    # freeze: the enrichment site closes, tranche 1 of the relief follows
    step("obligation.claimed close-enrichment", agreements.claim, host_ws, client, agreement, "close-enrichment",
         text("S-05 shut down; seals applied to the cascade halls"))
    step("obligation.verified close-enrichment", agreements.verdict, inspector_ws, client, agreement, "close-enrichment", "verify", None)
    step("obligation.claimed sanctions-relief-1", agreements.claim, inspector_ws, client, agreement, "sanctions-relief-1",
         text("tranche 1 of the relief in force"))
    step("obligation.verified sanctions-relief-1", agreements.verdict, host_ws, client, agreement, "sanctions-relief-1", "verify", None)
    # elimination: every warhead through every step, each step witnessed (W-003 leaves 'stored' unwitnessed)
    for serial in WARHEADS:
        for before, after in zip(agreement.steps[:-1], agreement.steps[1:], strict=True):
            if before != agreement.steps[0] and not (serial == "W-003" and before == "stored"):
                step(f"item.witnessed {serial} {before}", custody.witness_item, inspector_ws, client, escrow_id, serial, before)
            step(f"item.moved {serial} {after}", custody.move_item, host_ws, client, escrow_id, serial, after, None, [])
    step("obligation.claimed sanctions-relief-2", agreements.claim, inspector_ws, client, agreement, "sanctions-relief-2",
         text("tranche 2 of the relief in force"))
    step("obligation.disputed sanctions-relief-2", agreements.verdict, host_ws, client, agreement, "sanctions-relief-2", "dispute",
         "tranche 2 covers half the accounts agreed")
    # access: two requests; the first answered a day late, the second never
    step("access.requested access-1", custody.request_access, inspector_ws, client, escrow_id, "access-1", "S-19", None)
    step("access.requested access-2", custody.request_access, inspector_ws, client, escrow_id, "access-2", "S-20", None)
    clock.offset = DAY + 2 * 3600  # a day and two hours on: past the 24 h delay, before the 3 days of refusal
    session.restart(clock.offset)
    client = session.client()
    step("access.granted access-1 (a day late)", custody.grant_access, host_ws, client, escrow_id, "access-1")

    parties = session.parties()
    now = agreements.status(client, parties, agreement, doc)
    later_moment = format_time(datetime.fromisoformat(start.replace("Z", "+00:00")) + timedelta(days=LATER_DAYS))
    later = agreements.status(client, parties, agreement, doc, at=later_moment)
    return {"file": str(path), "id": agreement.id, "now": now, "later": later, "later_days": LATER_DAYS}


def expected(result: dict[str, Any]) -> bool:
    """Whether the agreement came out as the exercise means it to."""
    states = {moment: {o["id"]: o["state"] for o in result[moment]["obligations"]} for moment in ("now", "later")}
    access = {a["id"]: a["state"] for a in result["later"]["access"]}
    problems = {(p["reason"], p.get("serial")) for p in result["later"]["problems"]}
    return (states["now"] == EXPECTED_NOW and states["later"] == EXPECTED_LATER and access == EXPECTED_ACCESS
            and result["later"]["items"].get("disposed") == len(WARHEADS) and (Reason.UNWITNESSED_TRANSITION, "W-003") in problems
            and result["now"]["fully_signed"] is True)


def show(console: Any, result: dict[str, Any]) -> None:
    """The status table: each obligation now and 45 days on, the items per step, access."""
    from rich.table import Table

    later = {o["id"]: o for o in result["later"]["obligations"]}
    table = Table("obligation", "party", "now", f"+{result['later_days']} days", "due", title=f"agreement {result['id']} ({result['file']})")
    colours = {"verified": "green", "disputed": "red", "overdue": "red", "withheld": "yellow", "claimed": "cyan"}
    for o in result["now"]["obligations"]:
        then = later[o["id"]]
        table.add_row(o["id"], o["party"], f"[{colours.get(o['state'], 'white')}]{o['state']}[/]",
                      f"[{colours.get(then['state'], 'white')}]{then['state']}[/]", then["due"] or "—")
    console.print(table)
    items = result["now"]["items"]
    console.print("items per step: " + ", ".join(f"{step} {n}" for step, n in items.items()), highlight=False)
    console.print("access: " + ", ".join(f"{a['id']} ({a.get('site') or a.get('cell')}) {a['state']}" for a in result["later"]["access"]),
                  highlight=False)
    for p in result["later"]["problems"]:
        console.print(f"problem: {p['reason']}: {p['detail']}", highlight=False, markup=False)
