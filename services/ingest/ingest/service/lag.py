"""How far behind the log the projector is, per partition: a gauge per topic, and a stall logged.

The lag of a partition is its fetch high watermark minus the offset stored with the
projections. A projector that falls behind under load shows a growing gauge; one whose
partition stops moving while records wait (a stuck fetch, a handler that never returns, a
partition nobody consumes) says so in its log once, with both offsets and whether a batch
was in the handler, and again when it moves. Without this, such a stall was silent: the
rows just stopped (docs/ingest.md, "Lag").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import structlog

from ingest import metrics
from ingest.adapters.pg_store import Tp

log = structlog.get_logger(__name__)


@dataclass
class _Progress:
    applied: int
    #: Since when records have been waiting at this applied offset (None: none waiting).
    waiting_since: float | None
    stalled: bool = False


class LagWatch:
    """Fed once a second by `Projector.run` with (partition, applied, high watermark).

    `stall_s`: records waiting this long with nothing applied is a stall (PROJECTOR_STALL_S).
    """

    def __init__(self, stall_s: float) -> None:
        self.stall_s = stall_s
        self._progress: dict[Tp, _Progress] = {}
        self._topics: set[str] = set()

    def observe(self, now: float, partitions: Iterable[tuple[Tp, int, int]], batch_for: float | None) -> None:
        """Update the gauge; log a partition that stalled or resumed.

        `batch_for`: seconds the handler has been inside the current batch (None: between batches).
        """
        lag_by_topic = dict.fromkeys(self._topics, 0)
        seen = set()
        for tp, applied, high in partitions:
            seen.add(tp)
            lag = max(0, high - applied)
            lag_by_topic[tp[0]] = lag_by_topic.get(tp[0], 0) + lag
            self._track(now, tp, applied, high, lag, batch_for)
        for tp in self._progress.keys() - seen:  # revoked: another member owns it now
            del self._progress[tp]
        for topic, lag in lag_by_topic.items():
            metrics.LAG.labels(topic).set(lag)
        self._topics = set(lag_by_topic)

    def _track(self, now: float, tp: Tp, applied: int, high: int, lag: int, batch_for: float | None) -> None:
        progress = self._progress.get(tp)
        if progress is None or applied != progress.applied:
            if progress is not None and progress.stalled and progress.waiting_since is not None:
                stalled_s = round(now - progress.waiting_since, 1)
                log.info(
                    "projection.resumed", topic=tp[0], partition=tp[1], applied=applied, stalled_s=stalled_s
                )
            self._progress[tp] = _Progress(applied, now if lag else None)
            return
        if not lag:
            progress.waiting_since, progress.stalled = None, False  # idle, not stalled
            return
        if progress.waiting_since is None:
            progress.waiting_since = now
        if not progress.stalled and now - progress.waiting_since >= self.stall_s:
            progress.stalled = True
            log.warning(
                "projection.stalled",
                topic=tp[0],
                partition=tp[1],
                applied=applied,
                high_watermark=high,
                waiting=lag,
                stalled_s=round(now - progress.waiting_since, 1),
                in_batch_s=None if batch_for is None else round(batch_for, 1),
            )
