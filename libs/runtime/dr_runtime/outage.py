"""Outage logging for retry loops: one line when a dependency stops answering, one when it is back.

A loop that retries with backoff during an outage would otherwise log every failed attempt
(or every message it could not handle). With :class:`Outage` it logs `outage.started` on the
first failure, `outage.ended` with the duration and the number of failed attempts on the
first success after it, and nothing in between. `attempts` gives the loop its backoff step.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog

log = structlog.get_logger(__name__)


class Outage:
    """What one retry loop (`loop`) sees of one dependency (`dependency`): up, or down since when."""

    def __init__(self, dependency: str, loop: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.dependency = dependency
        self.loop = loop
        self._clock = clock
        self._since: float | None = None
        #: Failed attempts in the current outage (0 while the dependency answers).
        self.attempts = 0

    @property
    def ongoing(self) -> bool:
        return self._since is not None

    def failed(self, exc: BaseException) -> int:
        """Note a failed attempt (logged only if it starts an outage); the backoff step to wait."""
        if self._since is None:
            self._since = self._clock()
            log.warning(
                "outage.started",
                dependency=self.dependency,
                loop=self.loop,
                error=str(exc)[:300] or repr(exc),
            )
        self.attempts += 1
        return self.attempts - 1

    def recovered(self) -> None:
        """Note a success: ends the outage (logged with its duration), if there was one."""
        if self._since is None:
            return
        log.info(
            "outage.ended",
            dependency=self.dependency,
            loop=self.loop,
            duration_s=round(self._clock() - self._since, 1),
            failed_attempts=self.attempts,
        )
        self._since = None
        self.attempts = 0
