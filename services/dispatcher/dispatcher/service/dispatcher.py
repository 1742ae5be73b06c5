"""The dispatcher: folds the log into state, owns some events, and acts when they are due.

Every replica folds ALL of `dr.events`, `dr.commands` and `ven.acks` (cheap: they are read
without a consumer group), so that any replica can take over any event at once. What a
replica may act on is what the consumer groups give it: the events of its `dr.events`
partitions, and the direct commands of its `dr.commands` partitions. Decisions come from
the folded log, never from memory of past actions, so a restart or a rebalance resumes
exactly where the log says things are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import structlog

from dispatcher.domain import decisions
from dispatcher.domain.allocation import allocate
from dispatcher.domain.commands import Outgoing, event_commands, restore_commands
from dispatcher.domain.decisions import Outcome
from dispatcher.domain.events import EventState, apply
from dispatcher.domain.ledger import CommandLedger, CommandRecord
from dispatcher.domain.overlap import ActivationIndex
from dispatcher.domain.retry import RetryPolicy
from dispatcher.service import metrics
from dispatcher.service.ports import CommandSink, FactLog, VenDirectory
from dispatcher.service.scheduler import DueQueue
from dispatcher.service.sender import CommandSender, utcnow
from dr_contracts.commands import EVENT_OPS
from dr_contracts.facts import (
    Allocation,
    CommandRequested,
    EventActivated,
    EventCompleted,
    FactPayload,
    new_fact,
)
from dr_contracts.topics import MqttTopics
from dr_runtime.outage import Outage

log = structlog.get_logger()

#: After a failed step (Kafka or Postgres unreachable), decide again this much later.
STEP_RETRY_S = 1.0


class Dispatcher:
    """State plus the reactions to facts, ownership changes and timers."""

    def __init__(
        self,
        *,
        facts: FactLog,
        sink: CommandSink,
        vens: VenDirectory,
        policy: RetryPolicy,
        mqtt_topics: MqttTopics,
        clock: Callable[[], datetime] = utcnow,
        revoke_grace_s: float = 5.0,
        prepare_lead_s: float = 0.0,
    ) -> None:
        self.facts, self.vens, self.clock = facts, vens, clock
        self.revoke_grace_s = revoke_grace_s
        self.prepare_lead = timedelta(seconds=prepare_lead_s)
        self.book: dict[str, EventState] = {}
        self.index = ActivationIndex()
        self.ledger = CommandLedger()
        self.sender = CommandSender(
            ledger=self.ledger,
            sink=sink,
            facts=facts,
            policy=policy,
            topics=mqtt_topics,
            wanted=self._wanted,
            clock=clock,
        )
        self.owned_events: set[int] = set()
        self.owned_direct: set[int] = set()
        self.timers: DueQueue[str] = DueQueue(lambda: self.clock().timestamp())
        self._fanned_out: set[str] = set()
        #: Events about to start whose VENs are chosen: eventId -> (activation, its commands).
        self._prepared: dict[str, tuple[EventActivated, list[Outgoing]]] = {}
        self._dirty: set[str] = set()
        self._steps: dict[str, asyncio.Task[None]] = {}
        self._batches: set[asyncio.Task[None]] = set()
        #: Steps and command batches failing (Kafka, Postgres or MQTT unreachable): logged when
        #: it starts and ends, not per event or batch; each is retried meanwhile.
        self.outage = Outage("kafka/postgres/mqtt", "dispatcher")

    # ---- facts in ----------------------------------------------------------------------

    def on_event_fact(self, fact: FactPayload, partition: int) -> None:
        """Fold a `dr.events` fact; act if this replica owns the event."""
        eid = getattr(fact, "eventId", None)
        if eid is None:
            return
        before = self.book.get(eid)
        state = apply(before, fact, partition)
        if state is None:
            return
        self.book[eid] = state
        if state.activation is not None and (before is None or before.activation is None):
            self.index.add(state.activation)
        if state is not before:
            self._reconcile_soon(eid)

    def on_command_requested(self, req: CommandRequested, partition: int) -> None:
        """A direct command asked for over REST: send it if its partition is ours."""
        rec = self.ledger.requested(req.correlationId, req.venId, req.op, req.payload, partition)
        if partition in self.owned_direct and rec.attempts == 0 and not rec.settled:
            self._spawn_batch(self.sender.send([(Outgoing.of(rec), 1)]))

    def on_command_issued(
        self,
        cid: str,
        ven_id: str,
        op: str,
        event_id: str | None,
        payload: dict[str, Any],
        issued_at: datetime,
        attempt: int,
        partition: int,
    ) -> None:
        self.ledger.issued(
            cid,
            ven_id,
            op,
            event_id=event_id,
            payload=payload,
            issued_at=issued_at,
            attempt=attempt,
            partition=partition,
        )

    def on_command_timed_out(self, cid: str, ven_id: str, op: str, attempts: int) -> None:
        self.ledger.timed_out(cid, ven_id, op, attempts)

    def on_ack(self, cid: str, ven_id: str, op: str, status: str) -> None:
        self.ledger.acked(cid, ven_id, op, status)

    # ---- ownership ---------------------------------------------------------------------

    def events_assigned(self, partitions: Iterable[int]) -> None:
        """Take over the events of these `dr.events` partitions (the log is caught up)."""
        self.owned_events |= set(partitions)
        owned = [eid for eid, st in self.book.items() if st.partition in self.owned_events]
        log.info("ownership.events", partitions=sorted(self.owned_events), events=len(owned))
        for eid in owned:
            self.reconcile(eid)
        self._watch_owned_commands()

    def direct_assigned(self, partitions: Iterable[int]) -> None:
        """Take over the direct commands of these `dr.commands` partitions."""
        self.owned_direct |= set(partitions)
        log.info("ownership.direct", partitions=sorted(self.owned_direct))
        self._watch_owned_commands()

    async def events_revoked(self, partitions: Iterable[int]) -> None:
        """Stop acting on these events; let running work finish so the next owner sees it."""
        self.owned_events -= set(partitions)
        for eid, st in self.book.items():
            if st.partition not in self.owned_events:
                self.timers.discard(eid)
                self._fanned_out.discard(eid)
                self._prepared.pop(eid, None)
        await self.quiesce()

    async def direct_revoked(self, partitions: Iterable[int]) -> None:
        self.owned_direct -= set(partitions)
        await self.quiesce()

    async def quiesce(self) -> None:
        """Wait (at most `revoke_grace_s`) for running steps and batches, then cancel them."""
        running = [*self._steps.values(), *self._batches]
        if not running:
            return
        _, pending = await asyncio.wait(running, timeout=self.revoke_grace_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def settle(self) -> None:
        """Until no decision is queued and no step or batch runs (tests and shutdown)."""
        while self._dirty or self._steps or self._batches:
            running = [*self._steps.values(), *self._batches]
            if running:
                await asyncio.wait(running)
            else:
                await asyncio.sleep(0)

    def _watch_owned_commands(self) -> None:
        """Resume the retries (and unsent direct commands) this replica now owns."""
        for rec in self.ledger.records.values():
            if rec.settled or not self._owns(rec):
                continue
            if rec.attempts == 0 and rec.requested:
                self._spawn_batch(self.sender.send([(Outgoing.of(rec), 1)]))
            elif rec.attempts > 0:
                self.sender.watch(rec)

    def _owns(self, rec: CommandRecord) -> bool:
        if rec.direct:
            return rec.partition in self.owned_direct
        state = self.book.get(rec.event_id or "")
        return state is not None and state.partition in self.owned_events

    def _wanted(self, rec: CommandRecord) -> bool:
        """Should this unanswered command still be re-sent by this replica?"""
        if not self._owns(rec):
            return False
        if rec.direct:
            return True
        state = self.book[rec.event_id or ""]
        if not self.index.owns(rec.ven_id, state.event_id):
            return False  # a newer event took the VEN (see domain.overlap)
        if rec.op in EVENT_OPS:
            return state.status == "active" and not state.end_requested
        return True

    # ---- decisions ---------------------------------------------------------------------

    def _reconcile_soon(self, eid: str) -> None:
        """Decide once the whole fetched batch is folded, never on a half-read log."""
        if not self._dirty:
            asyncio.get_running_loop().call_soon(self._reconcile_dirty)
        self._dirty.add(eid)

    def _reconcile_dirty(self) -> None:
        dirty, self._dirty = self._dirty, set()
        for eid in dirty:
            self.reconcile(eid)

    def reconcile(self, eid: str) -> None:
        """Decide what the event needs now; start it as a step unless one is running."""
        state = self.book.get(eid)
        if state is None or state.partition not in self.owned_events:
            self.timers.discard(eid)
            return
        if eid in self._steps:
            return  # decided again when the running step ends
        prepared = eid in self._prepared
        decision = decisions.decide(state, self.clock(), eid in self._fanned_out, prepared, self.prepare_lead)
        self.timers.discard(eid)
        if prepared and not isinstance(decision, decisions.WaitUntil | decisions.Activate):
            del self._prepared[eid]  # stopped or cancelled before its start
        match decision:
            case decisions.WaitUntil(when):
                self.timers.put(eid, when.timestamp())
            case decisions.Prepare():
                self._spawn_step(eid, self._prepare(state))
            case decisions.Activate():
                self._spawn_step(eid, self._activate(state))
            case decisions.FanOut():
                self._spawn_step(eid, self._fan_out(state))
            case decisions.Finish(outcome):
                self._spawn_step(eid, self._finish(state, outcome))

    def _spawn_step(self, eid: str, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro, name=f"step-{eid}")
        self._steps[eid] = task
        task.add_done_callback(lambda t: self._step_done(eid, t))

    def _step_done(self, eid: str, task: asyncio.Task[None]) -> None:
        del self._steps[eid]
        if task.cancelled():
            return
        if (error := task.exception()) is not None:
            self.outage.failed(error)
            log.debug("event.step_failed", event_id=eid, error=repr(error))
            self.timers.put(eid, self.clock().timestamp() + STEP_RETRY_S)
            return
        self.outage.recovered()
        self.reconcile(eid)

    def _spawn_batch(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._batches.add(task)
        task.add_done_callback(self._batch_done)

    def _batch_done(self, task: asyncio.Task[None]) -> None:
        self._batches.discard(task)
        if task.cancelled():
            return
        if (error := task.exception()) is not None:
            self.outage.failed(error)
            log.debug("command.batch_failed", error=repr(error))
        else:
            self.outage.recovered()

    # ---- steps -------------------------------------------------------------------------

    async def _allocate(self, state: EventState, activated_at: datetime) -> EventActivated:
        """Choose the VENs and split the requested kW over them."""
        event = state.created
        candidates, unknown = await self.vens.candidates(event.venIds)
        if unknown:
            log.warning(
                "event.targets_unknown", event_id=event.eventId, ven_ids=unknown[:50], count=len(unknown)
            )
        result = allocate(event.requestedReductionKw, candidates)
        if not result.shares:  # nobody online in the read model: say so, it may be lagging
            log.warning(
                "event.no_vens_online",
                event_id=event.eventId,
                requested_kw=event.requestedReductionKw,
                candidates=len(candidates),
            )
        return EventActivated(
            eventId=event.eventId,
            activatedAt=activated_at,
            unallocatedKw=result.unallocated_kw,
            allocations=[
                Allocation(venId=s.ven_id, shedKw=s.shed_kw, capabilityKw=s.capability_kw)
                for s in result.shares
            ],
        )

    async def _prepare(self, state: EventState) -> None:
        """Allocate and build the commands ahead of the start; the activation is the planned start."""
        activation = await self._allocate(state, activated_at=state.created.startTime)
        commands = event_commands(replace(state, activation=activation))
        self._prepared[state.event_id] = (activation, commands)
        log.info("event.prepared", event_id=state.event_id, vens=len(commands))

    async def _activate(self, state: EventState) -> None:
        """Append EventActivated (prepared, or allocated now), then fan out."""
        eid, now = state.event_id, self.clock()
        activation, commands = self._prepared.pop(eid, None) or (await self._allocate(state, now), None)
        await self.facts.append(new_fact(activation, fact_id=f"{eid}:activated"))
        metrics.EVENT_TRANSITIONS.labels("active").inc()
        log.info(
            "event.activated",
            event_id=eid,
            vens=len(activation.allocations),
            unallocated_kw=activation.unallocatedKw,
            prepared=commands is not None,
            late_s=round((now - state.created.startTime).total_seconds(), 3),
        )
        self.on_event_fact(activation, state.partition)
        await self._fan_out(self.book[eid], commands)

    async def _fan_out(self, state: EventState, prepared: list[Outgoing] | None = None) -> None:
        """Send every allocated VEN its event command (once; re-sends are the sender's job)."""
        started = self.clock()
        built = event_commands(state) if prepared is None else prepared
        commands = [c for c in built if self.index.owns(c.ven_id, state.event_id)]
        sent = await self.sender.ensure_sent(commands)
        self._fanned_out.add(state.event_id)
        log.info(
            "event.fanned_out",
            event_id=state.event_id,
            commands=len(commands),
            sent=sent,
            seconds=round((self.clock() - started).total_seconds(), 3),
        )

    async def _finish(self, state: EventState, outcome: Outcome) -> None:
        """Restore the VENs that still follow this event, then append EventCompleted."""
        eid = state.event_id
        allocated = state.activation.allocations if state.activation is not None else []
        followers = [a.venId for a in allocated if self.index.owns(a.venId, eid)]
        await self.sender.ensure_sent(restore_commands(state, followers))
        completion = EventCompleted(eventId=eid, completedAt=self.clock(), outcome=outcome)
        await self.facts.append(new_fact(completion, fact_id=f"{eid}:completed"))
        metrics.EVENT_TRANSITIONS.labels(outcome).inc()
        log.info(
            "event.completed",
            event_id=eid,
            outcome=outcome,
            restored=len(followers),
            superseded=len(allocated) - len(followers),
        )
        self.on_event_fact(completion, state.partition)

    # ---- timers ------------------------------------------------------------------------

    async def run(self) -> None:
        """Wake events at their start and end, and commands whose ack is overdue.

        When cancelled (shutdown), running steps get the revoke grace to finish first.
        """
        try:
            await asyncio.gather(self._event_timer_loop(), self._retry_loop())
        finally:
            await self.quiesce()

    async def _event_timer_loop(self) -> None:
        while True:
            for eid in await self.timers.due():
                self.reconcile(eid)

    async def _retry_loop(self) -> None:
        while True:
            due = await self.sender.retries.due()
            self._spawn_batch(self.sender.retry(due))
