"""Retry policy: which failures are retried, and how long to wait."""

import email.utils
import random
import time

import pytest

from ansible_collections.voip.threecx_twilio.plugins.module_utils._retry import RetryPolicy, parse_retry_after


@pytest.mark.parametrize(
    "status,idempotent,expected",
    [
        (429, False, True),  # never processed: safe for creates too
        (429, True, True),
        (503, True, True),
        (500, True, True),
        (503, False, False),  # a create may have been committed
        (None, True, True),  # dropped connection on a read
        (None, False, False),
        (400, True, False),
        (404, True, False),
        (401, True, False),
        (501, True, False),
    ],
)
def test_may_retry(status, idempotent, expected):
    assert RetryPolicy(max_retries=3).may_retry(0, status, idempotent) is expected


def test_attempts_are_bounded():
    policy = RetryPolicy(max_retries=2)
    assert policy.may_retry(1, 429)
    assert not policy.may_retry(2, 429)
    assert not RetryPolicy(max_retries=0).may_retry(0, 429)


def test_retry_after_wins_and_is_capped():
    policy = RetryPolicy(max_delay=10)
    assert policy.delay(0, "4") == 4
    assert policy.delay(0, "120") == 10


def test_backoff_grows_with_jitter_inside_bounds():
    policy = RetryPolicy(backoff=1, max_delay=5, rng=random.Random(7))
    for attempt, ceiling in [(0, 1), (1, 2), (2, 4), (3, 5), (8, 5)]:
        assert ceiling / 2 <= policy.delay(attempt) <= ceiling


def test_parse_retry_after_forms():
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after("-3") == 0.0
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= parse_retry_after(future) <= 31


def test_wait_uses_the_injected_sleep():
    slept = []
    RetryPolicy(sleep=slept.append).wait(0, "1")
    assert slept == [1.0]


def test_negative_retries_rejected():
    with pytest.raises(ValueError):
        RetryPolicy(max_retries=-1)
