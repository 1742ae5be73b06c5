"""The platform's MQTT identities, provisioned in the PKI of a TLS broker (docs/security.md).

The bridge and the dispatcher connect as services (dr_infra.mqtt_acl grants each its
topics); a multiplexed simulator connects each of its links as a legacy gateway for that link's
VENs (`<gateway>-<i>`: small gateways keep the broker's ACL checks short), a per-VEN one with
each VEN's own certificate, as in the field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .mosquitto import BrokerTls
from .mqtt_acl import BRIDGE_IDENTITY, DISPATCHER_IDENTITY

if TYPE_CHECKING:
    from ven_sim.settings import Settings as SimSettings

#: The simulator's gateway identity (`make run`; the e2e tests add their namespace).
SIM_GATEWAY = "ven-sim"


def provision(
    tls: BrokerTls, sim: SimSettings | None = None, sim_gateway: str = SIM_GATEWAY
) -> dict[str, dict[str, str]]:
    """Issue what is missing; service name -> its MQTT_* settings.

    A multiplexed simulator (`sim`) is one legacy gateway per link, `<sim_gateway>-<i>`, each
    recorded with exactly its link's VENs (they report on `volttron/metering`); a per-VEN one
    gets a certificate per VEN. Reload the broker before the simulator connects.
    """
    pki = tls.pki
    env = {}
    for service, identity in (("bridge", BRIDGE_IDENTITY), ("dispatcher", DISPATCHER_IDENTITY)):
        pki.ensure_client(identity, "service")
        env[service] = tls.client_env(identity)
    env["bridge"]["BRIDGE_GATEWAYS_FILE"] = str(pki.gateways_file)
    if sim is None or not sim.ven_ids:
        return env
    certs = {"MQTT_CA_FILE": str(pki.ca_file)}
    if sim.mode == "per-ven":
        for ven in sim.ven_ids:
            pki.ensure_client(ven, "ven")
        env["ven-sim"] = certs | {"VEN_SIM_VEN_CERT_DIR": str(pki.clients_dir)}
        return env
    shares = sim.link_shares()
    links = [f"{sim_gateway}-{i}" for i in range(len(shares))]
    pki.drop_gateways(sim_gateway, keep=links)  # a smaller simulator than last time
    for name, share in zip(links, shares, strict=True):
        pki.ensure_client(name, "gateway")
        pki.set_gateway(name, share, legacy=True)
    env["ven-sim"] = certs | {
        "VEN_SIM_GATEWAY": sim_gateway,
        "VEN_SIM_GATEWAY_CERT_DIR": str(pki.clients_dir),
    }
    return env


def parse_sim_args(args: list[str]) -> SimSettings:
    """The settings a simulator started with `args` will have (its own parser decides)."""
    from ven_sim.cli import parse_settings  # dev tooling: the simulator is in the same tree

    return parse_settings(args)


def provision_deployment(tls: BrokerTls, sim_args: list[str], port: int = 8883) -> None:
    """Everything a deployment's broker and services need (compose's one-shot `pki` service):
    the CA, the broker's certificate, the services', the simulator's gateway, the `acl`, and
    `mosquitto.d/listener.conf`, the TLS listener for Mosquitto's `include_dir`."""
    tls.provision()
    provision(tls, parse_sim_args(sim_args))
    acl = tls.pki_dir / "acl"
    tls.write_acl(acl)
    (tls.pki_dir / "mosquitto.d").mkdir(exist_ok=True)
    listener = "\n".join(tls.config(port, "0.0.0.0", acl)) + "\n"
    (tls.pki_dir / "mosquitto.d" / "listener.conf").write_text(listener)
