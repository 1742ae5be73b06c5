"""`tune_gc`: the start-up heap frozen, the young generation collected 70x less often."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from dr_runtime.gc_tuning import YOUNG_THRESHOLD, tune_gc

pytestmark = pytest.mark.unit


@pytest.fixture
def restored() -> Iterator[None]:
    """The test runner's own collector settings, put back after the test."""
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored")
def test_freezes_what_exists_and_raises_only_the_young_threshold() -> None:
    _, middle, old = gc.get_threshold()
    survivor = [object()]  # a container alive at start
    tune_gc()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (YOUNG_THRESHOLD, middle, old)
    assert not any(o is survivor for o in gc.get_objects())  # frozen: no collection walks it
