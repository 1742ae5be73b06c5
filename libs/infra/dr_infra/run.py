"""`make run`: brokers, database and every service as local processes, plus a live demo.

    python -m dr_infra.run [--vens 50] [--demo 1] [--api-port 8000] [--mqtt-port 8883] [--pki .pki]

Mosquitto listens with TLS only and requires a client certificate: the CA, the broker's
certificate and one identity per service (and the simulator's gateway) are made in the PKI
directory where missing (docs/security.md). The API takes tokens with roles and protects reads,
as deployed: an operator's token (printed, for the dashboard at /dashboard/) and the simulator's
registrar token are made once in .run/api-tokens; the OpenADR facade's key and clients (a BL
`bl`, a VEN `ven-1`, their secrets printed) in .run/openadr/. Service logs go to .run/logs/<service>.log.
After the demo the platform keeps running until Ctrl-C, which stops every process this
started and removes their temp dirs.
If any process exits by itself meanwhile (a broker, the database, a service: e.g. the
projector finding that the in-memory broker lost its log), everything stops, with the name,
exit code and last log lines of the one that went.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import httpx

from dr_runtime.settings import KafkaSettings

from . import demo
from .errors import InfraError
from .kafka_admin import ensure_topics
from .local_openadr import local_openadr
from .local_tokens import local_tokens
from .mosquitto import BrokerTls
from .platform import Platform
from .ports import is_port_free
from .process import ManagedProcess
from .stack import LocalStack

LOG_DIR = Path(".run/logs")
#: The operator's and the simulator's API tokens, made once (dr_infra.local_tokens).
TOKENS = Path(".run/api-tokens")
#: The OpenADR facade's signing key and clients (dr_infra.local_openadr).
OPENADR = Path(".run/openadr")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--vens", type=int, default=50, help="simulated VENs (0: no simulator)")
    parser.add_argument("--demo", type=int, default=1, help="1: create and follow a demo event")
    parser.add_argument("--api-port", type=int, default=8000)
    parser.add_argument("--mqtt-port", type=int, default=8883, help="Mosquitto's TLS port")
    parser.add_argument("--pki", type=Path, default=Path(".pki"), help="the PKI directory (dr_infra pki)")
    parser.add_argument("--lead-s", type=float, default=10.0, help="demo event starts this much later")
    parser.add_argument("--duration-s", type=float, default=120.0, help="demo event length")
    return parser.parse_args(argv)


def check_ports(args: argparse.Namespace) -> None:
    for what, port, var in (("API", args.api_port, "API_PORT"), ("MQTT", args.mqtt_port, "MQTT_PORT")):
        if not is_port_free(port):
            raise InfraError(
                f"{what} port {port} is already in use: stop what listens there "
                f"or choose another, e.g. `make run {var}={port + 1}`"
            )


def check_alive(processes: Iterable[tuple[str, ManagedProcess]]) -> None:
    """Raise InfraError naming the first process that exited by itself, with its last log lines."""
    for name, process in processes:
        if (code := process.returncode) is not None:
            raise InfraError(
                f"{name} exited by itself (code {code}); stopping everything.\n"
                f"--- last lines of {process.log_path} ---\n{process.log_tail(15)}"
            )


def run(args: argparse.Namespace) -> None:
    check_ports(args)
    print("starting Tansu (Kafka protocol), Mosquitto and PostgreSQL ...", flush=True)
    with LocalStack(mqtt_port=args.mqtt_port, mqtt_tls=BrokerTls(args.pki)) as stack:
        # The counts the services will want (KAFKA_TOPIC_PARTITIONS), so they agree.
        wanted = KafkaSettings(kafka_bootstrap_servers=stack.kafka_bootstrap).topic_partitions
        asyncio.run(ensure_topics(stack.kafka_bootstrap, wanted))
        tokens = local_tokens(TOKENS)
        openadr = local_openadr(OPENADR)
        env = stack.env() | tokens.env() | openadr.env()
        print(
            f"  Kafka {env['KAFKA_BOOTSTRAP_SERVERS']}  MQTT {env['MQTT_URL']} (TLS, certificates"
            f" in {args.pki}/)  Postgres {env['DATABASE_URL']}"
        )
        print(f"starting services (logs in {LOG_DIR}/) ...", flush=True)
        with Platform(
            env, log_dir=LOG_DIR, api_port=args.api_port, vens=args.vens, broker=stack.mosquitto
        ) as platform:
            processes: list[tuple[str, ManagedProcess]] = [
                *stack.components().items(),
                *platform.services.items(),
            ]

            def watch() -> None:
                check_alive(processes)

            for name, service in platform.services.items():
                print(f"  {name:<11} pid {service.pid}  log {service.log_path}")
            print(f"REST API on {platform.api_url} (OpenAPI at {platform.api_url}/docs)")
            clients = ", ".join(f"{c} / {s}" for c, s in openadr.secrets.items())
            print(
                f"OpenADR 3.1 VTN on {platform.api_url}/openadr3/3.1.0: clients {clients} (docs/openadr.md)"
            )
            print(
                f"Dashboard on {platform.dashboard_url}: log in with the operator token "
                f"{tokens.operator} (in {tokens.path})",
                flush=True,
            )
            with httpx.Client(base_url=platform.api_url, timeout=10, headers=tokens.headers()) as api:
                if args.vens:
                    stats = demo.wait_for_vens(api, args.vens)
                    if args.demo:
                        reduction = max(1.0, 0.5 * stats["potentialLoadReductionKw"])
                        event = demo.create_event(api, reduction, args.lead_s, args.duration_s)
                        link = f"{platform.dashboard_url}#/events/{event['id']}"
                        progress = demo.follow(api, event["id"], watch=watch, link=link)
                        print(demo.summary(progress), flush=True)
            print(
                f"platform running: API {platform.api_url}, dashboard {platform.dashboard_url}, "
                f"MQTT {env['MQTT_URL']}; Ctrl-C to stop",
                flush=True,
            )
            while True:
                watch()
                time.sleep(1)


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # A closed terminal or a supervisor's SIGTERM stops the platform like Ctrl-C does. SIGINT
    # too, explicitly: a shell without job control starts background commands with SIGINT
    # ignored, and Python keeps an inherited SIG_IGN, so Ctrl-C (or `kill -INT`) would be lost.
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, _interrupt)
    try:
        run(args)
    except KeyboardInterrupt:
        print("\nstopped: every process this started is gone", flush=True)
    except (InfraError, TimeoutError, httpx.HTTPError) as exc:
        print(f"make run: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
