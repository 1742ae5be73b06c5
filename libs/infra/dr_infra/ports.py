"""TCP port helpers: pick a free port, test one, wait until one accepts connections."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

_recent_lock = threading.Lock()
_recent: list[int] = []  # ports handed out lately, never handed out twice in a row


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that nothing listens on right now.

    The port is only free at the time of the call (another process may take it
    before ours binds it); callers that pick ports this way retry on a clash.
    Ports handed out recently by this process are not handed out again, so
    components started in parallel never get the same one.
    """
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        with _recent_lock:
            if port in _recent:
                continue
            _recent.append(port)
            del _recent[:-64]
        return port
    raise OSError("could not find a free TCP port")


def is_port_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when a server could bind ``host:port`` now (SO_REUSEADDR, like servers do)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def can_connect(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when a TCP connection to ``host:port`` succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_tcp(
    host: str,
    port: int,
    timeout: float = 30.0,
    *,
    interval: float = 0.02,
    abort: Callable[[], bool] | None = None,
) -> None:
    """Block until ``host:port`` accepts a TCP connection.

    Raises :class:`TimeoutError` after ``timeout`` seconds, or :class:`InterruptedError`
    as soon as ``abort()`` returns True (e.g. because the server process died).
    """
    deadline = time.monotonic() + timeout
    while True:
        if abort is not None and abort():
            raise InterruptedError(f"gave up waiting for {host}:{port}")
        remaining = deadline - time.monotonic()
        if can_connect(host, port, timeout=max(0.05, min(0.5, remaining))):
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{host}:{port} did not accept connections within {timeout:.1f}s")
        time.sleep(interval)
