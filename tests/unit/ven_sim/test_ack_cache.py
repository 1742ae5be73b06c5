"""AckCache: same correlationId gets the first ack back and is applied once."""

import pytest

from ven_sim.domain import AckCache

pytestmark = pytest.mark.unit


def test_first_ack_wins() -> None:
    cache = AckCache()
    first = {"op": "ping", "status": "success", "ts": 1}
    assert cache.put("c1", first) is first
    assert cache.put("c1", {"op": "ping", "status": "success", "ts": 2}) is first
    assert cache.get("c1") is first
    assert "c1" in cache and len(cache) == 1
    assert cache.get("nope") is None


def test_lru_bound() -> None:
    cache = AckCache(maxsize=2)
    cache.put("a", {"a": 1})
    cache.put("b", {"b": 1})
    cache.get("a")  # a becomes most recent
    cache.put("c", {"c": 1})
    assert "b" not in cache and "a" in cache and "c" in cache
    assert len(cache) == 2
    with pytest.raises(ValueError):
        AckCache(maxsize=0)
