"""What the dispatcher needs from the outside world; adapters and test fakes implement these."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from dispatcher.domain.allocation import Candidate
from dr_contracts.facts import Fact


class FactLog(Protocol):
    """Appends facts to Kafka and returns once the broker has them (acks=all)."""

    async def append(self, fact: Fact) -> None: ...

    async def append_many(self, facts: Sequence[Fact]) -> None: ...


class CommandSink(Protocol):
    """Publishes commands to VENs with QoS 1."""

    async def publish_many(self, messages: Sequence[tuple[str, bytes]]) -> list[bool]:
        """Publish all concurrently; True where the broker acknowledged (PUBACK)."""
        ...


class VenDirectory(Protocol):
    """The VENs an event can use, with their shed capability, read once per activation."""

    async def candidates(self, ven_ids: Sequence[str] | None) -> tuple[list[Candidate], list[str]]:
        """(`ven_ids` that are registered, or every online VEN when None; unknown `ven_ids`)."""
        ...
