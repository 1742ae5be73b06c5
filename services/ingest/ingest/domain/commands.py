"""Commands joined with their acks: outcomes, and which loads a VEN has shed.

Every merge here is commutative (earliest first issue, latest issue, highest attempt,
earliest ack), so commands and acks, which travel on different topics, give the same
rows whichever is projected first.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from dr_contracts.acks import Ack
from dr_contracts.commands import EVENT_OPS
from dr_contracts.facts import CommandIssued, CommandTimedOut

#: Ack status -> command outcome.
_OUTCOMES = {"rejected": "rejected", "failed": "failed", "error": "failed"}


def outcome(ack: Ack) -> str:
    """acked (ok), rejected, or failed."""
    return "acked" if ack.ok else _OUTCOMES.get(ack.status, "failed")


@dataclass(frozen=True)
class Issue:
    """All the CommandIssued facts of one correlationId in a batch, merged."""

    correlation_id: str
    ven_id: str
    event_id: str | None
    op: str
    payload: dict
    first_issued_at: datetime
    last_issued_at: datetime
    attempts: int


def merge_issue(known: Issue | None, fact: CommandIssued) -> Issue:
    """Fold one more (re-)issue of a command into what the batch knows."""
    issue = Issue(
        correlation_id=fact.correlationId,
        ven_id=fact.venId,
        event_id=fact.eventId,
        op=fact.op,
        payload=fact.payload,
        first_issued_at=fact.issuedAt,
        last_issued_at=fact.issuedAt,
        attempts=fact.attempt,
    )
    if known is None:
        return issue
    return replace(
        issue if fact.attempt >= known.attempts else known,
        first_issued_at=min(known.first_issued_at, fact.issuedAt),
        last_issued_at=max(known.last_issued_at, fact.issuedAt),
        attempts=max(known.attempts, fact.attempt),
    )


def merge_timeout(known: CommandTimedOut | None, fact: CommandTimedOut) -> CommandTimedOut:
    return fact if known is None or fact.attempts >= known.attempts else known


@dataclass(frozen=True)
class Shed:
    """Loads a VEN reports shed, as of `at` (its ack's time)."""

    ven_id: str
    at: datetime
    load_ids: list[str]


def shed_from_ack(ack: Ack) -> Shed | None:
    """A successful event ack names the curtailed circuits; a successful restore clears them."""
    if not ack.ok:
        return None
    if ack.op in EVENT_OPS:
        ids = sorted({c.loadId for c in ack.circuitsCurtailed})
        return Shed(ven_id=ack.venId, at=ack.ts, load_ids=ids)
    if ack.op == "restore":
        return Shed(ven_id=ack.venId, at=ack.ts, load_ids=[])
    return None
