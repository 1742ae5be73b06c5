"""``dr-infra`` / ``python -m dr_infra``: run the local infrastructure until Ctrl-C.

    python -m dr_infra up [--kafka-port N] [--mqtt-port N] [--pg-port N]
    python -m dr_infra asyncapi [--check] [--site DIR]   (docs/asyncapi.yaml: dr_infra.asyncapi)
    python -m dr_infra pki [--dir .pki] init|server|client|revoke|crl   (dr_infra.pki)

prints the URLs (also as ``export ...`` lines for a shell), blocks until Ctrl-C or
SIGTERM, then stops everything and removes its temp dirs. Exit code 2 on an
infrastructure error (missing binary, port in use, start-up failure).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Sequence

from . import asyncapi, pki
from .errors import InfraError
from .stack import LocalStack


def _port(value: str) -> int:
    port = int(value)
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"not a TCP port: {value}")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dr-infra", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start Tansu, Mosquitto and PostgreSQL; stop them on Ctrl-C")
    up.add_argument("--kafka-port", type=_port, help="Kafka-protocol port (default: a free one)")
    up.add_argument("--mqtt-port", type=_port, help="MQTT port (default: a free one)")
    up.add_argument("--pg-port", type=_port, help="PostgreSQL port (default: a free one)")
    up.add_argument("--no-kafka", action="store_true", help="do not start Tansu")
    up.add_argument("--no-mqtt", action="store_true", help="do not start Mosquitto")
    up.add_argument("--no-postgres", action="store_true", help="do not start PostgreSQL")
    up.add_argument("--startup-timeout", type=float, default=60.0, help="seconds to wait for each part")
    asyncapi.add_parser(sub)
    pki.add_parser(sub)
    return parser


def _print_stack(stack: LocalStack) -> None:
    out: list[str] = []
    for part, component in stack.components().items():
        address = getattr(component, "bootstrap", None) or getattr(component, "url", "")
        out.append(f"  {part:<9} {address}   (pid {component.pid}, log {component.log_path})")
    out += [f"export {key}={value}" for key, value in stack.env().items()]
    print("dr-infra: up (Ctrl-C to stop)", *out, sep="\n", flush=True)


def up(args: argparse.Namespace) -> int:
    stop_requested = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        if stop_requested.is_set():
            return
        stop_requested.set()
        raise KeyboardInterrupt  # also interrupts a start-up in progress

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    stack = LocalStack(
        kafka=not args.no_kafka,
        mqtt=not args.no_mqtt,
        postgres=not args.no_postgres,
        kafka_port=args.kafka_port,
        mqtt_port=args.mqtt_port,
        pg_port=args.pg_port,
        startup_timeout=args.startup_timeout,
    )
    try:
        stack.start()
        _print_stack(stack)
        while not stop_requested.is_set():
            stop_requested.wait(1.0)  # wake up now and then to notice a dead component
            for part, component in stack.components().items():
                if not component.running:
                    raise InfraError(f"{part} exited unexpectedly:\n{component.log_tail()}")
    except KeyboardInterrupt:
        pass
    finally:
        # Stop in order; further Ctrl-C / SIGTERM must not interrupt that.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        started = time.monotonic()
        print("dr-infra: stopping", flush=True)
        stack.stop()
        print(f"dr-infra: stopped in {time.monotonic() - started:.1f}s", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "up":
            return up(args)
        if args.command == "asyncapi":
            return asyncapi.main(args)
        if args.command == "pki":
            return pki.main(args)
    except InfraError as exc:
        print(f"dr-infra: error: {exc}", file=sys.stderr, flush=True)
        return 2
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
