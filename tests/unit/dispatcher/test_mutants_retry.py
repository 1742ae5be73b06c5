"""The retry policy's bounds, each exactly at its edge (docs/mutation.md)."""

import pytest

from dispatcher.domain.retry import RetryPolicy

pytestmark = pytest.mark.unit


def test_the_smallest_valid_policy_is_accepted():
    policy = RetryPolicy(ack_timeout_s=0.5, max_attempts=1, backoff=1.0)
    assert policy.wait_s(3) == 0.5
    assert policy.exhausted(1)


@pytest.mark.parametrize(
    "bad",
    [{"ack_timeout_s": 0.0}, {"max_attempts": 0}, {"backoff": 0.99}],
)
def test_each_bound_is_checked_on_its_own(bad):
    with pytest.raises(ValueError):
        RetryPolicy(**bad)
