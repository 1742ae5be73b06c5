"""Which VENs each gateway speaks for, read from BRIDGE_GATEWAYS_FILE and re-read when it changes.

The file is the PKI's `gateways.json` (`python -m dr_infra pki gateway ...`):
`{"<gateway>": {"vens": ["<venId>", ...], "legacy": true|false}, ...}`. The bridge checks a
reading the broker stamped with its gateway (`volttron/metering/<gateway>`) against it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import structlog

from ingest.domain.intake import Owners

log = structlog.get_logger()

#: How often the file's modification time is looked at (at most).
CHECK_EVERY_S = 1.0


class GatewayOwners:
    """The current ownership map; `current()` is cheap enough to call per batch."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._owners: Owners = {}
        self._mtime: float | None = None
        self._checked = 0.0

    def current(self) -> Owners:
        if self.path is None:
            return self._owners
        now = time.monotonic()
        if now - self._checked >= CHECK_EVERY_S:
            self._checked = now
            self._reload_if_changed()
        return self._owners

    def _reload_if_changed(self) -> None:
        assert self.path is not None
        try:
            mtime = self.path.stat().st_mtime
            if mtime == self._mtime:
                return
            entries = json.loads(self.path.read_text())
            self._owners = {name: frozenset(entry["vens"]) for name, entry in entries.items()}
            self._mtime = mtime
            log.info("bridge.gateways_loaded", gateways=len(self._owners), path=str(self.path))
        except (OSError, ValueError, KeyError, TypeError) as err:  # keep the last good map
            log.error("bridge.gateways_unreadable", path=str(self.path), error=repr(err))
