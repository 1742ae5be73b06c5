"""Every command's story, folded from `dr.commands` and `ven.acks`: issued, acked, given up.

Facts arrive from two topics in no particular order between them (an ack may be read
before the CommandIssued it answers), so every fold step tolerates a missing record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class CommandRecord:
    """One correlationId: what it carries and how far it got."""

    correlation_id: str
    ven_id: str
    op: str
    event_id: str | None = None
    payload: dict[str, Any] | None = None
    #: Partition of `dr.commands` holding its facts (key venId): who owns a direct command.
    partition: int | None = None
    requested: bool = False
    attempts: int = 0
    last_issued_at: datetime | None = None
    ack_status: str | None = None
    timed_out: bool = False

    @property
    def settled(self) -> bool:
        """Nothing more to send: answered (any status is final) or given up."""
        return self.ack_status is not None or self.timed_out

    @property
    def direct(self) -> bool:
        """Asked for over REST, outside any event."""
        return self.event_id is None


@dataclass
class CommandLedger:
    """correlationId -> CommandRecord, for every command this replica has seen."""

    records: dict[str, CommandRecord] = field(default_factory=dict)

    def get(self, correlation_id: str) -> CommandRecord | None:
        return self.records.get(correlation_id)

    def _record(self, correlation_id: str, ven_id: str, op: str) -> CommandRecord:
        rec = self.records.get(correlation_id)
        if rec is None:
            rec = self.records[correlation_id] = CommandRecord(correlation_id, ven_id, op)
        return rec

    def requested(
        self, correlation_id: str, ven_id: str, op: str, payload: dict[str, Any], partition: int
    ) -> CommandRecord:
        """A direct command was asked for (CommandRequested)."""
        rec = self._record(correlation_id, ven_id, op)
        rec.requested, rec.payload, rec.partition = True, payload, partition
        return rec

    def issued(
        self,
        correlation_id: str,
        ven_id: str,
        op: str,
        *,
        event_id: str | None,
        payload: dict[str, Any],
        issued_at: datetime,
        attempt: int,
        partition: int | None = None,
    ) -> CommandRecord:
        """It was published (CommandIssued); re-reading the same fact changes nothing."""
        rec = self._record(correlation_id, ven_id, op)
        rec.op, rec.event_id, rec.payload = op, event_id, payload
        if partition is not None:
            rec.partition = partition
        if attempt >= rec.attempts:
            rec.attempts, rec.last_issued_at = attempt, issued_at
        return rec

    def timed_out(self, correlation_id: str, ven_id: str, op: str, attempts: int) -> None:
        rec = self._record(correlation_id, ven_id, op)
        rec.timed_out, rec.attempts = True, max(rec.attempts, attempts)

    def acked(self, correlation_id: str, ven_id: str, op: str, status: str) -> None:
        """The VEN answered; the first answer counts (a re-sent command gets the same one)."""
        rec = self._record(correlation_id, ven_id, op)
        if rec.ack_status is None:
            rec.ack_status = status
