"""Base class for one locally run server process (Tansu, Mosquitto, PostgreSQL).

What every component gets from :class:`ManagedProcess`:

* its own temporary directory (``workdir``) holding its log file and data;
* a port, given or free, that stays the same across :meth:`~ManagedProcess.restart`;
* start-up that waits for *real* readiness (a protocol-level probe) with a deadline,
  and fails with :class:`~dr_infra.errors.InfraError` plus the log tail when the
  process dies or never becomes ready;
* for callers that must not block (async tests), :meth:`~ManagedProcess.start` with
  ``wait=False`` and :meth:`~ManagedProcess.wait_ready` later (e.g. in a worker thread);
* no process left behind: children run in their own session (Ctrl-C in a terminal
  does not hit them before the runner stops them in order), get SIGKILL from the
  kernel if the runner itself dies (``setpriv --pdeathsig``), are stopped by an
  ``atexit`` hook, and SIGTERM to the runner is turned into ``KeyboardInterrupt``
  so that ``finally`` blocks and context managers run.
"""

from __future__ import annotations

import abc
import atexit
import concurrent.futures
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any, ClassVar, Self

from .errors import InfraError, log_tail, port_in_use, with_log
from .ports import free_port, is_port_free

_SETPRIV = shutil.which("setpriv")


class _Spawner:
    """Creates child processes from one long-lived daemon thread.

    The kernel's parent-death signal fires when the *thread* that created a child
    exits, so children must not be created from short-lived threads (e.g. the ones
    :class:`~dr_infra.stack.LocalStack` starts components in).
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[
            tuple[list[str], dict[str, Any], concurrent.futures.Future[subprocess.Popen[bytes]]]
        ] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def popen(self, args: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        if _SETPRIV:
            args = [_SETPRIV, "--pdeathsig", "KILL", "--", *args]
        if threading.current_thread() is self._thread:
            return subprocess.Popen(args, **kwargs)
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="dr-infra-spawner", daemon=True)
                self._thread.start()
        future: concurrent.futures.Future[subprocess.Popen[bytes]] = concurrent.futures.Future()
        self._queue.put((args, kwargs, future))
        return future.result()

    def _run(self) -> None:
        while True:
            args, kwargs, future = self._queue.get()
            try:
                future.set_result(subprocess.Popen(args, **kwargs))
            except BaseException as exc:
                future.set_exception(exc)


_spawner = _Spawner()

# Every component with a process or a temp dir, in start order (dict as ordered set).
_live: dict[ManagedProcess, None] = {}
_live_lock = threading.Lock()
_sigterm_installed = False


def _stop_all_at_exit() -> None:
    with _live_lock:
        components = list(_live)
    for component in reversed(components):
        try:
            component.stop()
        except BaseException:  # best effort at interpreter exit
            pass


atexit.register(_stop_all_at_exit)


def _sigterm_to_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"received signal {signum}")


def install_sigterm_handler() -> None:
    """Make SIGTERM raise ``KeyboardInterrupt`` so cleanup code runs.

    Only done from the main thread and only when SIGTERM still has its default
    disposition (an application's own handler is never replaced). Called
    automatically by :meth:`ManagedProcess.start`.
    """
    global _sigterm_installed
    if _sigterm_installed or threading.current_thread() is not threading.main_thread():
        return
    try:
        if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, _sigterm_to_keyboard_interrupt)
    except (ValueError, OSError):
        return
    _sigterm_installed = True


OWNER_FILE = ".dr-infra-owner"
_swept = False


def proc_stat(pid: int) -> list[str] | None:
    """Fields of ``/proc/<pid>/stat`` after the command name (state first); None when gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def alive(pid: int) -> bool:
    """True while ``pid`` runs; zombies count as gone (PID 1 may not reap orphans here)."""
    stat = proc_stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (children, their children, ...), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := proc_stat(int(entry.name))) is not None:
            parents[int(entry.name)] = int(stat[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return {child for child in found if alive(child)}


def cpu_seconds(pid: int | None, *, with_descendants: bool = False) -> float:
    """User + system CPU seconds a process (and its live descendants) used so far; 0 if gone."""
    if pid is None:
        return 0.0
    pids = {pid} | (descendants(pid) if with_descendants else set())
    ticks = sum(int(stat[11]) + int(stat[12]) for stat in map(proc_stat, pids) if stat is not None)
    return ticks / os.sysconf("SC_CLK_TCK")


def memory_bytes(pid: int | None, *, with_descendants: bool = False) -> int:
    """Resident memory of a process: its RSS; with its descendants, the sum of their PSS
    (each shared page counted once: Postgres backends share the buffer cache). 0 if gone."""
    if pid is None:
        return 0
    if not with_descendants:
        return _kb_field(Path(f"/proc/{pid}/status"), "VmRSS:") * 1024
    pids = {pid} | descendants(pid)
    return sum(_kb_field(Path(f"/proc/{p}/smaps_rollup"), "Pss:") for p in pids) * 1024


def _kb_field(path: Path, name: str) -> int:
    """The kB value of the line starting with `name` in a /proc file (0 if gone)."""
    try:
        for line in path.read_text().splitlines():
            if line.startswith(name):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _start_time(pid: int) -> str | None:
    """The process's start time (from /proc), to tell a live owner from a reused pid."""
    stat = proc_stat(pid)
    return stat[19] if stat is not None and len(stat) > 19 else None


def _owner_tag() -> str:
    return f"{os.getpid()} {_start_time(os.getpid())}"


def sweep_stale_workdirs(tmpdir: str | Path | None = None) -> list[Path]:
    """Remove work dirs left by runners that died without cleaning up (e.g. SIGKILL).

    Only dirs carrying an owner file whose process is gone are removed (their server
    processes got SIGKILL from the kernel when the owner died). Returns what was removed.
    Called automatically once per process by :meth:`ManagedProcess.start`.
    """
    removed: list[Path] = []
    for path in Path(tmpdir or tempfile.gettempdir()).glob("dr-infra-*"):
        try:
            pid_text, started = (path / OWNER_FILE).read_text().split()
            if _start_time(int(pid_text)) == (None if started == "None" else started):
                continue  # the owner still runs (or we cannot tell)
        except (OSError, ValueError):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


class _DiedEarly(Exception):
    def __init__(self, returncode: int) -> None:
        super().__init__(f"exited with code {returncode}")
        self.returncode = returncode


class ManagedProcess(abc.ABC):
    """One server process on ``host:port`` with its own temporary directory.

    Subclasses set :attr:`name`, :attr:`stop_signal` and implement :meth:`_command`
    and :meth:`_probe`; they may override :meth:`_prepare` (one-time set-up of the
    work dir, e.g. ``initdb``) and :meth:`_popen_kwargs`.
    """

    name: ClassVar[str] = "process"
    #: Signal for a clean stop; SIGKILL follows after :attr:`stop_timeout` seconds.
    stop_signal: ClassVar[int] = signal.SIGTERM
    stop_timeout: ClassVar[float] = 10.0
    #: How often the readiness probe is retried while starting.
    probe_interval: ClassVar[float] = 0.05

    def __init__(
        self, port: int | None = None, *, host: str = "127.0.0.1", startup_timeout: float = 30.0
    ) -> None:
        self.host = host
        self.startup_timeout = startup_timeout
        self._requested_port = port
        self._port: int | None = port
        # A port becomes pinned once the process listened on it: restarts reuse it.
        self._port_pinned = port is not None
        self.workdir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_fh: IO[bytes] | None = None
        self._lock = threading.RLock()
        self._cancel = threading.Event()

    # -- public API --------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port (known once :meth:`start` has been called)."""
        if self._port is None:
            raise InfraError(f"{self.name}: no port yet, call start() first")
        return self._port

    @property
    def log_path(self) -> Path:
        """The process's log file (stdout and stderr), inside :attr:`workdir`."""
        if self.workdir is None:
            raise InfraError(f"{self.name}: not started, no log file")
        return self.workdir / f"{self.name}.log"

    @property
    def pid(self) -> int | None:
        """Pid of the running server process, or None."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    @property
    def running(self) -> bool:
        return self.pid is not None

    @property
    def returncode(self) -> int | None:
        """The exit code once the process ended by itself; None while it runs or when stopped."""
        proc = self._proc
        return None if proc is None else proc.poll()

    def start(self, *, wait: bool = True) -> Self:
        """Start the process (if not running) and wait until it answers; idempotent.

        ``wait=False`` only launches it: call :meth:`wait_ready` later, or never (a
        one-shot command that exits when done, see :attr:`returncode`).
        """
        with self._lock:
            if self.running:
                return self
            self._cancel.clear()
            install_sigterm_handler()
            first_start = self.workdir is None
            with _live_lock:
                _live[self] = None
            try:
                if self.workdir is None:
                    self._sweep_once()
                    self.workdir = Path(tempfile.mkdtemp(prefix=f"dr-infra-{self.name}-"))
                    (self.workdir / OWNER_FILE).write_text(_owner_tag())
                    self._prepare()
                if wait:
                    self._start_process()
                else:
                    self._launch()
            except BaseException:
                self._stop_process()
                if first_start:
                    self._remove_workdir()
                raise
            return self

    def wait_ready(self) -> None:
        """Wait (blocking, up to ``startup_timeout``) until a started process answers its probe."""
        try:
            self._wait_ready()
        except _DiedEarly as exc:
            raise with_log(f"{self.name} exited during start-up ({exc})", self.log_path) from None

    def stop(self) -> int | None:
        """Stop the process (clean signal, then SIGKILL), remove the work dir; its exit code."""
        self._cancel.set()  # a start() in progress in another thread gives up
        with self._lock:
            try:
                return self._stop_process()
            finally:
                self._remove_workdir()
                self._port = self._requested_port
                self._port_pinned = self._requested_port is not None

    def restart(self) -> Self:
        """Stop the process and start it again on the same port with the same data."""
        with self._lock:
            if self.workdir is None:
                return self.start()
            self._stop_process()
            return self.start()

    def kill(self) -> None:
        """SIGKILL the process (simulates a crash); the work dir is kept for restart()."""
        with self._lock:
            proc = self._proc
            if proc is not None and proc.poll() is None:
                _signal_group(proc.pid, signal.SIGKILL)
            self._stop_process()

    def cancel_start(self) -> None:
        """Make a start() running in another thread give up soon."""
        self._cancel.set()

    def log_tail(self, lines: int = 30) -> str:
        """The last ``lines`` lines of the log ('' when there is none)."""
        return log_tail(self.log_path if self.workdir else None, lines)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"pid={self.pid}" if self.running else "stopped"
        return f"<{type(self).__name__} {self.host}:{self._port} {state}>"

    # -- for subclasses ----------------------------------------------------------------

    @abc.abstractmethod
    def _command(self) -> list[str]:
        """The server command line (for the current :attr:`port` and :attr:`workdir`)."""

    @abc.abstractmethod
    def _probe(self, timeout: float) -> None:
        """Raise unless the server answers a real protocol request within ``timeout``."""

    def _prepare(self) -> None:  # noqa: B027 - optional hook
        """One-time set-up of a fresh :attr:`workdir` (not repeated on restart)."""

    def _popen_kwargs(self) -> dict[str, Any]:
        """Extra keyword arguments for :class:`subprocess.Popen` (e.g. ``user``)."""
        return {}

    # -- internals ---------------------------------------------------------------------

    def _start_process(self) -> None:
        attempts = 1 if self._port_pinned else 3
        for attempt in range(attempts):
            if self._port is None:
                self._port = free_port(self.host)
            elif not is_port_free(self._port, self.host):
                if self._port_pinned:
                    raise port_in_use(self.name, self._port, self.host)
                self._port = free_port(self.host)
            self._launch()
            try:
                self._wait_ready()
            except _DiedEarly as exc:
                self._stop_process()
                lost_port_race = "in use" in self.log_tail(10).lower()  # EADDRINUSE
                if lost_port_race and attempt + 1 < attempts and not self._port_pinned:
                    self._port = None  # another process took our free port: try another
                    continue
                raise with_log(
                    f"{self.name} exited during start-up ({exc}) on port {self._port}",
                    self.log_path,
                ) from None
            self._port_pinned = True
            return

    def _launch(self) -> None:
        self._log_fh = open(self.log_path, "ab")  # kept open while the process runs
        try:
            self._proc = _spawner.popen(
                self._command(),
                stdin=subprocess.DEVNULL,
                stdout=self._log_fh,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=True,
                **self._popen_kwargs(),
            )
        except FileNotFoundError as exc:
            raise InfraError(f"{self.name}: cannot run {exc.filename}: {exc}") from exc

    def _wait_ready(self) -> None:
        proc = self._proc
        if proc is None:
            raise InfraError(f"{self.name}: not started")
        deadline = time.monotonic() + self.startup_timeout
        last_error: BaseException | None = None
        while True:
            if self._cancel.is_set():
                raise InfraError(f"{self.name}: start-up cancelled")
            returncode = proc.poll()
            if returncode is not None:
                raise _DiedEarly(returncode)
            remaining = deadline - time.monotonic()
            try:
                self._probe(max(0.2, min(5.0, remaining)))
                return
            except Exception as exc:
                last_error = exc
            if proc.poll() is not None:
                raise _DiedEarly(proc.returncode)
            if time.monotonic() >= deadline:
                raise with_log(
                    f"{self.name} did not become ready on {self.host}:{self._port} within "
                    f"{self.startup_timeout:.0f}s (last probe error: {last_error!r})",
                    self.log_path,
                )
            time.sleep(self.probe_interval)

    def _stop_process(self) -> int | None:
        """Stop the process if it runs; its exit code (None when there was none)."""
        proc, self._proc = self._proc, None
        try:
            if proc is None:
                return None
            if proc.poll() is None:
                _signal_pid(proc.pid, self.stop_signal)
                try:
                    proc.wait(self.stop_timeout)
                except subprocess.TimeoutExpired:
                    _signal_group(proc.pid, signal.SIGKILL)
                    proc.wait(5)
            # Anything else left in its session (e.g. postgres backends) goes too.
            _signal_group(proc.pid, signal.SIGKILL)
            return proc.returncode
        finally:
            if self._log_fh is not None:
                self._log_fh.close()
                self._log_fh = None

    @staticmethod
    def _sweep_once() -> None:
        global _swept
        if not _swept:
            _swept = True
            sweep_stale_workdirs()

    def _remove_workdir(self) -> None:
        workdir, self.workdir = self.workdir, None
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
        with _live_lock:
            _live.pop(self, None)


def _signal_pid(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
