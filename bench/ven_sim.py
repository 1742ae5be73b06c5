"""How many VENs one simulator process keeps on a 5 s interval without falling behind.

For each N (rising) the bench starts `python -m ven_sim` as its own process against a local
Mosquitto, lets every VEN report once, then measures over a window:
- telemetry lateness (publish time - scheduled time, measured inside the simulator):
  p99 must stay under 1 s and no reading may be skipped;
- readings received by a subscriber on `volttron/metering`: at least 97 % of N x window /
  interval, so "published" also means "reached the broker and came back out".
The largest passing N is written as `sim_vens_per_process` (multiplexed mode) and
`sim_vens_per_process_per_ven_mode` (one MQTT connection per VEN).

With `--tls` (figures suffixed `_tls`) the broker is the deployed one: TLS, client
certificates, the ACL and the legacy-topic stamp. Multiplexed, the simulator is a legacy gateway
for its VENs (the counter reads the stamped `volttron/metering/+`); per-VEN, each VEN has its own
certificate and is no legacy gateway, so its `volttron/metering` copy is denied and the counter
reads `ven/telemetry/+` (`--per-ven-topics telemetry`).

    python -m bench.ven_sim [--quick] [--tls]
"""

from __future__ import annotations

import argparse
import json
import ssl
import tempfile
import threading
import time
import urllib.request
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho

from bench.results import merge_results, print_table
from dr_infra import Mosquitto, free_port
from dr_infra.identities import parse_sim_args, provision
from dr_infra.mosquitto import BrokerTls
from dr_infra.mqtt_acl import BRIDGE_IDENTITY
from dr_infra.process import cpu_seconds
from dr_infra.services import ServiceProcess
from dr_runtime.mqtt import broker_address
from ven_sim.stats import quantile, window

INTERVAL_S = 5.0
MAX_P99_S = 1.0
MIN_RECEIVED = 0.97
LEVELS = {
    "multiplexed": (1000, 2000, 5000, 10_000, 15_000, 20_000),
    "per-ven": (250, 500, 1000, 2000, 4000),
}
QUICK_LEVELS = {"multiplexed": (2000, 5000, 10_000), "per-ven": (250, 500, 1000)}
#: Where the search starts (the issue's targets): up while passing, down while failing.
TARGETS = {"multiplexed": 10_000, "per-ven": 1000}
START_TIMEOUT_S = 180.0
LOGS = Path(".bench/logs")


@dataclass
class Trial:
    mode: str
    vens: int
    p99_ms: float | None
    max_ms: float | None
    sent: int
    received: int
    expected: int
    skipped: int
    cpu: float
    passed: bool


class MeteringCounter:
    """Counts readings on the metering topic (paho's own thread: cheap, off our loop)."""

    def __init__(self, url: str, topic: str, tls: ssl.SSLContext | None = None) -> None:
        host, port = broker_address(url)
        self.count = 0
        self._lock = threading.Lock()
        self._client = paho.Client(
            paho.CallbackAPIVersion.VERSION2, client_id=f"bench-{uuid.uuid4().hex[:8]}"
        )
        if tls is not None:
            self._client.tls_set_context(tls)
        self._client.on_message = self._on_message
        self._client.connect(host, port)
        self._client.subscribe(topic, qos=0)
        self._client.loop_start()

    def _on_message(self, *_: Any) -> None:
        with self._lock:
            self.count += 1

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


def _get(port: int, path: str) -> Any:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return json.loads(response.read())


def _running(sim: ServiceProcess, timeout: float) -> None:
    """Ready once the simulator's telemetry loop runs (its /health says so)."""
    if not _get(sim.port, "/health")["running"]:
        raise ConnectionError("the simulator is not running yet")


def run_trial(broker: Mosquitto, mode: str, vens: int, measure_s: float) -> Trial:
    """Run one simulator process with `vens` VENs and measure it over `measure_s`."""
    root = f"bench-{uuid.uuid4().hex[:6]}/"
    port = free_port()
    flags = {
        "--vens": vens,
        "--mode": mode,
        "--interval": INTERVAL_S,
        "--mqtt-url": broker.url,
        "--mqtt-topic-root": root,
        "--status-port": port,
        "--log-level": "WARNING",
    }
    if broker.tls is not None and mode == "per-ven":
        flags["--per-ven-topics"] = "telemetry"
    args = ["ven_sim", *(str(part) for flag in flags.items() for part in flag)]
    env, topic, tls = {}, f"{root}volttron/metering", None
    if broker.tls is not None:
        env = provision(broker.tls, parse_sim_args(args[1:]), "bench-sim")["ven-sim"]
        broker.reload()
        topic = f"{root}ven/telemetry/+" if mode == "per-ven" else f"{root}volttron/metering/+"
        tls = broker.tls.client_context(BRIDGE_IDENTITY)
    counter = MeteringCounter(broker.url, topic, tls)
    sim = ServiceProcess(
        "ven-sim", args, env, probe=_running, port=port, startup_timeout=START_TIMEOUT_S, log_dir=LOGS
    )
    try:
        sim.start()
        time.sleep(INTERVAL_S + 1.0)  # every VEN reports once; start-up bursts settle
        first = _snapshot(sim, counter)
        time.sleep(measure_s)
        last = _snapshot(sim, counter)
    finally:
        sim.stop()
        counter.close()
    elapsed = last.at - first.at
    counts = window(last.lateness, first.lateness)
    p99, worst = quantile(counts, 0.99), quantile(counts, 1.0)
    expected = round(vens * elapsed / INTERVAL_S)
    received = last.received - first.received
    skipped = last.skipped - first.skipped
    passed = p99 is not None and p99 < MAX_P99_S and skipped == 0 and received >= MIN_RECEIVED * expected
    return Trial(
        mode=mode,
        vens=vens,
        p99_ms=None if p99 is None else round(p99 * 1000, 1),
        max_ms=None if worst is None else round(worst * 1000, 1),
        sent=last.sent - first.sent,
        received=received,
        expected=expected,
        skipped=skipped,
        cpu=round((last.cpu - first.cpu) / elapsed, 2),
        passed=passed,
    )


@dataclass
class Snapshot:
    at: float
    sent: int
    skipped: int
    lateness: list[int]
    received: int
    cpu: float


def _snapshot(sim: ServiceProcess, counter: MeteringCounter) -> Snapshot:
    """The simulator's counters at one instant of its own clock, then ours right after."""
    t = _get(sim.port, "/status/telemetry")
    received, cpu = counter.count, cpu_seconds(sim.pid)
    return Snapshot(t["at"], t["sent"], t["skipped"], t["lateness_counts"], received, cpu)


def largest(broker: Mosquitto, mode: str, levels: tuple[int, ...], measure_s: float) -> int:
    """From the target: up while passing (last pass wins), else down to the first pass (or 0)."""
    i = levels.index(TARGETS[mode])
    if not _trial(broker, mode, levels[i], measure_s):
        return next((n for n in reversed(levels[:i]) if _trial(broker, mode, n, measure_s)), 0)
    best = levels[i]
    for vens in levels[i + 1 :]:
        if not _trial(broker, mode, vens, measure_s):
            break
        best = vens
    return best


def _trial(broker: Mosquitto, mode: str, vens: int, measure_s: float) -> bool:
    trial = run_trial(broker, mode, vens, measure_s)
    print(f"  {mode:<12} {vens:>6} VENs: {json.dumps(asdict(trial))}", flush=True)
    return trial.passed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer levels, one-interval windows")
    parser.add_argument("--tls", action="store_true", help="the deployed broker: TLS, certificates, ACLs")
    args = parser.parse_args(argv)
    levels = QUICK_LEVELS if args.quick else LEVELS
    measure_s = INTERVAL_S * (1 if args.quick else 2)
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="dr-bench-pki-") as pki_dir,
        Mosquitto(tls=BrokerTls(Path(pki_dir), roots=("+/",)) if args.tls else None) as broker,
    ):
        multiplexed = largest(broker, "multiplexed", levels["multiplexed"], measure_s)
        per_ven = largest(broker, "per-ven", levels["per-ven"], measure_s)
    numbers = {"sim_vens_per_process": multiplexed, "sim_vens_per_process_per_ven_mode": per_ven}
    if args.tls:
        numbers = {f"{name}_tls": value for name, value in numbers.items()}
    merge_results(numbers)
    print_table(numbers | {"sim_bench_seconds": round(time.monotonic() - started, 1)})


if __name__ == "__main__":
    main()
