"""The /site subtree: index, a VEN's self-contained page, its state, and 404s."""

from __future__ import annotations

import re

import pytest

from dr_contracts import jsonio
from dr_contracts.topics import MqttTopics
from ven_sim import site_page
from ven_sim.faults import Faults
from ven_sim.fleet import build_fleet
from ven_sim.simulator import Simulator
from ven_sim.site_page import HTML, site_routes

pytestmark = pytest.mark.unit

T0 = 1_760_997_600.0
HOSTILE = 'ven-<script>"&'


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def simulator(*ven_ids: str, offline: frozenset[str] = frozenset()) -> tuple[Simulator, Clock]:
    clock = Clock()
    nodes = build_fleet(list(ven_ids), seed=7, ack_shape="A", interval_s=5.0, offline=offline)
    return Simulator(nodes, topics=MqttTopics(), faults=Faults(), interval_s=5.0, clock=clock), clock


def test_page_names_the_ven_and_its_circuits_and_loads_nothing_from_elsewhere() -> None:
    sim, _ = simulator("ven-001")
    status, content_type, body = site_routes(sim)("/ven-001")
    page = body.decode()
    assert (status, content_type) == (200, HTML)
    assert "<h1>ven-001</h1>" in page and 'data-state="/site/ven-001/state"' in page
    for c in sim.vens["ven-001"].panel.circuits:
        assert f'<tr data-load-id="{c.load_id}"><td>{c.name} <small>' in page
    assert not re.search(r"\bsrc=|<link|https?:|//cdn|@import|url\(", page)
    assert "innerHTML" not in page and "textContent" in page
    assert "$" not in page  # every placeholder filled


def test_every_value_written_into_the_html_is_escaped() -> None:
    sim, _ = simulator(HOSTILE)
    page = site_routes(sim)("/ven-%3Cscript%3E%22%26")[2].decode()
    assert '<script>"&' not in page and "ven-&lt;script&gt;&quot;&amp;" in page
    assert 'data-state="/site/ven-%3Cscript%3E%22%26/state"' in page
    index = site_routes(sim)("")[2].decode()
    assert '<a href="/site/ven-%3Cscript%3E%22%26">ven-&lt;script&gt;&quot;&amp;</a>' in index
    missing = site_routes(sim)("/%3Cb%3Ex")[2].decode()
    assert "<b>x" not in missing and "&lt;b&gt;x" in missing


def test_state_is_the_simulators_site_state() -> None:
    sim, clock = simulator("ven-001")
    status, content_type, body = site_routes(sim)("/ven-001/state")
    assert (status, content_type) == (200, "application/json")
    assert jsonio.loads(body) == sim.site_state("ven-001")
    sim.vens["ven-001"].start_event("evt-1", 2.0, T0, T0 + 10, T0)
    assert jsonio.loads(site_routes(sim)("/ven-001/state")[2])["event"]["eventId"] == "evt-1"
    clock.now = T0 + 10
    assert jsonio.loads(site_routes(sim)("/ven-001/state")[2])["event"] is None
    assert sim.stats.events_expired == 1  # the page's look at the VEN is counted like telemetry's


@pytest.mark.parametrize("rest", ["/ven-999", "/ven-001/nope", "/ven-001/state/more"])
def test_unknown_ven_or_page_is_an_html_404(rest: str) -> None:
    sim, _ = simulator("ven-001")
    status, content_type, body = site_routes(sim)(rest)
    assert (status, content_type) == (404, HTML)
    assert "All simulated sites" in body.decode()


def test_unknown_ven_state_is_a_json_404() -> None:
    sim, _ = simulator("ven-001")
    status, content_type, body = site_routes(sim)("/ven-999/state")
    assert (status, content_type) == (404, "application/json")
    assert jsonio.loads(body) == {"error": "no simulated VEN 'ven-999'"}


@pytest.mark.parametrize("rest", ["", "/"])
def test_index_links_every_ven_and_marks_offline_ones(rest: str) -> None:
    sim, _ = simulator("ven-001", "ven-002", offline=frozenset({"ven-002"}))
    status, content_type, body = site_routes(sim)(rest)
    index = body.decode()
    assert (status, content_type) == (200, HTML)
    assert '<li><a href="/site/ven-001">ven-001</a></li>' in index
    assert '<a href="/site/ven-002">ven-002</a> <span class=note>(offline)</span>' in index
    assert "are listed" not in index


def test_index_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(site_page, "INDEX_LIMIT", 2)
    sim, _ = simulator("ven-001", "ven-002", "ven-003")
    index = site_routes(sim)("")[2].decode()
    assert index.count("<li>") == 2 and "ven-003" not in index
    assert "The first 2 of 3 are listed." in index
