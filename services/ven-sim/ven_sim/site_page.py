"""The firmware's local page, per simulated VEN, under `/site` on the status server.

Deployed VENs served a page on the site's LAN: the event banner, each circuit before and after
its curtailment, the site's totals. The simulator serves the same so that one VEN can be
watched while the platform drives it. The page is one self-contained document (inline CSS and
script, nothing fetched but its own state); the server writes only escaped names into it, and
its script fills in values from `/site/<venId>/state` every second with `textContent` only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from importlib import resources
from string import Template
from urllib.parse import quote, unquote

from ven_sim.adapters.status import Response, json_response
from ven_sim.domain import SimVen
from ven_sim.fleet import VenNode
from ven_sim.simulator import Simulator

HTML = "text/html; charset=utf-8"
INDEX_LIMIT = 1000
"""The index links this many VENs at most (a fleet can be 20,000)."""

_PAGE = Template(resources.files("ven_sim").joinpath("site_page.html").read_text(encoding="utf-8"))
_ROW = Template(
    '      <tr data-load-id="$load_id"><td>$name <small>$load_id</small></td><td>$type</td>'
    '<td class="num priority">-</td><td class="num before">-</td><td class="num now">-</td>'
    '<td class="cut">-</td></tr>'
)
_SHELL = Template(
    """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>$title</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; max-width: 48rem; margin: 1.25rem auto; padding: 0 1rem; }
  .note { color: #5b6475; }
</style>
</head>
<body>
<h1>$title</h1>
$body
</body>
</html>
"""
)


def site_routes(sim: Simulator) -> Callable[[str], Response]:
    """The `/site` subtree: the index, each VEN's page and its state; 404 for an unknown venId."""

    def answer(rest: str) -> Response:
        if rest in ("", "/"):
            return _html(200, render_index(sim.nodes))
        segment, _, tail = rest[1:].partition("/")
        ven_id = unquote(segment)
        if tail == "state":
            state = sim.site_state(ven_id)
            if state is None:
                return json_response(404, {"error": f"no simulated VEN {ven_id!r}"})
            return json_response(200, state)
        node = sim.by_id.get(ven_id)
        if node is None:
            return _html(404, render_not_found(f"No simulated VEN “{ven_id}” in this process."))
        if tail:
            return _html(404, render_not_found(f"No page “{tail}” for {ven_id}."))
        return _html(200, render_site(node.sim))

    return answer


def render_site(ven: SimVen) -> str:
    """The VEN's page: its id and circuit rows; the values arrive with the first fetch."""
    rows = "\n".join(
        _ROW.substitute(load_id=escape(c.load_id), name=escape(c.name), type=escape(c.type.value))
        for c in ven.panel.circuits
    )
    state_url = f"/site/{quote(ven.ven_id, safe='')}/state"
    return _PAGE.substitute(ven_id=escape(ven.ven_id), state_url=escape(state_url), rows=rows)


def render_index(nodes: Sequence[VenNode]) -> str:
    """A link per simulated VEN, the first `INDEX_LIMIT` only."""
    items = "\n".join(
        f'<li><a href="/site/{escape(quote(n.ven_id, safe=""))}">{escape(n.ven_id)}</a>'
        f"{'' if n.online else ' <span class=note>(offline)</span>'}</li>"
        for n in nodes[:INDEX_LIMIT]
    )
    more = len(nodes) > INDEX_LIMIT
    note = f'<p class="note">The first {INDEX_LIMIT:,} of {len(nodes):,} are listed.</p>' if more else ""
    body = f'<p class="note">{len(nodes):,} VENs in this process.</p>\n<ul>\n{items}\n</ul>\n{note}'
    return _SHELL.substitute(title="Simulated sites", body=body)


def render_not_found(message: str) -> str:
    body = f'<p>{escape(message)}</p>\n<p><a href="/site">All simulated sites</a></p>'
    return _SHELL.substitute(title="Not found", body=body)


def _html(status: int, page: str) -> Response:
    return status, HTML, page.encode()
