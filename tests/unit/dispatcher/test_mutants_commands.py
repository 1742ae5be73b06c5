"""What each outgoing command records besides its payload (docs/mutation.md)."""

import pytest

from dispatcher.domain.commands import event_commands, restore_commands
from tests.unit.dispatcher.test_events import ACTIVATED, CREATED, fold

pytestmark = pytest.mark.unit


def test_event_and_restore_commands_name_their_op_and_event():
    state = fold(CREATED, ACTIVATED)
    [event] = event_commands(state)
    [restore] = restore_commands(state, ["v1"])
    assert (event.op, event.event_id, event.ven_id) == ("event", "evt-1", "v1")
    assert (restore.op, restore.event_id, restore.ven_id) == ("restore", "evt-1", "v1")
