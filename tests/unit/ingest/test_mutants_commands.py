"""Issues, outcomes and sheds carry the fields of the facts they come from (docs/mutation.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dr_contracts.acks import normalize_ack
from ingest.domain.commands import merge_issue, shed_from_ack
from tests import samples
from tests.unit.ingest.test_batch import T0, issued

pytestmark = pytest.mark.unit


def test_one_issue_names_its_command():
    issue = merge_issue(None, issued("c1", 1, T0).payload)
    assert (issue.correlation_id, issue.ven_id, issue.op, issue.event_id) == ("c1", "ven-1", "event", "evt-1")


def test_a_merge_takes_the_latest_time_even_from_a_lower_attempt():
    merged = merge_issue(
        merge_issue(None, issued("c1", 2, T0).payload), issued("c1", 1, T0 + timedelta(1)).payload
    )
    assert (merged.attempts, merged.payload, merged.last_issued_at) == (2, {"n": 2}, T0 + timedelta(1))


@pytest.mark.parametrize(
    "payload", [samples.ack_b(), {"op": "restore", "status": "success", "ts": samples.TS}]
)
def test_a_shed_names_its_ven(payload):
    shed = shed_from_ack(normalize_ack(payload, "ven-7", T0))
    assert shed is not None
    assert shed.ven_id == "ven-7"
