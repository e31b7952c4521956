"""Retry policy: which failures are retried, and how long to wait."""

import datetime
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


# ---- found by scripts/mutation (docs/testing.md): what the earlier tests let change unseen


def test_the_documented_defaults_and_the_message_of_a_negative_count():
    policy = RetryPolicy()
    assert (policy.max_retries, policy.backoff, policy.max_delay) == (3, 0.5, 30.0)
    assert policy.may_retry(0, 503) is True  # idempotent unless said otherwise
    with pytest.raises(ValueError, match="^max_retries must be 0 or more$"):
        RetryPolicy(max_retries=-1)


def test_a_zero_wait_does_not_sleep():
    slept = []
    assert RetryPolicy(sleep=slept.append).wait(0, retry_after="0") == 0.0 and slept == []


def test_a_retry_after_date_in_the_past_means_now():
    past = email.utils.format_datetime(datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc), usegmt=True)
    assert parse_retry_after(past) == 0.0


class Clock:
    def __init__(self, now):
        self.now = now
        self.pauses = []

    def sleep(self, seconds):
        self.pauses.append(seconds)
        self.now += seconds

    def __call__(self):
        return self.now


def test_settle_measures_from_its_start_on_any_clock_and_pauses_at_most_10_s():
    from ansible_collections.voip.threecx_twilio.plugins.module_utils._retry import settle

    clock = Clock(now=5000.0)  # a monotonic clock does not start at 0
    found, waited = settle(lambda: None, 60, sleep=clock.sleep, clock=clock)
    assert found is None and waited == 60 and max(clock.pauses) == 10.0
    assert clock.pauses[:5] == [0.5, 1.0, 2.0, 4.0, 8.0] and sum(clock.pauses) == 60


def test_not_seen_message_says_what_it_knows_and_what_to_do():
    from ansible_collections.voip.threecx_twilio.plugins.module_utils._retry import not_seen_message

    assert not_seen_message("queue 800", "no reply", 60.4) == (
        "queue 800: the reply to the create was lost (no reply), and queue 800 was not seen in 60 s of reading it back. It may still "
        "appear: do not make it by hand; the next run finds it by its natural key and adopts it, or makes it if the create never landed "
        "(settle_timeout sets how long to read back)"
    )
