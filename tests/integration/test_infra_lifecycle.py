"""Starting and stopping local infrastructure leaves no process and no temp dir behind."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from dr_infra import InfraError, LocalStack, Mosquitto, TansuBroker
from dr_infra.process import alive, descendants, sweep_stale_workdirs
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def is_dir(path: str | Path) -> bool:
    return Path(path).is_dir()


def stack_state(stack: LocalStack) -> tuple[set[int], set[Path]]:
    pids = {c.pid for c in stack.components().values() if c.pid is not None}
    dirs = {c.workdir for c in stack.components().values() if c.workdir is not None}
    return pids, dirs


async def assert_all_gone(pids: set[int], dirs: set[Path]) -> None:
    await wait_for(
        lambda: not any(alive(p) for p in pids),
        timeout=20,
        message=lambda: f"still running: {[p for p in pids if alive(p)]}",
    )
    assert not [d for d in dirs if d.exists()]


async def test_stack_stop_leaves_nothing() -> None:
    with LocalStack() as stack:
        pids, dirs = stack_state(stack)
        postgres = stack.postgres
        assert postgres is not None
        pids |= descendants(postgres.pid or 0)  # the postmaster's own children too
        assert len(dirs) == 3 and all(d.is_dir() for d in dirs)
        assert all(alive(p) for p in pids)
        assert set(stack.env()) == {"KAFKA_BOOTSTRAP_SERVERS", "MQTT_URL", "DATABASE_URL"}
    await assert_all_gone(pids, dirs)
    with pytest.raises(InfraError, match="not running"):
        _ = stack.kafka_bootstrap


async def test_exception_inside_context_manager_stops_everything() -> None:
    seen: dict[str, tuple[set[int], set[Path]]] = {}
    with pytest.raises(RuntimeError, match="boom"), LocalStack() as stack:
        seen["state"] = stack_state(stack)
        raise RuntimeError("boom")
    await assert_all_gone(*seen["state"])


async def test_single_component_context_manager_and_explicit_port() -> None:
    with TansuBroker() as first:
        port = first.port
        with pytest.raises(InfraError, match=f"port {port} .* in use"), TansuBroker(port):
            pass
        pids, dirs = {first.pid or 0}, {first.workdir}
    await assert_all_gone(pids, {d for d in dirs if d})
    with Mosquitto(port=port) as again:  # the port is free again once stopped
        assert again.url.endswith(f":{port}")


class Output:
    """Collects a child's output lines in a thread (select() and buffered reads don't mix)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        self.lines: list[str] = []
        self._stream = proc.stdout
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self._stream:
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    async def wait_line(self, pattern: str, within: float = 60) -> str:
        regex = re.compile(pattern)
        await wait_for(
            lambda: any(regex.search(line) for line in self.lines),
            timeout=within,
            message=lambda: f"no line matching {pattern!r}; output so far:\n{self.text}",
        )
        return self.text

    def join(self, timeout: float = 10) -> None:
        self._thread.join(timeout)


def run_cli(
    *args: str, merge_stderr: bool = False, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dr_infra", "up", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        text=True,
    )


def stop_child(proc: subprocess.Popen[str]) -> None:
    """After a failed assertion: SIGTERM first (lets it clean up), SIGKILL as a last resort."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def python_child(script: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(script)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def test_cli_up_then_sigint_stops_children_and_removes_dirs() -> None:
    proc = run_cli(merge_stderr=True)
    out = Output(proc)
    try:
        output = await out.wait_line(r"^export DATABASE_URL=")
        assert re.search(r"^export KAFKA_BOOTSTRAP_SERVERS=127\.0\.0\.1:\d+$", output, re.M)
        assert re.search(r"^export MQTT_URL=mqtt://127\.0\.0\.1:\d+$", output, re.M)
        dirs = {Path(p) for p in re.findall(r"log (/\S+)/[^/\s]+\.log", output)}
        assert len(dirs) == 3 and all(d.is_dir() for d in dirs)
        children = descendants(proc.pid)
        assert len(children) >= 3  # tansu, mosquitto, postgres (+ its backends)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        out.join()
        assert proc.returncode == 0, out.text
        assert "stopped" in out.text
    finally:
        stop_child(proc)
    await assert_all_gone(children, dirs)


def test_cli_port_in_use_exits_2_and_leaves_nothing() -> None:
    # A private TMPDIR (traversable by the postgres user) shows what the CLI leaves behind.
    tmp = Path(tempfile.mkdtemp(prefix="dr-infra-cli-test-"))
    tmp.chmod(0o711)
    try:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            proc = run_cli("--mqtt-port", str(port), env={**os.environ, "TMPDIR": str(tmp)})
            _, err = proc.communicate(timeout=60)
        assert proc.returncode == 2, err
        assert f"port {port}" in err and "in use" in err, err
        # Kafka and Postgres may have started in parallel: they must be gone again.
        assert list(tmp.iterdir()) == []
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


async def test_sigterm_to_a_python_parent_stops_its_children(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(
        "import threading\n"
        "from dr_infra import LocalStack\n"
        "stack = LocalStack(postgres=False).start()\n"
        "for c in stack.components().values():\n"
        "    print('child', c.pid, c.workdir, flush=True)\n"
        "print('ready', flush=True)\n"
        "threading.Event().wait()\n"
    )
    proc = python_child(script)
    out = Output(proc)
    try:
        output = await out.wait_line(r"^ready")
        found = re.findall(r"^child (\d+) (\S+)$", output, re.M)
        assert len(found) == 2
        pids, dirs = {int(p) for p, _ in found}, {Path(d) for _, d in found}
        assert all(alive(p) for p in pids)
        proc.terminate()
        proc.wait(timeout=30)
        out.join()
    finally:
        stop_child(proc)
    await assert_all_gone(pids, dirs)
    assert "KeyboardInterrupt" in out.text  # SIGTERM became KeyboardInterrupt; atexit cleaned


async def test_sigkill_to_the_parent_kills_children_and_next_runner_sweeps_dir(
    tmp_path: Path,
) -> None:
    script = tmp_path / "parent.py"
    script.write_text(
        "import threading\n"
        "from dr_infra import TansuBroker\n"
        "broker = TansuBroker().start()\n"
        "print('child', broker.pid, broker.workdir, flush=True)\n"
        "threading.Event().wait()\n"
    )
    proc = python_child(script)
    out = Output(proc)
    workdir: str | None = None
    try:
        output = await out.wait_line(r"^child")
        pid_text, workdir = re.findall(r"^child (\d+) (\S+)$", output, re.M)[0]
        assert alive(int(pid_text))
        proc.kill()
        proc.wait(timeout=30)
        # The kernel kills the orphan (parent-death signal) ...
        await wait_for(lambda: not alive(int(pid_text)), timeout=10, message="orphan survived")
        # ... but nothing ran in the killed parent to remove its temp dir: the next
        # runner's start-up sweep does (here called directly).
        assert is_dir(workdir)
        assert Path(workdir) in sweep_stale_workdirs()
        assert not is_dir(workdir)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)


def test_session_infra_starts_only_the_parts_used() -> None:
    from tests.fixtures.infra import LocalInfra

    session = LocalInfra()
    try:
        assert session.mqtt_url.startswith("mqtt://127.0.0.1:")
        stack = session.stack
        assert stack.mqtt is not None and stack.mqtt.running
        assert stack.kafka is not None and not stack.kafka.running
        assert stack.postgres is not None and not stack.postgres.running
        assert session.mqtt_url == stack.mosquitto.plain_url  # started once, then reused
    finally:
        session.stop()


def test_process_dying_at_start_up_raises_with_log_tail() -> None:
    broker = Mosquitto(extra_config="no_such_option true")
    with pytest.raises(InfraError, match="exited during start-up") as raised:
        broker.start()
    assert "no_such_option" in str(raised.value)  # from mosquitto's own log
    assert broker.workdir is None and not broker.running
