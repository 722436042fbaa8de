"""The retry policy and the signature, with an injected clock and jitter: no waiting."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

import pytest

from csgw.plugins.webhooks.config import Endpoint
from csgw.plugins.webhooks.policy import judge, retry_after_seconds
from csgw.plugins.webhooks.signing import delivery_headers, signature, verify

AT = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
ENDPOINT = Endpoint(url="https://crm.example.com/in", events=["conversation.closed"], secret="x" * 16,
                    max_attempts=5, max_age_seconds=3600, retry_base_seconds=2, retry_max_seconds=60)


def attempt(status=None, error=None, retry_after=None, attempts=1, age=0.0, jitter=1.0, endpoint=ENDPOINT):
    return judge(endpoint, status=status, error=error, retry_after=retry_after, attempts=attempts,
                 age_seconds=age, at=AT, rng=lambda: jitter)


@pytest.mark.parametrize("status", [200, 201, 204, 299])
def test_any_2xx_is_delivered(status):
    assert attempt(status).state == "sent"


@pytest.mark.parametrize("status", [301, 400, 401, 403, 404, 410, 422])
def test_other_answers_below_500_fail_at_once(status):
    verdict = attempt(status)
    assert verdict.state == "failed" and verdict.error.startswith(f"HTTP {status}")


@pytest.mark.parametrize(("status", "error"), [(500, None), (502, None), (503, None), (408, None), (429, None),
                                                (None, "ClientConnectorError: refused"), (None, "TimeoutError")])
def test_network_errors_5xx_408_and_429_are_retried(status, error):
    verdict = attempt(status, error)
    assert verdict.state == "pending" and verdict.delay == 2.0


def test_the_back_off_doubles_up_to_its_cap_with_jitter_over_the_upper_half():
    patient = ENDPOINT.model_copy(update={"max_attempts": 20})
    assert [attempt(500, attempts=n, endpoint=patient).delay for n in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]
    assert [attempt(500, attempts=n, jitter=0.0, endpoint=patient).delay for n in (1, 2, 7)] == [1, 2, 30]


def test_retry_after_is_honoured_as_seconds_or_a_date():
    assert attempt(429, retry_after="7").delay == 7.0
    assert attempt(503, retry_after="Fri, 27 Nov 2026 08:02:00 GMT").delay == 120.0
    assert attempt(429, retry_after="soon").delay == 2.0  # unreadable: the usual back-off
    assert retry_after_seconds("Fri, 27 Nov 2026 07:00:00 GMT", AT) == 0.0


def test_it_gives_up_after_max_attempts_or_past_max_age():
    verdict = attempt(500, attempts=5)
    assert verdict.state == "failed" and verdict.error == "HTTP 500; gave up after 5 attempts"
    assert attempt(500, attempts=4, age=3590).state == "failed"  # the next try (4 s more) would be too late
    assert attempt(500, attempts=4, age=3000).state == "pending"
    assert attempt(429, retry_after="7200", age=0).state == "failed"


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = b'{"id":"d1","event":"conversation.closed","data":{}}'
    headers = delivery_headers("k" * 16, event="conversation.closed", delivery_id="d1",
                               timestamp=1795766400, body=body, attempt=2)
    assert headers["X-Csgw-Signature"] == signature("k" * 16, "1795766400", body)
    assert headers["X-Csgw-Signature"] == "sha256=" + hmac.new(b"k" * 16, b"1795766400." + body, "sha256").hexdigest()
    assert (headers["X-Csgw-Event"], headers["X-Csgw-Delivery"], headers["X-Csgw-Attempt"]) == (
        "conversation.closed", "d1", "2")
    assert verify("k" * 16, "1795766400", body, headers["X-Csgw-Signature"], at=1795766400 + 299)
    assert not verify("k" * 16, "1795766400", body, headers["X-Csgw-Signature"], at=1795766400 + 301)  # replayed
    assert not verify("other-secret-0000", "1795766400", body, headers["X-Csgw-Signature"], at=1795766400)
    assert not verify("k" * 16, "1795766400", body + b" ", headers["X-Csgw-Signature"], at=1795766400)

