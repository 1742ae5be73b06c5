"""Sending commands and re-sending the unanswered ones: record, publish, retry, give up.

Every publish is recorded as CommandIssued (attempt n, deterministic factId) before it
happens, so a restarted or new owner knows every command that may have gone out and
continues the count. A command is re-sent with the SAME correlationId when its ack is
late, with backoff, until the policy is exhausted; then CommandTimedOut. Any ack ends it
(a VEN answers a repeated correlationId with its first ack, so re-sending after a
rejection would change nothing).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

import structlog

from dispatcher.domain.commands import Outgoing
from dispatcher.domain.ledger import CommandLedger, CommandRecord
from dispatcher.domain.retry import RetryPolicy
from dispatcher.service import metrics
from dispatcher.service.ports import CommandSink, FactLog
from dispatcher.service.scheduler import DueQueue
from dr_contracts import jsonio
from dr_contracts.facts import CommandIssued, CommandTimedOut, Fact, new_fact
from dr_contracts.topics import MqttTopics

log = structlog.get_logger()

#: Commands published between two appends of their CommandIssued facts.
RECORD_EVERY = 1000
#: After Kafka refused to record a batch, try those commands again this much later.
RECORD_RETRY_S = 1.0

#: A command and the attempt number it is sent as.
Attempt = tuple[Outgoing, int]


def utcnow() -> datetime:
    return datetime.now(UTC)


def issued_fact(cmd: Outgoing, attempt: int, issued_at: datetime) -> Fact:
    """CommandIssued with a factId that a repeated append of the same attempt shares.

    Built without validation: every field comes from a command this service built from
    validated facts, and a 10k-VEN fan-out would otherwise validate each payload again.
    """
    issued = CommandIssued.model_construct(
        venId=cmd.ven_id,
        correlationId=cmd.correlation_id,
        eventId=cmd.event_id,
        op=cmd.op,
        payload=cmd.payload,
        issuedAt=issued_at,
        attempt=attempt,
    )
    return new_fact(issued, fact_id=f"{cmd.correlation_id}:{attempt}", occurred_at=issued_at)


class CommandSender:
    """Owns the retry queue; asks the dispatcher whether a command is still its to send."""

    def __init__(
        self,
        *,
        ledger: CommandLedger,
        sink: CommandSink,
        facts: FactLog,
        policy: RetryPolicy,
        topics: MqttTopics,
        wanted: Callable[[CommandRecord], bool],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.ledger, self.sink, self.facts, self.policy = ledger, sink, facts, policy
        self.topics, self.wanted, self.clock = topics, wanted, clock
        self.retries: DueQueue[str] = DueQueue(lambda: self.clock().timestamp())

    async def ensure_sent(self, commands: Sequence[Outgoing]) -> int:
        """Send those never sent; queue the re-send of those sent and unanswered. -> sent now."""
        fresh = []
        for cmd in commands:
            rec = self.ledger.get(cmd.correlation_id)
            if rec is None or (rec.attempts == 0 and not rec.settled):
                fresh.append((cmd, 1))
            elif not rec.settled:
                self.watch(rec)
        await self.send(fresh)
        return len(fresh)

    def watch(self, rec: CommandRecord) -> None:
        """Wake when this issued command's ack is overdue."""
        if rec.last_issued_at is not None:
            deadline = self.policy.deadline(rec.last_issued_at, rec.attempts)
            self.retries.put(rec.correlation_id, deadline.timestamp())

    async def send(self, batch: Sequence[Attempt]) -> None:
        """Record, then publish, `(command, attempt)` pairs, in chunks that run side by side.

        Write-ahead: a chunk's CommandIssued facts are appended before its publishes, so the
        log holds every command that may have reached a VEN. A crash between the two leaves
        an issued command without an ack, which the next owner re-sends when its ack is
        overdue (same correlationId: a VEN that got it answers from its cache). The other
        order would lose the record of commands whose acks arrive before the takeover.
        """
        chunks = [batch[i : i + RECORD_EVERY] for i in range(0, len(batch), RECORD_EVERY)]
        await asyncio.gather(*(self._send_chunk(chunk) for chunk in chunks))

    async def _send_chunk(self, chunk: Sequence[Attempt]) -> None:
        issued_at = self.clock()
        facts = [issued_fact(cmd, attempt, issued_at) for cmd, attempt in chunk]
        await self._recorded(self.facts.append_many(facts), [cmd.correlation_id for cmd, _ in chunk])
        for cmd, attempt in chunk:
            rec = self.ledger.issued(
                cmd.correlation_id,
                cmd.ven_id,
                cmd.op,
                event_id=cmd.event_id,
                payload=cmd.payload,
                issued_at=issued_at,
                attempt=attempt,
            )
            self.watch(rec)
        messages = [(self.topics.cmd(c.ven_id), jsonio.dumps(c.payload)) for c, _ in chunk]
        acked = await self.sink.publish_many(messages)
        for (cmd, attempt), ok in zip(chunk, acked, strict=True):
            if not ok:  # an unanswered attempt: re-sent when its ack is overdue
                log.warning(
                    "command.publish_failed",
                    ven_id=cmd.ven_id,
                    event_id=cmd.event_id,
                    correlation_id=cmd.correlation_id,
                    attempt=attempt,
                )
        op, published = chunk[0][0].op, sum(acked)
        metrics.COMMANDS_PUBLISHED.labels(op).inc(published)
        metrics.PUBLISH_FAILED.labels(op).inc(len(chunk) - published)

    async def _recorded(self, append: Awaitable[None], correlation_ids: Sequence[str]) -> None:
        """Await an append; when Kafka refuses it, those commands come due again shortly
        (nothing was recorded, so nothing was sent), then the error goes on to the caller."""
        try:
            await append
        except Exception:
            later = self.clock().timestamp() + RECORD_RETRY_S
            for cid in correlation_ids:
                self.retries.put(cid, later)
            raise

    def overdue(self, correlation_ids: Sequence[str]) -> tuple[list[Attempt], list[CommandRecord]]:
        """Split due commands into re-sends and give-ups; drop the answered and unwanted."""
        resend, give_up = [], []
        now = self.clock()
        for cid in correlation_ids:
            rec = self.ledger.get(cid)
            if rec is None or rec.settled or not self.wanted(rec):
                continue  # (an event command never recorded is sent again by its event's step)
            if rec.last_issued_at is None:
                if rec.requested:  # a direct command whose first send could not be recorded
                    resend.append((Outgoing.of(rec), 1))
                continue
            if self.policy.deadline(rec.last_issued_at, rec.attempts) > now:
                self.watch(rec)  # re-issued since it was queued
            elif self.policy.exhausted(rec.attempts):
                give_up.append(rec)
            else:
                resend.append((Outgoing.of(rec), rec.attempts + 1))
        return resend, give_up

    async def retry(self, correlation_ids: Sequence[str]) -> None:
        """Re-send or give up on the due commands, side by side (one failing does not stop the other)."""
        resend, give_up = self.overdue(correlation_ids)
        if resend:
            log.info("command.resend", count=len(resend), attempt=max(a for _, a in resend))
        outcomes = await asyncio.gather(self.send(resend), self._give_up(give_up), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _give_up(self, records: Sequence[CommandRecord]) -> None:
        """Record CommandTimedOut first, then settle the commands (recorded or retried later)."""
        facts = [
            new_fact(
                CommandTimedOut(
                    venId=rec.ven_id,
                    correlationId=rec.correlation_id,
                    eventId=rec.event_id,
                    op=rec.op,
                    attempts=rec.attempts,
                ),
                fact_id=f"{rec.correlation_id}:timed-out",
            )
            for rec in records
        ]
        if facts:
            await self._recorded(self.facts.append_many(facts), [rec.correlation_id for rec in records])
        for rec in records:
            self.ledger.timed_out(rec.correlation_id, rec.ven_id, rec.op, rec.attempts)
            metrics.COMMANDS_TIMED_OUT.labels(rec.op).inc()
            log.warning(
                "command.timed_out",
                ven_id=rec.ven_id,
                event_id=rec.event_id,
                correlation_id=rec.correlation_id,
                attempts=rec.attempts,
            )
