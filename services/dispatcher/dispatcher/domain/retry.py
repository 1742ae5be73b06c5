"""When to re-send an un-acked command, and when to give up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempt n waits `ack_timeout_s * backoff**(n-1)` (at most `max_wait_s`) for its ack."""

    ack_timeout_s: float = 5.0
    max_attempts: int = 3
    backoff: float = 2.0
    max_wait_s: float = 60.0

    def __post_init__(self) -> None:
        if self.ack_timeout_s <= 0 or self.max_attempts < 1 or self.backoff < 1:
            raise ValueError("need ack_timeout_s > 0, max_attempts >= 1 and backoff >= 1")

    def wait_s(self, attempt: int) -> float:
        """How long attempt `attempt` (1-based) waits for its ack."""
        return min(self.ack_timeout_s * self.backoff ** (attempt - 1), self.max_wait_s)

    def deadline(self, issued_at: datetime, attempt: int) -> datetime:
        """When attempt `attempt`, sent at `issued_at`, counts as unanswered."""
        return issued_at + timedelta(seconds=self.wait_s(attempt))

    def exhausted(self, attempt: int) -> bool:
        """True once `attempt` was the last one allowed."""
        return attempt >= self.max_attempts
