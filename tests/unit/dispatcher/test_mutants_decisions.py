"""`decide` called without `prepared` (docs/mutation.md)."""

import pytest

from dispatcher.domain.decisions import Prepare, decide
from tests.unit.dispatcher.test_events import CREATED, LEAD, START, fold

pytestmark = pytest.mark.unit


def test_an_event_counts_as_not_yet_prepared_by_default():
    assert decide(fold(CREATED), START - LEAD, False, prepare_lead=LEAD) == Prepare()
